"""Every function and operator of the language against torch called directly on the same call.

For each case the test writes the call in the language's text, e.g. ``torch.max(x0, x1)``,
runs the program

    out = CALL
    f = sum(out * wout)

through the app (parse + evaluate, float64), and builds the same call independently with
torch (``torch.max(x0, x1)`` with ``x0``, ``x1`` float64 leaves, ``wout`` a constant of random
weights so every entry of ``out`` gets its own gradient). It then compares, in float64:
``out`` entry by entry (shape included), and the gradient of every input. Where torch refuses
the call (TypeError, RuntimeError, ...), the app must refuse it too, with a positioned
ExpressionError. A warning torch gives while running the call (``F.softmax(x)`` without dim)
must be among the app's notes.

Each case runs in every spelling torch itself has for the name: the bare name (read as
``torch.NAME``, or ``F.NAME`` where only the functional form exists, or as ``Sig.bare`` says),
``torch.NAME``, ``F.NAME`` and the method ``x.NAME(...)``; spellings torch lacks are not
generated (the language is more lenient than torch there: ``F.sin``, ``torch.softplus``).

Adding a function (``test_every_function_has_a_parity_case`` fails until you do): add one
entry to :data:`CASES`, ``"name": [Sig(...), ...]``. A :class:`Sig` is one way of calling it:

- ``args``: positional arguments: :class:`T` for a tensor input (a variable of the program),
  Python numbers (``1`` is an int for torch, ``1.0`` a float), tuples for sizes and dims,
  :class:`Raw` for text written as it is (``torch.tensor(0.)``) with its torch value;
- ``kwargs``: keyword arguments, the same kinds;
- ``shapes``: the grid of shapes, one tuple per grid point with one shape per :class:`T`
  (in order: args, then kwargs); ``()`` is a 0-d tensor (a variable given as a number);
- ``domain``: where random input values are drawn (log needs positive ones);
- ``bare``: which torch namespace the bare name stands for.

Operators (``+ - * / ** @``, unary ``-``/``+``) are in :data:`OPERATOR_CASES` the same way.

``max(x, dim)``/``min(x, dim)`` are compared with torch's ``.values`` (the language gives the
values; torch a (values, indices) pair).

Known leniencies of the language (not tested as refusals; each gives torch's number for the
call torch would accept): a Python number where torch wants a tensor (``sin(2)``,
``maximum(x, 2)``, read as ``torch.tensor(2.)``), a whole float where torch wants an int
(``sum(x, 1.0)``), ``logsumexp(x)`` without dim (all dims), ``reshape(x, 6)``/``full(2, 1.5)``
with a bare int size, and spellings torch lacks (``F.sin``).
"""
from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass, field

import pytest
import torch
import torch.nn.functional as F

from core.errors import ExpressionError
from core.evaluation.evaluate import evaluate
from core.language.functions import BINARY_OPERATORS, FUNCTIONS, UNARY_OPERATORS
from core.language.parser import parse
from core.language.values import VariableSpec

DTYPE = torch.float64


@dataclass(frozen=True)
class T:
    """A tensor input: a variable of the program (float64; ``grad=False``: a constant).
    ``values`` (a nested list) replaces the random values, for ties and kinks."""

    grad: bool = True
    values: object = None


@dataclass(frozen=True)
class Raw:
    """Text written into the call as it is, and a function making its torch value."""

    text: str
    value: object


ANY = ((),), ((4,),), ((2, 3),), ((2, 1, 3),)
PAIRS = (((), ()), ((3,), ()), ((), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((2, 3), (2, 3)))
MATRIX = ((2, 3),), ((3, 3),)


@dataclass(frozen=True)
class Sig:
    """One way of calling a function (see the module docstring)."""

    args: tuple = (T(),)
    kwargs: tuple = ()
    shapes: tuple = ANY
    domain: tuple = (-2.0, 2.0)
    bare: str = "torch"
    spellings: tuple = ("", "torch", "functional", "method")


def sig(*args, shapes=ANY, domain=(-2.0, 2.0), bare="torch",
        spellings=("", "torch", "functional", "method"), **kwargs) -> Sig:
    """A :class:`Sig` written as the call is: ``sig(T(), 1, keepdim=True, shapes=...)``."""
    return Sig(tuple(args), tuple(kwargs.items()), shapes, domain, bare, spellings)


def unary(domain=(-2.0, 2.0), bare="torch") -> list[Sig]:
    """An elementwise function of one tensor, on every shape."""
    return [sig(T(), domain=domain, bare=bare)]


POSITIVE = (0.2, 3.0)
UNIT = (-0.9, 0.9)

#: two tensors that tie in two entries (torch splits a tie's gradient ½ and ½)
TIES = sig(T(values=[1.0, 2.0, -1.0]), T(values=[1.0, 0.5, -1.0]), shapes=(((3,), (3,)),))

CASES: dict[str, list[Sig]] = {
    **{name: unary() for name in ("sin", "cos", "atan", "sinh", "cosh", "tanh", "exp",
                                  "expm1", "square", "abs", "neg", "sigmoid", "relu", "erf")},
    "tan": unary((-1.2, 1.2)),
    "asin": unary(UNIT), "acos": unary(UNIT),
    **{name: unary(POSITIVE) for name in ("log", "log2", "log10", "sqrt", "rsqrt",
                                          "reciprocal")},
    "log1p": unary((-0.5, 3.0)),
    "softplus": unary(bare="functional") + [sig(T(), 2.0, 1.0, bare="functional")],
    "pow": [sig(T(), T(), shapes=PAIRS, domain=POSITIVE), sig(T(), 2.5, domain=POSITIVE),
            sig(T(), 3), sig(T(), -1, domain=POSITIVE), sig(2.0, T())],
    "maximum": [sig(T(), T(), shapes=PAIRS),
                TIES],
    "minimum": [sig(T(), T(), shapes=PAIRS),
                TIES],
    "clamp": [sig(T(), -0.5, 0.5), sig(T(), min=-0.5), sig(T(), max=0.5), sig(T(), -0.5),
              sig(T(), T(), T(), shapes=(((4,), (), ()), ((2, 3), (3,), ()),
                                         ((2, 3), (2, 1), (1, 3)))),
              sig(T(), T(values=0.0), 0.5, shapes=(((4,), ()),)),
              sig(T(), T(grad=False), T(grad=False), shapes=(((4,), (), ()),)),
              sig(T(), shapes=((((4,),),)))],  # neither bound: torch refuses
    "sum": [sig(T()), sig(T(), 1, shapes=MATRIX), sig(T(), dim=0, keepdim=True),
            sig(T(), dim=(0, 1), shapes=MATRIX)],
    "mean": [sig(T()), sig(T(), 1, shapes=MATRIX), sig(T(), dim=(0, 1), keepdim=True,
                                                         shapes=MATRIX)],
    "prod": [sig(T()), sig(T(), 1, shapes=MATRIX), sig(T(), dim=0, keepdim=True, shapes=MATRIX)],
    "norm": [sig(T()), sig(T(), 1), sig(T(), p=3), sig(T(), p="fro", shapes=MATRIX),
             sig(T(), 2, 1, shapes=MATRIX), sig(T(), dim=(0, 1), shapes=MATRIX),
             sig(T(), p=1, dim=1, keepdim=True, shapes=MATRIX)],
    "max": [sig(T()), sig(T(), 1, shapes=MATRIX), sig(T(), dim=-1, keepdim=True),
            sig(T(), T(), shapes=PAIRS),  # a tensor second: elementwise, a 0-d one too
            sig(T(), Raw("torch.tensor(0.)", lambda: torch.tensor(0.0, dtype=DTYPE))),
            sig(T(values=[1.0, 3.0, 3.0]), shapes=(((3,),),)),  # a tie: ½ each
            sig(T(), 0.5), sig(T(), 0.0), sig(T(), -1.0, shapes=MATRIX),  # refused: floats
            sig(T(), T(), keepdim=True, shapes=PAIRS[:2])],  # refused
    "min": [sig(T()), sig(T(), 0, shapes=MATRIX), sig(T(), dim=1, keepdim=True, shapes=MATRIX),
            sig(T(), T(), shapes=PAIRS),
            sig(T(), Raw("torch.tensor(0.)", lambda: torch.tensor(0.0, dtype=DTYPE))),
            sig(T(values=[[1.0, -3.0], [-3.0, 2.0]]), shapes=(((2, 2),),))],
    "logsumexp": [sig(T(), 1, shapes=MATRIX), sig(T(), dim=0, keepdim=True),
                  sig(T(), dim=(0, 1), shapes=MATRIX)],
    "softmax": [sig(T(), 0), sig(T(), dim=-1), sig(T(), 1, shapes=MATRIX + (((2, 1, 3),),)),
                sig(T(), shapes=ANY + (((2, 2, 2, 2),),), bare="functional")],
    "log_softmax": [sig(T(), 0), sig(T(), dim=-1),
                    sig(T(), shapes=ANY + (((2, 2, 2, 2),),), bare="functional")],
    "matmul": [sig(T(), T(), shapes=(((2, 3), (3, 2)), ((3,), (3,)), ((2, 3), (3,)),
                                     ((3,), (3, 2)), ((2, 2, 3), (3, 2)), ((2, 3), (2, 3))))],
    "mm": [sig(T(), T(), shapes=(((2, 3), (3, 2)), ((3, 3), (3, 3))))],
    "mv": [sig(T(), T(), shapes=(((2, 3), (3,)),))],
    "dot": [sig(T(), T(), shapes=(((3,), (3,)),))],
    "outer": [sig(T(), T(), shapes=(((3,), (2,)),))],
    "transpose": [sig(T(), 0, 1, shapes=MATRIX + (((2, 1, 3),),)),
                  sig(T(), dim0=-1, dim1=0, shapes=MATRIX)],
    "t": [sig(T(), shapes=MATRIX + (((3,),), ((),)))],
    "trace": [sig(T(), shapes=MATRIX)],
    "reshape": [sig(T(), (3, 2), shapes=MATRIX[:1], spellings=("", "torch", "method")),
                sig(T(), (-1,), shapes=ANY[1:]), sig(T(), (-1, 2), shapes=((((2, 3),),))),
                sig(T(), 3, -1, shapes=MATRIX, spellings=("method",)),
                sig(T(), shape=(1, -1), shapes=MATRIX, spellings=("", "torch")),
                sig(T(), (-1, -1), shapes=MATRIX[:1]), sig(T(), (4, -1), shapes=MATRIX[:1])],
    # constructors: no tensor inputs; torch is called with dtype=float64 (the app's dtype)
    "tensor": [sig([[1.0, 2.0], [3.0, 0.5]], shapes=((),), requires_grad=True),
               sig(2.5, shapes=((),))],
    "ones": [sig(2, 3, shapes=((),), requires_grad=True), sig((2, 3), shapes=((),)),
             sig(size=(3,), shapes=((),))],
    "zeros": [sig(2, 3, shapes=((),), requires_grad=True), sig([3], shapes=((),))],
    "full": [sig((2, 3), 1.5, shapes=((),), requires_grad=True),
             sig((2,), fill_value=-0.5, shapes=((),))],
    "eye": [sig(3, shapes=((),), requires_grad=True), sig(2, 3, shapes=((),))],
}

OPERATOR_CASES: dict[str, list[Sig]] = {
    "+": [sig(T(), T(), shapes=PAIRS), sig(T(), 2.5), sig(2.5, T())],
    "-": [sig(T(), T(), shapes=PAIRS), sig(T(), 2.5), sig(2.5, T())],
    "*": [sig(T(), T(), shapes=PAIRS), sig(T(), 2.5), sig(2.5, T())],
    "/": [sig(T(), T(), shapes=PAIRS, domain=POSITIVE), sig(T(), 2.5), sig(2.5, T(),
                                                                          domain=POSITIVE)],
    "**": [sig(T(), T(), shapes=PAIRS, domain=POSITIVE), sig(T(), 2), sig(T(), 0.5,
                                                                         domain=POSITIVE),
           sig(2.0, T()), sig(T(values=[0.0, 2.0]), T(values=[2.0, 0.0]),
                              shapes=(((2,), (2,)),))],
    "@": [sig(T(), T(), shapes=(((2, 3), (3, 2)), ((3,), (3,)), ((2, 3), (3,)),
                                ((2, 2, 3), (3, 2))))],
    "unary -": [sig(T())],
    "unary +": [sig(T())],
}

# --------------------------------------------------------------------------- issue 14

#: a mask and class labels as torch values written in the text
_MASK = Raw("torch.tensor([True, False, True])", lambda: torch.tensor([True, False, True]))
_LABELS = Raw("torch.tensor([2, 0])", lambda: torch.tensor([2, 0]))
_INDEX = Raw("torch.tensor([[2], [0]])", lambda: torch.tensor([[2], [0]]))
_POSITIONS = Raw("torch.tensor([2, 0, 2])", lambda: torch.tensor([2, 0, 2]))
_ROWS = ((2, 3),), ((3, 4),)
_PROBS = Raw("torch.tensor([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])",
             lambda: torch.tensor([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]], dtype=DTYPE))
_SQUARE = ((2, 2),), ((3, 3),)
_FUNCTIONAL = ("", "functional")
_NONE = ()  # spellings: compared in tests/test_notebook_functions.py instead (random
#: numbers from the program's own generator, x[...] syntax, a seed, a new leaf)

CASES.update({
    "getitem": [sig(T(), spellings=_NONE)],
    **{name: [sig(T(), T(), shapes=PAIRS), sig(T(), 0.5)]
       for name in ("gt", "lt", "ge", "le", "eq", "ne")},
    "where": [sig(_MASK, T(), T(), shapes=(((3,), (3,)), ((3,), (2, 3))), spellings=("",
                                                                                   "torch")),
              sig(_MASK, T(), 0.0, shapes=(((3,),),), spellings=("", "torch"))],
    "stack": [sig(T(), shapes=_ROWS, spellings=_NONE)],
    "cat": [sig(T(), shapes=_ROWS, spellings=_NONE)],
    "view": [sig(T(), -1, shapes=_ROWS, spellings=("method",)),
             sig(T(), 3, 2, shapes=((((2, 3),),)), spellings=("method",))],
    "squeeze": [sig(T(), shapes=(((2, 1, 3),), ((1, 3),))), sig(T(), 1, shapes=(((2, 1, 3),),))],
    "unsqueeze": [sig(T(), 0), sig(T(), dim=-1)],
    "flatten": [sig(T(), shapes=(((2, 1, 3),), ((2, 3),))), sig(T(), 1, shapes=(((2, 1, 3),),))],
    "permute": [sig(T(), (1, 0), shapes=_ROWS), sig(T(), 2, 0, 1, shapes=(((2, 1, 3),),),
                                                     spellings=("method",))],
    "expand": [sig(T(), 2, 3, shapes=(((3,),), ((1, 3),)), spellings=("method",)),
               sig(T(), 4, -1, shapes=(((1, 3),),), spellings=("method",))],
    "repeat": [sig(T(), 2, 1, shapes=_ROWS, spellings=("method",))],
    "flip": [sig(T(), (0,), shapes=_ROWS), sig(T(), (0, 1), shapes=_ROWS)],
    "expand_as": [sig(T(), T(grad=False), shapes=(((3,), (2, 3)),), spellings=("method",))],
    "view_as": [sig(T(), T(grad=False), shapes=(((6,), (2, 3)),), spellings=("method",))],
    "reshape_as": [sig(T(), T(grad=False), shapes=(((6,), (3, 2)),), spellings=("method",))],
    "argmax": [sig(T(), shapes=_ROWS), sig(T(), 1, shapes=_ROWS),
               sig(T(), dim=0, keepdim=True, shapes=_ROWS)],
    "argmin": [sig(T(), shapes=_ROWS), sig(T(), dim=1, shapes=_ROWS)],
    "amax": [sig(T()), sig(T(), 1, shapes=_ROWS), sig(T(), dim=(0, 1), keepdim=True,
                                                      shapes=_ROWS)],
    "amin": [sig(T()), sig(T(), 0, shapes=_ROWS)],
    "var": [sig(T(), shapes=_ROWS), sig(T(), 1, shapes=_ROWS),
            sig(T(), dim=0, unbiased=False, shapes=_ROWS),
            sig(T(), dim=1, correction=0, keepdim=True, shapes=_ROWS)],
    "std": [sig(T(), shapes=_ROWS), sig(T(), 0, shapes=_ROWS),
            sig(T(), dim=1, correction=2, shapes=(((2, 4),),))],
    "add": [sig(T(), T(), shapes=PAIRS), sig(T(), T(), alpha=2, shapes=PAIRS[:3]),
            sig(T(), 1.5)],
    "sub": [sig(T(), T(), shapes=PAIRS), sig(T(), T(), alpha=0.5, shapes=PAIRS[:3])],
    "mul": [sig(T(), T(), shapes=PAIRS), sig(T(), 3.0)],
    "div": [sig(T(), T(), shapes=PAIRS, domain=POSITIVE)],
    "mse_loss": [sig(T(), T(), shapes=_ROWS and (((2, 3), (2, 3)),), bare="functional"),
                 sig(T(), T(), reduction="sum", shapes=(((4,), (4,)),), bare="functional")],
    "l1_loss": [sig(T(), T(), shapes=(((2, 3), (2, 3)),), bare="functional")],
    "smooth_l1_loss": [sig(T(), T(), beta=0.5, shapes=(((2, 3), (2, 3)),),
                           bare="functional")],
    "huber_loss": [sig(T(), T(), delta=0.6, reduction="none", shapes=(((2, 3), (2, 3)),),
                       bare="functional")],
    "cross_entropy": [sig(T(), _LABELS, shapes=(((2, 3),),), bare="functional"),
                      sig(T(), _PROBS, reduction="sum", shapes=(((2, 3),),),
                          bare="functional")],
    "nll_loss": [sig(T(), _LABELS, shapes=(((2, 3),),), bare="functional")],
    "binary_cross_entropy": [sig(T(), T(grad=False), shapes=(((2, 3), (2, 3)),),
                                 domain=(0.1, 0.9), bare="functional")],
    # torch.binary_cross_entropy_with_logits / torch.kl_div / torch.dropout are ATen's
    # forms (other defaults, an integer reduction, train=): the language means F's
    "binary_cross_entropy_with_logits": [sig(T(), T(grad=False), shapes=(((2, 3), (2, 3)),),
                                             domain=(0.1, 0.9), bare="functional",
                                             spellings=_FUNCTIONAL)],
    "kl_div": [sig(T(), _PROBS, reduction="batchmean", shapes=(((2, 3),),), domain=(-2.0, -0.1),
                   bare="functional", spellings=_FUNCTIONAL)],
    "gelu": [sig(T(), bare="functional"), sig(T(), approximate="tanh", bare="functional")],
    "leaky_relu": [sig(T(), bare="functional"), sig(T(), 0.2, bare="functional")],
    "elu": [sig(T(), bare="functional"), sig(T(), alpha=0.5, bare="functional"),
            sig(T(), 0.3, bare="functional")],
    **{name: unary(bare="functional") for name in ("selu", "silu", "mish", "softsign",
                                                   "relu6", "hardsigmoid", "hardswish",
                                                   "logsigmoid", "tanhshrink")},
    "celu": [sig(T(), alpha=0.5, bare="functional"), sig(T(), 2.0, bare="functional")],
    "hardtanh": [sig(T(), bare="functional"), sig(T(), -0.5, 1.0, bare="functional")],
    "clip": [sig(T(), -0.5, 0.5), sig(T(), min=-0.5)],
    "detach": [sig(T())],
    "requires_grad_": [sig(T(), spellings=_NONE)],
    "arange": [sig(0.0, 2.0, 0.5, shapes=((),)), sig(1.5, 4.0, shapes=((),))],
    "linspace": [sig(-1.0, 1.0, 5, shapes=((),))],
    **{name: [sig(2, 3, shapes=((),), spellings=_NONE)] for name in ("randn", "rand")},
    "randint": [sig(0, 5, (3,), shapes=((),), spellings=_NONE)],
    "manual_seed": [sig(0, shapes=((),), spellings=_NONE)],
    "zeros_like": [sig(T())], "ones_like": [sig(T())], "full_like": [sig(T(), 2.5)],
    "rand_like": [sig(T(), spellings=_NONE)], "randn_like": [sig(T(), spellings=_NONE)],
    "float": [sig(T(), spellings=("method",))], "double": [sig(T(), spellings=("method",))],
    "long": [sig(T(), spellings=("method",))], "bool": [sig(T(), spellings=("method",))],
    # common
    "asinh": unary(), "acosh": unary((1.2, 3.0)), "atanh": unary(UNIT), "erfc": unary(),
    "erfinv": unary(UNIT), "lgamma": unary(POSITIVE), "sinc": unary(),
    "digamma": [sig(T(), domain=POSITIVE)],
    "sign": unary(), "floor": unary(), "ceil": unary(), "trunc": unary(), "frac": unary(),
    "round": [sig(T()), sig(T(), decimals=1)],
    "atan2": [sig(T(), T(), shapes=PAIRS, domain=POSITIVE)],
    "hypot": [sig(T(), T(), shapes=PAIRS)],
    "xlogy": [sig(T(), T(), shapes=PAIRS, domain=POSITIVE)],
    "fmod": [sig(T(), 0.7), sig(T(), T(), shapes=PAIRS[:3], domain=POSITIVE)],
    "remainder": [sig(T(), 0.7), sig(T(), T(), shapes=PAIRS[:3], domain=POSITIVE)],
    "floor_divide": [sig(T(grad=False), 0.7)],
    "cumsum": [sig(T(), 0, shapes=_ROWS), sig(T(), dim=1, shapes=_ROWS)],
    "cumprod": [sig(T(), 1, shapes=_ROWS)],
    "sort": [sig(T(), spellings=_NONE)],
    "argsort": [sig(T(), shapes=_ROWS), sig(T(), 0, shapes=_ROWS),
                sig(T(), dim=1, descending=True, shapes=_ROWS)],
    "topk": [sig(T(), 2, spellings=_NONE)],
    "median": [sig(T(), shapes=((((5,),)), ((2, 3),)))],
    "tril": [sig(T(), shapes=_SQUARE), sig(T(), 1, shapes=_ROWS)],
    "triu": [sig(T(), shapes=_SQUARE), sig(T(), diagonal=-1, shapes=_ROWS)],
    "diag": [sig(T(), shapes=_SQUARE + (((3,),),)), sig(T(), 1, shapes=_ROWS)],
    "diagonal": [sig(T(), shapes=_ROWS), sig(T(), 1, shapes=_SQUARE)],
    "inverse": [sig(T(values=[[2.0, 0.5], [0.3, 1.5]]), shapes=(((2, 2),),))],
    "det": [sig(T(values=[[2.0, 0.5], [0.3, 1.5]]), shapes=(((2, 2),),))],
    "logdet": [sig(T(values=[[2.0, 0.5], [0.3, 1.5]]), shapes=(((2, 2),),))],
    "kron": [sig(T(), T(), shapes=(((2, 2), (3,)), ((2,), (2,))))],
    "tensordot": [sig(T(), T(), dims=1, shapes=(((2, 3), (3, 2)),))],
    "einsum": [sig(T(), spellings=_NONE)],
    "linear": [sig(T(), T(), T(), shapes=(((2, 3), (4, 3), (4,)),), bare="functional"),
               sig(T(), T(), shapes=(((3,), (2, 3)),), bare="functional")],
    "normalize": [sig(T(), shapes=_ROWS, bare="functional"),
                  sig(T(), p=1.0, dim=0, shapes=_ROWS, bare="functional"),
                  sig(T(), 1.0, 0, shapes=_ROWS, bare="functional")],
    "layer_norm": [sig(T(), (3,), shapes=(((2, 3),),), bare="functional"),
                   sig(T(), (3,), T(), T(), shapes=(((2, 3), (3,), (3,)),),
                       bare="functional")],
    "dropout": [sig(T(), 0.5, training=False, bare="functional", spellings=_FUNCTIONAL)],
    "gather": [sig(T(), 1, _INDEX, shapes=(((2, 3),),))],
    "one_hot": [sig(_POSITIONS, bare="functional", spellings=_FUNCTIONAL),
                sig(_LABELS, 4, bare="functional", spellings=_FUNCTIONAL),
                sig(_LABELS, num_classes=3, bare="functional", spellings=_FUNCTIONAL)],
    "index_select": [sig(T(), 1, _POSITIONS, shapes=(((2, 3),),))],
    "masked_fill": [sig(T(), _MASK, 0.0, shapes=(((3,),), ((2, 3),)))],
    "solve": [sig(T(values=[[2.0, 0.5], [0.3, 1.5]]), T(), shapes=(((2, 2), (2,)),
                                                                  ((2, 2), (2, 3))),
                  spellings=_NONE)],
    "linalg_norm": [sig(T(), spellings=_NONE)], "vector_norm": [sig(T(), spellings=_NONE)],
    "slogdet": [sig(T(values=[[2.0, 0.5], [0.3, 1.5]]), shapes=(((2, 2),),),
                    spellings=_NONE)],  # torch gives (sign, logabsdet): [1] is compared
    "conv1d": [sig(T(), T(), T(), shapes=(((1, 2, 5), (3, 2, 2), (3,)),), bare="functional"),
               sig(T(), T(), stride=2, padding=1, shapes=(((2, 1, 6), (2, 1, 3)),),
                   bare="functional")],
    "conv2d": [sig(T(), T(), shapes=(((1, 2, 4, 4), (3, 2, 2, 2)),), bare="functional"),
               sig(T(), T(), T(), padding=1, stride=(2, 1),
                   shapes=(((2, 1, 3, 4), (2, 1, 3, 3), (2,)),), bare="functional")],
    "max_pool2d": [sig(T(), 2, shapes=(((1, 2, 4, 4),),), bare="functional"),
                   sig(T(), (2, 1), stride=1, shapes=(((2, 3, 4),),), bare="functional")],
    "avg_pool2d": [sig(T(), 2, shapes=(((1, 2, 4, 4),),), bare="functional"),
                   sig(T(), 2, padding=1, shapes=(((1, 1, 3, 3),),), bare="functional")],
    "batch_norm": [sig(T(), T(grad=False), T(grad=False), T(), T(), training=True,
                       shapes=(((4, 3), (3,), (3,), (3,), (3,)),), domain=(0.5, 2.0),
                       bare="functional", spellings=_FUNCTIONAL),
                   sig(T(), T(grad=False), T(grad=False), shapes=(((4, 3), (3,), (3,)),),
                       domain=(0.5, 2.0), bare="functional", spellings=_FUNCTIONAL)],
    "pad": [sig(T(), (1, 2), shapes=_ROWS, bare="functional"),
            sig(T(), (1, 1, 0, 1), value=0.5, shapes=_ROWS, bare="functional"),
            sig(T(), (-1, 2, -1, 1), shapes=_ROWS, bare="functional")],
})


_OPERATORS = {"+": "__add__", "-": "__sub__", "*": "__mul__", "/": "__truediv__",
              "**": "__pow__", "@": "__matmul__"}


# --------------------------------------------------------------------------- the driver


@dataclass
class Built:
    """One case made concrete: the call's text, the inputs, and torch's own call."""

    text: str
    inputs: dict = field(default_factory=dict)  # name -> tensor (float64)
    grads: dict = field(default_factory=dict)  # name -> requires_grad
    torch_call: object = None


def _literal_text(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal_text(v) for v in value) + ("," if len(value) == 1
                                                                    else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_literal_text(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return repr(value)


def _build(name: str, case: Sig, shapes: tuple, spelling: str, seed: int) -> Built:
    generator = torch.Generator().manual_seed(seed)
    built = Built("")
    shape_iter = iter(shapes)
    lo, hi = case.domain

    def argument(value):
        """(text, torch value) of one argument."""
        if isinstance(value, T):
            shape = next(shape_iter)
            var = f"x{len(built.inputs)}"
            if value.values is not None:
                tensor = torch.tensor(value.values, dtype=DTYPE)
            else:
                tensor = lo + (hi - lo) * torch.rand(shape, generator=generator, dtype=DTYPE)
            built.inputs[var] = tensor
            built.grads[var] = value.grad
            return var, ("input", var)
        if isinstance(value, Raw):
            return value.text, ("raw", value.value)
        return _literal_text(value), ("literal", value)

    args = [argument(a) for a in case.args]
    kwargs = [(key, argument(v)) for key, v in case.kwargs]
    texts = [t for t, _ in args] + [f"{key}={t}" for key, (t, _) in kwargs]
    if name in _OPERATORS or name.startswith("unary"):
        if name.startswith("unary"):
            built.text = f"{name[-1]}{texts[0]}"
        else:
            built.text = f"({texts[0]} {name} {texts[1]})"
    elif spelling == "method":
        built.text = f"{texts[0]}.{name}({', '.join(texts[1:])})"
    else:
        prefix = {"": "", "torch": "torch.", "functional": "F."}[spelling]
        built.text = f"{prefix}{name}({', '.join(texts)})"
    constructor = FUNCTIONS.get(name) is not None and FUNCTIONS[name].constructor

    def torch_call(leaves):
        def value(kind_value):
            kind, v = kind_value
            if kind == "input":
                return leaves[v]
            if kind == "raw":
                return v()
            return v
        pos = [value(kv) for _, kv in args]
        named = {key: value(kv) for key, (_, kv) in kwargs}
        if constructor:
            named["dtype"] = DTYPE  # the app's dtype applies to what the text constructs
        if name in _OPERATORS:
            left, right = pos
            if not isinstance(left, torch.Tensor):  # 2.5 + x: Python asks the tensor
                return getattr(right, "__r" + _OPERATORS[name][2:])(left)
            return getattr(left, _OPERATORS[name])(right)
        if name == "unary -":
            return -pos[0]
        if name == "unary +":
            return +pos[0]
        if spelling == "method":
            return getattr(pos[0], name)(*pos[1:], **named)
        namespace = spelling or case.bare
        module = {"torch": torch, "functional": F}[namespace]
        if namespace == "torch" and not hasattr(torch, name):
            module = F
        return getattr(module, name)(*pos, **named)

    built.torch_call = torch_call
    return built


def _spellings(name: str, case: Sig) -> list[str]:
    if name in _OPERATORS or name.startswith("unary"):
        return [""]
    spec = FUNCTIONS[name]
    out = []
    for spelling in case.spellings:
        if spelling == "torch" and not hasattr(torch, name):
            continue
        if spelling == "functional" and not hasattr(F, name):
            continue
        if spelling == "method" and (not spec.method or not hasattr(torch.Tensor, name)
                                     or not case.args or not isinstance(case.args[0], T)):
            continue
        out.append(spelling)
    return out


def _params():
    params = []
    for table in (CASES, OPERATOR_CASES):
        for name, cases in table.items():
            for number, case in enumerate(cases):
                for point, shapes in enumerate(case.shapes):
                    # every spelling on the first shapes, the bare name on all of them
                    for spelling in _spellings(name, case)[: None if point == 0 else 1]:
                        shown = ",".join("x".join(map(str, s)) or "0d" for s in shapes)
                        params.append(pytest.param(
                            name, case, shapes, spelling,
                            id=f"{name}-{number}-{spelling or 'bare'}-{shown}"))
    return params


def run_both(name: str, case: Sig, shapes: tuple, spelling: str):
    """Run the case through torch and through the app; assert they agree."""
    built = _build(name, case, shapes, spelling, seed=zlib.crc32(repr((name, shapes)).encode()))
    leaves = {var: t.clone().requires_grad_(built.grads[var]) for var, t in built.inputs.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            expected = built.torch_call(leaves)
            # max(x, dim) gives torch's (values, indices); the language's value is .values
            if not isinstance(expected, torch.Tensor):
                expected = expected.values
            refused = None
        except (TypeError, RuntimeError, ValueError, IndexError) as err:
            refused = err
    specs = {var: VariableSpec(var, t.tolist(), built.grads[var])
             for var, t in built.inputs.items()}
    text = f"out = {built.text}\nf = sum(out * wout)"
    if refused is not None:
        with pytest.raises(ExpressionError) as raised:
            program = parse(text)
            specs["wout"] = VariableSpec("wout", 1.0, False)
            evaluate(program, specs, "float64")
        assert raised.value.span is not None, (built.text, raised.value.message)
        return built.text, None
    weights = torch.rand(expected.shape, generator=torch.Generator().manual_seed(7),
                         dtype=DTYPE) + 0.5
    specs["wout"] = VariableSpec("wout", weights.tolist(), False)
    evaluation = evaluate(parse(text), specs, "float64")
    shown = evaluation.intermediates.get("out", evaluation.inputs.get("out"))
    assert shown is not None, built.text
    assert tuple(shown.shape) == tuple(expected.shape), built.text
    if expected.dtype not in (DTYPE, torch.float32) or shown.dtype != DTYPE:
        # masks, positions, x.float(): torch's own dtype, then the values compared as numbers
        assert shown.dtype == expected.dtype, (built.text, shown.dtype, expected.dtype)
        shown, expected = shown.to(DTYPE), expected.to(DTYPE)
    torch.testing.assert_close(shown.detach(), expected.detach().to(DTYPE), rtol=1e-12,
                               atol=1e-12, msg=lambda m: f"{built.text}: value: {m}")
    total = (expected * weights).sum()
    targets = {var: leaf for var, leaf in leaves.items() if leaf.requires_grad}
    if expected.requires_grad and expected.grad_fn is None \
            and not any(expected is leaf for leaf in leaves.values()):  # a leaf made in the text
        targets["out"] = expected
    if total.requires_grad and targets:
        grads = torch.autograd.grad(total, list(targets.values()), allow_unused=True)
        for var, grad in zip(targets, grads, strict=True):
            grad = torch.zeros_like(targets[var]) if grad is None else grad
            torch.testing.assert_close(evaluation.gradients[var], grad, rtol=1e-12, atol=1e-12,
                                       msg=lambda m, v=var: f"{built.text}: d/d{v}: {m}")
    else:
        assert not any(evaluation.gradients.get(v) is not None and evaluation.gradients[v].any()
                       for v in targets), built.text
    notes = " ".join(str(w) for w in evaluation.warnings)
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            assert str(warning.message) in notes, (built.text, str(warning.message))
    return built.text, evaluation


@pytest.mark.parametrize("name, case, shapes, spelling", _params())
def test_app_equals_torch(name, case, shapes, spelling):
    run_both(name, case, shapes, spelling)


def test_every_function_has_a_parity_case():
    """New functions cannot slip in untested: each needs an entry in CASES."""
    missing = sorted(set(FUNCTIONS) - set(CASES))
    assert not missing, f"add parity cases to tests/test_torch_parity.py CASES for: {missing}"
    assert not set(CASES) - set(FUNCTIONS), "CASES names functions the language lacks"
    operators = set(BINARY_OPERATORS.values()) | {f"unary {op}" for op in
                                                  UNARY_OPERATORS.values()}
    assert operators == set(OPERATOR_CASES)


def test_the_issue_examples():
    """The numbers the issue reported wrong, against torch typed directly."""
    x = torch.tensor([[1.5, -2, 3], [0.5, 4, 0.25]], dtype=DTYPE, requires_grad=True)
    y = torch.tensor(1.0, dtype=DTYPE, requires_grad=True)
    f = torch.max(x, y).sum()
    f.backward()
    evaluation = evaluate(parse("f = sum(torch.max(x, y))"),
                          {"x": x.tolist(), "y": 1.0}, "float64")
    assert float(evaluation.value) == float(f.detach()) == 11.5
    torch.testing.assert_close(evaluation.gradients["x"], x.grad)
    torch.testing.assert_close(evaluation.gradients["y"], y.grad)
    assert not any("does not depend" in str(w) for w in evaluation.warnings)
    # F.softmax without dim on a 3-d tensor: torch's dim 0, and its warning as a note
    z = torch.arange(8, dtype=DTYPE).reshape(2, 2, 2) / 3
    with pytest.warns(UserWarning, match="Implicit dimension"):
        expected = F.softmax(z)
    evaluation = evaluate(parse("p = F.softmax(z)\nf = sum(p * p)"), {"z": z.tolist()},
                          "float64")
    torch.testing.assert_close(evaluation.intermediates["p"], expected)
    assert any("Implicit dimension choice for softmax" in str(w) and w.kind == "note"
               for w in evaluation.warnings)


@pytest.mark.parametrize("text, values", [
    ("f = sum(torch.max(x, y) * w)", {"x": [[1.5, -2.0, 3.0], [0.5, 4.0, 0.25]], "y": 1.0}),
    ("f = sum(x.min(torch.tensor(0.)) * w)", {"x": [[1.5, -2.0, 3.0], [0.5, 4.0, 0.25]]}),
    ("f = sum(torch.clamp(x, lo, hi) * w)", {"x": [[1.5, -2.0, 3.0], [0.5, 4.0, 0.25]],
                                             "lo": [0.0, 0.1, 0.2], "hi": 1.0}),
    ("f = sum(F.log_softmax(x) * w)", {"x": [[[1.5, -2.0], [3.0, 0.5]], [[4.0, 0.25],
                                                                         [0.1, 0.2]]]}),
    ("f = sum(x.reshape(-1, 2) * w)", {"x": [[1.5, -2.0, 3.0], [0.5, 4.0, 0.25]]}),
])
def test_check_agrees_with_torch_on_the_overloads(text, values):
    """The Check tab's finite differences and SymPy read these calls as torch does."""
    from core.check import check_gradients

    program = parse(text)
    # the weights: one per entry of the call's result, so each entry counts differently
    inner = text[len("f = sum("):-len(" * w)")]
    shape = evaluate(parse(f"out = {inner}\nf = sum(out)"), values, "float64") \
        .intermediates["out"].shape
    weights = (torch.arange(1, 1 + int(torch.tensor(shape).prod()), dtype=DTYPE) / 7).reshape(
        shape)
    specs = {name: VariableSpec(name, value) for name, value in values.items()}
    specs["w"] = VariableSpec("w", weights.tolist(), False)
    evaluation = evaluate(program, specs, "float64")
    report = check_gradients(evaluation)
    assert report.verdict in ("agree", "agree (with exceptions)"), [
        (row.label, row.verdict, row.reasons) for row in report.rows]
    assert all(row.verdict == "agree" for row in report.rows)

