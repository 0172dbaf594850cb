"""core.drawing.graph against torchviz's make_dot (the same nodes and edges) and against gradients
worked out by hand, including graphs too deep for make_dot's recursion."""
from __future__ import annotations

import math
import re

import pytest
import torch
from torchviz import make_dot
from torchviz.dot import get_fn_name

from core.drawing.graph import build_graph
from core.drawing.render import call_with_deep_stack
from core.evaluation.evaluate import evaluate, forward
from core.language.parser import parse
from core.language.values import VariableSpec

_NODE = re.compile(r"^\t(\S+) \[")
_EDGE = re.compile(r"^\t(\S+) -> (\S+)")


def dot_structure(dot):
    """Node names (first appearance order) and edges (in order) from make_dot's body."""
    nodes, edges = [], []
    for entry in dot.body:
        edge = _EDGE.match(entry)
        if edge:
            edges.append((edge.group(1), edge.group(2)))
            continue
        node = _NODE.match(entry)
        assert node, entry
        if node.group(1) not in nodes:
            nodes.append(node.group(1))
    return nodes, edges


def run(text, variables, dtype="float32"):
    return evaluate(parse(text), variables, dtype)


def chain_text(statements: int) -> str:
    lines = ["y = x"]
    for i in range(statements):
        lines.append("y = y * 1.0001" if i % 2 == 0 else "y = sin(y) + x")
    return "\n".join(lines)


def by_name(graph, kind, name):
    found = [n for n in graph.nodes.values() if n.kind == kind and n.name == name]
    assert len(found) == 1, (kind, name, found)
    return found[0]


def test_seed_graphs_have_exactly_make_dots_nodes_and_edges(seed_example):
    evaluation = run(seed_example["expression"], seed_example["vars"])
    graph = build_graph(evaluation)  # holds the grad_fn objects, so ids stay the same
    nodes, edges = dot_structure(make_dot(evaluation.output))
    assert list(graph.nodes) == nodes
    assert [(e.source, e.target) for e in graph.edges] == edges
    # and the operations carry torch's own names
    ops = {n.op for n in graph.op_nodes()}
    walked = set()
    stack = [evaluation.output.grad_fn]
    while stack:
        fn = stack.pop()
        walked.add(type(fn).__name__)
        stack.extend(f for f, _ in fn.next_functions if f is not None)
    assert ops == walked


def test_seed_graphs_with_saved_tensors_and_attributes_match_make_dot(seed_example):
    evaluation = run(seed_example["expression"], seed_example["vars"])
    graph = build_graph(evaluation, show_saved=True, show_attrs=True)
    dot = make_dot(evaluation.output, show_saved=True, show_attrs=True)
    nodes, edges = dot_structure(dot)
    # a saved result is unpacked into a new tensor object on each access, so its id (the
    # DOT name) differs between two walks: compare saved nodes by count per function and
    # everything else by name
    colours = {}
    for entry in dot.body:
        node = _NODE.match(entry)
        if node and not _EDGE.match(entry):
            colours.setdefault(node.group(1), []).append("orange" in entry)
    dot_saved = {name for name, orange in colours.items() if all(orange)}
    ours_saved = {n.id for n in graph.nodes.values() if n.kind == "saved"}
    assert len(ours_saved) == len(dot_saved) > 0
    assert set(graph.nodes) - ours_saved == set(nodes) - dot_saved
    plain = [(a, b) for a, b in edges if a not in dot_saved and b not in dot_saved]
    ours = [(e.source, e.target) for e in graph.edges
            if e.source not in ours_saved and e.target not in ours_saved]
    assert ours == plain

    def saved_per_fn(pairs, saved):
        counts = {}
        for a, b in pairs:
            if b in saved:
                counts[a] = counts.get(a, 0) + 1
        return counts

    assert saved_per_fn([(e.source, e.target) for e in graph.edges], ours_saved) == \
        saved_per_fn(edges, dot_saved)
    for node in graph.op_nodes():
        assert set(node.saved.values()) <= set(graph.nodes)


def test_kinds_names_and_shapes_on_the_matrix_example(seed_example):
    evaluation = run(seed_example["expression"], seed_example["vars"])
    graph = build_graph(evaluation)
    leaves = {n.name for n in graph.nodes.values() if n.kind == "leaf"}
    assert leaves == set(seed_example["vars"])
    output = graph.nodes[graph.output_id]
    assert output.kind == "output" and output.name == evaluation.output_name
    assert output.grad.item() == 1.0
    for node in graph.nodes.values():
        if node.value is not None:
            assert tuple(node.value.shape) == node.shape


def test_chain_rule_example_annotations_match_hand_derivation():
    # g1 = 3w + cos z, g2 = w^2 + sin 2z, f = exp(g1) + 3 g2 at (1, 1), in float64
    text = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"
    graph = build_graph(run(text, {"w": 1.0, "z": 1.0}, "float64"))
    g1 = 3 + math.cos(1)
    named = {n.name: n for n in graph.op_nodes() if n.name and n.op != "AccumulateGrad"}
    assert named["g1"].expression == "3*w + cos(z)"
    assert named["g1"].value.item() == pytest.approx(g1)
    assert named["g1"].grad.item() == pytest.approx(math.exp(g1))   # df/dg1 = exp(g1)
    assert named["g2"].expression == "w**2 + sin(2*z)"
    assert named["g2"].grad.item() == pytest.approx(3.0)            # df/dg2 = 3
    exprs = {n.expression: n for n in graph.op_nodes()}
    # d f / d(2z) = 3 cos(2z); d f / d(cos z) = exp(g1); d f / d(w**2) = 3
    assert exprs["2*z"].grad.item() == pytest.approx(3 * math.cos(2))
    assert exprs["cos(z)"].grad.item() == pytest.approx(math.exp(g1))
    assert exprs["w**2"].value.item() == pytest.approx(1.0)
    assert exprs["w**2"].grad.item() == pytest.approx(3.0)
    assert exprs["3*w"].op == "MulBackward0"
    # leaves: the seed's Mathematica values
    w = by_name(graph, "leaf", "w")
    z = by_name(graph, "leaf", "z")
    assert w.grad.item() == pytest.approx(109.43202095367012)
    assert z.grad.item() == pytest.approx(-31.508562530134782)
    assert w.span is None and named["g1"].span.line == 1 and exprs["2*z"].span.line == 2


def test_gradients_agree_with_evaluate_and_sum_over_consumers(seed_example):
    evaluation = run(seed_example["expression"], seed_example["vars"], "float64")
    graph = build_graph(evaluation)
    for name, grad in evaluation.gradients.items():
        assert torch.allclose(by_name(graph, "leaf", name).grad, grad)
        accumulate = by_name(graph, "op", name)
        assert accumulate.op == "AccumulateGrad"
        assert torch.allclose(accumulate.grad, grad)
    for node in graph.op_nodes():
        if node.name in evaluation.intermediate_gradients and \
                evaluation.intermediates[node.name] is evaluation.record_for(node.grad_fn).tensor:
            assert torch.allclose(node.grad, evaluation.intermediate_gradients[node.name])


def test_repeated_input_gives_two_edges_like_make_dot():
    evaluation = run("f = x*x", {"x": 3.0})
    graph = build_graph(evaluation)
    nodes, edges = dot_structure(make_dot(evaluation.output))
    assert [(e.source, e.target) for e in graph.edges] == edges
    accumulate = by_name(graph, "op", "x")
    assert graph.out_degree()[accumulate.id] == 2
    assert by_name(graph, "leaf", "x").grad.item() == pytest.approx(6.0)


@pytest.mark.parametrize("text, variables", [
    ("f = w", {"w": 1.0}),                                  # the output is the leaf itself
    ("f = 2*c", {"c": VariableSpec("c", 1.0, False)}),      # nothing needs a gradient
    ("f = reshape(w, 1)", {"w": 2.0}),                      # a view: make_dot adds its base
])
def test_edge_cases_match_make_dot(text, variables):
    evaluation = run(text, variables)
    graph = build_graph(evaluation)
    nodes, edges = dot_structure(make_dot(evaluation.output))
    assert list(graph.nodes) == nodes
    assert [(e.source, e.target) for e in graph.edges] == edges
    assert graph.nodes[graph.output_id].kind == "output"


def test_view_output_marks_the_dotted_edge():
    graph = build_graph(run("f = reshape(w, 1)", {"w": 2.0}))
    kinds = [e.kind for e in graph.edges]
    assert kinds.count("view") == 1


def test_attributes_are_torchvizs():
    graph = build_graph(run("f = torch.norm(W, p=2)", {"W": [[3.0, 4.0]]}), show_attrs=True)
    norm = next(n for n in graph.op_nodes() if n.op == "LinalgVectorNormBackward0")
    # torchviz prints "name : value" lines under the function's name
    text = get_fn_name(norm.grad_fn, True, 1_000).split("\n")[2:]
    assert norm.attrs == {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in text)}
    assert norm.attrs["result"] == "[saved tensor]"
    assert norm.value.item() == pytest.approx(5.0)
    # d||W||/dW = W / ||W||
    assert by_name(graph, "leaf", "W").grad.flatten().tolist() == pytest.approx([0.6, 0.8])


def test_forward_only_evaluation_still_gets_gradients():
    evaluation = forward(parse("f = sin(w) * w"), {"w": 0.5}, "float64")
    graph = build_graph(evaluation)
    w = by_name(graph, "leaf", "w")
    assert w.grad.item() == pytest.approx(math.cos(0.5) * 0.5 + math.sin(0.5))
    assert evaluation.inputs["w"].grad is None  # build_graph did not touch .grad


def test_gradients_can_be_left_out():
    graph = build_graph(run("f = sin(w)", {"w": 0.5}), gradients=False)
    assert all(n.grad is None for n in graph.nodes.values())
    assert by_name(graph, "leaf", "w").value.item() == 0.5


def test_deep_chain_matches_make_dot_run_on_a_big_stack():
    evaluation = run(chain_text(1_000), {"x": 0.5})
    graph = build_graph(evaluation)
    assert len(graph.nodes) == 1_503   # 500 x (mul, sin, add), leaf, AccumulateGrad, output
    dot = call_with_deep_stack(lambda: make_dot(evaluation.output), 10_000)
    nodes, edges = dot_structure(dot)
    assert list(graph.nodes) == nodes
    assert [(e.source, e.target) for e in graph.edges] == edges


def test_five_thousand_operations_walk_without_recursion_error():
    evaluation = run(chain_text(5_000), {"x": 0.5}, "float64")
    graph = build_graph(evaluation)
    assert len(graph.nodes) == 7_503
    # the shared leaf x feeds the first multiplication and every addition
    accumulate = by_name(graph, "op", "x")
    assert graph.out_degree()[accumulate.id] == 2_501
    assert torch.allclose(accumulate.grad, evaluation.gradients["x"])
