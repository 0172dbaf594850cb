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
    parser.set_defaults(run=run)


def run(args) -> int:
    """Evaluate and compare the modes."""
    from core.evaluate import forward
    from core.modes import compare_modes, format_modes

    program, variables = load(args)
    report = compare_modes(forward(program, variables, args.dtype, allow_vector_output=True))
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_modes(report))
    return 0
