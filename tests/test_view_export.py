"""Step decks of the paths and of a forward-mode walk (issue 15): the pages box the right
nodes and carry torch's factors and tangents, and the PDF has one page each."""
from __future__ import annotations

import math

import pytest

from core.cli import main as cli_main
from core.drawing.graph import build_graph
from core.errors import ExpressionError
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.views.modes import compare_modes
from core.views.paths import find_paths
from core.views.view_export import forward_deck, paths_deck

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"
E = math.exp(3 + math.cos(1))


def seed_evaluation():
    return evaluate(parse(CHAIN), {"w": 1.0, "z": 1.0}, "float64")


def test_paths_deck_one_page_per_path_then_the_sum():
    evaluation = seed_evaluation()
    graph = build_graph(evaluation)
    report = find_paths(evaluation)
    deck = paths_deck(graph, report, "w")
    assert len(deck.steps) == 3
    first = deck.highlight(0)
    path = report.leaves["w"].paths[0]
    assert set(path.node_ids) <= first.current
    # the factors on the path's edges, keyed as the graph keys its edges
    assert sorted(first.edge_labels.values()) == sorted(
        f"× {t}" for t in ("3", "1", "34.4773", "1"))
    assert set(first.edge_labels) <= {(e.source, e.target, 0) for e in graph.edges}
    assert "103.432 + 6 = 109.432" in " ".join(deck.steps[-1].rule.numbers)
    with pytest.raises(ExpressionError, match="not an input"):
        paths_deck(graph, report, "q")


def test_forward_deck_follows_the_records_with_their_tangents():
    evaluation = seed_evaluation()
    graph = build_graph(evaluation)
    walk = next(w for w in compare_modes(evaluation).walks if w.seed == "w")
    deck = forward_deck(graph, evaluation, walk)
    assert len(deck.steps) == len(evaluation.records)
    exp_page = next(i for i, p in enumerate(deck.steps) if p.expression == "exp(g1)")
    h = deck.highlight(exp_page)
    node = str(id(evaluation.records[exp_page].tensor.grad_fn))
    assert h.current == {node}
    new = {h.edge_labels[k] for k in h.recent}
    assert new == {f"ṫ = {3 * E:.6g}"}  # d exp(g1)/dw = 3 e^{g1} = 103.432


def test_cli_pdfs(tmp_path, capsys):
    pdf = tmp_path / "paths.pdf"
    assert cli_main(["paths", CHAIN, "--var", "w=1", "--var", "z=1", "--pdf", str(pdf)]) == 0
    assert b"/Count 3" in pdf.read_bytes()  # two paths and their sum
    fwd = tmp_path / "forward.pdf"
    assert cli_main(["modes", CHAIN, "--var", "w=1", "--var", "z=1", "--pdf", str(fwd),
                     "--seed", "z"]) == 0
    assert b"/Count 10" in fwd.read_bytes()
    capsys.readouterr()
    assert cli_main(["modes", CHAIN, "--var", "w=1", "--var", "z=1", "--pdf", str(fwd),
                     "--seed", "q"]) == 2
    assert "no forward pass seeded at 'q'" in capsys.readouterr().err
