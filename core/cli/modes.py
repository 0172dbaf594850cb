"""``main.py modes``: forward mode (one pass per input entry) against reverse mode (one
pass per output entry), with the derivatives, passes and multiply-adds of each."""
from __future__ import annotations

from core.cli.common import add_program_arguments, load, print_json


def add_parser(subparsers) -> None:
    """Register ``modes``."""
    parser = subparsers.add_parser(
        "modes", help="forward mode against reverse mode: passes and multiply-adds",
        description="Differentiate the program with torch's forward-mode AD (dual numbers, one "
        "pass per input entry) and with reverse mode (one pass per output entry), and count "
        "the passes and multiply-adds of each. The output may be a vector.")
    add_program_arguments(parser)
    parser.add_argument("--json", action="store_true",
                        help='print {"forward": {...}, "passes": {...}, "multiply_adds": '
                        '{...}} as JSON')
    parser.add_argument("--pdf", metavar="FILE",
                        help="write a step deck of one forward pass: a page per value")
    parser.add_argument("--seed", metavar="ENTRY",
                        help="which pass --pdf shows, e.g. w or W[0,1] (default: the first)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Evaluate and compare the modes."""
    from core.evaluation.evaluate import forward
    from core.views.modes import compare_modes, format_modes

    program, variables = load(args)
    evaluation = forward(program, variables, args.dtype, allow_vector_output=True)
    report = compare_modes(evaluation)
    if args.pdf:
        _export(evaluation, report, args)
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_modes(report))
    return 0


def _export(evaluation, report, args) -> None:
    """The forward pass seeded at --seed as a PDF step deck on the program's graph."""
    import sys

    from core.drawing.graph import build_graph
    from core.errors import ExpressionError
    from core.teaching import step_export
    from core.views.view_export import forward_deck

    seeds = [w.seed for w in report.walks]
    seed = args.seed or (seeds[0] if seeds else "")
    walk = next((w for w in report.walks if w.seed == seed), None)
    if walk is None:
        raise ExpressionError("name", f"no forward pass seeded at {seed!r} to export (passes: "
                              f"{', '.join(seeds) or 'none'})", where="--seed")
    graph = build_graph(evaluation)
    pages = step_export.export_pdf(graph, forward_deck(graph, evaluation, walk), args.pdf)
    print(f"wrote {args.pdf} ({pages} pages: the forward pass seeded at {seed})",
          file=sys.stderr if args.json else sys.stdout)
