"""``main.py paths``: every path from each input to the output, with its factors and
product; the products sum to the gradient."""
from __future__ import annotations

from core.cli.common import add_program_arguments, load, print_json
from core.cli.jacobian import add_grad_output_argument, grad_output_value


def add_parser(subparsers) -> None:
    """Register ``paths``."""
    parser = subparsers.add_parser(
        "paths", help="every path from each input to the output (the chain rule as a sum)",
        description="List every path from each input to the output with the local derivative "
        "on each edge and their product; the products sum to the gradient. When there are "
        "too many paths to list, say how many and show the factored sums reverse mode "
        "computes instead.")
    add_program_arguments(parser)
    add_grad_output_argument(parser)  # a vector output: backward(gradient=v)
    parser.add_argument("--json", action="store_true",
                        help='print {"leaves": {"w": {"paths": [...], "total": ...}}} as JSON')
    parser.add_argument("--pdf", metavar="FILE",
                        help="write a step deck: one page per path of --leaf, then their sum")
    parser.add_argument("--leaf", metavar="NAME",
                        help="whose paths --pdf shows (default: the first input)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Evaluate, find the paths, and print them."""
    from core.evaluation.evaluate import evaluate
    from core.views.paths import find_paths, format_paths

    program, variables = load(args)
    evaluation = evaluate(program, variables, args.dtype, grad_output=grad_output_value(args))
    report = find_paths(evaluation)
    if args.pdf:
        _export(evaluation, report, args)
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_paths(report))
    return 0


def _export(evaluation, report, args) -> None:
    """The paths of --leaf as a PDF step deck, drawn on the program's graph."""
    import sys

    from core.drawing.graph import build_graph
    from core.teaching import step_export
    from core.views.view_export import paths_deck

    name = args.leaf or next(iter(report.leaves), "")
    graph = build_graph(evaluation)
    pages = step_export.export_pdf(graph, paths_deck(graph, report, name), args.pdf)
    print(f"wrote {args.pdf} ({pages} pages: the paths of {name}, then their sum)",
          file=sys.stderr if args.json else sys.stdout)
