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
    of = evaluation.output_name
    if evaluation.gradients and evaluation.grad_output is not None:
        of = f"(vᵀ{evaluation.output_name})"
        lines.append(f"gradients of {evaluation.output_name}.backward(v): each is vᵀJ, the "
                     f"gradient of the number vᵀ{evaluation.output_name} = sum(v * "
                     f"{evaluation.output_name}), with")
        lines.append(format_labelled("  v = ", evaluation.grad_output))
    elif evaluation.gradients:
        lines.append("gradients:")
    for name, grad in evaluation.gradients.items():
        lines.append(format_labelled(f"  d{of}/d{name} = ", grad))
    named = [n for n in evaluation.intermediate_gradients if n != evaluation.output_name]
    if named:
        lines.append("intermediates:")
        for name in named:
            lines.append(format_labelled(f"  {name} = ", evaluation.intermediates[name]))
            lines.append(format_labelled(f"    d{of}/d{name} = ",
                                         evaluation.intermediate_gradients[name]))
    for note in program.notes:
        lines.append(f"note: {note}")
    for warning in evaluation.warnings:
        # information (random numbers drawn, no gradients) is a note; NaN is a warning
        lines.append(f"{'note' if warning.kind in ('note', 'info') else 'warning'}: {warning}")
    print("\n".join(lines))
    return 0

