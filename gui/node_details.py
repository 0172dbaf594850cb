"""The node details panel: what one node of the backward graph is and holds.

Shows the operation, the piece of the user's expression it came from, its shape, value and
gradient, and the tensors it saved for the backward pass, from the plain-data dict that
:mod:`gui.graph_source` prepares on the worker thread.
"""
from __future__ import annotations

import html

from PySide6.QtWidgets import QTextBrowser

KIND_TEXT = {"op": "operation (backward node)", "leaf": "input (leaf tensor)",
             "output": "output", "saved": "saved tensor"}

INTRO = ("<p style='color:#555'>Click a node of the graph to see its operation, the part of "
         "the expression it computes, its value and its gradient.</p>"
         "<p style='color:#555'><b>Colours</b> (as in torchviz): <span style='background:"
         "#add8e6'>&nbsp;blue&nbsp;</span> inputs, <span style='background:#d3d3d3'>&nbsp;grey"
         "&nbsp;</span> backward operations, <span style='background:#ffa500'>&nbsp;orange"
         "&nbsp;</span> saved tensors, <span style='background:#a2cd5a'>&nbsp;green&nbsp;</span> "
         "the output.</p>")


def _pre(text: str | None) -> str:
    if text is None:
        return "<i>—</i>"
    return f"<pre style='margin:0'>{html.escape(text)}</pre>"


def details_html(details: dict | None) -> str:
    """The HTML shown for one node (``None``: the introduction)."""
    if not details:
        return INTRO
    title = details.get("name") or details.get("op") or "node"
    rows = [("Kind", html.escape(KIND_TEXT.get(details.get("kind"), details.get("kind") or ""))),
            ("Operation", html.escape(details.get("op") or "—"))]
    if details.get("expression"):
        where = details.get("span")
        at = (f" <span style='color:#777'>(line {where[0]}, column {where[1]})</span>"
              if where else "")
        rows.append(("Computes", f"<code>{html.escape(details['expression'])}</code>{at}"))
    shape = details.get("shape")
    if shape is not None:
        rows.append(("Shape", "scalar" if not shape else " × ".join(map(str, shape))))
    rows.append(("Value", _pre(details.get("value"))))
    rows.append(("Gradient", _pre(details.get("grad"))))
    body = "".join(f"<tr><td style='padding:3px 10px 3px 0;color:#555;vertical-align:top'>{k}</td>"
                   f"<td style='padding:3px 0'>{v}</td></tr>" for k, v in rows)
    saved = details.get("saved") or []
    saved_html = ""
    if saved:
        saved_html = "<h4 style='margin-bottom:2px'>Saved for backward</h4><table>" + "".join(
            f"<tr><td style='padding:2px 10px 2px 0;color:#555;vertical-align:top'>"
            f"{html.escape(n)}</td><td>{_pre(v)}</td></tr>" for n, v in saved) + "</table>"
    return (f"<h3 style='margin-bottom:4px'>{html.escape(title)}</h3>"
            f"<table>{body}</table>{saved_html}")


class NodeDetails(QTextBrowser):
    """Read-only, selectable (so values can be copied) description of the clicked node."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.details: dict | None = None
        self.show_details(None)

    def show_details(self, details: dict | None) -> None:
        """Describe ``details`` (a dict from the graph source), or show the introduction."""
        self.details = details
        self.setHtml(details_html(details))
