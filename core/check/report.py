"""The plain data a gradient check produces, shared by the CLI (``check --json``) and the
GUI's Check panel: one row per input entry, with each independent method's value, its
errors against autograd, a verdict and the reasons for it."""
from __future__ import annotations

from dataclasses import dataclass, field

from core.check.nonfinite import NonFiniteOrigin
from core.serialize import finite_or_text

#: The verdicts, in order of how much attention they need.
VERDICTS = ("disagree", "non-smooth", "not checked", "agree")

#: The seed notebook's float32 result for d/dz (w + sin(2z)) at z = 2, and the exact value.
SEED_FLOAT32 = -1.3072872161865234
SEED_EXACT = -1.3072872417272239


@dataclass
class Comparison:
    """One independent value for an entry, compared with autograd.

    ``rel_error`` is ``abs_error`` divided by the larger of the value's own size and 1% of
    the input's largest gradient (so entries that are nearly 0 through cancellation are
    judged on the scale of their neighbours); the entry agrees when ``rel_error`` is within
    ``tolerance``. ``agrees`` is None when there is no value to compare (see ``note``).
    """

    method: str
    value: float | None = None
    abs_error: float | None = None
    rel_error: float | None = None
    tolerance: float | None = None
    agrees: bool | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready fields (non-finite numbers as strings)."""
        return {key: finite_or_text(getattr(self, key)) for key in
                ("method", "value", "abs_error", "rel_error", "tolerance", "agrees", "note")}


@dataclass
class Formula:
    """A derivative formula as plain text, as Unicode pretty-printed mathematics, and as
    LaTeX (None when too long to show; ``size`` counts its operations)."""

    text: str | None
    pretty: str | None
    latex: str | None
    size: int = 0
    #: one line of HTML mathematics (superscripts, ·, √), for the window
    html: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {"text": self.text, "pretty": self.pretty, "latex": self.latex,
                "size": self.size}


@dataclass
class EntryCheck:
    """The check of one entry of one input: autograd's value against every method."""

    name: str
    index: tuple[int, ...]
    label: str
    autograd: float
    finite_difference: Comparison
    symbolic: Comparison
    reference: Comparison
    verdict: str = "not checked"
    reasons: list[str] = field(default_factory=list)
    formula: Formula | None = None

    @property
    def comparisons(self) -> list[Comparison]:
        """The three methods, in the order the table shows them."""
        return [self.finite_difference, self.symbolic, self.reference]

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {
            "input": self.name, "index": list(self.index), "entry": self.label,
            "autograd": finite_or_text(self.autograd),
            "finite_difference": self.finite_difference.to_dict(),
            "symbolic": self.symbolic.to_dict(),
            "reference": self.reference.to_dict(),
            "verdict": self.verdict, "reasons": list(self.reasons),
            "formula": self.formula.to_dict() if self.formula else None,
        }


@dataclass(frozen=True)
class Sample:
    """The inputs had more entries than are checked: ``checked`` of ``entries``, drawn at
    random with ``seed`` (the same entries every time)."""

    entries: int
    checked: int
    seed: int

    def describe(self) -> str:
        """One line for the report."""
        return (f"the inputs have {self.entries:,} entries; a random sample of "
                f"{self.checked:,} of them (seed {self.seed}) is checked, the rest is not")

    def to_dict(self) -> dict:
        """``{"entries", "checked", "seed"}``."""
        return {"entries": self.entries, "checked": self.checked, "seed": self.seed}


@dataclass
class CheckReport:
    """Everything :func:`core.check.check_gradients` found."""

    output_name: str
    dtype: str
    value: float
    rows: list[EntryCheck]
    tolerances: dict[str, float]
    notes: list[str] = field(default_factory=list)
    nonfinite: NonFiniteOrigin | None = None
    output_formula: Formula | None = None
    symbolic_status: str | None = None
    explanation: str = ""
    #: set when only a random sample of the entries was checked
    sample: Sample | None = None

    @property
    def verdict(self) -> str:
        """The overall verdict: the most serious of the rows' (``agree`` only if every
        checked entry agrees and at least one was checked)."""
        if not self.rows:
            return "not checked"
        found = {row.verdict for row in self.rows}
        if "disagree" in found:
            return "disagree"
        if "agree" in found:
            return "agree" if found == {"agree"} else "agree (with exceptions)"
        return "non-smooth" if "non-smooth" in found else "not checked"

    def counts(self) -> dict[str, int]:
        """How many rows have each verdict."""
        return {v: sum(1 for row in self.rows if row.verdict == v) for v in VERDICTS}

    def rows_for(self, name: str) -> list[EntryCheck]:
        """The rows of one input, in index order."""
        return [row for row in self.rows if row.name == name]

    def to_dict(self) -> dict:
        """The ``check --json`` object."""
        return {
            "output": self.output_name, "dtype": self.dtype, "value": finite_or_text(self.value),
            "verdict": self.verdict, "counts": self.counts(),
            "tolerances": self.tolerances,
            "rows": [row.to_dict() for row in self.rows],
            "notes": list(self.notes),
            "nonfinite": self.nonfinite.to_dict() if self.nonfinite else None,
            "output_formula": self.output_formula.to_dict() if self.output_formula else None,
            "symbolic_status": self.symbolic_status,
            "sample": self.sample.to_dict() if self.sample else None,
            "explanation": self.explanation,
        }


def explain(dtype: str, tolerances: dict[str, float], largest_agreeing: float | None) -> str:
    """Why autograd and the checks differ in the last digits, in a student's words."""
    seed_rel = abs(SEED_FLOAT32 - SEED_EXACT) / abs(SEED_EXACT)
    if dtype == "float32":
        precision = ("Autograd ran in float32, which keeps about 7 significant decimal digits "
                     "(machine epsilon 1.2e-07). The finite differences are computed in "
                     "float64 (about 16 digits) and the symbolic values exactly, so expect "
                     "agreement to about 6 or 7 digits and no more. The seed notebook shows "
                     f"it: torch in float32 gives {SEED_FLOAT32!r} for d/dz of w + sin(2z) at "
                     f"z = 2, the exact value is {SEED_EXACT!r}, a relative difference of "
                     f"{seed_rel:.1e}: rounding, not a wrong gradient. Switch to float64 to "
                     "see the digits agree further.")
    else:
        precision = ("Autograd ran in float64, which keeps about 16 significant decimal "
                     "digits, so it agrees with the exact symbolic value to nearly every "
                     "digit shown; the finite differences are the least precise check here "
                     "(about 8 to 10 digits).")
    method = ("Finite differences: (f(x + h) - f(x - h)) / 2h for each entry x in float64, "
              "first with h = eps^(1/3)·max(1, |x|) (about 6e-6), which balances the "
              "formula's error (about h²) against rounding (about eps·|f|/h), then with h ten "
              "times smaller until two successive quotients agree, so the step follows the "
              "function's own scale (exp(1e6·w) needs a far smaller step than exp(w)); where "
              "they never settle, the entry says finite differences cannot resolve it.")
    tolerance = ("An entry agrees when its relative error is at most "
                 f"{tolerances['finite_difference']:g} against the finite difference, "
                 f"{tolerances['symbolic']:g} against the symbolic value and "
                 f"{tolerances['reference']:g} against the reference (relative to the "
                 "entry, or to 1% of the input's largest gradient when the entry is smaller, "
                 "and never to less than eps·|f| / max|x|, the smallest gradient that can "
                 "show in f at all).")
    parts = [precision, method, tolerance]
    if largest_agreeing is not None:
        parts.append(f"Largest relative difference among agreeing entries: "
                     f"{largest_agreeing:.1e}.")
    parts.append("Non-smooth: at a kink (relu or abs at 0, a tie in max or min, the edge of "
                 "clamp) there is no derivative; torch returns a chosen value there (relu'(0) "
                 "= 0, abs'(0) = sign(0) = 0, ½ to each side of a tie in maximum, 1 at an edge "
                 "of clamp) and a finite difference averages both sides, so they are not "
                 "compared.")
    return "\n\n".join(parts)
