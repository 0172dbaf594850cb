"""Tolerances and verdicts: when does autograd's value agree with an independent one?

Each method has its own accuracy, so each has its own relative tolerance:

- autograd itself carries rounding: float32 keeps about 7 digits and a few dozen operations
  can lose one or two more, so 1e-4; float64 keeps about 16, so 1e-8;
- central differences in float64 are accurate to about 1e-8..1e-10 relative for smooth
  functions (their h² error), so never ask for better than 1e-6 against them, and add a
  bound on their rounding error (eps·|f|/h, large when |f| is much larger than the gradient);
- a reference given to d significant digits is only known to 0.5·10^(1-d).
"""
from __future__ import annotations

import math

from core.check.report import Comparison

#: autograd's own rounding, by dtype
RTOL = {"float32": 1e-4, "float64": 1e-8}
#: the finite differences' truncation error, relative
FD_RTOL = 1e-6
#: entries smaller than this fraction of their input's largest gradient are judged on that
#: scale instead: their value is the difference of larger terms, rounded on their scale
SCALE_FLOOR = 0.01
#: machine epsilon of each dtype: what one rounding of the output can hide
EPS = {"float32": 2.0 ** -23, "float64": 2.0 ** -52}


def resolution_floor(dtype: str, output_value: float, input_scale: float) -> float:
    """The smallest gradient that can show in the output at all: changing an input of size
    ``input_scale`` by all of itself moves f by ``gradient × input_scale``, which is lost in
    f's rounding (eps·|f|) when the gradient is below eps·|f| / input_scale.

    This is the absolute floor under every comparison of that input's entries: where autograd
    says 0 and SymPy's 30-digit evaluation of ``sum(softmax(x))``'s derivative leaves
    4.9e-32 of cancellation, both mean "zero at f's resolution" and agree. It scales with f
    and x, so a program whose true gradients are all tiny (``1e-30 * w * w``) keeps its
    relative tolerance. 0 when the input is 0 everywhere (no scale to judge on).
    """
    if not (math.isfinite(output_value) and math.isfinite(input_scale)) or input_scale <= 0:
        return 0.0
    return EPS.get(dtype, EPS["float32"]) * abs(output_value) / input_scale


def tolerances(dtype: str, reference_digits: int | None = None) -> dict[str, float]:
    """The relative tolerance of each method for autograd in ``dtype``."""
    base = RTOL.get(dtype, RTOL["float32"])
    reference = base if reference_digits is None else base + 0.5 * 10.0 ** (1 - reference_digits)
    return {"finite_difference": max(base, FD_RTOL), "symbolic": base, "reference": reference}


def compare(method: str, autograd: float, value: float | None, rtol: float, scale: float,
            noise: float = 0.0, note: str | None = None, floor: float = 0.0) -> Comparison:
    """Compare autograd's ``autograd`` with ``value`` (None: nothing to compare).

    ``scale`` is the largest |gradient| of the same input; ``noise`` is an absolute bound on
    ``value``'s own rounding error, added to the tolerance; ``floor`` is the smallest size
    an entry is judged on (:func:`resolution_floor`).
    """
    if value is None:
        return Comparison(method, note=note)
    if not (math.isfinite(value) and math.isfinite(autograd)):
        return Comparison(method, value, note=note or "not finite: cannot compare")
    abs_error = abs(autograd - value)
    size = max(abs(value), SCALE_FLOOR * scale, floor)
    if size == 0.0:
        rel_error = 0.0 if abs_error == 0.0 else math.inf
    else:
        rel_error = abs_error / size
    allowed = rtol + (noise / size if size else 0.0)
    # a difference below the floor cannot show in f at all: both values are "zero at f's
    # resolution" (tanh(-28)'s derivative is 0 in float64, 1.3e-24 exactly)
    agrees = abs_error <= noise if size == 0.0 else (rel_error <= allowed
                                                     or abs_error <= floor)
    return Comparison(method, value, abs_error, rel_error, allowed, agrees, note)


def verdict(comparisons: list[Comparison], kink_reasons: list[str],
            other_reasons: list[str]) -> tuple[str, list[str]]:
    """The verdict of one entry and the reasons for it.

    A kink wins over everything (no method's value means anything there); then any
    disagreement; then agreement if at least one method compared; else "not checked".
    """
    if other_reasons:
        return "not checked", list(other_reasons)
    if kink_reasons:
        return "non-smooth", list(kink_reasons)
    disagreeing = [c for c in comparisons if c.agrees is False]
    if disagreeing:
        return "disagree", [
            f"autograd differs from the {c.method} ({c.value:.10g}) by a relative "
            f"{c.rel_error:.2g}, more than the tolerance {c.tolerance:.2g}"
            for c in disagreeing]
    agreeing = [c for c in comparisons if c.agrees]
    if agreeing:
        return "agree", ["agrees with the " + ", ".join(c.method for c in agreeing)]
    return "not checked", [f"{c.method}: {c.note}" for c in comparisons if c.note] or \
        ["no independent value was available"]
