"""The node details panel: what one node of the backward graph is and holds.

Shows the operation, the piece of the user's expression it came from, its shape, value and
gradient, and the tensors it saved for the backward pass, from the plain-data dict that
:mod:`gui.graph_source` prepares on the worker thread.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTextBrowser

from core.serialize import shown_minus

KIND_TEXT = {"op": "operation (backward node)", "leaf": "input (leaf tensor)",
             "output": "output", "saved": "saved tensor",
             "constant": "constant (no gradient; drawn because the arithmetic of the steps "
                         "uses it, although autograd's graph does not hold it)"}

#: Graphviz's colour names used by torchviz's look, as HTML colours
_NAMED = {"lightgrey": "#d3d3d3", "lightblue": "#add8e6", "orange": "#ffa500",
          "darkolivegreen1": "#caff70", "darkolivegreen3": "#a2cd5a"}


def _swatch(colour: str, word: str, text: str) -> str:
    return (f"<span style='background:{_NAMED.get(colour, colour)};color:{text}'>"
            f"&nbsp;{word}&nbsp;</span>")


def intro_html(graph_theme: str = "screen") -> str:
    """What the panel says before a node is clicked: how to use it, the colours of the
    graph (those of ``graph_theme``, a core.drawing.render theme), and a link to Getting Started."""
    from core.drawing.render import THEMES

    theme = THEMES.get(graph_theme, THEMES["screen"])
    fills, text = theme.fills, getattr(theme, "fontcolor", "black")
    return ("<p>Click a node of the graph to see its operation, the part of the expression "
            "it computes, its value and its gradient.</p>"
            f"<p><b>Colours</b> (as in torchviz): {_swatch(fills['leaf'], 'blue', text)} "
            f"inputs, {_swatch(fills['op'], 'grey', text)} backward operations, "
            f"{_swatch(fills['saved'], 'orange', text)} saved tensors, "
            f"{_swatch(fills['output'], 'green', text)} the output; dashed "
            f"{_swatch(theme.constant_fill, 'grey', theme.constant_text)} boxes are the "
            "constants the steps' arithmetic uses (the 2 of 2*z, data held constant), "
            "which autograd's graph does not hold.</p>"
            "<p><a href='help:getting-started'>New here? What the graph shows</a> "
            "(backward nodes, AccumulateGrad, <code>()</code>, grad): Help &gt; Getting "
            "Started, F1.</p>")


INTRO = intro_html()


def _pre(text: str | None) -> str:
    if text is None:
        return "<i>—</i>"
    return f"<pre style='margin:0'>{html.escape(shown_minus(text))}</pre>"


def details_html(details: dict | None) -> str:
    """The HTML shown for one node (``None``: the introduction)."""
    if not details:
        return intro_html()
    title = details.get("name") or details.get("op") or "node"
    rows = [("Kind", html.escape(KIND_TEXT.get(details.get("kind"), details.get("kind") or ""))),
            ("Operation", html.escape(details.get("op") or "—"))]
    if details.get("expression"):
        where = details.get("span")
        at = (f" <span>(line {where[0]}, column {where[1]})</span>"
              if where else "")
        rows.append(("Computes", f"<code>{html.escape(details['expression'])}</code>{at}"))
    shape = details.get("shape")
    if shape is not None:
        rows.append(("Shape", "scalar" if not shape else " × ".join(map(str, shape))))
    rows.append(("Value", _pre(details.get("value"))))
    rows.append(("Gradient", _pre(details.get("grad"))))
    head = "padding:3px 10px 3px 0;vertical-align:top;font-weight:600"
    body = "".join(f"<tr><td style='{head}'>{k}</td>"
                   f"<td style='padding:3px 0'>{v}</td></tr>" for k, v in rows)
    saved = details.get("saved") or []
    saved_html = ""
    if saved:
        saved_html = "<h4 style='margin-bottom:2px'>Saved for backward</h4><table>" + "".join(
            f"<tr><td style='padding:2px 10px 2px 0;vertical-align:top;font-weight:600'>"
            f"{html.escape(n)}</td><td>{_pre(v)}</td></tr>" for n, v in saved) + "</table>"
    return (f"<h3 style='margin-bottom:4px'>{html.escape(title)}</h3>"
            f"<table>{body}</table>{saved_html}")


class NodeDetails(QTextBrowser):
    """Read-only, selectable (so values can be copied) description of the clicked node."""

    #: the introduction's link to the Getting Started page was clicked
    helpRequested = Signal()  # noqa: N815 - Qt's naming

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.details: dict | None = None
        self.graph_theme = "screen"
        self.anchorClicked.connect(self._link)
        self.show_details(None)

    def set_legend_theme(self, graph_theme: str) -> None:
        """Show the colours of ``graph_theme`` (the window's theme) in the introduction."""
        self.graph_theme = graph_theme
        if self.details is None:
            self.show_details(None)

    def _link(self, url) -> None:
        if url.toString().startswith("help:"):
            self.helpRequested.emit()

    def show_details(self, details: dict | None) -> None:
        """Describe ``details`` (a dict from the graph source), or show the introduction."""
        self.details = details
        self.setHtml(details_html(details) if details else intro_html(self.graph_theme))
