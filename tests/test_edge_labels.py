"""The gradient written on each edge of the graph is the gradient that edge carries.

A student adds the arrows into a node to get its gradient, so every label must be exactly
one edge's gradient: where one input fills two slots of a node (``x*x``, ``x**x``,
``matmul(W, W)``), the two parallel edges carry different numbers and each must show its
own. The references here are independent of the trace's hooks: each backward node is called
directly on the gradient of the tensor it produced (``torch.autograd.grad``), which gives
what torch sends along each of its ``next_functions``; each leaf's gradient is torch's
``.grad``. Labels are parsed back to numbers only where numbers are what the user sees.

Properties, for every node of every built-in example and of generated programs:
- every edge that carries a gradient has a label, and every label belongs to an edge drawn;
- the label on the k-th edge from an input to a node is what that node sends to the slot
  filled by the k-th occurrence of that input;
- the labels on the edges leaving a node towards one input add up to all the node sends it;
- the labels arriving at every leaf add up to its gradient.
"""
from __future__ import annotations

import json
import re
from importlib.resources import files

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.drawing.graph import build_graph
from core.drawing.render import Highlight, RenderOptions, graphviz_available, to_digraph
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.language.values import VariableSpec
from core.teaching.trace import record_steps

EXAMPLES = json.loads((files("resources") / "examples.json").read_text(encoding="utf-8"))[
    "examples"]

_NUMBER = re.compile(r"-?(?:inf|nan|\d+\.?\d*(?:e[-+]?\d+)?)")


def parse_label(text: str):
    """A label as the student reads it: a number or nested list of numbers, or None for
    a large tensor shown only by its shape."""
    if "tensor" in text or text.startswith("grad "):
        return None
    text = text.replace("\u2212", "-")  # the typographic minus the pages print
    numbers = [float(n) for n in _NUMBER.findall(text)]
    return torch.tensor(numbers, dtype=torch.float64)


def _run(text, values, constants=(), dtype="float32"):
    specs = {name: VariableSpec(name, value, name not in constants)
             for name, value in values.items()}
    evaluation = evaluate(parse(text), specs, dtype)
    return evaluation, record_steps(evaluation), build_graph(evaluation)


def _sent_by_each_node(evaluation, graph):
    """node id -> {slot: tensor} what torch sends along each next_function: a reverse pass
    of our own, in topological order, that calls each backward node directly on the sum of
    what arrived at it (no hooks, nothing from the trace)."""
    root = evaluation.output.grad_fn
    order, seen, stack = [], {root}, [(root, iter(root.next_functions))]
    while stack:  # post-order over next_functions; reversed, consumers come first
        fn, children = stack[-1]
        for child, _ in children:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append((child, iter(child.next_functions)))
                break
        else:
            order.append(fn)
            stack.pop()
    arrived = {(root, 0): torch.ones_like(evaluation.output.detach())}
    sent = {}
    for fn in reversed(order):
        if getattr(fn, "variable", None) is not None:
            continue
        outputs = [arrived.get((fn, nr), torch.zeros(tuple(meta.shape), dtype=meta.dtype))
                   for nr, meta in enumerate(fn._input_metadata)]
        grads = fn(*outputs)
        grads = grads if isinstance(grads, tuple) else (grads,)
        slots = {}
        for slot, grad in enumerate(grads):
            child, input_nr = fn.next_functions[slot]
            if grad is None or child is None:
                continue
            # the engine sums a broadcast gradient down to the input's shape
            shape = tuple(child._input_metadata[input_nr].shape)
            grad = grad.detach()
            grad = grad.sum_to_size(shape) if tuple(grad.shape) != shape else grad
            slots[slot] = grad
            key = (child, input_nr)
            arrived[key] = arrived[key] + grad if key in arrived else grad
        sent[str(id(fn))] = slots
    return sent


def _assert_close_to_label(label: str, tensor: torch.Tensor, where: str):
    shown = parse_label(label)
    if shown is None:  # a large tensor: the label names its shape
        assert "×".join(map(str, tensor.shape)) in label, (where, label)
        return
    expected = tensor.detach().double().flatten()
    assert shown.numel() == expected.numel(), (where, label)
    # labels show six significant digits
    assert torch.allclose(shown, expected, rtol=2e-5, atol=1e-6 * (1 + expected.abs().max())), (
        where, label, expected)


def check_edge_labels(text, values, constants=(), dtype="float32"):
    """Assert every property in the module docstring for one program; returns the number
    of parallel edge groups seen (for the callers that want some)."""
    evaluation, trace, graph = _run(text, values, constants, dtype)
    if not trace.steps:
        return 0
    labels = trace.highlight(len(trace.steps) - 1).edge_labels
    keys = {key for key, _edge in graph.keyed_edges()}
    assert set(labels) <= keys, "a label for an edge the graph does not have"
    sent = _sent_by_each_node(evaluation, graph)
    parallel = 0
    for node_id, slots in sent.items():
        fn = graph.nodes[node_id].grad_fn
        children = [str(id(child)) if child is not None else None
                    for child, _ in fn.next_functions]
        per_child: dict[str, list] = {}
        for slot, child in enumerate(children):
            if child is None:
                continue
            k = children[:slot].count(child)
            key = (child, node_id, k)
            if slot in slots:
                assert key in labels, f"edge {k} from {child} into {graph.nodes[node_id].op} " \
                                      "carries a gradient but shows none"
                _assert_close_to_label(labels[key], slots[slot], f"{key}")
                per_child.setdefault(child, []).append((labels[key], slots[slot]))
        for pairs in per_child.values():
            if len(pairs) > 1:
                parallel += 1
                # what the parallel edges show adds up to all the node sends that input
                total = sum(t for _, t in pairs)
                shown = [parse_label(text) for text, _ in pairs]
                if all(s is not None for s in shown):
                    assert torch.allclose(sum(shown), total.double().flatten(), rtol=1e-4,
                                          atol=1e-5 * (1 + total.abs().max().item()))
    # the labels arriving at each leaf add up to its gradient (torch's .grad)
    for name, leaf in evaluation.inputs.items():
        if not leaf.requires_grad or leaf.grad_fn is not None:
            continue
        acc = next((n for n in graph.op_nodes()
                    if getattr(n.grad_fn, "variable", None) is leaf), None)
        if acc is None:
            continue
        arriving = [labels[key] for key in keys if key[0] == acc.id and key in labels]
        gradient = evaluation.gradients[name].double()
        parsed = [parse_label(text) for text in arriving]
        if arriving and all(p is not None for p in parsed):
            assert torch.allclose(sum(parsed), gradient.flatten(), rtol=1e-4,
                                  atol=1e-5 * (1 + gradient.abs().max().item())), (name, arriving)
        # and the tensors behind them, exactly as torch summed them
        behind = [sent[key[1]][slot] for key in keys if key[0] == acc.id and key[1] in sent
                  for slot in [_slot_of(graph.nodes[key[1]].grad_fn, acc.id, key[2])]
                  if slot in sent[key[1]]]
        if behind:
            assert torch.allclose(sum(behind).double(), gradient, rtol=1e-5, atol=1e-6), name
    return parallel


def _slot_of(fn, child_id: str, k: int) -> int:
    """The slot of ``fn`` filled by the k-th occurrence of ``child_id``."""
    slots = [slot for slot, (child, _) in enumerate(fn.next_functions)
             if child is not None and str(id(child)) == child_id]
    return slots[k]


# the examples of a vector output (their reference holds a Jacobian) have no single backward
# pass to label; tests/test_view_examples.py checks them in their own view
SCALAR_EXAMPLES = [e for e in EXAMPLES if "jacobian" not in e.get("reference", {})]


@pytest.mark.parametrize("example", SCALAR_EXAMPLES,
                         ids=[e["title"][:40] for e in SCALAR_EXAMPLES])
def test_every_built_in_example(example):
    text = example["expression"]
    if example.get("view") in ("jacobian", "modes"):
        # a vector output (its Jacobian is the view's subject): the labels of its sum, which
        # is backward(gradient=ones)
        program = parse(text)
        if program.output_name and program.output_name[0].isidentifier():
            text = f"{text}\nsum({program.output_name})"
    check_edge_labels(text, example["vars"], example.get("constants", ()),
                      example.get("dtype", "float32"))


@pytest.mark.parametrize("text, values", [
    ("f = x**x", {"x": 2.0}),
    ("f = x*x", {"x": 3.0}),
    ("f = x/x + x - x", {"x": 1.5}),
    ("f = sum(matmul(W, W))", {"W": [[1.0, 0.5], [0.2, 0.1]]}),
    ("f = sum(W @ W @ W)", {"W": [[1.0, 0.5], [0.2, 0.1]]}),
    ("f = sum(maximum(x, x))", {"x": [1.0, -2.0]}),
    ("f = dot(v, v)", {"v": [1.0, 2.0, 3.0]}),
])
def test_programs_where_one_input_fills_two_slots(text, values):
    assert check_edge_labels(text, values) >= 1


def test_a_leaf_reaching_a_node_through_two_nodes_torch_made_inside_a_function():
    # outer(v, v) views v twice inside torch: the two paths are not parallel edges, and
    # the labels still add up at v (five entries: labels show the shape only)
    assert check_edge_labels("f = sum(outer(v, v))", {"v": [1.0, 2.0, 3.0, 4.0, 5.0]}) == 0
    assert check_edge_labels("f = sum(outer(v, v))", {"v": [1.0, 2.0]}) == 0


def test_matmul_of_a_matrix_with_itself_labels_each_edge_with_its_own_product():
    """d sum(W @ W) / dW: through the left slot G @ W^T, through the right slot W^T @ G
    (G all ones): by hand, the two arrows differ and add up to W's gradient."""
    W = [[1.0, 0.5], [0.2, 0.1]]
    evaluation, trace, graph = _run("F = sum(torch.matmul(W, W))", {"W": W}, dtype="float64")
    w = torch.tensor(W, dtype=torch.float64)
    g = torch.ones(2, 2, dtype=torch.float64)
    labels = trace.highlight(len(trace.steps) - 1).edge_labels
    mm = next(n for n in graph.op_nodes() if n.op == "MmBackward0")
    acc = str(id(mm.grad_fn.next_functions[0][0]))
    _assert_close_to_label(labels[(acc, mm.id, 0)], g @ w.T, "left slot")
    _assert_close_to_label(labels[(acc, mm.id, 1)], w.T @ g, "right slot")
    assert labels[(acc, mm.id, 0)] != labels[(acc, mm.id, 1)]
    assert torch.allclose(g @ w.T + w.T @ g, evaluation.gradients["W"])


def test_x_to_the_x_labels_base_and_exponent_paths():
    """d(x**x)/dx at 2: x·x^(x−1) = 4 through the base, x^x·ln x = 2.77259 through the
    exponent: the arrows read 4 and 2.77259, and the heading's 4 + 2.77259 matches them."""
    _evaluation, trace, graph = _run("f = x**x", {"x": 2.0})
    labels = trace.highlight(len(trace.steps) - 1).edge_labels
    pow_node = next(n for n in graph.op_nodes() if n.op.startswith("Pow"))
    acc = str(id(pow_node.grad_fn.next_functions[0][0]))
    assert labels[(acc, pow_node.id, 0)] == "4"
    assert labels[(acc, pow_node.id, 1)] == "2.77259"


@pytest.mark.skipif(not graphviz_available(), reason="Graphviz's dot is not installed")
def test_the_drawing_writes_each_parallel_edge_with_its_own_label():
    """The annotated DOT (window, SVG/PNG/PDF) and every step page put one label per edge."""
    from core.teaching.step_export import page_digraphs

    _evaluation, trace, graph = _run("f = x**x", {"x": 2.0})
    highlight = trace.highlight(len(trace.steps) - 1)
    pow_node = next(n for n in graph.op_nodes() if n.op.startswith("Pow"))
    acc = str(id(pow_node.grad_fn.next_functions[0][0]))

    def edge_lines(source):
        return [line for line in source.splitlines()
                if line.strip().startswith(f"{acc} -> {pow_node.id}")]

    dot = to_digraph(graph, RenderOptions(highlight=Highlight(
        edge_labels=dict(highlight.edge_labels)))).source
    lines = edge_lines(dot)
    assert len(lines) == 2
    assert "label=\" 4 \"" in lines[0] and "label=\" 2.77259 \"" in lines[1]
    last_page = page_digraphs(graph, trace)[-1].source
    lines = edge_lines(last_page)
    assert "label=\" 4 \"" in lines[0] and "label=\" 2.77259 \"" in lines[1]
    assert all(" lp=" in line for line in lines)  # each label has its own place


# --------------------------------------------------------------------------- generated


def _programs():
    """Small programs over x (a vector), s (a number) and W (a matrix) that often use one
    value twice in a node (the case that mislabelled edges)."""
    vector = st.sampled_from(["x", "g", "sin(x)", "x*x", "x**2", "exp(x)", "W @ x"])
    scalar_of = st.sampled_from(["sum({})", "dot({0}, {0})", "norm({})", "sum({0} * {0})",
                                 "sum({0} / (1 + {0}*{0}))", "sum(maximum({0}, {0}))",
                                 "sum(matmul(W, W) @ {})", "sum(exp({0})**s)"])
    return st.tuples(vector, vector, scalar_of).map(
        lambda t: f"g = {t[0].replace('g', 'x')}\nh = {t[1]}\nf = "
                  + t[2].format("(g + h)") + " + s*s")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_programs(), st.floats(0.2, 1.5))
def test_generated_programs(text, s):
    check_edge_labels(text, {"x": [0.5, -1.0], "s": s, "W": [[1.0, 0.5], [0.2, 0.1]]},
                      dtype="float64")
