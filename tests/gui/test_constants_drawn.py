"""The window's graph draws the constants the steps' arithmetic uses (the data x, a
target, the 2 of ``2*z``) grey, with their values, as the step deck does: every number of
a step's arithmetic can be found on the screen."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import torch

from tests.gui.conftest import compute_and_draw

SVG = "{http://www.w3.org/2000/svg}"
PROGRAM = "p = w*x + b\nloss = (p - y)**2"
VALUES = {"w": 0.5, "b": 0.1, "x": 2.0, "y": 1.5}
GRADS = {"w": True, "b": True, "x": False, "y": False}


def _node_texts(svg: bytes) -> dict[str, str]:
    """DOT node name -> the words written in it."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(SVG + "g"):
        if g.get("class") == "node":
            name = g.find(SVG + "title").text
            out[name] = " ".join(t.text or "" for t in g.iter(SVG + "text"))
    return out


def _edges(svg: bytes) -> set[tuple[str, str]]:
    root = ET.fromstring(svg)
    return {tuple(g.find(SVG + "title").text.split("->")) for g in root.iter(SVG + "g")
            if g.get("class") == "edge"}


def test_the_windows_graph_draws_the_constants_with_their_values(qtbot, window):
    compute_and_draw(qtbot, window, PROGRAM, VALUES, GRADS)
    svg = window.drawing.svg
    texts = _node_texts(svg)
    # the data x and the target y (held constant), and the literal 2 of (p - y)**2
    assert "x" in texts["const_x"] and "value 2" in texts["const_x"]
    assert "y" in texts["const_y"] and "value 1.5" in texts["const_y"]
    numbers = [t for n, t in texts.items() if re.fullmatch(r"const_\d+_\d", n)]
    assert numbers == ["2"]
    # each joined to the operation that uses it: x to w*x, y to p - y, 2 to the power
    graph = window.drawing.source
    by_text = {node.expression: node_id for node_id, node in graph.nodes.items()}
    edges = _edges(svg)
    assert ("const_x", by_text["w*x"]) in edges and ("const_y", by_text["p - y"]) in edges
    assert any(a.startswith("const_") and b == by_text["(p - y)**2"] for a, b in edges)
    # grey and dashed: not part of autograd's graph, no gradient on them
    root = ET.fromstring(svg)
    for g in root.iter(SVG + "g"):
        if g.get("class") == "node" and g.find(SVG + "title").text.startswith("const_"):
            shape = g.find(SVG + "polygon")
            assert shape.get("stroke-dasharray") and shape.get("fill") == "#f4f4f4"
            assert "grad" not in " ".join(t.text or "" for t in g.iter(SVG + "text"))
    # clicking one tells the Node panel what it is
    window.on_node_clicked("const_x")
    shown = window.details.toPlainText()
    assert "constant" in shown and "w*x" in shown


def test_every_number_of_a_steps_arithmetic_is_on_the_screen(qtbot, window):
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    compute_and_draw(qtbot, window, PROGRAM, VALUES, GRADS)
    window.steps_dock.raise_()
    qtbot.waitUntil(lambda: window.steps_showing)
    panel = window.step_panel
    on_screen = " ".join(_node_texts(window.drawing.svg).values())
    # torch itself, called directly: the numbers the chain rule multiplies
    w, b = (torch.tensor(VALUES[k], requires_grad=True) for k in ("w", "b"))
    x, y = torch.tensor(VALUES["x"]), torch.tensor(VALUES["y"])
    loss = (w * x + b - y) ** 2
    loss.backward()
    # every step's arithmetic: each number multiplied is written on some box of the graph
    seen_x = False
    for index in range(panel.step_count()):
        panel.set_step(index)
        text = panel.details.toPlainText()
        for line in text.splitlines():
            if "· ∂(w*x)/∂w = " in line:
                factor = line.split("×")[1].split("=")[0].strip()
                assert factor == f"{x.item():g}" and f"value {factor}" in on_screen
                seen_x = True
            if line.startswith("2·(p − y)"):  # the literal 2 of **2, on its own box
                assert re.search(r">2</text>", window.drawing.svg.decode())
    assert seen_x
