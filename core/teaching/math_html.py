"""SymPy formulas as HTML that Qt's rich text shows as mathematics on one line.

SymPy's own pretty printer draws powers and fractions over two or more lines of ASCII art,
which wraps badly in a narrow panel and reads as code. This printer is SymPy's
``StrPrinter`` (same structure, same parentheses, same rules for what goes under a
fraction bar) with the notation of a textbook: powers as superscripts, ``⋅`` (the dot
operator, as SymPy writes it) for products, ``√`` for square roots, ``|x|`` for absolute
values, italic variables with their indices (and trailing digits) as subscripts. Only a
few tags are used (``i``, ``sup``, ``sub``), which QLabel and QTextBrowser render and a
browser would too.
"""
from __future__ import annotations

import html
import re

from sympy import S
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

_INDEXED = re.compile(r"^([A-Za-z_]\w*?)\[([\d,\s]+)\]$")
_TRAILING_DIGITS = re.compile(r"^([A-Za-z_]*[A-Za-z_])(\d+)$")


class HtmlPrinter(StrPrinter):
    """StrPrinter with superscripts, subscripts and mathematical symbols (HTML)."""

    printmethod = "_html"

    def _print_Symbol(self, expr) -> str:  # noqa: N802 - SymPy's naming
        name = expr.name
        match = _INDEXED.match(name)
        if match:  # W[0, 1] -> W with subscript 0,1
            index = ",".join(part.strip() for part in match.group(2).split(","))
            return f"<i>{html.escape(match.group(1))}</i><sub>{html.escape(index)}</sub>"
        match = _TRAILING_DIGITS.match(name)
        if match:  # w1 -> w with subscript 1
            return f"<i>{html.escape(match.group(1))}</i><sub>{match.group(2)}</sub>"
        return f"<i>{html.escape(name)}</i>"

    def _print_Pow(self, expr, rational=False) -> str:  # noqa: N802
        base, exp = expr.base, expr.exp
        if exp is S.Half:
            return f"√({self._print(base)})"
        if expr.is_commutative:
            if -exp is S.Half:
                return f"1/√({self._print(base)})"
            if exp is S.NegativeOne:
                return f"1/{self.parenthesize(base, PRECEDENCE['Mul'], strict=False)}"
        if base is S.Exp1:
            return f"e<sup>{self._print(exp)}</sup>"
        return (f"{self.parenthesize(base, PRECEDENCE['Pow'], strict=True)}"
                f"<sup>{self._print(exp)}</sup>")

    def _print_exp(self, expr) -> str:
        return f"e<sup>{self._print(expr.args[0])}</sup>"

    def _print_Exp1(self, expr) -> str:  # noqa: N802
        return "e"

    def _print_Pi(self, expr) -> str:  # noqa: N802
        return "π"

    def _print_Infinity(self, expr) -> str:  # noqa: N802
        return "∞"

    def _print_NegativeInfinity(self, expr) -> str:  # noqa: N802
        return "−∞"

    def _print_Abs(self, expr) -> str:  # noqa: N802
        return f"|{self._print(expr.args[0])}|"

    def _print_Relational(self, expr) -> str:  # noqa: N802
        symbol = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(expr.rel_op, expr.rel_op)
        left = self.parenthesize(expr.lhs, precedence(expr))
        right = self.parenthesize(expr.rhs, precedence(expr))
        return f"{left} {html.escape(symbol)} {right}"

    def _print_Float(self, expr) -> str:  # noqa: N802
        text = super()._print_Float(expr)
        mantissa, e, exponent = text.partition("e")
        return f"{mantissa}⋅10<sup>{exponent.lstrip('+')}</sup>" if e else text


def to_html(expr) -> str:
    """``expr`` as one line of HTML: ``3⋅e<sup>3⋅<i>w</i> + cos(<i>z</i>)</sup>``."""
    text = HtmlPrinter({"order": None}).doprint(expr)
    # StrPrinter joins products with "*" and writes minus as "-"; the markup (i, sup, sub
    # tags, escaped names) contains neither, so the typographic symbols replace them
    return text.replace("*", "⋅").replace("-", "−")
