"""core.teaching.math_html: derivative formulas as one line of HTML mathematics. Read back into
SymPy,
the HTML must be the same expression (so no parenthesis or sign is lost), and it must use
superscripts, not ``**`` or SymPy's two-line pretty printing."""
from __future__ import annotations

import re

import pytest
import sympy as sp

from core.check import check_gradients
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.teaching.math_html import to_html

w, z, x, y = sp.symbols("w z x y")
w1, w2 = sp.symbols("w1 w2")
SEED_F = sp.exp(3 * w + sp.cos(z)) + 3 * (w**2 + sp.sin(2 * z))

CASES = [
    sp.diff(SEED_F, w), sp.diff(SEED_F, z), 1 / (1 + sp.exp(-w1 * x - w2)),
    sp.sqrt(x**2 + y**2), x**-2, (x + y)**3 / (x - y)**2, -x / y, 1 / sp.sqrt(x + 1),
    sp.log(x) / sp.sqrt(y), x**(y + 1), (-x)**3, sp.exp(x)**2, 2**x, x * (y - 1),
    sp.tanh(x) ** 2 - 1, sp.Rational(3, 4) * x, sp.Abs(x) / x, sp.E**(x * y),
]


def html_to_sympy(text: str):
    """Read the HTML back as SymPy text, undoing only the notation."""
    text = text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")
    text = re.sub(r"</?i>", "", text)
    text = re.sub(r"<sub>([^<]*)</sub>", r"\1", text)
    text = text.replace("<sup>", "**(").replace("</sup>", ")")
    text = text.replace("⋅", "*").replace("−", "-").replace("√", "sqrt")
    text = re.sub(r"\|([^|]*)\|", r"Abs(\1)", text)
    text = re.sub(r"\be\*\*", "E**", text)
    assert "<" not in text, text
    return sp.sympify(text, locals={"E": sp.E, "w1": w1, "w2": w2})


@pytest.mark.parametrize("expr", CASES, ids=[str(c) for c in CASES])
def test_html_reads_back_as_the_same_expression(expr):
    text = to_html(expr)
    assert "**" not in text and "\n" not in text
    assert sp.simplify(html_to_sympy(text) - expr) == 0


def test_textbook_notation():
    assert to_html(x**2) == "<i>x</i><sup>2</sup>"
    assert to_html(sp.sqrt(x)) == "√(<i>x</i>)"
    assert to_html(sp.exp(3 * w)) == "e<sup>3⋅<i>w</i></sup>"
    assert to_html(sp.Symbol("W[0, 1]") ** 2) == "<i>W</i><sub>0,1</sub><sup>2</sup>"
    assert to_html(w1) == "<i>w</i><sub>1</sub>"
    assert to_html(-x) == "−<i>x</i>"
    assert to_html(sp.Lt(x, 1)) == "<i>x</i> &lt; 1"  # markup characters escaped


def test_check_report_carries_the_html_formula():
    evaluation = evaluate(parse("f = w**2 * sin(z)"), {"w": 2.0, "z": 0.5}, "float64")
    report = check_gradients(evaluation)
    rows = {row.label: row for row in report.rows}
    # d/dw = 2 w sin z, d/dz = w^2 cos z, read back from the HTML
    assert sp.simplify(html_to_sympy(rows["w"].formula.html) - 2 * w * sp.sin(z)) == 0
    assert sp.simplify(html_to_sympy(rows["z"].formula.html) - w**2 * sp.cos(z)) == 0
