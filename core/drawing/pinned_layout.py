"""Lay a graph out once, then draw it many times with every node and edge in place.

The step-by-step export draws one page per backward step, and a student flipping pages must
see the graph stand still. Graphviz's ``dot`` places nodes from the structure *and* the
sizes of labels, so pages whose edge labels differ get slightly different layouts. Here the
layout runs once, on a drawing that carries every label any page will show; its positions
(``dot -Tjson``) are then written into each page as ``pos`` attributes and the page is drawn
by ``neato -n2``, which takes node positions in points and edge splines as given and does no
layout at all. Pages then differ only in colours and in which labels are drawn.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from core.errors import ExpressionError


@dataclass(frozen=True)
class PinnedLayout:
    """Positions from one ``dot`` run, in points (Graphviz's own units for ``-n2``).

    ``nodes``: DOT name -> (x, y, width, height) with sizes in inches, as Graphviz writes
    them; ``edges``: (tail, head, k) -> (spline, label position or None), where k counts the
    edges between the same two nodes in the order they were written (x*x has two);
    ``bb``: the drawing's box (llx, lly, urx, ury).
    """

    nodes: dict = field(default_factory=dict)
    edges: dict = field(default_factory=dict)
    bb: tuple = (0.0, 0.0, 0.0, 0.0)

    def node_attrs(self, name: str) -> dict:
        """``pos``, ``width`` and ``height`` for node ``name``."""
        try:
            x, y, width, height = self.nodes[name]
        except KeyError:
            raise ExpressionError("render", f"the pinned layout has no node '{name}': the "
                                  "graph changed after it was laid out") from None
        return {"pos": f"{x:g},{y:g}", "width": f"{width:g}", "height": f"{height:g}"}

    def edge_attrs(self, tail: str, head: str, k: int, labelled: bool) -> dict:
        """``pos`` (the spline) and, for a labelled edge, ``lp`` (where the label goes)."""
        try:
            spline, label_at = self.edges[tail, head, k]
        except KeyError:
            raise ExpressionError("render", f"the pinned layout has no edge {tail} -> {head}: "
                                  "the graph changed after it was laid out") from None
        attrs = {"pos": spline}
        if labelled and label_at is not None:
            attrs["lp"] = label_at
        return attrs


def parse_json(data: bytes) -> PinnedLayout:
    """A :class:`PinnedLayout` from the output of ``dot -Tjson``; output that is not
    Graphviz's JSON (a broken or foreign ``dot`` on PATH) is an :class:`ExpressionError`."""
    try:
        return _parse_json(data)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as err:
        raise ExpressionError(
            "render", "the 'dot' program found on PATH did not produce Graphviz's layout "
            f"(JSON) output ({type(err).__name__}); is it Graphviz's dot? Reinstall "
            "Graphviz (sudo apt-get install graphviz)") from None


def _parse_json(data: bytes) -> PinnedLayout:
    drawing = json.loads(data)
    names = {}
    nodes = {}
    for obj in drawing.get("objects", []):
        names[obj["_gvid"]] = obj["name"]
        if "pos" in obj:  # subgraphs have no position
            x, y = (float(v) for v in obj["pos"].split(","))
            nodes[obj["name"]] = (x, y, float(obj["width"]), float(obj["height"]))
    edges = {}
    # edges come in the order they were written, so the k-th a->b here is the k-th a->b
    # in the page's source
    for edge in sorted(drawing.get("edges", []), key=lambda e: e["_gvid"]):
        tail, head = names[edge["tail"]], names[edge["head"]]
        k = 1
        while (tail, head, k) in edges:
            k += 1
        edges[tail, head, k] = (edge["pos"], edge.get("lp"))
    bb = tuple(float(v) for v in drawing["bb"].split(","))
    return PinnedLayout(nodes, edges, bb)


def lay_out(source: str, timeout: float | None) -> PinnedLayout:
    """Run ``dot`` once on DOT ``source`` and keep where it put everything."""
    from core.drawing.render import run_dot
    return parse_json(run_dot(source, "json", timeout))


def measure(labels: list[str], timeout: float | None, **node_attrs) -> list[tuple]:
    """(width, height) in points of each label drawn as a plaintext node, in one ``dot`` run
    (Graphviz knows its fonts; Python does not)."""
    from graphviz import Digraph

    # width and height 0: a node is at least 0.75 x 0.5 inches otherwise
    dot = Digraph(node_attr={"shape": "plaintext", "margin": "0", "width": "0", "height": "0",
                             **node_attrs})
    for i, label in enumerate(labels):
        dot.node(f"m{i}", label)
    layout = lay_out(dot.source, timeout)
    return [(layout.nodes[f"m{i}"][2] * 72, layout.nodes[f"m{i}"][3] * 72)
            for i in range(len(labels))]
