"""Help > Getting Started and Help > Functions: two small, scrollable, non-modal windows.

The functions page is generated from :data:`core.language.functions.FUNCTIONS`, so a function added
to the language appears here without anyone editing this file; a search box filters it by
name or description as you type. Both windows fit the screen (a long list scrolls) and can
stay open beside the main window while you type.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QLineEdit, QTextBrowser, QVBoxLayout

from core.language.functions import FUNCTIONS

#: placeholder names of positional arguments, in order
_ARGUMENTS = ("x", "y", "z")
#: the largest share of the screen a help window takes
SCREEN_SHARE = 0.8

GUIDE = """
<h2>Getting started</h2>
<h3>What to type</h3>
<p>One statement per line, Python style: <code>name = expression</code>. The last line is the
output whose gradients are computed.</p>
<pre>g1 = 3*w + cos(z)
g2 = w**2 + sin(2*z)
f = exp(g1) + 3*g2</pre>
<p>Every name you use without assigning it (<code>w</code>, <code>z</code>) is an
<b>input</b>: it appears in the Variables table, where you give its value, a number or a
matrix such as <code>[[1, 0.5], [0.2, 0.1]]</code>. Untick <i>Grad</i> to make an input a
constant. Operators: <code>+ - * / ** @</code> (<code>@</code> is matrix product);
functions: Help &gt; Functions. Ctrl+Enter computes (it also recomputes as you type). A pasted
notebook cell with <code>torch.tensor(..., requires_grad=True)</code> and
<code>f.backward()</code> works too.</p>

<h3>Reading the graph</h3>
<p>The graph is the one <code>torch.autograd</code> builds while computing your expression,
drawn as torchviz draws it: the output at the bottom, the inputs at the top, and arrows
pointing the way the values flowed forward. The backward pass runs against the arrows,
from the output up to the inputs.</p>
<ul>
<li><b>Backward node</b> (grey box, e.g. <code>MulBackward0</code>): the part of
autograd that knows how to send a gradient back through one operation of your expression.
<code>MulBackward0</code> was made by a <code>*</code>, <code>ExpBackward0</code> by
<code>exp</code>. The bold line under the name is the piece of <i>your</i> expression it
belongs to.</li>
<li><b>AccumulateGrad</b>: the last stop before an input. It adds up everything that arrives
for that input (an input used twice gets two contributions, which is the multivariate chain
rule) and stores the sum in the input's <code>.grad</code>.</li>
<li><b>Colours</b> (as in torchviz): <b>blue</b> inputs (leaf tensors), <b>grey</b>
backward operations, <b>orange</b> saved tensors (View &gt; Show Saved Tensors: what an
operation keeps for its backward step), <b>green</b> the output.</li>
<li><b><code>()</code></b> beside a name is its <i>shape</i>: <code>()</code> is a single
number (a scalar), <code>(2, 2)</code> a 2×2 matrix.</li>
<li><b>value</b> is what the node computed; <b>grad</b> (in red) is the gradient of the
output with respect to it: how fast the output changes when this value changes.
<code>grad 1</code> on the output is where the backward pass starts.</li>
</ul>

<h3>Stepping through the chain rule</h3>
<p>The <b>Steps</b> tab (Alt+2) replays the backward pass as torch's engine ran it, one node
at a time: <b>Page Down</b> / <b>Alt+→</b> for the next step, <b>Page Up</b> /
<b>Alt+←</b> for the previous one, from anywhere in the window. With <i>Reveal gradients as
I step</i> (above the graph) the nodes show their values only, and each gradient appears on
the graph's arrows when its step is reached. The <b>Check</b> tab (Alt+3) compares every
gradient with finite differences and SymPy's derivative. Click a node for its details in
the <b>Node</b> tab (Alt+1).</p>

<h3>Numbers on screen and copied</h3>
<p>Every panel writes a negative number with the minus sign <b>−</b> (as the graph and the
steps do: <code>−31.5086</code>), easier to see than a hyphen from the back of a room.
Edit &gt; Copy Results copies the results table as tab-separated text with the plain
<code>-</code> and all six digits, so that Python (<code>float("-31.5086")</code>) and
spreadsheets read the numbers back as they are. Values you type use the plain
<code>-</code>.</p>

<h3>In front of a class</h3>
<p>View &gt; Presentation (F11) shows the graph and the Steps only, full screen, in larger
type; View &gt; Text Size and View &gt; Theme (light, dark, high contrast) are remembered.</p>
"""


def signature(spec) -> str:
    """How to call a function: ``clamp(x, [y], [z], max=…, min=…)`` (optional
    positional arguments in brackets, then the keywords it accepts); indexing is written
    ``x[i, j:k]``, a method only (``x.view(…)``) with its receiver."""
    if getattr(spec, "syntax", None):
        return spec.syntax
    if not getattr(spec, "bare", True):
        return "x." + _call_signature(spec).replace("(x, ", "(").replace("(x)", "()")
    return _call_signature(spec)


def _call_signature(spec) -> str:
    if spec.max_args is None:  # any number: sizes of a constructor, tensors to join
        positional = ["x", "…"] if spec.min_args and not spec.constructor else ["…"]
    else:
        positional = [(_ARGUMENTS[i] if i < len(_ARGUMENTS) else f"arg{i + 1}")
                      if i < spec.min_args else
                      f"[{_ARGUMENTS[i] if i < len(_ARGUMENTS) else f'arg{i + 1}'}]"
                      for i in range(spec.max_args)]
    keywords = [f"{k}=…" for k in sorted(spec.kwargs)]
    return f"{spec.name}({', '.join(positional + keywords)})"


def matches(spec, query: str) -> bool:
    """True if ``query`` (any case) is in the function's name, signature or description."""
    query = query.strip().lower()
    return not query or query in spec.name.lower() or query in spec.summary.lower() \
        or query in signature(spec).lower()


def functions_html(query: str = "") -> tuple[str, list[str]]:
    """The functions page, filtered by ``query``, and the names it lists."""
    specs = [spec for _name, spec in sorted(FUNCTIONS.items()) if matches(spec, query)]
    rows = "".join(
        f"<tr><td style='padding:3px 12px 3px 0'><code><b>{html.escape(signature(spec))}"
        f"</b></code></td><td style='padding:3px 0'>{html.escape(spec.summary)}"
        + (" <i>(also <code>x." + html.escape(spec.name) + "()</code>)</i>"
           if spec.method and not spec.constructor and getattr(spec, "bare", True)
           and not getattr(spec, "syntax", None) else "")
        + "</td></tr>" for spec in specs)
    head = ("<p>Write them bare (<code>sin(x)</code>), as <code>torch.sin(x)</code> or "
            "<code>F.sin(x)</code>, or as a method (<code>x.sin()</code>). Operators: "
            "<code>+ - * / ** @</code>, comparisons <code>&lt; &lt;= &gt; &gt;= == !=</code> "
            "(masks), indexing <code>x[0, 1:3]</code>; <code>with torch.no_grad():</code> "
            "stops gradients. Arguments in [brackets] may be left out.</p>")
    if not specs:
        return head + f"<p><i>No function matches “{html.escape(query)}”.</i></p>", []
    count = f"<p>{len(specs)} of {len(FUNCTIONS)} functions</p>"
    return head + count + f"<table>{rows}</table>", [spec.name for spec in specs]


class HelpWindow(QDialog):
    """A scrollable page of help, with a search box when ``searchable``."""

    def __init__(self, parent, title: str, searchable: bool = False):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("helpWindow")
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        layout = QVBoxLayout(self)
        self.search = None
        self.shown_names: list[str] = []
        if searchable:
            self.search = QLineEdit(self)
            self.search.setPlaceholderText("Search functions (e.g. soft, dim, log)…")
            self.search.setClearButtonEnabled(True)
            self.search.textChanged.connect(self.filter)
            layout.addWidget(self.search)
            QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)
        layout.addWidget(self.browser, 1)
        self._fit_screen()

    def _fit_screen(self) -> None:
        screen = (self.parent().screen() if self.parent() is not None else None) \
            or QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen else None
        width, height = 760, 640
        if available is not None:
            width = min(width, int(available.width() * SCREEN_SHARE))
            height = min(height, int(available.height() * SCREEN_SHARE))
        self.resize(width, height)
        if available is not None:
            self.setMaximumHeight(available.height())

    def filter(self, query: str) -> None:
        """Show the functions matching ``query``."""
        page, self.shown_names = functions_html(query)
        self.browser.setHtml(page)


def _open(w, attribute: str, title: str, searchable: bool) -> HelpWindow:
    window = getattr(w, attribute, None)
    if window is None:
        window = HelpWindow(w, title, searchable)
        setattr(w, attribute, window)
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def show_functions(w) -> HelpWindow:
    """Help > Functions: every function, searchable."""
    window = _open(w, "functions_window", "Functions", True)
    window.filter(window.search.text())
    window.search.setFocus(Qt.FocusReason.OtherFocusReason)
    return window


def show_guide(w) -> HelpWindow:
    """Help > Getting Started (F1), also linked from the Node tab."""
    window = _open(w, "guide_window", "Getting Started", False)
    window.browser.setHtml(GUIDE)
    return window
