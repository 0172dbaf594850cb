"""The functions the expression language allows, described without importing torch.

The parser checks calls against :data:`FUNCTIONS` (name, number of arguments, keyword
arguments); :mod:`core.evaluation.ops` gives each name its torch implementation; the step-through's
rule table must cover every name here (a test checks that none is missing).
"""
from __future__ import annotations

from dataclasses import dataclass

from core.language import functions_more


@dataclass(frozen=True)
class FunctionSpec:
    """One allowed function: how it may be called and what it means.

    ``min_args``/``max_args`` count positional arguments (``None``: any number, as in
    ``ones(2, 3)``); ``kwargs`` are the keyword arguments allowed; ``summary`` is shown in
    the editor's help and in error hints. ``constructor`` functions make new tensors from
    literal sizes or lists instead of from other tensors.
    """

    name: str
    min_args: int
    max_args: int | None
    kwargs: frozenset[str]
    summary: str
    constructor: bool = False
    method: bool = True  # callable as x.name(...) too
    #: callable by its bare name or torch.NAME (False for x.float(), which Python owns)
    bare: bool = True
    #: the first argument is a list of tensors written out: torch.stack([x, y])
    sequence: bool = False
    #: written with syntax, not called by name (indexing is x[...]): how Help shows it
    syntax: str | None = None


def _spec(name, min_args, max_args, summary, kwargs=(), **extra):
    return FunctionSpec(name, min_args, max_args, frozenset(kwargs), summary, **extra)


_UNARY = {
    "sin": "sine", "cos": "cosine", "tan": "tangent",
    "asin": "arcsine", "acos": "arccosine", "atan": "arctangent",
    "sinh": "hyperbolic sine", "cosh": "hyperbolic cosine", "tanh": "hyperbolic tangent",
    "exp": "e to the power x", "expm1": "exp(x) - 1, accurate near 0",
    "log": "natural logarithm", "log2": "base-2 logarithm", "log10": "base-10 logarithm",
    "log1p": "log(1 + x), accurate near 0",
    "sqrt": "square root", "rsqrt": "1 / sqrt(x)", "square": "x squared",
    "reciprocal": "1 / x", "abs": "absolute value (not differentiable at 0)",
    "neg": "negation", "sigmoid": "logistic function 1 / (1 + exp(-x))",
    "relu": "max(x, 0) (not differentiable at 0)",
    "softplus": "log(1 + exp(x)), a smooth relu",
    "erf": "error function",
}

_SPECS = [_spec(name, 1, 1, summary) for name, summary in _UNARY.items()] + [
    _spec("pow", 2, 2, "x to the power y"),
    _spec("maximum", 2, 2, "elementwise larger of two tensors (ties are not differentiable)"),
    _spec("minimum", 2, 2, "elementwise smaller of two tensors (ties are not differentiable)"),
    _spec("clamp", 1, 3, "limit x to [min, max] (not differentiable at the edges)", ("min", "max")),
    _spec("sum", 1, 2, "sum of entries, all or along dim", ("dim", "keepdim")),
    _spec("mean", 1, 2, "mean of entries, all or along dim", ("dim", "keepdim")),
    _spec("prod", 1, 2, "product of entries, all or along dim", ("dim", "keepdim")),
    _spec("norm", 1, 3, "vector or Frobenius p-norm, all or along dim", ("p", "dim", "keepdim")),
    _spec("max", 1, 2, "largest entry (or along dim, or elementwise of two tensors)",
          ("dim", "keepdim", "other")),
    _spec("min", 1, 2, "smallest entry (or along dim, or elementwise of two tensors)",
          ("dim", "keepdim", "other")),
    _spec("logsumexp", 1, 2, "log(sum(exp(x))) computed stably", ("dim", "keepdim")),
    _spec("softmax", 1, 2, "exp(x) / sum(exp(x)) along dim", ("dim",)),
    _spec("log_softmax", 1, 2, "log(softmax(x)) along dim, computed stably", ("dim",)),
    _spec("matmul", 2, 2, "matrix product (also matrix-vector and dot)"),
    _spec("mm", 2, 2, "matrix-matrix product"),
    _spec("mv", 2, 2, "matrix-vector product"),
    _spec("dot", 2, 2, "dot product of two vectors"),
    _spec("outer", 2, 2, "outer product of two vectors"),
    _spec("transpose", 1, 3, "swap two dimensions", ("dim0", "dim1")),
    _spec("t", 1, 1, "transpose of a matrix"),
    _spec("trace", 1, 1, "sum of the diagonal of a matrix"),
    _spec("reshape", 1, None, "the same entries in a new shape (one size may be -1: "
          "worked out from the others)", ("shape",)),
    _spec("tensor", 1, 1, "a tensor from a number or nested list",
          ("requires_grad", "dtype"), constructor=True, method=False),
    _spec("ones", 0, None, "a tensor of ones of the given size",
          ("requires_grad", "dtype", "size"), constructor=True, method=False),
    _spec("zeros", 0, None, "a tensor of zeros of the given size",
          ("requires_grad", "dtype", "size"), constructor=True, method=False),
    _spec("full", 0, 2, "a tensor of the given size filled with a value",
          ("requires_grad", "dtype", "size", "fill_value"), constructor=True, method=False),
    _spec("eye", 1, 2, "an identity matrix", ("requires_grad", "dtype"),
          constructor=True, method=False),
]

#: Every allowed function by name (the notebook functions of core.language.functions_more last:
#: softplus gains its beta= and threshold= there).
FUNCTIONS: dict[str, FunctionSpec] = {spec.name: spec for spec in _SPECS}
FUNCTIONS.update({spec.name: spec for spec in functions_more.specs(_spec)})

#: Module paths under which the functions may also be written: ``torch.sin``,
#: ``torch.nn.functional.softplus``, ``F.relu``.
MODULE_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("torch",), ("torch", "nn", "functional"), ("nn", "functional"), ("F",),
)

#: Dtype names accepted as ``dtype=torch.NAME``.
DTYPES: dict[str, str] = {
    "float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
}

#: Tensor attributes that are functions of the tensor (``x.T``).
ATTRIBUTE_FUNCTIONS: dict[str, str] = {"T": "t"}  # x.mT: core.language.syntax_more

#: Python's operators in the language, and how they read in messages.
BINARY_OPERATORS: dict[str, str] = {
    "Add": "+", "Sub": "-", "Mult": "*", "Div": "/", "Pow": "**", "MatMult": "@",
}
UNARY_OPERATORS: dict[str, str] = {"USub": "-", "UAdd": "+"}
