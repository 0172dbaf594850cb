"""``main.py train``: gradient descent on the program's inputs with torch.optim.SGD."""
from __future__ import annotations

from core.cli.common import add_program_arguments, load, print_json


def add_parser(subparsers) -> None:
    """Register ``train``."""
    parser = subparsers.add_parser(
        "train", help="gradient descent: w ← w − η ∂L/∂w on the inputs, step by step",
        description="Treat the output as a loss and the inputs that need a gradient as "
        "parameters (--const values are data), and run torch.optim.SGD: zero_grad, "
        "forward, backward, step.")
    add_program_arguments(parser)
    parser.add_argument("--lr", type=float, default=0.1, metavar="ETA",
                        help="learning rate η (default 0.1)")
    parser.add_argument("--steps", type=int, default=20, metavar="N",
                        help="number of steps (default 20)")
    parser.add_argument("--momentum", type=float, default=0.0, metavar="M",
                        help="SGD momentum μ in [0, 1) (default 0)")
    parser.add_argument("--json", action="store_true",
                        help='print {"loss": [...], "params": {"NAME": [...]}} as JSON')
    parser.set_defaults(run=run)


def run(args) -> int:
    """Train and print the loss and parameters after each step."""
    from core.views.train import check_settings, format_training, train

    check_settings(args.lr, args.steps, args.momentum)  # before the work of parsing
    program, variables = load(args)
    report = train(program, variables, args.dtype, lr=args.lr, steps=args.steps,
                   momentum=args.momentum)
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_training(report))
    return 0
