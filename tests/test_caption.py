"""The program as a caption under a drawing: core.drawing.render's caption option and
``main.py render --caption``."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from core.drawing import render as R

ROOT = Path(__file__).resolve().parents[1]
needs_dot = pytest.mark.skipif(not R.graphviz_available(), reason="Graphviz's dot is missing")
NS = "{http://www.w3.org/2000/svg}"


def caption_lines(svg: bytes) -> list[str]:
    root = ElementTree.fromstring(svg)
    graph = next(g for g in root.iter(NS + "g") if g.get("class") == "graph")
    return [t.text for t in graph.findall(NS + "text")]


@needs_dot
def test_render_caption_writes_the_program_under_the_graph(tmp_path):
    out = tmp_path / "g.svg"
    done = subprocess.run([sys.executable, "main.py", "render", "h = x*y\nf = exp(h) - y",
                           "--var", "x=1", "--var", "y=2", "--caption", "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    svg = out.read_bytes()
    assert caption_lines(svg) == ["h = x*y", "f = exp(h) - y"]
    # the caption is under the drawing: below every node
    root = ElementTree.fromstring(svg)
    graph = next(g for g in root.iter(NS + "g") if g.get("class") == "graph")
    caption_y = min(float(t.get("y")) for t in graph.findall(NS + "text"))
    node_y = [float(t.get("y")) for g in root.iter(NS + "g") if g.get("class") == "node"
              for t in g.iter(NS + "text")]
    assert caption_y > max(node_y)


def test_caption_label_escapes_and_shortens():
    label = R.caption_label("a = b < c & d\n" + "\n".join(f"x{i} = 1" for i in range(40)))
    assert "&lt;" in label and "&amp;" in label and "<" not in label[1:-1].replace(
        "<BR ALIGN=\"LEFT\"/>", "")
    assert label.count("<BR") == R.CAPTION_MAX_LINES
    assert "more lines" in label
