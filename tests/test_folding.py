"""Large graphs folded by module (models) or by statement (typed programs): every node is
drawn once, as itself or inside a box whose count is right; the folded drawing has no
cycle; a box opens one level; small graphs are never folded."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from core.drawing import folding
from core.drawing.graph import build_graph
from core.evaluation.evaluate import evaluate
from core.language.parser import parse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_graph import chain_text  # noqa: E402


def _acyclic(graph) -> bool:
    incoming = {node_id: 0 for node_id in graph.nodes}
    out: dict[str, list[str]] = {}
    for edge in graph.edges:
        incoming[edge.target] += 1
        out.setdefault(edge.source, []).append(edge.target)
    ready = [n for n, k in incoming.items() if k == 0]
    seen = 0
    while ready:
        node = ready.pop()
        seen += 1
        for target in out.get(node, ()):
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return seen == len(graph.nodes)


def _check_folding(graph, fold):
    assert set(fold.node_map) == set(graph.nodes)
    drawn = fold.graph
    assert set(fold.node_map.values()) <= set(drawn.nodes)
    assert len(drawn.nodes) <= folding.TARGET_NODES
    for box_id, inside in fold.groups.items():
        count = int(re.search(r"folded: ([\d,]+) nodes", drawn.nodes[box_id].op)
                    .group(1).replace(",", ""))
        assert count == len(inside) == sum(1 for v in fold.node_map.values() if v == box_id)
    # every original edge between two drawn things is drawn
    for edge in graph.edges:
        source, target = fold.node_map[edge.source], fold.node_map[edge.target]
        if source != target:
            assert any(e.source == source and e.target == target for e in drawn.edges)
    assert _acyclic(drawn)


@pytest.fixture(scope="module")
def chain_graph():
    return build_graph(evaluate(parse(chain_text(5000)), {"x": 0.5}))


def test_the_5000_operation_chain_folds_by_statement(chain_graph):
    assert len(chain_graph.nodes) == 7503
    fold = folding.auto_fold(chain_graph)
    _check_folding(chain_graph, fold)
    labels = [n.expression for n in fold.graph.nodes.values()
              if n.id.startswith(folding.FOLD_PREFIX)]
    assert labels and all(label.startswith("lines ") for label in labels)


def test_a_box_opens_one_level(chain_graph):
    fold = folding.auto_fold(chain_graph)
    box = max(fold.groups, key=lambda b: len(fold.groups[b]))
    opened = fold.unfolded(box)
    assert box not in opened.graph.nodes
    _inside = set(fold.groups[box])
    assert {opened.node_map[i] for i in _inside} != {box}
    assert len(opened.graph.nodes) > len(fold.graph.nodes)
    assert set(opened.node_map) == set(chain_graph.nodes) and _acyclic(opened.graph)


def test_small_graphs_are_not_folded():
    graph = build_graph(evaluate(parse("g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\n"
                                       "f = exp(g1) + 3*g2"), {"w": 1.0, "z": 1.0}))
    assert folding.auto_fold(graph) is None


@pytest.mark.parametrize("depth", [60, 200])
def test_models_fold_by_module_without_cycles(depth):
    from autograd_explorer import explore, record
    from tests.model_zoo import residual_mlp

    model, inputs, loss_fn = residual_mlp(depth=depth)
    with record(model):
        loss = loss_fn(model, *inputs)
    graph = explore(loss).graph
    fold = folding.auto_fold(graph)
    _check_folding(graph, fold)
    names = {n.expression for n in fold.graph.nodes.values()
             if n.id.startswith(folding.FOLD_PREFIX)}
    assert names and all(name.startswith(("blocks", "head")) for name in names)


def test_a_transformer_stack_folds_by_layer():
    import torch
    from torch import nn

    from autograd_explorer import explore, record

    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                       batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=6, enable_nested_tensor=False)
    with record(model):
        loss = model(torch.randn(2, 3, 8)).pow(2).mean()
    graph = explore(loss).graph
    assert folding.needs_folding(graph)
    fold = folding.auto_fold(graph)
    _check_folding(graph, fold)
    assert any(n.expression.startswith("layers.") for n in fold.graph.nodes.values()
               if n.id.startswith(folding.FOLD_PREFIX))
