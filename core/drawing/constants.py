"""The constants a program's arithmetic uses, for drawing beside the backward graph.

torchviz draws only what autograd records, so the 2 of ``2*z``, the data ``x`` and a
target held constant appear nowhere on its graph, although the steps multiply by them
(``∂f/∂z += ∂f/∂(2z) · ∂(2z)/∂z = −1.24844 × 2``). Every drawing of the annotated graph (the
window's, the exports', the step deck's) draws them grey, with their values, joined by a
dashed line to the operation that uses them (``RenderOptions.constants``), so that every
number of a step's arithmetic can be found on the screen or the page.
"""
from __future__ import annotations

from dataclasses import dataclass

#: operations whose constant operands take part in the arithmetic of their step (a
#: dimension or a size does not)
ARITHMETIC_CALLS = frozenset({"pow", "maximum", "minimum", "matmul", "mm", "mv", "dot",
                              "outer"})
#: prefix of a constant's DOT node name
CONST_PREFIX = "const_"
#: graphs of more nodes than this are drawn without their constants: a long chain such as
#: ``y = y * 1.0001`` repeated would double its nodes (and Graphviz's layout time) for
#: numbers no one reads at that scale (the window folds such graphs anyway)
MAX_GRAPH_NODES = 300


@dataclass(frozen=True)
class Constant:
    """One constant drawn beside the graph: its DOT node ``id``, ``name`` (the input's name,
    or "" for a number written in the program), ``value`` (the tensor, or the number) and
    the id of the ``target`` operation (a GraphNode id) that uses it."""

    id: str
    name: str
    value: object
    target: str


def constant_operands(evaluation) -> list[Constant]:
    """Every constant the program's arithmetic uses: a number (the 3 of ``3*w``) or an input
    held constant (the data ``x``, a target), once per operation that uses it; an input
    used by several operations is one node (one id) with a line to each. Evaluations
    without the language's records (a model explored from the user's own code) have none."""
    from core.language.parser import BinaryOp, Call, Name, Number, UnaryOp

    def number(operand):
        """The value of a number written in the program (``2``, ``-0.5``), else None."""
        if isinstance(operand, Number):
            return operand.value
        if isinstance(operand, UnaryOp) and isinstance(operand.operand, Number):
            return -operand.operand.value if operand.op == "-" else operand.operand.value
        return None

    out = []
    inputs = getattr(evaluation, "inputs", None) or {}
    for record in getattr(evaluation, "records", ()) or ():
        node = getattr(record, "node", None)
        tensor = getattr(record, "tensor", None)
        fn = getattr(tensor, "grad_fn", None)
        if fn is None:
            continue
        if isinstance(node, BinaryOp):
            operands = [node.left, node.right]
        elif isinstance(node, Call) and node.function in ARITHMETIC_CALLS:
            operands = list(node.args)
        else:
            continue
        for k, operand in enumerate(operands):
            if number(operand) is not None:
                out.append(Constant(f"{CONST_PREFIX}{id(fn)}_{k}", "", number(operand),
                                    str(id(fn))))
            elif isinstance(operand, Name):
                value = inputs.get(operand.name)
                if value is not None and not value.requires_grad:
                    out.append(Constant(f"{CONST_PREFIX}{operand.name}", operand.name,
                                        value.detach(), str(id(fn))))
    return out


def is_constant(dot_name: str) -> bool:
    """True for the DOT name of a drawn constant."""
    return dot_name.startswith(CONST_PREFIX)
