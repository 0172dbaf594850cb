"""Check every gradient independently: finite differences, symbolic derivatives and
reference values, each compared with autograd, one row per input entry.

``check_gradients(evaluation)`` is the entry point. Autograd's answer normally comes from
the evaluation, but ``gradients=`` takes it from any source (a test feeds it a gradient
from a custom autograd Function with a deliberately wrong backward), and the independent
values never depend on it: they are computed from the program text and the input values.

Modules: :mod:`.finite_differences`, :mod:`.nonsmooth` (kinks), :mod:`.nonfinite` (where NaN
started), :mod:`.compare` (tolerances, verdicts), :mod:`.report` (the data), and
:mod:`core.check.symbolic` (SymPy).
"""
from __future__ import annotations

import math
import random

import torch

from core.check import compare as _compare
from core.check.finite_differences import MAX_ENTRIES, TIME_LIMIT, finite_differences, unravel
from core.check.nonfinite import NonFiniteOrigin, first_nonfinite
from core.check.report import (
    VERDICTS,
    CheckReport,
    Comparison,
    EntryCheck,
    Formula,
    Sample,
    explain,
)
from core.errors import ExpressionError
from core.language.values import check_value, shape_of
from core.serialize import entry_label

__all__ = ["check_gradients", "CheckReport", "EntryCheck", "Comparison", "Formula",
           "NonFiniteOrigin", "VERDICTS", "normalize_reference"]

#: Seconds the symbolic derivatives may take (a separate process; see core.check.symbolic).
SYMBOLIC_TIME_LIMIT = 5.0
#: The seed of the random sample of entries checked when the inputs have more entries than
#: ``max_entries``: the same program and values always check the same entries.
SAMPLE_SEED = 0


def check_gradients(evaluation, reference=None, *, gradients: dict | None = None,
                    symbolic: bool = True, max_entries: int = MAX_ENTRIES,
                    time_limit: float = TIME_LIMIT,
                    symbolic_time_limit: float = SYMBOLIC_TIME_LIMIT,
                    cancel=None) -> CheckReport:
    """Check autograd's gradient of every input entry of ``evaluation``, or, when the
    inputs have more than ``max_entries`` entries in all, of a random sample of
    ``max_entries`` of them (seeded with :data:`SAMPLE_SEED`, so always the same ones; the
    report's ``sample`` says so). ``cancel`` (a ``threading.Event``) stops the symbolic work.

    ``reference``: known gradients, ``{name: value}`` or ``{"gradients": {...}, "digits": d}``
    (values as numbers or nested lists, e.g. the seed's Mathematica numbers; ``digits`` says
    how many significant digits they were given to). ``gradients``: autograd's answer from
    another source (default: the evaluation's, running backward if needed). Raises
    :class:`ExpressionError` for a reference that does not fit the inputs.
    """
    if gradients is None:
        if not evaluation.backward_done:
            from core.evaluation.evaluate import backward
            backward(evaluation)
        gradients = evaluation.gradients
    notes: list[str] = []
    if getattr(evaluation, "grad_output", None) is not None:
        # y.backward(v): each gradient is vᵀ ∂y/∂x, the gradient of the number vᵀy, so the
        # independent checks run on vᵀy (core.check.vjp)
        from core.check.vjp import scalar_evaluation
        evaluation = scalar_evaluation(evaluation)
    if getattr(evaluation, "vjp_of", None):
        from core.check.vjp import note
        notes.append(note(evaluation.vjp_of))
    ref_values, digits = normalize_reference(reference, evaluation)
    tol = _compare.tolerances(evaluation.dtype, digits)
    names = [name for name, t in evaluation.inputs.items() if t.requires_grad]
    coarse = _float32_constants(evaluation)
    if coarse:
        # torch's own backward rounds a constant to float32 even in float64: autograd is
        # then exact to float32's precision only, and is judged on that
        tol = {key: max(value, _compare.RTOL["float32"] / 100) for key, value in tol.items()}
        notes.append(coarse)

    origin = first_nonfinite(evaluation, gradients)
    output_value = float(evaluation.output.detach().double().item())
    sizes = {name: evaluation.inputs[name].numel() for name in names}
    chosen, sample = choose_entries(sizes, max_entries)
    if sample:
        notes.append(sample.describe())
    fd = None
    if math.isfinite(output_value):
        fd = finite_differences(evaluation, max_entries=max_entries, time_limit=time_limit,
                                only=chosen)
        notes.extend(fd.notes)
        for kink in fd.base_kinks.values():
            if kink.at_kink:
                notes.append(f"{kink.text} ({kink.span.describe()}) is evaluated exactly at "
                             f"{kink.what}, where it has no derivative")
    cut_note = None
    if getattr(evaluation, "cuts", None):
        # detach / no_grad: autograd's gradient ignores the cut-off path on purpose, but
        # nudging an input changes the cut value too, so finite differences see that path
        cut_note = ("not comparable: the program stops the gradient at "
                    + "; ".join(cut.text for cut in evaluation.cuts)
                    + ", and finite differences measure the function without the cut")
        notes.append("finite differences: " + cut_note)
    sym = None
    if symbolic and names:
        from core.check.symbolic import differentiate
        sym = differentiate(evaluation, names, time_limit=symbolic_time_limit, cancel=cancel)
        if sym.reason:
            notes.append(f"symbolic: {sym.reason}")

    rows: list[EntryCheck] = []
    for name in names:
        grad = gradients.get(name)
        shape = tuple(evaluation.inputs[name].shape)
        grad64 = (torch.zeros(shape, dtype=torch.float64) if grad is None
                  else grad.detach().to(torch.float64).reshape(shape))
        finite = grad64[torch.isfinite(grad64)]
        scale = float(finite.abs().max()) if finite.numel() else 0.0
        values = evaluation.inputs[name].detach()
        floor = _compare.resolution_floor(evaluation.dtype, output_value,
                                          float(values.abs().max()) if values.numel() else 0.0)
        ref = ref_values.get(name)
        positions = range(grad64.numel()) if chosen is None else sorted(chosen[name])
        for position in positions:
            index = unravel(position, shape)
            rows.append(_row(name, index, float(grad64.reshape(-1)[position]), scale, tol,
                             fd, sym, ref, origin, output_value,
                             max(floor, _smallest_normal(evaluation.dtype)),
                             _smallest_normal(evaluation.dtype), cut_note))
    agreeing = [c.rel_error for row in rows if row.verdict == "agree"
                for c in row.comparisons if c.agrees]
    report = CheckReport(
        output_name=evaluation.output_name, dtype=evaluation.dtype, value=output_value,
        rows=rows, tolerances=tol, notes=notes, nonfinite=origin,
        output_formula=_formula(sym.output) if sym and sym.output else None,
        symbolic_status=sym.reason if sym else ("not requested" if not symbolic else None),
        sample=sample,
        explanation=explain(evaluation.dtype, tol, max(agreeing) if agreeing else None))
    return report


def _smallest_normal(dtype: str) -> float:
    """The smallest normal number of autograd's dtype: a gradient below it cannot be held
    (float32 rounds 3e-60 to 0), so differences below it are the dtype's, not autograd's."""
    return float(torch.finfo(getattr(torch, dtype, torch.float32)).tiny)


def choose_entries(sizes: dict[str, int], max_entries: int
                   ) -> tuple[dict[str, set[int]] | None, Sample | None]:
    """Which entries to check: all of them (``None``) when there are at most
    ``max_entries``, else a random sample of ``max_entries`` drawn with :data:`SAMPLE_SEED`
    over all inputs' entries together (input name -> flat positions)."""
    total = sum(sizes.values())
    if total <= max_entries:
        return None, None
    picked = random.Random(SAMPLE_SEED).sample(range(total), max_entries)
    chosen: dict[str, set[int]] = {name: set() for name in sizes}
    bounds, start = [], 0
    for name, size in sizes.items():
        bounds.append((start, start + size, name))
        start += size
    for flat in picked:
        for low, high, name in bounds:
            if low <= flat < high:
                chosen[name].add(flat - low)
                break
    return chosen, Sample(total, max_entries, SAMPLE_SEED)


def _row(name, index, autograd, scale, tol, fd, sym, ref, origin, output_value,
         floor: float = 0.0, tiny: float = 0.0, cut_note=None) -> EntryCheck:
    label = entry_label(name, index)
    other: list[str] = []
    if not math.isfinite(output_value):
        other.append(origin.message if origin else f"the output is {output_value}")
    elif not math.isfinite(autograd):
        other.append(origin.message if origin else f"autograd's gradient is {autograd}")

    kink_reasons: list[str] = []
    fd_entry = fd.entries.get((name, index)) if fd else None
    if cut_note is not None:
        fd_cmp = Comparison("finite difference", note=cut_note)
    elif fd_entry is None:
        fd_cmp = Comparison("finite difference", note="not computed: the output is not finite")
    else:
        fd_cmp = _compare.compare("finite difference", autograd, fd_entry.value,
                                  tol["finite_difference"], scale, fd_entry.noise,
                                  fd_entry.note, floor)
        for kink in fd_entry.kinks:
            where = ("sits exactly on" if kink.at_kink else "is within one finite-difference "
                     "step of")
            kink_reasons.append(f"{label} {where} {kink.what} in {kink.text} "
                                f"({kink.span.describe()}): there is no derivative there; "
                                + (kink.torch_gives or "torch returns a value by convention"))
    formula = None
    if sym is None:
        sym_cmp = Comparison("symbolic", note="not computed")
    elif sym.reason and not sym.derivatives:
        sym_cmp = Comparison("symbolic", note=sym.reason)
    else:
        derivative = sym.derivatives.get((name, index))
        if derivative is None:
            sym_cmp = Comparison("symbolic", note="not computed")
        else:
            sym_cmp = _compare.compare("symbolic", autograd, derivative.value, tol["symbolic"],
                                       scale, note=derivative.note, floor=floor)
            formula = _formula(derivative)
    if ref is None:
        ref_cmp = Comparison("reference", note="no reference value given")
    else:
        # normalize_reference shaped ref like its input, so the entry's own index reads it
        ref_cmp = _compare.compare("reference", autograd, float(ref[index]), tol["reference"],
                                   scale, floor=floor)
    verdict, reasons = _compare.verdict([fd_cmp, sym_cmp, ref_cmp], kink_reasons, other)
    exact = [c.value for c in (sym_cmp, fd_cmp) if c.value is not None]
    if verdict == "agree" and exact and autograd == 0.0 and 0.0 < abs(exact[0]) < tiny:
        reasons.append(f"the exact value {exact[0]:.3g} is below the smallest normal number "
                       f"of autograd's dtype ({tiny:.2g}), which rounds it to 0; compute in "
                       "float64 to see it")
    if fd_entry is not None and fd_entry.value is None and fd_entry.note \
            and fd_entry.note not in reasons:
        reasons.append(fd_entry.note)  # e.g. finite differences cannot resolve it
    return EntryCheck(name, index, label, autograd, fd_cmp, sym_cmp, ref_cmp, verdict,
                      reasons, formula)


def _formula(derivative) -> Formula | None:
    if derivative is None or (derivative.text is None and not derivative.size):
        return None
    return Formula(derivative.text, derivative.pretty, derivative.latex, derivative.size,
                   derivative.html)


def normalize_reference(reference, evaluation) -> tuple[dict[str, torch.Tensor], int | None]:
    """Reference gradients as float64 tensors shaped like their inputs, and their digits.

    Accepts ``{name: value}`` or the seed examples' ``{"gradients": {...}, "digits": d}``.
    """
    if not reference:
        return {}, None
    digits = None
    if "gradients" in reference and isinstance(reference["gradients"], dict):
        digits = reference.get("digits")
        reference = reference["gradients"]
    out = {}
    for name, value in reference.items():
        where = f"reference {name}"
        if name not in evaluation.inputs:
            known = ", ".join(evaluation.inputs) or "none"
            raise ExpressionError("value", f"there is no input called '{name}' (inputs: "
                                  f"{known})", where=where)
        value = check_value(value, where)
        shape = tuple(evaluation.inputs[name].shape)
        given = shape_of(value)
        tensor = torch.tensor(value, dtype=torch.float64)
        if given != shape:
            if tensor.numel() != math.prod(shape):
                raise ExpressionError(
                    "shape", f"the reference has shape {given or 'scalar'} but {name} has "
                    f"shape {shape or 'scalar'}", where=where)
            tensor = tensor.reshape(shape)  # w = ones(1) against a plain number
        out[name] = tensor
    if digits is not None and (not isinstance(digits, int) or not 1 <= digits <= 17):
        raise ExpressionError("value", "digits must be a whole number from 1 to 17",
                              where="reference digits")
    return out, digits


#: backward formulas in torch that use a float32 constant whatever the dtype
#: (hardsigmoid_backward multiplies by 1/6 as a float: 0.16666667163 in float64 too)
_FLOAT32_CONSTANT_FUNCTIONS = {"hardsigmoid": "hardsigmoid's derivative 1/6"}


def _float32_constants(evaluation) -> str:
    """A note when a float64 program uses a function whose backward in torch is only
    float32-exact, else ""."""
    if evaluation.dtype != "float64":
        return ""
    used = {getattr(getattr(r, "node", None), "function", None)
            for r in getattr(evaluation, "records", ())}
    found = [words for name, words in _FLOAT32_CONSTANT_FUNCTIONS.items() if name in used]
    if not found:
        return ""
    return (f"torch computes {', '.join(found)} with a float32 constant (1/6 = 0.16666667163) "
            "even in float64, so autograd is exact only to about 3e-8 relative here; the "
            "symbolic and reference comparisons allow 1e-6")
