"""The one number that ``y.backward(v)`` differentiates: vᵀy = sum(v * y).

For an output y with several entries, ``y.backward(v)`` gives every input x the
vector-Jacobian product vᵀ ∂y/∂x, which is exactly the gradient of the number
vᵀy = Σᵢ vᵢ yᵢ (v held constant). So every independent check of a scalar gradient (finite
differences, SymPy, the kinks, where NaN starts) checks a VJP when it is run on the program
with one more line, ``vTy = sum(v * y)``: :func:`scalar_evaluation` builds it.
"""
from __future__ import annotations

import dataclasses

from core.language.parser import BinaryOp, Call, Name, Program, Statement
from core.language.values import VariableSpec


def label(output_name: str) -> str:
    """How the number is written on screen: ``vᵀy``."""
    return f"vᵀ{output_name}"


def note(output_name: str) -> str:
    """The Check's note on what it checks for ``y.backward(v)``."""
    y = output_name
    return (f"{y} has several entries and was seeded with v ({y}.backward(v)): each gradient "
            f"is vᵀ ∂{y}/∂x, the gradient of the number {label(y)} = sum(v * {y}), which the "
            "finite differences and SymPy differentiate")


def _fresh(base: str, taken: set[str]) -> str:
    name, k = base, 1
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def scalar_program(program: Program) -> tuple[Program, str]:
    """``program`` with a last line ``vTy = sum(v * y)`` (names chosen so that none of the
    program's own is taken) and the name given to v, a constant input."""
    taken = set(program.free_names) | set(program.assigned_names) | set(program.defaults)
    statements = list(program.statements)
    last = statements[-1]
    output = last.target
    if output is None:  # a bare last expression: give its value a name to refer to
        output = _fresh("output", taken)
        statements[-1] = dataclasses.replace(last, target=output)
    v_name = _fresh("v", taken)
    target = _fresh(f"vT{output}", taken)
    span = last.span
    product = BinaryOp(span, f"{v_name} * {output}", "*", Name(span, v_name, v_name),
                       Name(span, output, output))
    total = Call(span, f"sum({v_name} * {output})", "sum", (product,))
    statements.append(Statement(target, total, span, f"{target} = {total.text}"))
    return dataclasses.replace(
        program, statements=statements, free_names=list(program.free_names) + [v_name],
        assigned_names=list(program.assigned_names) + [output, target],
        backward_calls=[]), v_name


def scalar_evaluation(evaluation):
    """A fresh evaluation (forward and backward) of vᵀy for ``evaluation``'s program, inputs
    and v (``evaluation.grad_output``); its ``output_name`` is :func:`label`'s ``vᵀy``.
    Its gradients equal the VJPs of ``y.backward(v)``."""
    from core.evaluation.evaluate import evaluate

    program, v_name = scalar_program(evaluation.program)
    v = evaluation.grad_output.detach()
    specs = {**evaluation.specs, v_name: VariableSpec(v_name, v.tolist(), False)}
    scalar = evaluate(program, specs, evaluation.dtype)
    scalar.output_name = label(evaluation.output_name)
    scalar.vjp_of = evaluation.output_name  # what core.check's note names
    # v is the seed, not an input of the function: no row, no "does not depend" note
    scalar.inputs.pop(v_name, None)
    scalar.warnings = [w for w in scalar.warnings if v_name not in w.message]
    return scalar
