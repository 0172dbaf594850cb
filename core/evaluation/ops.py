"""The torch implementation of every function in :data:`core.language.functions.FUNCTIONS`.

Each implementation receives already-evaluated arguments (tensors, Python floats, or
literal data) and returns a tensor. Before anything large is allocated, :func:`result_shape`
predicts the shape of operations that can grow (broadcasting, products, constructors) so
the size bounds are checked first.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from core import limits
from core.errors import ExpressionError, LimitError

DTYPES = {"float32": torch.float32, "float64": torch.float64}


class ArgumentError(Exception):
    """Raised by an implementation for a bad argument; the evaluator adds the position."""


def as_tensor(value, dtype: torch.dtype) -> torch.Tensor:
    """A tensor for ``value``: tensors pass through, numbers become 0-d constants."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=dtype)
    raise ArgumentError("expected a number or a tensor here")


def as_int(value, what: str) -> int:
    """An integer argument (a dimension, a size) from an int, as torch takes it: a float
    (``2.0``, or a name bound to one, or ``6/3``) is refused as torch refuses it."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ArgumentError(f"{what} must be a whole number, not a tensor")
        value = value.item()
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a value from the variables table is a float tensor
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        raise ArgumentError(f"{what} must be an int, and {value!r} is a float (torch refuses "
                            f"it): write {int(value)}, or use // instead of / to divide")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"{what} must be a whole number")
    return value


def as_dims(value, what: str = "dim"):
    """``dim=`` as an int or a tuple of ints (or None)."""
    if value is None:
        return None
    if isinstance(value, list):
        return tuple(as_int(v, what) for v in value)
    return as_int(value, what)


def as_size(args, kwargs) -> tuple[int, ...]:
    """The size of a constructor: ``ones(2, 3)``, ``ones((2, 3))`` or ``ones(size=(2, 3))``."""
    if "size" in kwargs:
        if args:
            raise ArgumentError("the size is given twice")
        args = [kwargs["size"]]
    if not args:
        raise ArgumentError("a size is needed, as in ones(2, 3)")
    if len(args) == 1 and isinstance(args[0], list):
        args = args[0]
    size = tuple(as_int(a, "a size") for a in args)
    if any(n < 0 for n in size):
        raise ArgumentError("sizes must not be negative")
    return size


def check_size(shape, what: str = "the result") -> None:
    """Raise :class:`LimitError` if a tensor of ``shape`` would pass the bounds."""
    if len(shape) > limits.MAX_DIMS:
        raise LimitError(f"{what} would have {len(shape)} dimensions; the limit is "
                         f"{limits.MAX_DIMS}")
    count = math.prod(shape)
    if count > limits.MAX_ELEMENTS:
        raise LimitError(f"{what} would have {count:,} entries "
                         f"({'×'.join(map(str, shape))}); the limit is "
                         f"{limits.MAX_ELEMENTS:,} entries per tensor")
    longest = max(shape, default=0)
    if longest > limits.MAX_ELEMENTS:
        # no entries (another size is 0), but a dim this long is slow to show or list
        raise LimitError(f"{what} would have a dimension of size {longest:,}; the limit is "
                         f"{limits.MAX_ELEMENTS:,} entries per tensor")


def _shape_text(t) -> str:
    shape = tuple(t.shape) if isinstance(t, torch.Tensor) else ()
    return "scalar" if not shape else "×".join(map(str, shape))


def _matmul_shape(name: str, a: torch.Tensor, b: torch.Tensor) -> tuple[int, ...]:
    """The shape of a matrix product, or an ArgumentError in user terms."""
    if a.dim() == 0 or b.dim() == 0:
        raise ArgumentError(f"{name} needs vectors or matrices, not numbers; use * to scale")
    if name == "mm" and (a.dim() != 2 or b.dim() != 2):
        raise ArgumentError(f"mm multiplies two matrices; got shapes {_shape_text(a)} and "
                            f"{_shape_text(b)} (matmul accepts vectors too)")
    if name == "mv" and (a.dim() != 2 or b.dim() != 1):
        raise ArgumentError(f"mv multiplies a matrix by a vector; got shapes {_shape_text(a)} "
                            f"and {_shape_text(b)}")
    if name in ("dot", "outer") and (a.dim() != 1 or b.dim() != 1):
        raise ArgumentError(f"{name} needs two vectors; got shapes {_shape_text(a)} and "
                            f"{_shape_text(b)}")
    if name == "outer":
        return (a.shape[0], b.shape[0])
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.dim() == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ArgumentError(
            f"shapes {_shape_text(a)} and {_shape_text(b)} cannot be multiplied: the first has "
            f"{inner_a} column{'s' if inner_a != 1 else ''} but the second has {inner_b} "
            f"row{'s' if inner_b != 1 else ''}")
    if name == "dot":
        return ()
    batch = broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]) if b.dim() > 2 else ())
    if batch is None:
        raise ArgumentError(f"the batch dimensions of {_shape_text(a)} and {_shape_text(b)} "
                            "do not match")
    rows = (a.shape[-2],) if a.dim() >= 2 else ()
    cols = (b.shape[-1],) if b.dim() >= 2 else ()
    return tuple(batch) + rows + cols


def broadcast_shape(symbol: str, *values) -> tuple[int, ...]:
    """The shape of an elementwise operation on ``values``, or an ArgumentError."""
    shapes = [tuple(v.shape) for v in values if isinstance(v, torch.Tensor)]
    shape = broadcast_shapes(*shapes)
    if shape is None:
        raise ArgumentError(
            f"shapes {' and '.join(_shape_text(v) for v in values if isinstance(v, torch.Tensor))}"
            f" do not match for {symbol}: each dimension must be equal, or 1")
    return shape


def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    """NumPy/torch broadcasting of plain shapes, or None if they do not broadcast.

    torch.broadcast_shapes gives the same answer, but its first call imports SymPy through
    torch.fx (about 0.25 s, holding the GIL: the window froze while it ran)."""
    rank = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(1, rank + 1):
        size = 1
        for shape in shapes:
            n = shape[-axis] if axis <= len(shape) else 1
            if n != 1:
                if size not in (1, n):
                    return None
                size = n
        result.append(size)
    return tuple(reversed(result))


# --------------------------------------------------------------------------- implementations

_UNARY_TORCH = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "asin": torch.asin,
    "acos": torch.acos, "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh,
    "tanh": torch.tanh, "exp": torch.exp, "expm1": torch.expm1, "log": torch.log,
    "log2": torch.log2, "log10": torch.log10, "log1p": torch.log1p, "sqrt": torch.sqrt,
    "rsqrt": torch.rsqrt, "square": torch.square, "reciprocal": torch.reciprocal,
    "abs": torch.abs, "neg": torch.neg, "sigmoid": torch.sigmoid, "relu": torch.relu,
    "softplus": F.softplus, "erf": torch.erf,
}


def _reduce(fn):
    def run(x, dim=None, *, keepdim=False):
        dim = as_dims(dim)
        if dim is None:
            return fn(x) if not keepdim else fn(x, dim=tuple(range(x.dim())), keepdim=True)
        return fn(x, dim=dim, keepdim=bool(keepdim))
    return run


def _prod(x, dim=None, *, keepdim=False):
    if dim is None:
        return torch.prod(x)
    return torch.prod(x, dim=as_int(dim, "dim"), keepdim=bool(keepdim))


def _logsumexp(x, dim=None, *, keepdim=False):
    dim = as_dims(dim)
    return torch.logsumexp(x, dim=tuple(range(x.dim())) if dim is None else dim,
                           keepdim=bool(keepdim))


def _norm(x, p=2, dim=None, *, keepdim=False):
    if isinstance(p, torch.Tensor):
        p = p.item()
    return torch.norm(x, p=p, dim=as_dims(dim), keepdim=bool(keepdim))


def _extreme(which):
    """torch.max / torch.min with torch's overload resolution:

    - ``max(x)``: the largest entry;
    - ``max(x, other)`` and ``max(x, other=y)`` with ``other`` a *tensor*, of any shape, a
      0-d one included (``torch.max(x, torch.tensor(0.))``, the relu idiom, or an input
      given as a number): the elementwise maximum, as ``torch.maximum``;
    - ``max(x, dim)`` / ``max(x, dim=d, keepdim=k)`` with ``dim`` a number: the largest
      entries along ``dim`` (torch's ``.values``).

    What torch refuses (a tensor with ``dim``/``keepdim``, a fractional dim) is refused.
    """
    reduce = torch.max if which == "max" else torch.min
    pairwise = torch.maximum if which == "max" else torch.minimum

    def run(x, other=None, *, dim=None, keepdim=None, **kwargs):
        if "other" in kwargs:
            if other is not None:
                raise ArgumentError(f"{which}() got its second argument twice")
            other = kwargs.pop("other")
            if not isinstance(other, torch.Tensor):
                raise ArgumentError(f"{which}(x, other=...) compares with a tensor; a number "
                                    f"here is not one (torch refuses it): write "
                                    f"torch.tensor({_number_text(other)})")
        if kwargs:
            raise ArgumentError(f"{which}() has no keyword argument '{next(iter(kwargs))}'")
        if isinstance(other, torch.Tensor):
            if dim is not None or keepdim is not None:
                raise ArgumentError(
                    f"{which}(x, y) with a tensor y compares entry by entry and takes no dim "
                    "or keepdim (torch refuses this call); to reduce along a dimension, give "
                    "the dimension as a whole number")
            check_size(broadcast_shape(which, x, other))
            return pairwise(x, other)
        if other is not None:
            if dim is not None:
                raise ArgumentError(f"{which}() got the dimension twice")
            if not _is_whole(other):
                raise ArgumentError(
                    f"torch reads a number in second place as a dimension, and "
                    f"{_number_text(other)} is not one; for the {which}imum of x and "
                    f"{_number_text(other)} entry by entry write "
                    f"torch.clamp(x, {'min' if which == 'max' else 'max'}="
                    f"{_number_text(other)})")
            dim = other  # torch.max(x, 1) reduces along dim 1, as in torch
        if dim is None:
            if keepdim is not None:
                raise ArgumentError(f"{which}(x, keepdim=...) needs a dim too (torch refuses "
                                    "keepdim alone)")
            return reduce(x)
        return reduce(x, dim=as_int(dim, "dim"), keepdim=bool(keepdim)).values
    return run


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number_text(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _softmax(fn):
    def run(x, dim=None):
        if dim is None:  # F.softmax(x): torch's implicit choice (the evaluator notes it)
            dim = implicit_softmax_dim(fn.__name__, x.dim())[0]
        return fn(x, dim=as_int(dim, "dim"))
    return run


def implicit_softmax_dim(name: str, ndim: int) -> tuple[int, str]:
    """The dim ``F.softmax(x)`` (or log_softmax) picks without ``dim=``, and the warning
    torch gives for it, from torch itself (``F._get_softmax_dim``: 0 for 0-, 1- and 3-d
    input, else 1, a legacy rule it deprecates)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chooser = getattr(F, "_get_softmax_dim", None)
        if chooser is not None:
            dim = chooser(name, ndim, 1)
        else:  # the rule torch has used since 0.3, in case the private helper moves
            dim = 0 if ndim in (0, 1, 3) else 1
    message = str(caught[0].message) if caught else (
        f"Implicit dimension choice for {name} has been deprecated. Change the call to "
        "include dim=X as an argument.")
    return dim, message


def _product(name, fn):
    def run(a, b):
        _matmul_shape(name, a, b)
        return fn(a, b)
    return run


def _transpose(x, dim0=None, dim1=None):
    if dim0 is None or dim1 is None:
        raise ArgumentError("transpose needs the two dims to swap, as in transpose(x, 0, 1)")
    return torch.transpose(x, as_int(dim0, "dim0"), as_int(dim1, "dim1"))


def _t(x):
    if x.dim() > 2:
        raise ArgumentError(f"t() transposes a matrix; this tensor has shape {_shape_text(x)}; "
                            "use transpose(x, dim0, dim1)")
    return torch.t(x)


def _trace(x):
    if x.dim() != 2:
        raise ArgumentError(f"trace needs a matrix; got shape {_shape_text(x)}")
    return torch.trace(x)


def _reshape(x, *shape, **kwargs):
    """torch.reshape(x, shape), x.reshape(2, 3) or reshape(x, shape=(2, 3)); one size may be
    -1, which torch works out from the others."""
    if "shape" in kwargs:
        if shape:
            raise ArgumentError("reshape() got the shape twice")
        shape = (kwargs["shape"],)
    if not shape:
        raise ArgumentError("reshape() needs the new shape, as in reshape(x, (2, 3))")
    if len(shape) == 1 and isinstance(shape[0], list):
        shape = tuple(shape[0])
    if len(shape) > limits.MAX_DIMS:
        raise LimitError(f"the shape has {len(shape)} dimensions; the limit is "
                         f"{limits.MAX_DIMS}")
    size = inferred_size([as_int(n, "a size") for n in shape], x.numel())
    check_size(size)
    return torch.reshape(x, size)


def inferred_size(sizes: list[int], count: int) -> tuple[int, ...]:
    """A new shape for ``count`` entries with at most one -1 worked out, as torch's
    ``infer_size`` does; refused (with torch's reasons, in words) where torch refuses."""
    shown = "×".join("-1" if n == -1 else str(n) for n in sizes) or "a single number"
    for n in sizes:
        if n < -1:
            raise ArgumentError(f"a size of {n} is not possible: sizes are whole numbers "
                                "from 0 up, or -1 for the one torch works out")
    inferred = [i for i, n in enumerate(sizes) if n == -1]
    if len(inferred) > 1:
        raise ArgumentError("only one size can be -1: torch works out one size from the others")
    known = math.prod(n for n in sizes if n != -1)
    if inferred:
        if known == 0:
            raise ArgumentError(f"cannot work out the -1 in {shown}: with a size 0 beside it, "
                                "any size would do")
        if count % known:
            raise ArgumentError(f"cannot reshape {count} entries into {shown}: {count} is not "
                                f"a multiple of {known}")
        sizes = list(sizes)
        sizes[inferred[0]] = count // known
    elif known != count:
        raise ArgumentError(f"cannot reshape {count} entries into {shown}")
    return tuple(sizes)


def _clamp(x, *bounds, **named):
    """torch.clamp: a bound is a number or a tensor; a tensor bound keeps its gradient
    (torch gives it the gradient wherever that bound is the one taken) and broadcasts.

    torch is called with the bounds exactly as written (by position or by keyword), so its
    own overload rules decide which mixes of numbers and tensors it takes."""
    given = list(bounds) + list(named.values())
    if all(b is None for b in given):
        raise ArgumentError("clamp needs min= or max= (torch refuses a clamp with neither)")
    for bound in given:
        if bound is not None and (not isinstance(bound, (torch.Tensor, int, float))
                                  or isinstance(bound, bool)):
            raise ArgumentError("a bound of clamp is a number or a tensor")
    tensors = [b for b in given if isinstance(b, torch.Tensor)]
    if tensors:
        check_size(broadcast_shape("clamp", x, *tensors))
    try:
        return torch.clamp(x, *bounds, **named)
    except TypeError:
        raise ArgumentError("torch refuses this mix of a number and a tensor as the bounds of "
                            "clamp; write the number as a tensor too, as in "
                            "torch.tensor(0.0)") from None


#: name -> implementation taking (positional args..., **keyword args)
IMPLEMENTATIONS = {name: fn for name, fn in _UNARY_TORCH.items()}
IMPLEMENTATIONS.update({
    "pow": torch.pow,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "clamp": _clamp,
    "sum": _reduce(torch.sum),
    "mean": _reduce(torch.mean),
    "prod": _prod,
    "norm": _norm,
    "max": _extreme("max"),
    "min": _extreme("min"),
    "logsumexp": _logsumexp,
    "softmax": _softmax(torch.softmax),
    "log_softmax": _softmax(torch.log_softmax),
    "matmul": _product("matmul", torch.matmul),
    "mm": _product("mm", torch.mm),
    "mv": _product("mv", torch.mv),
    "dot": _product("dot", torch.dot),
    "outer": _product("outer", torch.outer),
    "transpose": _transpose,
    "t": _t,
    "trace": _trace,
    "reshape": _reshape,
})

#: Functions whose output has the shape of their broadcast tensor arguments.
ELEMENTWISE = set(_UNARY_TORCH) | {"pow", "maximum", "minimum", "clamp", "softmax", "log_softmax"}
PRODUCTS = {"matmul", "mm", "mv", "dot", "outer"}
#: Arguments that stay Python numbers (dimensions, exponents of norms, bounds).
NUMERIC_KWARGS = {"dim", "keepdim", "p", "min", "max", "dim0", "dim1"}


def construct(name: str, args: list, kwargs: dict, default_dtype: torch.dtype) -> torch.Tensor:
    """Run a constructor (tensor, ones, zeros, full, eye) after checking its size."""
    generator = kwargs.pop("generator", None)
    if name in ops_more.CONSTRUCTORS:
        return ops_more.CONSTRUCTORS[name](args, kwargs, default_dtype, generator)
    chosen = kwargs.get("dtype")
    if chosen is not None and chosen not in ops_more.ALL_DTYPES:
        raise ArgumentError("dtype= takes torch.float32, torch.float64, torch.long, torch.int "
                            "or torch.bool")
    dtype = ops_more.ALL_DTYPES[chosen] if chosen else default_dtype
    requires_grad = bool(kwargs.get("requires_grad") or False)
    if name == "tensor":
        data = args[0]
        if isinstance(data, torch.Tensor):
            raise ArgumentError("tensor() takes a number or a nested list of numbers")
        whole = ops_more.whole_tensor(data, kwargs)  # torch.tensor([0, 2]) holds integers
        if whole is not None:
            return whole
        from core.language.values import check_value  # the same rules as the variables table
        try:
            data = check_value(data, "tensor()")
        except ExpressionError as err:
            raise ArgumentError(err.message) from None
        return torch.tensor(data, dtype=dtype, requires_grad=requires_grad)
    if name == "eye":
        n = as_int(args[0], "n")
        m = as_int(args[1], "m") if len(args) > 1 else n
        check_size((n, m))
        return torch.eye(n, m, dtype=dtype, requires_grad=requires_grad)
    if name == "full":
        fill = kwargs.get("fill_value", args[1] if len(args) > 1 else None)
        if fill is None or isinstance(fill, (list, torch.Tensor)):
            raise ArgumentError("full() needs a size and a number to fill with")
        size = as_size(args[:1], kwargs)
        check_size(size)
        return torch.full(size, float(fill), dtype=dtype, requires_grad=requires_grad)
    size = as_size(args, kwargs)
    check_size(size)
    maker = torch.ones if name == "ones" else torch.zeros
    return maker(size, dtype=dtype, requires_grad=requires_grad)


def result_shape(name: str, args: list) -> tuple[int, ...] | None:
    """Predict the shape of ``name(*args)`` for the functions that can grow tensors;
    None where the result is no larger than an input. Raises ArgumentError on mismatch."""
    if name in PRODUCTS:
        return _matmul_shape(name, *args[:2])
    if name in ("pow", "maximum", "minimum"):
        return broadcast_shape(name, *args)
    if name in ("max", "min") and len(args) > 1 and isinstance(args[1], torch.Tensor):
        return broadcast_shape(name, *args[:2])
    return None


# the notebook functions (indexing, shapes, losses, activations, ranges, random numbers)
from core.evaluation import ops_more  # noqa: E402  (it builds on the helpers above)

IMPLEMENTATIONS.update(ops_more.IMPLEMENTATIONS)

