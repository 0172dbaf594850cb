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
    add_grad_output_argument(parser)
    parser.add_argument("--json", action="store_true",
                        help='print {"output_shape": [...], "jacobian": {...}} as JSON')
    parser.set_defaults(run=run)


def add_grad_output_argument(parser) -> None:
    """``--grad-output V``: the v of ``backward(gradient=v)`` for an output with several
    entries (jacobian, and compute/steps/paths of a vector output)."""
    parser.add_argument("--grad-output", metavar="V", default=None,
                        help="for an output with several entries: the vector v of "
                        "backward(gradient=v), shaped like the output, e.g. --grad-output "
                        "'[1, 0, 0]' (jacobian's default: ones)")


def grad_output_value(args):
    """The --grad-output value, parsed as data like every value; None when not given."""
    from core.language.values import parse_value

    if getattr(args, "grad_output", None) is None:
        return None
    return parse_value(args.grad_output, where="--grad-output")


def run(args) -> int:
    """Evaluate and print the VJP and the Jacobian."""
    from core.evaluation.evaluate import forward
    from core.views.jacobian import format_jacobian, jacobian_of

    program, variables = load(args)
    v = grad_output_value(args)
    evaluation = forward(program, variables, args.dtype, allow_vector_output=True)
    report = jacobian_of(evaluation, v)
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_jacobian(report))
    return 0
