"""``main.py jacobian``: a non-scalar output's vector-Jacobian product (what
``backward(gradient=v)`` computes) and, for small outputs, its full Jacobian."""
from __future__ import annotations

from core.cli.common import add_program_arguments, load, print_json


def add_parser(subparsers) -> None:
    """Register ``jacobian``."""
    parser = subparsers.add_parser(
        "jacobian", help="vector-Jacobian products and the Jacobian of a vector output",
        description="For an output with several entries: the vector-Jacobian product vᵀJ "
        "that backward(gradient=v) gives each input (v defaults to ones), and, for small "
        "outputs, the full Jacobian built row by row from one-hot v.")
    add_program_arguments(parser)
    parser.add_argument("--grad-output", metavar="V", default=None,
                        help="the vector v, shaped like the output, e.g. --grad-output "
                        "'[1, 0, 0]' (default: ones)")
    parser.add_argument("--json", action="store_true",
                        help='print {"output_shape": [...], "jacobian": {...}} as JSON')
    parser.set_defaults(run=run)


def run(args) -> int:
    """Evaluate and print the VJP and the Jacobian."""
    from core.evaluate import forward
    from core.jacobian import format_jacobian, jacobian_of
    from core.values import parse_value

    program, variables = load(args)
    v = None if args.grad_output is None else parse_value(args.grad_output,
                                                          where="--grad-output")
    evaluation = forward(program, variables, args.dtype, allow_vector_output=True)
    report = jacobian_of(evaluation, v)
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_jacobian(report))
    return 0
