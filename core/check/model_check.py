"""Checking the gradients of a graph from the user's own code (autograd_explorer.explore).

What can be checked depends on what the app may do with the user's code:

* ``explore(loss)``: the code already ran and is not run again (it may train, print, read
  files). Every row is "not checked" with that reason; autograd's gradient and the sum of the
  contributions the engine delivered along every path (the step-through) are still shown.
* ``explore(fn, inputs)``: the callable may be called again. A float64 copy of it (a deep
  copy of an ``nn.Module`` converted with ``.double()``; a plain function gets float64
  copies of its inputs) is evaluated at x ± h for each entry (central differences, the
  step of core.check.finite_differences), so the user's model and its ``.grad`` are never
  touched. Dropout in training mode makes every call different: it is reported and skipped.
"""
from __future__ import annotations

import copy
import math
import time

import torch

from core.check import compare as _compare
from core.check.finite_differences import step_for, unravel
from core.check.report import CheckReport, Comparison, EntryCheck
from core.serialize import entry_label

#: Entries compared with finite differences at most (two calls of the model each).
MAX_ENTRIES = 120
#: Seconds the finite differences may take in all.
TIME_LIMIT = 15.0
#: Rows at most (a model has millions of entries): the first entries of each parameter.
MAX_ROWS = 1000

_NOT_RUN = ("not computed: explore(loss) does not run your code again; explore(fn, inputs) "
            "with a callable lets the check call it at x ± h")
_NO_FORMULA = "no formula: the graph came from your own code, not typed text"
_NO_REFERENCE = "no reference value given"


def check_model(evaluation, *, max_entries: int = MAX_ENTRIES,
                time_limit: float = TIME_LIMIT) -> CheckReport:
    """Check autograd's gradient of each parameter entry of a ModelEvaluation (see the
    module notes for what is compared and what is skipped, and why)."""
    output = evaluation.output
    names = [name for name, t in evaluation.inputs.items() if t.requires_grad]
    leaves = [evaluation.inputs[name] for name in names]
    grads = torch.autograd.grad(output, leaves, retain_graph=True, allow_unused=True) \
        if output.grad_fn is not None and leaves else [None] * len(leaves)
    tol = _compare.tolerances(evaluation.dtype)
    notes: list[str] = []
    reason, call = _finite_difference_function(evaluation, names)
    if reason:
        notes.append(f"finite differences: {reason}")
    started = time.monotonic()
    checked = 0
    rows: list[EntryCheck] = []
    per_parameter = max(1, -(-MAX_ROWS // max(1, len(names))))
    total = sum(leaf.numel() for leaf in leaves)
    for name, leaf, grad in zip(names, leaves, grads):
        if len(rows) >= MAX_ROWS:
            break
        grad64 = torch.zeros(leaf.shape, dtype=torch.float64) if grad is None else \
            grad.detach().to(torch.float64)
        finite = grad64[torch.isfinite(grad64)]
        scale = float(finite.abs().max()) if finite.numel() else 0.0
        for position in range(min(grad64.numel(), per_parameter)):
            index = unravel(position, tuple(leaf.shape))
            autograd = float(grad64.reshape(-1)[position])
            if call is None:
                fd = Comparison("finite difference", note=reason or _NOT_RUN)
            elif checked >= max_entries or time.monotonic() - started > time_limit:
                fd = Comparison("finite difference", note=f"not computed: the first "
                                f"{checked} entries were checked (limits: {max_entries} "
                                f"entries, {time_limit:g} s)")
            else:
                fd = _compare.compare("finite difference", autograd,
                                      call(name, position), tol["finite_difference"], scale)
                checked += 1
            comparisons = [fd, Comparison("symbolic", note=_NO_FORMULA),
                           Comparison("reference", note=_NO_REFERENCE)]
            verdict, reasons = _compare.verdict(comparisons, [], [])
            rows.append(EntryCheck(name, index, entry_label(name, index), autograd,
                                   *comparisons, verdict=verdict, reasons=reasons))
    if len(rows) < total:
        notes.append(f"{len(rows):,} of the {total:,} parameter entries are listed (the "
                     f"first {per_parameter:,} of each parameter)")
    value = float(output.detach().double().reshape(()).item())
    explanation = ("Finite differences call your function again on a float64 copy of it: "
                   "(f(x + h) - f(x - h)) / 2h for each entry, h = eps^(1/3)·max(1, |x|). "
                   "Autograd ran in " + evaluation.dtype + ", so expect agreement to the "
                   "precision of that type. There is no symbolic check for code (SymPy "
                   "reads typed expressions only).")
    return CheckReport(output_name=evaluation.output_name, dtype=evaluation.dtype,
                       value=value, rows=rows, tolerances=tol, notes=notes,
                       symbolic_status=_NO_FORMULA, explanation=explanation)


def _finite_difference_function(evaluation, names):
    """(reason it cannot run, None) or (None, call(name, position) -> derivative)."""
    function = getattr(evaluation, "function", None)
    if function is None:
        return _NOT_RUN, None
    inputs = evaluation.function_inputs or ()
    if isinstance(function, torch.nn.Module):
        dropouts = [m for m in function.modules() if m.training and
                    isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0]
        if dropouts:
            return ("skipped: the model has dropout in training mode, so every call gives "
                    "another result (call model.eval() first)"), None
        model = copy.deepcopy(function).double()
    else:
        model = function
    args = [t.detach().to(torch.float64) if torch.is_tensor(t) and t.is_floating_point()
            else t for t in inputs]
    by_name = dict(model.named_parameters()) if isinstance(model, torch.nn.Module) else {}
    for i, t in enumerate(args):
        if torch.is_tensor(t):
            by_name.setdefault(f"inputs[{i}]", t)
    missing = [name for name in names if name not in by_name]
    if missing:
        return (f"skipped: {', '.join(missing[:3])} is not a parameter of the function or "
                "one of its inputs, so it cannot be moved by h"), None

    def run() -> float:
        with torch.no_grad():
            out = model(*args)
        return float(out.double().reshape(()).item()) if torch.is_tensor(out) else float(out)

    def call(name: str, position: int) -> float:
        tensor = by_name[name]
        flat = tensor.data.view(-1)
        x = float(flat[position])
        h = step_for(x)
        try:
            flat[position] = x + h
            up = run()
            flat[position] = x - h
            down = run()
        finally:
            flat[position] = x
        value = (up - down) / (2 * h)
        return value if math.isfinite(value) else math.nan

    return None, call
