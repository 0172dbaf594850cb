"""Gradients on the graph view's edges while stepping (gui.edge_overlay via GraphView)."""
from __future__ import annotations

import pytest

from core.drawing.render import original_id, svg_edges
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.teaching.trace import edge_text, record_steps
from gui import graph_source
from gui.graph_view import GraphView

pytestmark = pytest.mark.gui

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def _setup(qtbot, text, values):
    evaluation = evaluate(parse(text), values)
    trace = record_steps(evaluation)
    drawing = graph_source.draw(evaluation)
    view = GraphView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    view.show_svg(drawing.svg, drawing.node_ids)
    return trace, drawing, view


def _step(view, trace, index):
    h = trace.highlight(index)
    view.set_highlight(set(h.current), set(h.done), edge_labels=h.edge_labels, recent=h.recent)
    return h


def _expected(trace, index):
    """What every edge should carry after step ``index``, straight from the recorded
    steps: each step's outgoing gradients on the edges to its inputs, and the seed 1."""
    labels = {(trace.root_id, trace.output_id, 0): "1"}
    for step in trace.steps[: index + 1]:
        slots = [target for target in step.inputs if target is not None]
        for slot, (target, grad) in enumerate(zip(step.inputs, step.grad_out, strict=True)):
            if target is not None and grad is not None:
                # the k-th parallel edge into this node carries the k-th such slot's gradient
                k = step.inputs[:slot].count(target)
                labels[(target, step.node_id, k)] = edge_text(grad)
        assert len(slots) == len(step.inputs) - step.inputs.count(None)
        if step.leaf_id:
            labels[(step.leaf_id, step.node_id, 0)] = edge_text(step.grad_in[0])
    return labels


@pytest.fixture
def chain(qtbot):
    return _setup(qtbot, CHAIN, {"w": 1.0, "z": 1.0})


def test_each_step_labels_exactly_the_gradients_computed_so_far(chain):
    trace, drawing, view = chain
    pairs = [(original_id(e.source), original_id(e.target)) for e in svg_edges(drawing.svg)]
    drawn = {(*pair, pairs[:i].count(pair)) for i, pair in enumerate(pairs)}
    for index in range(len(trace.steps)):
        _step(view, trace, index)
        expected = _expected(trace, index)
        assert set(expected) <= drawn  # every gradient has an edge to sit on
        assert view.edge_labels() == expected
        assert all(label.isVisible() for label in view.edges.label_items())
    # the seed's numbers: w's two paths bring 6 and 103.432
    step_w = max(i for i, s in enumerate(trace.steps) if s.name == "w" and s.leaf_id)
    texts = sorted(view.edge_labels().values())
    assert "6" in texts and "103.432" in texts and "109.432" in texts
    assert step_w == len(trace.steps) - 1


def test_this_steps_gradients_are_bolder_and_stepping_back_hides_labels(chain):
    trace, _drawing, view = chain
    h = _step(view, trace, 2)  # ExpBackward0: sends 34.4773 to g1
    assert trace.steps[2].op == "ExpBackward0"
    bold = {label.data(0) for label in view.edges.label_items() if label.is_recent()}
    assert bold == set(h.recent)
    assert [view.edge_labels()[k] for k in h.recent] == ["34.4773"]
    strokes = {item.data(0): item.pen().widthF() for item in view.edges.stroke_items()}
    assert max(strokes.values()) == strokes[next(iter(bold))]
    _step(view, trace, 11)
    items = {id(item) for item in view.edges.label_items()}
    _step(view, trace, 1)
    assert view.edge_labels() == _expected(trace, 1)
    hidden = [i for i in view.scene().items() if id(i) in items and not i.isVisible()]
    assert hidden  # later steps' labels are hidden, not deleted: going forward reuses them
    _step(view, trace, 11)
    assert {id(item) for item in view.edges.label_items()} == items
    view.clear_highlight()
    assert view.edge_labels() == {}


def test_labels_sit_on_their_edges_and_do_not_cover_each_other(chain):
    trace, _drawing, view = chain
    _step(view, trace, len(trace.steps) - 1)
    labels = view.edges.label_items()
    strokes = {item.data(0): item for item in view.edges.stroke_items()}
    for label in labels:
        box = label.sceneBoundingRect()
        # beside or over its own edge's path, not somewhere else
        assert box.adjusted(-4, -4, 4, 4).intersects(strokes[label.data(0)].sceneBoundingRect())
        for other in labels:
            if other is not label:
                assert not box.intersects(other.sceneBoundingRect()), (label.text(),
                                                                        other.text())
    # readable where the drawing is fitted: the text is as tall as the nodes' own
    assert view.scale_factor() * labels[0].boundingRect().height() >= 12


@pytest.mark.parametrize("text, values, expected", [
    # torch: d(x**x)/dx = x * x**(x-1) through the base and x**x * ln(x) through the exponent
    ("f = x**x", {"x": 2.0}, ("4", "2.77259")),
    ("f = x*x", {"x": 2.0}, ("2", "2")),
])
def test_each_parallel_edge_carries_its_own_gradient(qtbot, text, values, expected):
    trace, drawing, view = _setup(qtbot, text, values)
    _step(view, trace, len(trace.steps) - 1)
    node = trace.steps[0]
    acc = node.inputs[0]
    assert node.inputs == [acc, acc]
    shown = view.edge_labels()
    assert (shown[(acc, node.node_id, 0)], shown[(acc, node.node_id, 1)]) == expected
    paths = [e for e in svg_edges(drawing.svg) if (e.source, e.target) == (acc, node.node_id)]
    assert len(paths) == 2
    items = {lb.data(0): lb for lb in view.edges.label_items()}
    strokes = {s.data(0): s for s in view.edges.stroke_items()}
    for k, path in enumerate(paths):
        key = (acc, node.node_id, k)
        other = (acc, node.node_id, 1 - k)
        assert view.edges.drawn_edge(key) == path  # the k-th edge drawn is the k-th slot
        # each label beside its own path: nearer to it than to the other, and touching it
        label = items[key].sceneBoundingRect()
        mine, theirs = strokes[key].sceneBoundingRect(), strokes[other].sceneBoundingRect()
        assert abs(label.center().x() - mine.center().x()) < abs(
            label.center().x() - theirs.center().x())
        assert label.adjusted(-4, -4, 4, 4).intersects(mine)
        assert not label.intersects(items[other].sceneBoundingRect())
    # the two labels add up to what the leaf collects
    assert sum(float(shown[(acc, node.node_id, k)]) for k in (0, 1)) == pytest.approx(
        float(trace.leaves["x"].total), rel=1e-5)


def test_copies_of_a_shared_leaf_each_carry_their_gradient(qtbot):
    text = "\n".join(["y = x"] + ["y = sin(y*1.0001) + x"] * 40)
    trace, drawing, view = _setup(qtbot, text, {"x": 0.3})
    copies = [e for e in svg_edges(drawing.svg) if "_copy" in e.source]
    assert len(copies) >= 4, "the large-graph layout should draw the shared leaf as copies"
    _step(view, trace, len(trace.steps) - 1)
    expected = _expected(trace, len(trace.steps) - 1)
    for edge in copies:
        key = next(k for k in expected if view.edges.drawn_edge(k) == edge)
        assert view.edge_labels()[key] == expected[key]


def test_matrix_labels_are_one_row_per_line():
    from gui.edge_overlay import display_text
    assert display_text("[[0.9095, 0.3474], [0.1864, 0.1321]]") == \
        "[[0.9095, 0.3474],\n [0.1864, 0.1321]]"
    # the nodes' and the steps' minus sign on the edges too (issue 13)
    assert display_text("-2.5") == "\u22122.5"
    assert display_text("[[1, -2], [3, 4e-05]]") == "[[1, \u22122],\n [3, 4e-05]]"
