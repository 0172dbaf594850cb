"""The views of issue 15 on a graph from the user's own code (autograd_explorer.explore).

What a view may do depends on what the app may do with the user's code, as for the check
(core.check.model_check):

* from the graph alone (``explore(loss)`` too): the paths and their products, the Jacobian
  (one VJP per output entry: ``torch.autograd.grad`` over the retained graph), the Hessian
  and H·v (double backward over the same graph: its saved tensors are all it needs) and the
  matrix products. None of these runs the user's code, nor writes any ``.grad``.
* with a callable (``explore(fn, inputs)``): forward mode, which runs the computation again
  with dual numbers (``torch.func.functional_call`` on a copy of an ``nn.Module``, so the
  user's module is never touched; a plain function gets dual copies of its inputs).
* never: training, which would change the user's parameters; the graph of the gradient,
  which the app draws from typed text.

Each "cannot" is one sentence saying why (``*_REASON``), shown in the view's tab.
"""
from __future__ import annotations

import copy

import torch

from core.errors import ExpressionError

FORWARD_MODE_REASON = (
    "Forward mode runs the computation again with dual numbers, and explore(loss) does not "
    "run your code again. Call explore(fn, inputs) with a callable (for instance a module "
    "that returns its loss) to compare the modes.")
TRAIN_REASON = (
    "Train runs typed programs: on a graph from your own code it would change your model's "
    "parameters. Train your model in your own code (torch.optim), then explore it again.")
GRADIENT_GRAPH_REASON = (
    "The graph of the gradient is drawn for typed programs; the Hessian and H·v above come "
    "from your model's own graph (double backward).")
DROPOUT_REASON = (
    "Forward mode calls your model again, and it has dropout in training mode, so every "
    "call gives another result (call model.eval() first).")


def products_reason(trace) -> str:
    """Why the matrix-products view shows nothing for a graph of the user's code: the
    products its model did run are not mm/mv/dot (nn.Linear runs addmm)."""
    others = sorted({step.op for step in trace.steps if step.op in _OTHER_PRODUCTS})
    if not others:
        return ("This graph has no matrix-matrix, matrix-vector or vector-vector product "
                "(mm, mv, dot, @ on matrices).")
    return ("This view takes apart mm, mv and dot nodes; this graph's products are "
            f"{', '.join(others)} ({_OTHER_PRODUCTS[others[0]]}), which it does not take "
            "apart yet. Their gradients are in the Steps tab.")


#: backward nodes of products the matrix microscope does not take apart, and what runs them
_OTHER_PRODUCTS = {"AddmmBackward0": "nn.Linear: a product plus a bias",
                   "BmmBackward0": "batched products, as attention runs them",
                   "BaddbmmBackward0": "batched products plus a term",
                   "ConvolutionBackward0": "convolutions",
                   "AddmvBackward0": "a matrix-vector product plus a term"}


def is_model(evaluation) -> bool:
    """True for an evaluation of the user's own code (core.evaluation.model_evaluation)."""
    return evaluation is not None and hasattr(evaluation, "function_inputs")


def dual_replay(evaluation):
    """A ``replay(program, inputs, dtype) -> (output, records)`` for core.views.modes that
    calls the explored callable again, ``inputs`` naming the tensors to use (dual numbers)
    by their names in the graph; raises ExpressionError saying why when it cannot."""
    function = getattr(evaluation, "function", None)
    if function is None:
        raise ExpressionError("view", FORWARD_MODE_REASON)
    arguments = tuple(evaluation.function_inputs or ())
    if isinstance(function, torch.nn.Module):
        if any(m.training and isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0
               for m in function.modules()):
            raise ExpressionError("view", DROPOUT_REASON)
        module = copy.deepcopy(function)  # functional_call swaps parameters in and out
        own = {name for name, _ in module.named_parameters()}
    else:
        module, own = None, set()

    def replay(_program, inputs: dict, _dtype):
        args = tuple(inputs.get(f"inputs[{i}]", a) for i, a in enumerate(arguments))
        if module is None:
            return function(*args), []
        params = {name: t for name, t in inputs.items() if name in own}
        return torch.func.functional_call(module, params, args), []

    return replay
