"""``main.py check``: every gradient against finite differences, SymPy and reference values.

Prints one row per input entry (autograd, finite difference, symbolic, reference, their
relative errors, and a verdict), then the reasons, the formulas and the note on float32.
Exit status 0 when nothing disagrees, 1 when some entry disagrees, 2 for a user error.
"""
from __future__ import annotations

from core.cli.common import (
    UsageError,
    add_program_arguments,
    load,
    parse_name_values,
    print_json,
)
from core.cli.jacobian import add_grad_output_argument, grad_output_value


def add_parser(subparsers) -> None:
    """Register ``check``."""
    parser = subparsers.add_parser(
        "check", help="check every gradient independently",
        description="Compare autograd's gradient of every input entry with central finite "
        "differences (float64), SymPy's symbolic derivative, and reference values you give. "
        "Exit status 1 if any entry disagrees.")
    add_program_arguments(parser)
    add_grad_output_argument(parser)  # a vector output: check vᵀJ, the gradients of vᵀy
    parser.add_argument("--reference", action="append", default=[], metavar="NAME=VALUE",
                        help="a known gradient to compare with, e.g. --reference "
                        "z=-1.3072872417272239 (repeat for each input)")
    parser.add_argument("--digits", type=int, default=None, metavar="N",
                        help="the reference values are given to N significant digits")
    parser.add_argument("--no-symbolic", action="store_true",
                        help="skip the SymPy derivatives")
    parser.add_argument("--formulas", action="store_true",
                        help="print each derivative formula (Unicode mathematics)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def parse_references(items: list[str], digits: int | None) -> dict | None:
    """``["z=-1.30", "W=[[1,2],[3,4]]"]`` -> ``{"gradients": {...}, "digits": d}``."""
    if not items:
        if digits is not None:
            raise UsageError("--digits describes --reference values; give some")
        return None
    gradients = parse_name_values(items, "z=-1.3072872417272239", where="reference {name}")
    return {"gradients": gradients, "digits": digits}


def run(args) -> int:
    """Evaluate, check, and print the table (or JSON)."""
    from core.check import check_gradients
    from core.evaluation.evaluate import evaluate

    reference = parse_references(args.reference, args.digits)
    program, variables = load(args)
    evaluation = evaluate(program, variables, args.dtype, grad_output=grad_output_value(args))
    report = check_gradients(evaluation, reference, symbolic=not args.no_symbolic)
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_report(report, formulas=args.formulas))
    return 1 if report.verdict == "disagree" else 0


def _number(x) -> str:
    return "-" if x is None else f"{x:.10g}"


def _error(comparison) -> str:
    return "-" if comparison.rel_error is None else f"{comparison.rel_error:.1e}"


def format_report(report, formulas: bool = False) -> str:
    """The report as a plain-text table with reasons and notes."""
    from core.serialize import format_number
    heading = f"{report.output_name} = {format_number(report.value, 10)}   ({report.dtype})"
    if not report.rows:
        # an empty table and "verdict: not checked ()" would look like a fault
        return "\n".join([heading, "", "nothing to check: no input needs a gradient (give "
                          "inputs with --var; --const values get none)"]
                          + [f"note: {note}" for note in report.notes])
    headers = ("entry", "autograd", "finite diff", "rel err", "symbolic", "rel err",
               "reference", "rel err", "verdict")
    table = [headers]
    for row in report.rows:
        fd, sym, ref = row.comparisons
        table.append((row.label, _number(row.autograd), _number(fd.value), _error(fd),
                      _number(sym.value), _error(sym), _number(ref.value), _error(ref),
                      row.verdict))
    widths = [max(len(str(line[i])) for line in table) for i in range(len(headers))]
    lines = [heading, ""]
    for n, line in enumerate(table):
        lines.append("  ".join(str(cell).ljust(w) for cell, w in zip(line, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    counts = ", ".join(f"{n} {v}" for v, n in report.counts().items() if n)
    lines += ["", f"verdict: {report.verdict} ({counts})"]
    for row in report.rows:
        # an agreeing row says no more than what qualifies its agreement (no finite
        # difference, a value below the dtype's range)
        shown = row.reasons if row.verdict != "agree" else [
            reason for reason in row.reasons if not reason.startswith("agrees with")]
        for reason in shown:
            lines.append(f"  {row.label}: {reason}")
    if report.nonfinite:
        lines.append(f"NaN/inf: {report.nonfinite.message}")
    for note in report.notes:
        lines.append(f"note: {note}")
    if formulas:
        if report.output_formula and report.output_formula.text:
            lines += ["", f"{report.output_name} = {report.output_formula.text}"]
        for row in report.rows:
            if row.formula and (row.formula.pretty or row.formula.text):
                shown = row.formula.pretty or row.formula.text
                lines += ["", f"d{report.output_name}/d{row.label} =", shown]
            elif row.symbolic.note:
                lines += ["", f"d{report.output_name}/d{row.label}: {row.symbolic.note}"]
    lines += ["", report.explanation]
    return "\n".join(lines)
