"""An output with several entries, differentiated as torch's ``y.backward(v)``, at core level.

Every number is compared with torch called directly on the same text: the gradients (vᵀJ),
the backward graph's annotations, the recorded steps, the Check (finite differences and
SymPy of the number vᵀy = sum(v * y)), the deck's finite differences, sessions and the CLI.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from core.check import check_gradients
from core.check.vjp import scalar_program
from core.drawing.graph import build_graph
from core.errors import ExpressionError
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.language.values import parse_value
from core.session import Session, session_from_json
from core.teaching.step_text import plain_text, step_lines
from core.teaching.trace import record_steps

ROOT = Path(__file__).resolve().parents[1]
X = [1.0, -0.5, 2.0]
W = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]

#: (program, torch on the same inputs, v)
CASES = [
    ("y = x**2 * W", lambda x, w: x**2 * w, [[1.0, 0.5, 2.0], [1.0, 1.0, -1.0]]),
    ("h = W @ x\ny = h * sin(h)", lambda x, w: (w @ x) * torch.sin(w @ x), [2.0, -0.5]),
    ("y = softmax(W, dim=1)", lambda x, w: torch.softmax(w, dim=1),
     [[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]]),
    ("exp(x) * x", lambda x, w: torch.exp(x) * x, [1.0, 2.0, 3.0]),
    ("y = relu(W) @ tanh(x)", lambda x, w: F.relu(w) @ torch.tanh(x), [0.3, -2.0]),
    ("a = x * x\ny = torch.stack([a, x]).T", lambda x, w: torch.stack([x * x, x]).T,
     [[1.0, 2.0], [0.0, 1.0], [-1.0, 0.5]]),
]


def torch_vjp(make, v, dtype=torch.float64):
    x = torch.tensor(X, dtype=dtype, requires_grad=True)
    w = torch.tensor(W, dtype=dtype, requires_grad=True)
    y = make(x, w)
    y.backward(torch.tensor(v, dtype=dtype))
    grads = {"x": x.grad if x.grad is not None else torch.zeros_like(x),
             "W": w.grad if w.grad is not None else torch.zeros_like(w)}
    return y.detach(), grads


def app(text, v, dtype="float64", **options):
    values = {"x": X, "W": W}
    program = parse(text)
    return evaluate(program, {n: values[n] for n in program.free_names}, dtype,
                    grad_output=v, **options)


@pytest.mark.parametrize("text, make, v", CASES)
def test_gradients_graph_and_steps_equal_torch_backward_v(text, make, v):
    y, grads = torch_vjp(make, v)
    evaluation = app(text, v)
    torch.testing.assert_close(evaluation.value, y)
    for name, grad in evaluation.gradients.items():
        torch.testing.assert_close(grad, grads[name], msg=lambda m, n=name: f"{n}: {m}")
    graph = build_graph(evaluation)
    for node in graph.nodes.values():
        if node.kind == "leaf" and node.name in grads:
            torch.testing.assert_close(node.grad, grads[node.name])
    torch.testing.assert_close(graph.nodes[graph.output_id].grad,
                               torch.tensor(v, dtype=torch.float64))
    trace = record_steps(evaluation)
    for name, leaf in trace.leaves.items():
        torch.testing.assert_close(leaf.total, grads[name])
    # the labels arriving at each leaf sum to its gradient (one label per edge)
    for name, leaf in trace.leaves.items():
        torch.testing.assert_close(sum(c.value for c in leaf.contributions), grads[name])
    text_of_steps = "\n".join(line for i in range(len(trace.steps))
                              for line in plain_text(step_lines(trace, i)))
    out = evaluation.output_name
    assert f"∂(vᵀ{out})/∂{out} = v" in text_of_steps
    assert "= 1 (the seed" not in text_of_steps
    assert f"∂{out}/∂{out} = 1" not in text_of_steps


def test_window_mode_seeds_ones_without_a_v_and_1_for_one_number():
    _, grads = torch_vjp(CASES[0][1], [[1.0] * 3] * 2)
    evaluation = app(CASES[0][0], None, any_output=True)
    torch.testing.assert_close(evaluation.grad_output, torch.ones(2, 3, dtype=torch.float64))
    torch.testing.assert_close(evaluation.gradients["x"], grads["x"])
    scalar = app("f = sum(x * x)", [5.0, 6.0], any_output=True)  # v unused: one number
    assert scalar.grad_output is None
    torch.testing.assert_close(scalar.gradients["x"], 2 * torch.tensor(X, dtype=torch.float64))


def test_a_v_of_another_shape_is_refused_with_its_place():
    with pytest.raises(ExpressionError) as raised:
        app(CASES[0][0], [1.0, 2.0], any_output=True, where="the v field")
    assert raised.value.where == "the v field" and "shape" in raised.value.message
    assert raised.value.span is not None


def test_v_may_be_written_as_a_constructor():
    _, grads = torch_vjp(CASES[0][1], [[0.5] * 3] * 2)
    evaluation = app(CASES[0][0], parse_value("full((2, 3), 0.5)"))
    torch.testing.assert_close(evaluation.gradients["W"], grads["W"])


@pytest.mark.parametrize("text, make, v", CASES[:5])
def test_check_differentiates_v_dot_y(text, make, v):
    y, grads = torch_vjp(make, v)
    report = check_gradients(app(text, v))
    assert report.verdict == "agree", [r.reasons for r in report.rows]
    assert report.value == pytest.approx(float((torch.tensor(v, dtype=torch.float64) * y).sum()))
    assert any("backward(v)" in note for note in report.notes)
    for row in report.rows:
        expected = grads[row.name][row.index].item()
        assert row.autograd == pytest.approx(expected, rel=1e-12, abs=1e-15)
        fd, sym, _ = row.comparisons
        assert fd.value == pytest.approx(expected, rel=1e-6, abs=1e-9)
        if sym.value is not None:
            assert sym.value == pytest.approx(expected, rel=1e-10, abs=1e-14)


def test_check_finds_a_wrong_vjp():
    """The check is independent: fed gradients of the wrong v, it disagrees."""
    evaluation = app(CASES[1][0], [2.0, -0.5])
    wrong = app(CASES[1][0], [1.0, 1.0]).gradients
    report = check_gradients(evaluation, gradients=wrong, symbolic=False)
    assert report.verdict == "disagree"


def test_the_scalar_program_takes_no_name_of_the_program():
    program = parse("v = x * 2\nvTy = v + 1\nv_1 = vTy * x\nvTv_1 = v_1 * 3")
    scalar, v_name = scalar_program(program)
    assert v_name not in program.free_names + program.assigned_names
    assert scalar.output.target not in program.assigned_names
    _, grads = torch_vjp(lambda x, w: (((x * 2) + 1) * x) * 3, [1.0, 2.0, 3.0])
    evaluation = evaluate(program, {"x": X}, "float64", grad_output=[1.0, 2.0, 3.0])
    report = check_gradients(evaluation, symbolic=False)
    assert report.verdict == "agree"
    torch.testing.assert_close(evaluation.gradients["x"], grads["x"])


def test_deck_summary_finite_differences_of_a_vjp():
    from core.teaching.deck import _finite_differences

    evaluation = app(CASES[1][0], [2.0, -0.5])
    words = _finite_differences(evaluation)
    assert words and all("agrees with autograd" in text for text in words.values())


def test_session_keeps_v_and_refuses_a_bad_one():
    session = Session("y = x * 2", grad_output="[1, 2, 3]")
    assert session_from_json(session.to_json()).grad_output == "[1, 2, 3]"
    assert "grad_output" not in json.loads(Session("f = x").to_json())
    data = json.loads(session.to_json())
    data["grad_output"] = [1, 2, 3]
    with pytest.raises(ExpressionError, match="grad_output"):
        session_from_json(json.dumps(data))


def run_cli(*args):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_cli_compute_lists_every_vjp_and_check_takes_v():
    _, grads = torch_vjp(CASES[0][1], CASES[0][2], dtype=torch.float32)
    done = run_cli("compute", CASES[0][0], "--var", f"x={X}", "--var", f"W={W}",
                   "--grad-output", json.dumps(CASES[0][2]))
    assert done.returncode == 0, done.stderr
    shown = {line.split(" = ")[0].strip(): line.split(" = ", 1)[1]
             for line in done.stdout.splitlines() if line.startswith("  d(vᵀy)/d")}
    x_shown = json.loads(shown["d(vᵀy)/dx"])
    assert x_shown == pytest.approx(grads["x"].tolist(), rel=1e-5)
    assert "d(vᵀy)/dW" in shown
    checked = run_cli("check", CASES[0][0], "--var", f"x={X}", "--var", f"W={W}",
                      "--grad-output", json.dumps(CASES[0][2]), "--no-symbolic", "--json")
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["output"] == "vᵀy"
    autograd = {(r["input"], tuple(r["index"])): r["autograd"] for r in report["rows"]}
    assert len(autograd) == 9
    for (name, index), value in autograd.items():
        assert value == pytest.approx(grads[name][index].item(), rel=1e-6)


CELL = """import torch
x = torch.tensor([1.0, -0.5, 2.0], requires_grad=True)
y = x * torch.sin(x)
v = torch.tensor([2.0, -0.5, 1.0])
{backward}
print(x.grad)
"""


@pytest.mark.parametrize("backward, v", [
    ("y.backward(v)", [2.0, -0.5, 1.0]),
    ("y.backward(gradient=torch.tensor([1.0, 0.0, 3.0]))", [1.0, 0.0, 3.0]),
    ("y.backward(torch.ones_like(y))", [1.0, 1.0, 1.0]),
])
def test_a_pasted_cells_backward_v_is_the_v(backward, v):
    """A notebook cell's y.backward(v) seeds the pass with that v, as torch does."""
    x = torch.tensor(X, requires_grad=True)
    (x * torch.sin(x)).backward(torch.tensor(v))
    program = parse(CELL.format(backward=backward))
    evaluation = evaluate(program, {}, "float32")
    torch.testing.assert_close(evaluation.grad_output, torch.tensor(v))
    torch.testing.assert_close(evaluation.gradients["x"], x.grad)


def test_a_backward_v_computed_at_run_time_is_refused_with_its_position():
    with pytest.raises(ExpressionError) as raised:
        parse(CELL.format(backward="y.backward(y * 2)"))
    assert "backward(v)" in raised.value.message and raised.value.span.line == 5
