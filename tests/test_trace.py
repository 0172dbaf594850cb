"""core.teaching.trace: the recorded backward pass is the engine's, step by step.

References used here are independent of torch's backward: the DESIGN.md listing of the seed
chain rule (recorded on torch 2.13), the seed's Mathematica gradients, and central finite
differences in float64 of each node's *forward* operation (torch forward functions only).
"""
from __future__ import annotations

import math

import pytest
import torch

from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.language.values import VariableSpec
from core.teaching.trace import record_steps

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"

# DESIGN.md "Watching torch's engine": op, grad in, grad out (None: no gradient sent)
DESIGN_LISTING = [
    ("AddBackward0", [1.0], [1.0, 1.0]),
    ("MulBackward0", [1.0], [3.0, None]),
    ("ExpBackward0", [1.0], [34.4773]),
    ("AddBackward0", [3.0], [3.0, 3.0]),
    ("SinBackward0", [3.0], [-1.2484]),
    ("MulBackward0", [-1.2484], [-2.4969, None]),
    ("PowBackward0", [3.0], [6.0]),
    ("AddBackward0", [34.4773], [34.4773, 34.4773]),
    ("CosBackward0", [34.4773], [-29.0117]),
    ("AccumulateGrad", [-31.5086], []),
    ("MulBackward0", [34.4773], [103.432, None]),
    ("AccumulateGrad", [109.432], []),
]


def run(text, values, dtype="float32"):
    evaluation = evaluate(parse(text), values, dtype)
    return evaluation, record_steps(evaluation)


def as_list(values):
    return [None if v is None else float(v) for v in values]


# --------------------------------------------------------------------------- engine order


def test_seed_chain_rule_matches_the_engine_listing():
    _, trace = run(CHAIN, {"w": 1.0, "z": 1.0})
    assert [s.op for s in trace.steps] == [op for op, _, _ in DESIGN_LISTING]
    for step, (_, grad_in, grad_out) in zip(trace.steps, DESIGN_LISTING, strict=True):
        assert as_list(step.grad_in) == pytest.approx(grad_in, abs=1e-3)
        got = as_list(step.grad_out)
        assert [g is None for g in got] == [g is None for g in grad_out]
        assert [g for g in got if g is not None] == pytest.approx(
            [g for g in grad_out if g is not None], abs=1e-3)


def test_seed_chain_rule_steps_carry_the_users_text():
    _, trace = run(CHAIN, {"w": 1.0, "z": 1.0})
    expressions = [s.expression for s in trace.steps]
    assert expressions == ["exp(g1) + 3*g2", "3*g2", "exp(g1)", "w**2 + sin(2*z)", "sin(2*z)",
                           "2*z", "w**2", "3*w + cos(z)", "cos(z)", "z", "3*w", "w"]
    assert trace.steps[0].name == "f" and trace.steps[3].name == "g2"
    assert trace.steps[9].leaf_id and trace.steps[11].name == "w"


def test_every_node_runs_after_all_nodes_that_consume_it():
    # the engine's order is a topological order of the backward graph
    for text, values in [(CHAIN, {"w": 1.0, "z": 1.0}),
                         ("a = w*z\nb = sin(a) + a**2\nf = b*a + exp(w)", {"w": 0.4, "z": 1.3})]:
        _, trace = run(text, values)
        position = {s.node_id: s.index for s in trace.steps}
        assert len(position) == len(trace.steps)  # every node exactly once
        for step in trace.steps:
            for child in step.inputs:
                if child is not None:
                    assert position[child] > step.index


# --------------------------------------------------------------------------- leaves


def test_seed_chain_rule_contributions_at_w_and_z():
    _, trace = run(CHAIN, {"w": 1.0, "z": 1.0})
    w = trace.leaves["w"]
    assert [float(c.value) for c in w.contributions] == pytest.approx([6.0, 103.432], abs=1e-3)
    assert [float(c.running_total) for c in w.contributions] == pytest.approx(
        [6.0, 109.432], abs=1e-3)
    assert float(w.total) == pytest.approx(109.43202095367012, rel=1e-6)  # Mathematica
    assert "w**2" in w.contributions[0].via and "3*w" in w.contributions[1].via
    assert float(trace.leaves["z"].total) == pytest.approx(-31.508562530134782, rel=1e-6)
    assert "6 + 103.432 = 109.432" in trace.steps[11].rule.text


def test_contributions_add_up_to_each_gradient(seed_example):
    evaluation, trace = run(seed_example["expression"], seed_example["vars"], "float64")
    assert set(trace.leaves) == set(seed_example["vars"])
    for name, leaf in trace.leaves.items():
        summed = sum(c.value for c in leaf.contributions)
        assert torch.allclose(summed, leaf.total, rtol=1e-12, atol=1e-12)
        assert torch.allclose(leaf.total, evaluation.gradients[name], rtol=1e-12)
        reference = torch.tensor(seed_example["reference"]["gradients"][name],
                                 dtype=torch.float64)
        digits = seed_example["reference"].get("digits")
        rtol = 10.0 ** -(digits - 1) if digits else 1e-9
        assert torch.allclose(leaf.total, reference, rtol=rtol, atol=rtol)


def test_an_intermediate_reached_twice_shows_both_terms():
    # a = w*z feeds sin(a) and a**2: its node receives cos(a) and 2a
    _, trace = run("a = w*z\nf = sin(a) + a**2", {"w": 0.5, "z": 1.5})
    step = next(s for s in trace.steps if s.name == "a")
    a = 0.75
    assert sorted(float(c.value) for c in step.contributions) == pytest.approx(
        sorted([math.cos(a), 2 * a]), rel=1e-6)
    assert float(step.contributions[-1].running_total) == pytest.approx(float(step.grad_in[0]))


def test_recording_leaves_gradients_and_hooks_as_they_were():
    evaluation, first = run(CHAIN, {"w": 1.0, "z": 1.0})
    before = {n: t.grad.clone() for n, t in evaluation.inputs.items()}
    second = record_steps(evaluation)
    for name, tensor in evaluation.inputs.items():
        assert torch.equal(tensor.grad, before[name])
    # were hooks left behind, the second pass would record each node twice
    assert len(second.steps) == len(first.steps)
    assert [s.node_id for s in second.steps] == [s.node_id for s in first.steps]


def test_forward_walk_lists_values_in_computation_order():
    evaluation, trace = run(CHAIN, {"w": 1.0, "z": 1.0}, "float64")
    assert [f.expression for f in trace.forward][:3] == ["3*w", "cos(z)", "3*w + cos(z)"]
    values = {f.expression: float(f.value) for f in trace.forward}
    assert values["cos(z)"] == pytest.approx(math.cos(1.0))
    assert values["exp(g1) + 3*g2"] == pytest.approx(math.exp(3 + math.cos(1)) +
                                                     3 * (1 + math.sin(2)))
    assert trace.forward[-1].name == "f"


def test_constant_output_has_no_steps():
    evaluation = evaluate(parse("f = x * 2"), {"x": VariableSpec("x", 3.0, False)})
    trace = record_steps(evaluation)
    assert trace.steps == [] and trace.leaves == {}
    assert trace.forward and float(trace.forward[-1].value) == 6.0


def test_deep_chain_is_recorded_without_recursion():
    # 1,200 nodes deep: a recursive walk would pass Python's default limit of 1,000
    lines = ["y = x"] + ["y = sin(y*1.0001) + x"] * 400
    evaluation, trace = run("\n".join(lines), {"x": 0.3})
    assert len(trace.steps) == 3 * 400 + 1
    x = trace.leaves["x"]
    assert len(x.contributions) == 401
    # hand derivation, not torch: y' = cos(1.0001 y) * 1.0001 * y' + 1 along the chain
    y, dy = 0.3, 1.0
    for _ in range(400):
        y, dy = math.sin(1.0001 * y) + 0.3, math.cos(1.0001 * y) * 1.0001 * dy + 1.0
    assert float(x.total) == pytest.approx(dy, rel=1e-4)
    assert float(sum(c.value for c in x.contributions)) == pytest.approx(dy, rel=1e-4)


# --------------------------------------------------------------------------- local rule


def _child_value(evaluation, child):
    variable = getattr(child, "variable", None)
    if variable is not None:
        return variable.detach()
    record = evaluation.record_for(child)
    return None if record is None else record.tensor.detach()


def _saved(fn, name):
    return getattr(fn, "_saved_" + name)


# forward operation of each node, as a function of its inputs (xs, in next_functions order;
# a None input is a constant, read from what the node saved). Forward functions only.
FORWARD = {
    "AddBackward0": lambda fn, xs: _or(xs[0], 0.0) + _saved(fn, "alpha") * _or(xs[1], 0.0),
    "SubBackward0": lambda fn, xs: _or(xs[0], 0.0) - _saved(fn, "alpha") * _or(xs[1], 0.0),
    "MulBackward0": lambda fn, xs: _or(xs[0], _saved(fn, "self")) * _or(xs[1], _saved(fn, "other")),
    "DivBackward0": lambda fn, xs: _or(xs[0], _saved(fn, "self")) / _or(xs[1], _saved(fn, "other")),
    "PowBackward0": lambda fn, xs: xs[0] ** _saved(fn, "exponent"),
    "PowBackward1": lambda fn, xs: xs[0] ** xs[1],
    "ExpBackward0": lambda fn, xs: torch.exp(xs[0]),
    "SinBackward0": lambda fn, xs: torch.sin(xs[0]),
    "CosBackward0": lambda fn, xs: torch.cos(xs[0]),
    "TanhBackward0": lambda fn, xs: torch.tanh(xs[0]),
    "LogBackward0": lambda fn, xs: torch.log(xs[0]),
    "SigmoidBackward0": lambda fn, xs: torch.sigmoid(xs[0]),
    "SqrtBackward0": lambda fn, xs: torch.sqrt(xs[0]),
    "NegBackward0": lambda fn, xs: -xs[0],
    "SumBackward0": lambda fn, xs: xs[0].sum(),
    "MeanBackward0": lambda fn, xs: xs[0].mean(),
    "MmBackward0": lambda fn, xs: _or(xs[0], _saved(fn, "self")) @ _or(xs[1], _saved(fn, "mat2")),
    "MvBackward0": lambda fn, xs: xs[0] @ xs[1],
    "LinalgVectorNormBackward0": lambda fn, xs: torch.linalg.vector_norm(
        xs[0], ord=_saved(fn, "ord"), dim=_saved(fn, "dim"), keepdim=_saved(fn, "keepdim")),
    "TBackward0": lambda fn, xs: xs[0].t(),
    "ProdBackward0": lambda fn, xs: xs[0].prod(),
}


def _or(x, default):
    return default if x is None else x


def _numeric_vjp(forward, fn, xs, i, g, h=1e-6):
    """d<g, forward(xs)>/d xs[i] by central differences, entry by entry (float64)."""
    base = xs[i].contiguous()
    grad = torch.zeros_like(base)
    flat = grad.view(-1)
    for k in range(base.numel()):
        values = []
        for sign in (1, -1):
            shifted = base.clone()
            shifted.view(-1)[k] += sign * h
            trial = list(xs)
            trial[i] = shifted
            values.append(float((g * forward(fn, trial)).sum()))
        flat[k] = (values[0] - values[1]) / (2 * h)
    return grad


def check_local_rules(text, values):
    """Every step: grad_out[i] == numeric VJP of the node's forward at its inputs with G."""
    evaluation, trace = run(text, values, "float64")
    checked = 0
    with torch.no_grad():
        for step, (fn, _) in zip(trace.steps, _nodes_in_order(evaluation, trace), strict=True):
            if step.op == "AccumulateGrad":
                continue
            assert step.op in FORWARD, f"no independent forward for {step.op}"
            xs = [None if c is None else _child_value(evaluation, c) for c, _ in fn.next_functions]
            g = step.grad_in[0]
            for i, out in enumerate(step.grad_out):
                if out is None:
                    assert fn.next_functions[i][0] is None
                    continue
                expected = _numeric_vjp(FORWARD[step.op], fn, xs, i, g)
                assert torch.allclose(out, expected, rtol=1e-6, atol=1e-7), (step.title, i)
                checked += 1
    return checked


def _nodes_in_order(evaluation, trace):
    found = {}
    stack = [evaluation.output.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or str(id(fn)) in found:
            continue
        found[str(id(fn))] = fn
        stack.extend(c for c, _ in fn.next_functions)
    return [(found[s.node_id], s) for s in trace.steps]


def test_each_step_is_incoming_gradient_times_local_derivative(seed_example):
    assert check_local_rules(seed_example["expression"], seed_example["vars"]) >= 2


@pytest.mark.parametrize("text, values", [
    ("f = tanh(x*y) / (x - y) + log(y) * sigmoid(x)", {"x": 0.7, "y": 1.9}),
    ("f = sqrt(x) ** y - x * x", {"x": 2.5, "y": 1.5}),
    ("f = sum(A @ v) + mean(A * A) - prod(v)", {"A": [[1.0, -2.0], [0.5, 3.0]], "v": [0.3, 0.9]}),
    ("f = norm(t(A) @ A, p=3) + sum(-A)", {"A": [[1.0, -2.0], [0.5, 3.0]]}),
])
def test_local_rule_holds_on_other_programs(text, values):
    assert check_local_rules(text, values) >= 3


# --------------------------------------------------------------------------- highlight


def test_highlight_marks_current_done_and_gradient_edges():
    _, trace = run(CHAIN, {"w": 1.0, "z": 1.0})
    first = trace.highlight(0)
    assert first.current == {trace.steps[0].node_id}
    assert trace.steps[0].node_id not in first.done
    # the seed gradient on the output edge, and the two gradients the first node sent
    assert first.edge_labels[(trace.root_id, trace.output_id, 0)] == "1"
    assert len(first.edge_labels) == 3
    last = trace.highlight(len(trace.steps) - 1)
    assert trace.steps[-1].leaf_id in last.current
    assert {s.node_id for s in trace.steps[:-1]} <= last.done
    w_step = trace.steps[-1]
    assert last.edge_labels[(w_step.leaf_id, w_step.node_id, 0)] == "109.432"
    sent = sum(1 for s in trace.steps for g in s.grad_out if g is not None)
    leaves = sum(1 for s in trace.steps if s.leaf_id)
    assert len(last.edge_labels) == sent + leaves + 1


def test_json_shape():
    _, trace = run(CHAIN, {"w": 1.0, "z": 1.0})
    data = trace.to_dict()
    # the two keys, and the forward walk beside them
    assert set(data) == {"steps", "leaves", "forward"}
    assert set(data["steps"][0]) == {"index", "node", "op", "expression", "grad_in",
                                     "grad_out", "rule"}
    assert data["steps"][1]["grad_out"] == [3.0, None]
    assert data["leaves"]["w"]["total"] == pytest.approx(109.432, abs=1e-3)


def test_each_share_of_a_tensor_in_two_slots_names_its_slot():
    # x * x: x's two shares arrive from one node; each says which factor it came through
    evaluation = evaluate(parse("y = x * x"), {"x": 3.0})
    leaf = record_steps(evaluation).leaves["x"]
    assert [c.via.split(" (")[0] for c in leaf.contributions] == [
        "x * x, as its first factor", "x * x, as its second factor"]
    assert sum(float(c.value) for c in leaf.contributions) == 6.0  # torch: dy/dx = 2x
