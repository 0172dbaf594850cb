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
    parser.set_defaults(run=run)


def run(args) -> int:
    """Evaluate, find the paths, and print them."""
    from core.evaluate import evaluate
    from core.paths import find_paths, format_paths

    program, variables = load(args)
    report = find_paths(evaluate(program, variables, args.dtype,
                                 grad_output=grad_output_value(args)))
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_paths(report))
    return 0
