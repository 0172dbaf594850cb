"""View > Show Saved Tensors adds the saved tensors beside the backward nodes that saved
them and moves nothing else: compared node by node on Graphviz's own layout (dot -Tjson) of
the same graph drawn with and without them."""
from __future__ import annotations

import json

import pytest

from core.drawing import render as R
from core.drawing.graph import build_graph
from core.evaluation.evaluate import evaluate
from core.language.parser import parse

needs_dot = pytest.mark.skipif(not R.graphviz_available(), reason="Graphviz's dot is missing")

PROGRAMS = {
    "chain rule": ("g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2",
                   {"w": 1.0, "z": 1.0}),
    "matrices": ("F = norm(exp(W) @ W, p=2)", {"W": [[1, 0.5], [0.2, 0.1]]}),
    "neuron": ("z = w1*x1 + w2*x2 + b\ny = sigmoid(z)\nL = (y - target)**2",
               {"w1": 0.5, "x1": 2.0, "w2": -1.0, "x2": 0.5, "b": 0.1, "target": 1.0}),
    "shared input": ("y = x * x * sin(x) / (1 + x**2)", {"x": 0.7}),
}


def layout(graph, rankdir: str, show_saved: bool) -> dict[str, tuple[float, float]]:
    """DOT name -> (rank coordinate, position along the rank) in Graphviz's layout."""
    options = R.RenderOptions(show_saved=show_saved, rankdir=rankdir)
    source = R.to_digraph(graph, options).source
    data = json.loads(R.run_dot(source, "json"))
    places = {}
    for obj in data["objects"]:
        if "pos" in obj:
            x, y = (float(v) for v in obj["pos"].split(","))
            places[obj["name"]] = (x, -y) if rankdir == "LR" else (-y, x)
    return places


def ranks(places: dict) -> dict[str, int]:
    """DOT name -> rank number (0 for the first rank)."""
    levels = sorted({round(rank) for rank, _ in places.values()})
    return {name: levels.index(round(rank)) for name, (rank, _) in places.items()}


@needs_dot
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_saved_tensors_sit_beside_their_node_and_move_nothing_else(name, rankdir):
    text, values = PROGRAMS[name]
    evaluation = evaluate(parse(text), values)
    plain = layout(build_graph(evaluation), rankdir, False)
    graph = build_graph(evaluation, show_saved=True)
    shown = layout(graph, rankdir, True)
    extra = set(shown) - set(plain)
    assert extra, "the program saves tensors, so some must be drawn"
    assert set(plain) <= set(shown)  # nothing disappears
    plain_rank, shown_rank = ranks(plain), ranks(shown)
    # every node keeps its rank, so no arrow turns round
    assert {n: plain_rank[n] for n in plain} == {n: shown_rank[n] for n in plain}
    # and its place in the left-to-right (LR: top-to-bottom) order of its rank
    for level in set(plain_rank.values()):
        before = sorted((plain[n][1], n) for n in plain if plain_rank[n] == level)
        after = sorted((shown[n][1], n) for n in plain if shown_rank[n] == level)
        assert [n for _, n in before] == [n for _, n in after]
    # each saved tensor is on the rank of a node that saved it, right after that node
    # (or after another tensor that node saved): no other node in between
    savers = {}
    for edge in graph.edges:
        if edge.kind == "saved":
            savers.setdefault(edge.source, set())
    by_rank: dict[int, list[str]] = {}
    for n in sorted(shown, key=lambda n: shown[n][1]):
        by_rank.setdefault(shown_rank[n], []).append(n)
    drawn_saved = {e.target for e in graph.edges if e.kind == "saved"}
    for item in extra:
        row = by_rank[shown_rank[item]]
        i = row.index(item)
        left = next(n for n in reversed(row[:i]) if n not in extra)
        assert left in savers, f"{item} is not beside a node that saved something"
        original = R.original_id(item)
        assert original in drawn_saved
        assert any(e.source == left and e.target == original and e.kind == "saved"
                   for e in graph.edges), f"{item} sits beside {left}, which did not save it"


@needs_dot
def test_a_saved_input_is_drawn_beside_the_node_not_pulled_to_it():
    # w**2 saves w itself: the input w stays where it was, a dashed copy sits beside Pow
    graph = build_graph(evaluate(parse("f = w**2 + 3*w"), {"w": 2.0}), show_saved=True)
    source = R.to_digraph(graph, R.RenderOptions(show_saved=True)).source
    leaf = next(n.id for n in graph.nodes.values() if n.kind == "leaf")
    copies = [line for line in source.splitlines()
              if line.strip().strip('"').startswith(f"{leaf}_copy") and "->" not in line]
    assert copies and "dashed" in copies[0] and "self" in copies[0]
    saved_edges = [line for line in source.splitlines() if "dir=none" in line]
    assert saved_edges and all(f"-> {leaf} " not in line for line in saved_edges)
