"""``main.py compute``: the value and every gradient, as text or JSON."""
from __future__ import annotations

from core.cli.common import add_program_arguments, load, print_json
from core.cli.jacobian import add_grad_output_argument, grad_output_value


def add_parser(subparsers) -> None:
    """Register ``compute``."""
    parser = subparsers.add_parser(
        "compute", help="compute the value and gradients of a program",
        description="Compute the output and the gradient of every input with torch.autograd.")
    add_program_arguments(parser)
    add_grad_output_argument(parser)  # a vector output: backward(gradient=v)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Evaluate and print the result."""
    from core.evaluation.evaluate import evaluate
    from core.serialize import evaluation_to_dict, format_labelled

    program, variables = load(args)
    evaluation = evaluate(program, variables, args.dtype, grad_output=grad_output_value(args))
    if args.json:
        print_json(evaluation_to_dict(evaluation))
        return 0
    lines = [format_labelled(f"{evaluation.output_name} = ", evaluation.value)
             + f"   ({args.dtype})"]
    if evaluation.gradients and evaluation.grad_output is not None:
        lines.append("gradients of backward(gradient=v), each vᵀJ (not a gradient of one "
                     "number), with")
        lines.append(format_labelled("  v = ", evaluation.grad_output))
    elif evaluation.gradients:
        lines.append("gradients:")
    for name, grad in evaluation.gradients.items():
        lines.append(format_labelled(f"  d{evaluation.output_name}/d{name} = ", grad))
    named = [n for n in evaluation.intermediate_gradients if n != evaluation.output_name]
    if named:
        lines.append("intermediates:")
        for name in named:
            lines.append(format_labelled(f"  {name} = ", evaluation.intermediates[name]))
            lines.append(format_labelled(f"    d{evaluation.output_name}/d{name} = ",
                                         evaluation.intermediate_gradients[name]))
    for note in program.notes:
        lines.append(f"note: {note}")
    for warning in evaluation.warnings:
        # NaN or infinity is a warning (the numbers are not usable); information is a note
        lines.append(f"{'warning' if warning.kind in ('warning', 'nan') else 'note'}: {warning}")
    print("\n".join(lines))
    return 0

