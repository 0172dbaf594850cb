"""Torch implementations of :mod:`core.language.functions_more`: indexing, masks, joining, shapes,
reductions, losses, activations, stopping gradients, ranges and seeded random numbers.

Every function that can make a tensor larger than its inputs (advanced indexing, stack,
cat, where, repeat, expand, ranges, random tensors) computes the size of its result from
the arguments and checks it against :mod:`core.limits` before torch allocates anything.
Indices are checked against the sizes they index, so nothing reads out of bounds and the
message says which index and which dim.
"""
from __future__ import annotations

import contextvars
import math

import torch
import torch.nn.functional as F

from core import limits
from core.evaluation import cost
from core.evaluation.ops import (
    ArgumentError,
    as_dims,
    as_int,
    broadcast_shape,
    broadcast_shapes,
    check_size,
)

#: dtypes a constructor's dtype= may name (core.language.parser reads them as these strings)
ALL_DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64,
              "int32": torch.int32, "bool": torch.bool}
#: functions that draw random numbers: the interpreter passes its seeded generator
RANDOM = {"randn", "rand", "randint", "rand_like", "randn_like"}
#: the seed when a program draws without torch.manual_seed: a new torch.Generator's own
#: (torch's global generator starts from a random seed in each process, which would make
#: every computation, and the finite differences, different)
DEFAULT_SEED = 67280421310721


def _shape(t) -> str:
    shape = tuple(t.shape) if isinstance(t, torch.Tensor) else ()
    return "scalar" if not shape else "×".join(map(str, shape))


def _tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ArgumentError(f"{what} must be a tensor")
    return value


def _float(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ArgumentError(f"{what} must be a number")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentError(f"{what} must be a number")
    return float(value)


def _choice(value, what: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ArgumentError(f"{what} must be one of " + ", ".join(repr(c) for c in choices))
    return value


def _sizes(args, kwargs, key: str = "size", allow_inferred: bool = False) -> tuple[int, ...]:
    """Sizes given as ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``; -1 where allowed."""
    if key in kwargs and kwargs[key] is not None:
        args = [kwargs[key]]
    if len(args) == 1 and isinstance(args[0], list):
        args = args[0]
    sizes = tuple(as_int(a, "a size") for a in args)
    if len(sizes) > limits.MAX_DIMS:
        raise ArgumentError(f"{len(sizes)} sizes; the limit is {limits.MAX_DIMS} dimensions")
    for n in sizes:
        if n < 0 and not (allow_inferred and n == -1):
            raise ArgumentError("sizes must not be negative"
                                + (" (-1 means: work it out)" if allow_inferred else ""))
    return sizes


# --------------------------------------------------------------------------- indexing


def _dim_range(i: int, n: int, dim: int) -> int:
    if not -n <= i < n:
        raise ArgumentError(f"index {i} is out of range for dim {dim}, which has size {n} "
                            f"(valid: {-n} to {n - 1})" if n else
                            f"index {i} is out of range: dim {dim} has size 0")
    return i


def _number_index(item, tensors) -> tuple:
    """An index computed from names (``i = 2 - 1; x[i]``) is an int index when it is an
    int, as in torch; a float is refused, as torch refuses it."""
    if item[0] != "tensor":
        return item
    value = tensors[item[1]]
    if isinstance(value, bool) or isinstance(value, torch.Tensor):
        return item
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        raise ArgumentError(f"an index must be an int, and {value!r} is a float (torch "
                            "refuses it): use // instead of / to divide")
    return item


def getitem(x, spec, *tensors):
    """``x[...]`` from the plain index data of :func:`core.language.syntax_more.subscript`."""
    x = _tensor(x, "only a tensor can be indexed; this")
    spec = [_number_index(item, tensors) for item in spec]
    consumed = 0
    for item in spec:
        if item[0] in ("int", "slice", "list"):
            consumed += 1
        elif item[0] == "tensor":
            t = tensors[item[1]]
            consumed += t.dim() if isinstance(t, torch.Tensor) and t.dtype == torch.bool else 1
    ellipses = sum(item[0] == "ellipsis" for item in spec)
    if ellipses > 1:
        raise ArgumentError("an index can have only one ...")
    if consumed > x.dim():
        raise ArgumentError(f"too many indices ({consumed}) for a tensor of shape {_shape(x)} "
                            f"({x.dim()} dim{'s' if x.dim() != 1 else ''})")
    index: list = []
    dim = 0
    advanced: list[tuple[int, ...]] = []
    advanced_dims = 1
    for item in spec:
        kind = item[0]
        if kind == "ellipsis":
            index.append(Ellipsis)
            dim += x.dim() - consumed
        elif kind == "none":
            index.append(None)
        elif kind == "int":
            index.append(_dim_range(item[1], x.shape[dim], dim))
            dim += 1
        elif kind == "slice":
            start, stop, step = item[1:]
            if step is not None and step <= 0:
                raise ArgumentError("a slice step must be positive (torch has no negative "
                                    "steps: use flip(x, dims) to reverse)")
            # slice.indices clamps any bound, however large, to the dim's size
            start, stop, step = slice(start, stop, step).indices(x.shape[dim])
            index.append(slice(start, max(stop, start), step))
            dim += 1
        elif kind == "list":
            for i in item[1]:
                _dim_range(i, x.shape[dim], dim)
            index.append(torch.tensor(item[1], dtype=torch.int64))
            advanced.append((len(item[1]),))
            advanced_dims *= x.shape[dim]
            dim += 1
        else:
            t = _tensor(tensors[item[1]], "an index")
            if t.dtype == torch.bool:
                covered = tuple(x.shape[dim:dim + t.dim()])
                if tuple(t.shape) != covered:
                    raise ArgumentError(f"the mask has shape {_shape(t)} but indexes dims of "
                                        f"sizes {'×'.join(map(str, covered)) or 'scalar'}")
                advanced.append((int(t.sum()),))
                advanced_dims *= max(math.prod(covered), 1)
                dim += t.dim()
            elif t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
                if t.numel():
                    _dim_range(int(t.min()), x.shape[dim], dim)
                    _dim_range(int(t.max()), x.shape[dim], dim)
                advanced.append(tuple(t.shape))
                advanced_dims *= x.shape[dim]
                dim += 1
            else:
                raise ArgumentError("a tensor used as an index must hold whole numbers or "
                                    "True/False; this one holds fractions (use .long(), or a "
                                    "comparison such as x > 0 for a mask)")
            index.append(t)
    if advanced:
        picked = broadcast_shapes(*advanced)
        if picked is None:
            raise ArgumentError("the index tensors' shapes do not match each other")
        # at most: every picked position times the entries of the dims not indexed by them
        bound = math.prod(picked) * (x.numel() // max(advanced_dims, 1))
        if bound > limits.MAX_ELEMENTS:
            check_size((bound,), "this indexing")
    return x[tuple(index)]


# --------------------------------------------------------------------------- masks, joining


def _compare(fn, symbol):
    def run(x, y):
        check_size(broadcast_shape(symbol, x, y))
        return fn(x, y)
    return run


def where(cond, a, b):
    """``where(cond, a, b)``: a where the mask is True, b elsewhere."""
    cond = _tensor(cond, "the condition of where()")
    if cond.dtype != torch.bool:
        raise ArgumentError("the condition of where() must be a mask of True/False, such as "
                            "x > 0")
    check_size(broadcast_shape("where", cond, a, b))
    return torch.where(cond, a, b)


def _joined(name):
    def run(*tensors, dim=0):
        tensors = [_tensor(t, f"each entry of {name}([...])") for t in tensors]
        total = sum(t.numel() for t in tensors)
        check_size((total,), f"{name}(...)")
        fn = torch.stack if name == "stack" else torch.cat
        return fn(tensors, dim=as_int(dim, "dim"))
    return run


# --------------------------------------------------------------------------- shapes


def view(x, *shape, size=None):
    """``x.view(2, -1)``: the same entries in a new shape (one -1 is worked out)."""
    return x.view(_sizes(list(shape), {"size": size}, allow_inferred=True))


def squeeze(x, dim=None):
    """``squeeze(x)`` removes every size-1 dim; ``squeeze(x, d)`` only dim d."""
    if dim is None:
        return torch.squeeze(x)
    dims = as_dims(dim)
    return torch.squeeze(x, dims)


def unsqueeze(x, dim=None):
    """``unsqueeze(x, d)``: a size-1 dim inserted at d."""
    if dim is None:
        raise ArgumentError("unsqueeze needs the dim, as in x.unsqueeze(0)")
    return torch.unsqueeze(x, as_int(dim, "dim"))


def flatten(x, start_dim=0, end_dim=-1):
    """``flatten(x, start_dim, end_dim)``: those dims merged into one."""
    return torch.flatten(x, as_int(start_dim, "start_dim"), as_int(end_dim, "end_dim"))


def _dim_list(positional, kwargs) -> tuple[int, ...]:
    """Dims given as ``f(x, 1, 0)``, ``f(x, (1, 0))`` or ``f(x, dims=(1, 0))``."""
    given = kwargs.get("dims", list(positional))
    if not isinstance(given, list):
        given = [given]
    if len(given) == 1 and isinstance(given[0], list):
        given = given[0]
    if len(given) > limits.MAX_DIMS:
        raise ArgumentError(f"{len(given)} dims; the limit is {limits.MAX_DIMS}")
    return tuple(as_int(d, "dim") for d in given)


def permute(x, *order, **kwargs):
    """``x.permute(1, 0)``: the dims in a new order."""
    return x.permute(_dim_list(order, kwargs))


def expand(x, *sizes, size=None):
    """``x.expand(3, -1)``: size-1 dims broadcast, size checked before the view."""
    target = _sizes(list(sizes), {"size": size}, allow_inferred=True)
    if len(target) < x.dim():
        raise ArgumentError(f"expand needs at least {x.dim()} sizes for a tensor of shape "
                            f"{_shape(x)}")
    offset = len(target) - x.dim()
    final = tuple(x.shape[i - offset] if n == -1 and i >= offset else n
                  for i, n in enumerate(target))
    if any(n < 0 for n in final):
        raise ArgumentError("-1 can only keep an existing dim in expand")
    check_size(final, "the expanded tensor")
    return x.expand(final)


def repeat(x, *sizes):
    """``x.repeat(2, 1)``: the tensor tiled, size checked before allocating."""
    times = _sizes(list(sizes), {})
    if len(times) < x.dim():
        raise ArgumentError(f"repeat needs at least {x.dim()} counts for a tensor of shape "
                            f"{_shape(x)}")
    shape = (1,) * (len(times) - x.dim()) + tuple(x.shape)
    check_size(tuple(a * b for a, b in zip(shape, times)), "the repeated tensor")
    return x.repeat(times)


def flip(x, *order, **kwargs):
    """``flip(x, dims)``: the entries in reverse order along dims."""
    return torch.flip(x, _dim_list(order, kwargs))


def _like_shape(fn):
    def run(x, other):
        return fn(x, _tensor(other, "the second argument"))
    return run


# --------------------------------------------------------------------------- reductions


def _arg(fn):
    def run(x, dim=None, keepdim=False):
        return fn(x, dim=None if dim is None else as_int(dim, "dim"), keepdim=bool(keepdim))
    return run


def _amax(fn):
    def run(x, dim=None, keepdim=False):
        dims = () if dim is None else as_dims(dim)
        return fn(x, dim=dims, keepdim=bool(keepdim))
    return run


def _spread(fn):
    def run(x, dim=None, keepdim=False, unbiased=None, correction=None):
        if unbiased is not None and correction is not None:
            raise ArgumentError("give unbiased= or correction=, not both")
        if unbiased is not None:
            correction = 1 if bool(unbiased) else 0
        options = {"keepdim": bool(keepdim)}
        if correction is not None:
            options["correction"] = _float(correction, "correction")
        return fn(x, dim=as_dims(dim), **options)
    return run


# --------------------------------------------------------------------------- arithmetic


def _scaled(fn):
    def run(x, y, alpha=None):
        check_size(broadcast_shape(fn.__name__, x, y))
        if alpha is None:
            return fn(x, y)
        return fn(x, y, alpha=_float(alpha, "alpha"))
    return run


def _pair(fn, symbol):
    def run(x, y):
        check_size(broadcast_shape(symbol, x, y))
        return fn(x, y)
    return run


# --------------------------------------------------------------------------- losses

_REDUCTIONS = ("mean", "sum", "none")


def _loss(fn, extra=()):
    def run(x, target, reduction="mean", **options):
        x = _tensor(x, "the input of a loss")
        target = _tensor(target, "the target of a loss")
        if reduction is not None:
            reduction = _choice(reduction, "reduction",
                                _REDUCTIONS + (("batchmean",) if fn is F.kl_div else ()))
        if fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.kl_div,
                  F.binary_cross_entropy_with_logits, F.binary_cross_entropy):
            check_size(broadcast_shape(fn.__name__, x, target))
        for key in options:
            if key in ("beta", "delta", "label_smoothing"):
                options[key] = _float(options[key], key)
            elif key == "ignore_index":
                options[key] = as_int(options[key], key)
            elif key == "log_target":
                options[key] = bool(options[key])
        return fn(x, target, reduction=reduction or "mean", **options)
    return run


# --------------------------------------------------------------------------- activations


def gelu(x, approximate="none"):
    """``F.gelu(x, approximate='none'|'tanh')``."""
    return F.gelu(x, approximate=_choice(approximate, "approximate", ("none", "tanh")))


def leaky_relu(x, negative_slope=0.01):
    """``F.leaky_relu(x, negative_slope=0.01)``."""
    return F.leaky_relu(x, _float(negative_slope, "negative_slope"))


def elu(x, alpha=1.0):
    """``F.elu(x, alpha=1.0)``."""
    return F.elu(x, alpha=_float(alpha, "alpha"))


def celu(x, alpha=1.0):
    """``F.celu(x, alpha=1.0)`` (alpha must not be 0)."""
    alpha = _float(alpha, "alpha")
    if alpha == 0:
        raise ArgumentError("celu's alpha must not be 0")
    return F.celu(x, alpha=alpha)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """``F.hardtanh(x, min_val=-1, max_val=1)``."""
    lo, hi = _float(min_val, "min_val"), _float(max_val, "max_val")
    if lo > hi:
        raise ArgumentError("hardtanh's min_val must not be above max_val")
    return F.hardtanh(x, lo, hi)


def softplus(x, beta=1.0, threshold=20.0):
    """``F.softplus(x, beta=1, threshold=20)``."""
    return F.softplus(x, beta=_float(beta, "beta"), threshold=_float(threshold, "threshold"))


def clip(*args, **kwargs):
    """``clip`` is torch's other name for ``clamp``: the same implementation."""
    from core.evaluation.ops import IMPLEMENTATIONS  # clamp's implementation, whatever it becomes
    return IMPLEMENTATIONS["clamp"](*args, **kwargs)


# --------------------------------------------------------------------------- gradients


def requires_grad_(x, flag=True, requires_grad=None):
    """``x.requires_grad_(flag)``: a leaf starts (or stops) needing a gradient; a computed value
    can only keep needing one, as in torch."""
    if requires_grad is not None:
        flag = requires_grad
    if not isinstance(flag, bool):
        raise ArgumentError("requires_grad_() takes True or False")
    if x.grad_fn is not None:
        if not flag:
            raise ArgumentError("requires_grad_(False) works only on a leaf; to stop the "
                                "gradient of a computed value use .detach()")
        return x
    if flag and not x.is_floating_point():
        raise ArgumentError("only tensors of fractions (float) can require gradients")
    return x.requires_grad_(flag)


# --------------------------------------------------------------------------- construction


def _dtype(kwargs, default):
    name = kwargs.get("dtype")
    return ALL_DTYPES[name] if name else default


def _number(value, what):
    """A Python number kept as int or float (torch picks the dtype from it)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ArgumentError(f"{what} must be a number")
        return value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentError(f"{what} must be a number")
    return value


def arange(args, kwargs, default_dtype, generator=None):
    """``torch.arange(end)``, ``(start, end)``, ``(start, end, step)``: int64 when every bound is a
    whole number written out, as in torch; the length is checked first."""
    values = [_number(a, "arange's bound") for a in args]
    start, end, step = 0, None, 1
    if len(values) == 1:
        end = values[0]
    elif len(values) == 2:
        start, end = values
    else:
        start, end, step = values
    start = _number(kwargs.get("start", start), "start")
    end = _number(kwargs.get("end", end), "end")
    step = _number(kwargs.get("step", step), "step")
    if step == 0:
        raise ArgumentError("arange's step must not be 0")
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise ArgumentError("arange's bounds must be finite")
    count = max(math.ceil((end - start) / step), 0)
    if (end - start) * step < 0:
        raise ArgumentError("arange's step goes the wrong way: from start it never reaches end")
    check_size((count,), "arange(...)")
    whole = all(isinstance(v, int) for v in (start, end, step))
    dtype = _dtype(kwargs, torch.int64 if whole else default_dtype)
    return torch.arange(start, end, step, dtype=dtype,
                        requires_grad=bool(kwargs.get("requires_grad")))


def linspace(args, kwargs, default_dtype, generator=None):
    """``torch.linspace(start, end, steps)``; the length is checked first."""
    start, end = (_float(a, "linspace's bound") for a in args[:2])
    steps = as_int(kwargs.get("steps", args[2] if len(args) > 2 else None), "steps")
    if steps < 0:
        raise ArgumentError("linspace's steps must not be negative")
    check_size((steps,), "linspace(...)")
    return torch.linspace(start, end, steps, dtype=_dtype(kwargs, default_dtype),
                          requires_grad=bool(kwargs.get("requires_grad")))


def _random(fn):
    def run(args, kwargs, default_dtype, generator=None):
        size = _sizes(args, kwargs)
        check_size(size, f"{fn.__name__}(...)")
        return fn(size, generator=generator, dtype=_dtype(kwargs, default_dtype),
                  requires_grad=bool(kwargs.get("requires_grad")))
    return run


def randint(args, kwargs, default_dtype, generator=None):
    """``torch.randint(low, high, size)`` (or ``(high, size)``) from the program's seeded
    generator."""
    if "size" in kwargs:
        bounds, size = args, kwargs["size"]
    else:
        bounds, size = args[:-1], args[-1]
    if not isinstance(size, list):
        raise ArgumentError("randint needs a size written as a tuple, as in randint(0, 3, (4,))")
    bounds = [as_int(b, "a bound") for b in bounds]
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds[:2]
    if high <= low:
        raise ArgumentError("randint needs low < high")
    if not (-2 ** 63 <= low and high <= 2 ** 63):
        raise ArgumentError("randint's bounds must fit in 64 bits")
    shape = _sizes([size], {})
    check_size(shape, "randint(...)")
    return torch.randint(low, high, shape, generator=generator,
                         dtype=_dtype(kwargs, torch.int64))


def seed_value(args) -> int:
    """The seed of ``torch.manual_seed(N)``: a whole number torch accepts."""
    seed = as_int(args[0], "the seed")
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ArgumentError("a seed must fit in 64 bits")
    return seed


def _like(fill):
    def run(x, *rest, dtype=None, requires_grad=False, generator=None):
        x = _tensor(x, "the first argument")
        kind = ALL_DTYPES[dtype] if dtype else x.dtype
        flag = bool(requires_grad)
        if fill == "full":
            if len(rest) != 1:
                raise ArgumentError("full_like(x, value) needs the value")
            return torch.full_like(x, _float(rest[0], "the fill value"), dtype=kind,
                                   requires_grad=flag)
        if fill == "rand":
            return torch.rand(x.shape, generator=generator, dtype=kind, requires_grad=flag)
        if fill == "randn":
            return torch.randn(x.shape, generator=generator, dtype=kind, requires_grad=flag)
        maker = torch.zeros_like if fill == 0 else torch.ones_like
        return maker(x, dtype=kind, requires_grad=flag)
    return run


def _convert(dtype):
    def run(x):
        return x.to(dtype)
    return run


#: what ``x.float()`` makes: float32, as torch; float64 while the check re-runs a program in
#: float64 (its finite differences), where float32 would both lose the precision the check
#: needs and meet float64 tensors (``F.one_hot(y, 5).float() @ W``)
FLOAT_DTYPE: contextvars.ContextVar = contextvars.ContextVar("float_dtype",
                                                            default=torch.float32)


def _to_float(x):
    return x.to(FLOAT_DTYPE.get())


#: constructors: name -> fn(args, kwargs, default_dtype, generator)
CONSTRUCTORS = {
    "arange": arange, "linspace": linspace, "randn": _random(torch.randn),
    "rand": _random(torch.rand), "randint": randint,
}

#: name -> implementation taking (positional args..., **keyword args)
IMPLEMENTATIONS = {
    "getitem": getitem,
    "gt": _compare(torch.gt, ">"), "lt": _compare(torch.lt, "<"),
    "ge": _compare(torch.ge, ">="), "le": _compare(torch.le, "<="),
    "eq": _compare(torch.eq, "=="), "ne": _compare(torch.ne, "!="),
    "where": where, "stack": _joined("stack"), "cat": _joined("cat"),
    "view": view, "squeeze": squeeze, "unsqueeze": unsqueeze, "flatten": flatten,
    "permute": permute, "expand": expand, "repeat": repeat, "flip": flip,
    "expand_as": _like_shape(lambda x, y: expand(x, list(y.shape))),
    "view_as": _like_shape(lambda x, y: x.view_as(y)),
    "reshape_as": _like_shape(lambda x, y: x.reshape_as(y)),
    "argmax": _arg(torch.argmax), "argmin": _arg(torch.argmin),
    "amax": _amax(torch.amax), "amin": _amax(torch.amin),
    "var": _spread(torch.var), "std": _spread(torch.std),
    "add": _scaled(torch.add), "sub": _scaled(torch.sub),
    "mul": _pair(torch.mul, "*"), "div": _pair(torch.div, "/"),
    "mse_loss": _loss(F.mse_loss), "l1_loss": _loss(F.l1_loss),
    "smooth_l1_loss": _loss(F.smooth_l1_loss), "huber_loss": _loss(F.huber_loss),
    "cross_entropy": _loss(F.cross_entropy), "nll_loss": _loss(F.nll_loss),
    "binary_cross_entropy": _loss(F.binary_cross_entropy),
    "binary_cross_entropy_with_logits": _loss(F.binary_cross_entropy_with_logits),
    "kl_div": _loss(F.kl_div),
    "gelu": gelu, "leaky_relu": leaky_relu, "elu": elu, "selu": F.selu, "celu": celu,
    "silu": F.silu, "mish": F.mish, "softsign": F.softsign, "hardtanh": hardtanh,
    "relu6": F.relu6, "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish,
    "logsigmoid": F.logsigmoid, "softplus": softplus, "tanhshrink": F.tanhshrink,
    "clip": clip,
    "detach": torch.Tensor.detach, "requires_grad_": requires_grad_,
    "zeros_like": _like(0), "ones_like": _like(1), "full_like": _like("full"),
    "rand_like": _like("rand"), "randn_like": _like("randn"),
    "float": _to_float, "double": _convert(torch.float64),
    "long": _convert(torch.int64), "bool": _convert(torch.bool),
}


def whole_tensor(data, kwargs) -> torch.Tensor | None:
    """``torch.tensor([0, 2])`` (int64) or ``torch.tensor([True, False])`` (bool), as torch
    makes them when no dtype is given or an integer/bool dtype is; None for fractions."""
    from core.errors import ExpressionError
    from core.language.values import check_value

    flat, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            flat.append(item)
    kinds = {bool if isinstance(v, bool) else int if isinstance(v, int) else float for v in flat}
    name = kwargs.get("dtype")
    if name in ("float32", "float64") or float in kinds and name is None:
        if bool in kinds:
            raise ArgumentError("a tensor of numbers cannot also hold True/False")
        return None
    try:  # the same shape and size rules as the variables table, on a numeric copy
        check_value(_as_numbers(data), "tensor()")
    except ExpressionError as err:
        raise ArgumentError(err.message) from None
    dtype = ALL_DTYPES[name] if name else (torch.bool if kinds == {bool} else torch.int64)
    if kwargs.get("requires_grad"):
        raise ArgumentError("only tensors of fractions (float) can require gradients; write "
                            "the numbers with a decimal point, as in [1.0, 2.0]")
    return torch.tensor(data, dtype=dtype)


def _as_numbers(data):
    if isinstance(data, list):
        return [_as_numbers(item) for item in data]
    return float(data)


# --------------------------------------------------------------------------- common functions


def _rounded(x, decimals=None):
    """``round(x)``, or ``round(x, decimals=d)`` as torch rounds."""
    if decimals is None:
        return torch.round(x)
    return torch.round(x, decimals=as_int(decimals, "decimals"))


def floor_divide(x, y):
    """``x // y``: torch has no derivative for it, so a value that needs a gradient is refused
    here rather than failing in the backward pass."""
    check_size(broadcast_shape("//", x, y))
    result = torch.floor_divide(x, y)
    if result.requires_grad:
        raise ArgumentError("torch has no gradient for // (floor_divide): apply it to values "
                            "that need none (.detach()), or use / ")
    return result


def _scan(fn):
    def run(x, dim=None):
        if dim is None:
            raise ArgumentError(f"{fn.__name__} needs dim=, as in x.{fn.__name__}(dim=0)")
        return fn(x, dim=as_int(dim, "dim"))
    return run


def sort(x, dim=-1, descending=False):
    """``sort(x)``: the sorted values (``.indices`` is :func:`argsort`)."""
    return torch.sort(x, dim=as_int(dim, "dim"), descending=bool(descending)).values


def argsort(x, dim=-1, descending=False):
    """The positions that sort ``x`` along dim (as ``sort(x).indices``)."""
    return torch.sort(x, dim=as_int(dim, "dim"), descending=bool(descending)).indices


def topk(x, k=None, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch's own name
    """``topk(x, k)``: the k largest (or smallest) values along dim."""
    k = as_int(k, "k")
    dim = as_int(dim, "dim")
    size = x.shape[dim] if x.dim() else 1
    if not 0 <= k <= size:
        raise ArgumentError(f"k = {k} is outside 0..{size}, the size of dim {dim}")
    return torch.topk(x, k, dim=dim, largest=bool(largest), sorted=bool(sorted)).values


def median(x, dim=None, keepdim=False):
    """``median(x)`` or its values along dim (the lower middle entry, as torch)."""
    if dim is None:
        return torch.median(x)
    return torch.median(x, dim=as_int(dim, "dim"), keepdim=bool(keepdim)).values


def _triangle(fn):
    def run(x, diagonal=0):
        return fn(x, diagonal=as_int(diagonal, "diagonal"))
    return run


def diag(x, diagonal=0):
    """``diag(matrix)`` its diagonal, ``diag(vector)`` a matrix (size checked first)."""
    offset = as_int(diagonal, "diagonal")
    if x.dim() == 1:
        n = x.shape[0] + abs(offset)
        check_size((n, n), "diag(...)")
    return torch.diag(x, offset)


def diagonal(x, offset=0, dim1=0, dim2=1):
    """``diagonal(x, offset, dim1, dim2)`` as torch."""
    return torch.diagonal(x, as_int(offset, "offset"), as_int(dim1, "dim1"),
                          as_int(dim2, "dim2"))


def _square(fn):
    def run(x):
        if x.dim() < 2 or x.shape[-1] != x.shape[-2]:
            raise ArgumentError(f"{fn.__name__} needs a square matrix; got shape {_shape(x)}")
        return fn(x)
    return run


def kron(a, b):
    """``kron(a, b)``: the size (the product of the sizes) is checked first."""
    a, b = _tensor(a, "kron's first argument"), _tensor(b, "kron's second argument")
    rank = max(a.dim(), b.dim())
    sa = (1,) * (rank - a.dim()) + tuple(a.shape)
    sb = (1,) * (rank - b.dim()) + tuple(b.shape)
    check_size(tuple(x * y for x, y in zip(sa, sb)), "kron(...)")
    return torch.kron(a, b)


def tensordot(a, b, dims=2):
    """``tensordot(a, b, dims)``, its result's size checked on shapes only first."""
    if isinstance(dims, list):
        dims = [list(as_int(d, "dims") for d in group) if isinstance(group, list)
                else as_int(group, "dims") for group in dims]
    else:
        dims = as_int(dims, "dims")
    shape = torch.tensordot(torch.empty(a.shape, device="meta"),
                            torch.empty(b.shape, device="meta"), dims=dims).shape
    check_size(tuple(shape), "tensordot(...)")
    return torch.tensordot(a, b, dims=dims)


def einsum(equation, *operands):
    """``einsum('ij,jk->ik', a, b)``: the formula is read by torch on empty shapes first, so
    a mistake or an oversized result is reported before any work."""
    if not isinstance(equation, str):
        raise ArgumentError("einsum's first argument is its formula in quotes, as in "
                            "einsum('ij,jk->ik', a, b)")
    if not all(ch.isalpha() or ch in ",->. " for ch in equation):
        raise ArgumentError("an einsum formula has letters, commas, '->' and '...' only")
    operands = [_tensor(t, "each operand of einsum") for t in operands]
    meta = [torch.empty(t.shape, device="meta") for t in operands]
    check_size(tuple(torch.einsum(equation, *meta).shape), "einsum(...)")
    return torch.einsum(equation, *operands)


def linear(x, weight, bias=None):
    """``F.linear(x, W, b)`` = x Wᵀ + b."""
    rows = x.shape[:-1] if x.dim() else ()
    check_size(tuple(rows) + (weight.shape[0] if weight.dim() == 2 else 1,), "linear(...)")
    return F.linear(x, weight, bias)


def normalize(x, p=2.0, dim=1, eps=1e-12):
    """``F.normalize(x, p, dim, eps)``."""
    return F.normalize(x, p=_float(p, "p"), dim=as_int(dim, "dim"), eps=_float(eps, "eps"))


def layer_norm(x, normalized_shape=None, weight=None, bias=None, eps=1e-5):
    """``F.layer_norm(x, normalized_shape, weight, bias, eps)``."""
    if normalized_shape is None:
        raise ArgumentError("layer_norm needs normalized_shape, as in layer_norm(x, (3,))")
    shape = _sizes([normalized_shape], {})
    return F.layer_norm(x, shape, weight, bias, eps=_float(eps, "eps"))


def dropout(x, p=0.5, training=True, generator=None):
    """``F.dropout``: with training, each entry is kept with probability 1 − p (drawn from
    the program's seeded generator, as torch draws them) and scaled by 1 / (1 − p)."""
    p = _float(p, "p")
    if not 0 <= p <= 1:
        raise ArgumentError("dropout's p must be between 0 and 1")
    if not training or p == 0:
        return x
    if p == 1:
        return x * torch.zeros_like(x)
    # torch's own recipe (ATen's _dropout_impl): noise = bernoulli(1 − p) / (1 − p); x * noise
    noise = torch.empty_like(x).bernoulli_(1 - p, generator=generator)
    return x * noise.div_(1 - p)


def _index_tensor(index, what):
    index = _tensor(index, what)
    if index.dtype not in (torch.int64, torch.int32):
        raise ArgumentError(f"{what} must hold whole numbers (torch.tensor([0, 2]) or .long())")
    return index


def gather(x, dim=None, index=None):
    """``x.gather(dim, index)`` with every index checked against the size of dim."""
    dim = as_int(dim, "dim")
    index = _index_tensor(index, "gather's index")
    if index.numel():
        _dim_range(int(index.min()), x.shape[dim], dim)
        _dim_range(int(index.max()), x.shape[dim], dim)
    return torch.gather(x, dim, index.long())


def index_select(x, dim=None, index=None):
    """``x.index_select(dim, index)`` with every index checked, and the size first."""
    dim = as_int(dim, "dim")
    index = _index_tensor(index, "index_select's index")
    if index.numel():
        _dim_range(int(index.min()), x.shape[dim], dim)
        _dim_range(int(index.max()), x.shape[dim], dim)
    shape = list(x.shape)
    shape[dim] = index.numel()
    check_size(tuple(shape), "index_select(...)")
    return torch.index_select(x, dim, index.long())


def masked_fill(x, mask=None, value=None):
    """``x.masked_fill(mask, value)``: the mask must be True/False."""
    mask = _tensor(mask, "masked_fill's mask")
    if mask.dtype != torch.bool:
        raise ArgumentError("masked_fill's mask must be True/False, such as x > 0")
    return x.masked_fill(mask, _float(value, "the fill value"))


def pad(x, pad=None, mode="constant", value=None):  # noqa: A002 - torch's own name
    """``F.pad(x, (left, right, ...), value=0)``: constant padding, size checked first. A
    negative width crops, as in torch (``F.pad(x, (-1, 2))`` drops the first column)."""
    widths = tuple(as_int(w, "a pad width") for w in pad) if isinstance(pad, list) else None
    if not widths or len(widths) % 2 or len(widths) // 2 > x.dim():
        raise ArgumentError("pad takes pairs of widths, as in F.pad(x, (1, 1))")
    if mode != "constant":
        raise ArgumentError("only mode='constant' padding is part of the language")
    shape = list(x.shape)
    for k in range(len(widths) // 2):
        shape[-1 - k] += widths[2 * k] + widths[2 * k + 1]
        if shape[-1 - k] < 0:
            raise ArgumentError(f"the widths {widths[2 * k]}, {widths[2 * k + 1]} would make "
                                f"dim {x.dim() - 1 - k} (size {x.shape[-1 - k]}) of size "
                                f"{shape[-1 - k]}")
    check_size(tuple(shape), "pad(...)")
    return F.pad(x, widths, value=0.0 if value is None else _float(value, "value"))


def one_hot(x, num_classes=-1):
    """``F.one_hot(y, num_classes=-1)``: int64 rows with a 1 at each class index (makemore's
    ``F.one_hot(xs, num_classes=27).float()``); its size is checked before it is made."""
    x = _tensor(x, "one_hot's class indices")
    if x.dtype != torch.int64:
        raise ArgumentError("one_hot takes whole-number class indices, such as "
                            "torch.tensor([0, 2]) or y.long()")
    n = as_int(num_classes, "num_classes")
    top = int(x.max()) + 1 if x.numel() else 0
    if x.numel() and int(x.min()) < 0:
        raise ArgumentError("one_hot's class indices must not be negative")
    if n == -1:
        if not x.numel():
            raise ArgumentError("one_hot of no indices needs num_classes")
        n = top
    elif n < top:
        raise ArgumentError(f"class index {top - 1} is not below num_classes={n}")
    elif n < 0:
        raise ArgumentError("num_classes must be -1 (as many as the largest index needs) or "
                            "a whole number ≥ 0")
    check_size(tuple(x.shape) + (n,), "one_hot(...)")
    return F.one_hot(x, n)


def solve(a, b):
    """``torch.linalg.solve(A, B)``: X with A X = B (A square)."""
    a, b = _tensor(a, "solve's A"), _tensor(b, "solve's B")
    if a.dim() < 2 or a.shape[-1] != a.shape[-2]:
        raise ArgumentError(f"solve needs a square matrix A; got shape {_shape(a)}")
    return torch.linalg.solve(a, b)


def _ord(value):
    if value is None or isinstance(value, str):
        return value
    return _float(value, "ord")


def linalg_norm(x, ord=None, dim=None, keepdim=False):  # noqa: A002 - torch's own name
    """``torch.linalg.norm(x, ord, dim)``: a vector norm of a vector, a matrix norm of a
    matrix (ord=2: the largest singular value), as torch."""
    if isinstance(ord, str) and ord not in ("fro", "nuc"):
        raise ArgumentError("ord takes a number, inf, 'fro' or 'nuc'")
    return torch.linalg.norm(x, _ord(ord), dim=as_dims(dim), keepdim=bool(keepdim))


def vector_norm(x, ord=2, dim=None, keepdim=False):  # noqa: A002 - torch's own name
    """``torch.linalg.vector_norm(x, ord, dim)``: the ord-norm of the entries."""
    return torch.linalg.vector_norm(x, _float(ord, "ord"), dim=as_dims(dim),
                                    keepdim=bool(keepdim))


def slogdet(a):
    """``torch.linalg.slogdet(A)``: its log |det A| (the part with a gradient)."""
    if a.dim() < 2 or a.shape[-1] != a.shape[-2]:
        raise ArgumentError(f"slogdet needs a square matrix; got shape {_shape(a)}")
    return torch.linalg.slogdet(a).logabsdet


def _window(value, what, count):
    """An int or a tuple of ints for kernel sizes, strides and paddings."""
    if isinstance(value, list):
        if len(value) != count:
            raise ArgumentError(f"{what} takes {count} numbers or one")
        return tuple(as_int(v, what) for v in value)
    return as_int(value, what)


def _on_meta(fn, *tensors, **options):
    """The shape ``fn`` would give, computed on empty (meta) tensors: nothing allocated."""
    meta = [torch.empty(t.shape, device="meta") if isinstance(t, torch.Tensor) else t
            for t in tensors]
    return tuple(fn(*meta, **options).shape)


def _conv(fn, dims):
    def run(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        options = {"stride": _window(stride, "stride", dims),
                   "padding": padding if isinstance(padding, str)
                   else _window(padding, "padding", dims),
                   "dilation": _window(dilation, "dilation", dims),
                   "groups": as_int(groups, "groups")}
        if isinstance(options["padding"], str) and options["padding"] not in ("same", "valid"):
            raise ArgumentError("padding takes a number, 'same' or 'valid'")
        check_size(_on_meta(fn, x, weight, bias, **options), f"{fn.__name__}(...)")
        return fn(x, weight, bias, **options)
    return run


def _pool(fn):
    def run(x, kernel_size=None, stride=None, padding=0):
        if kernel_size is None:
            raise ArgumentError(f"{fn.__name__} needs kernel_size")
        options = {"kernel_size": _window(kernel_size, "kernel_size", 2),
                   "stride": None if stride is None else _window(stride, "stride", 2),
                   "padding": _window(padding, "padding", 2)}
        check_size(_on_meta(fn, x, **options), f"{fn.__name__}(...)")
        return fn(x, **options)
    return run


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """``F.batch_norm``: with training=True the batch's own statistics (the running ones
    given are updated on copies, never on the program's values), else the running ones."""
    if running_mean is not None:
        running_mean = running_mean.detach().clone()
    if running_var is not None:
        running_var = running_var.detach().clone()
    return F.batch_norm(x, running_mean, running_var, weight, bias, bool(training),
                        _float(momentum, "momentum"), _float(eps, "eps"))


IMPLEMENTATIONS.update({
    "conv1d": _conv(F.conv1d, 1), "conv2d": _conv(F.conv2d, 2),
    "max_pool2d": _pool(F.max_pool2d), "avg_pool2d": _pool(F.avg_pool2d),
    "batch_norm": batch_norm,
    "solve": solve, "linalg_norm": linalg_norm, "vector_norm": vector_norm,
    "slogdet": slogdet,
    "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh, "erfc": torch.erfc,
    "erfinv": torch.erfinv, "lgamma": torch.lgamma, "digamma": torch.digamma,
    "sinc": torch.sinc, "sign": torch.sign, "floor": torch.floor, "ceil": torch.ceil,
    "round": _rounded, "trunc": torch.trunc, "frac": torch.frac,
    "atan2": _pair(torch.atan2, "atan2"), "hypot": _pair(torch.hypot, "hypot"),
    "xlogy": _pair(torch.xlogy, "xlogy"), "fmod": _pair(torch.fmod, "fmod"),
    "remainder": _pair(torch.remainder, "%"), "floor_divide": floor_divide,
    "cumsum": _scan(torch.cumsum), "cumprod": _scan(torch.cumprod), "sort": sort,
    "argsort": argsort, "topk": topk, "median": median,
    "tril": _triangle(torch.tril), "triu": _triangle(torch.triu), "diag": diag,
    "diagonal": diagonal, "inverse": _square(torch.inverse), "det": _square(torch.det),
    "logdet": _square(torch.logdet), "kron": kron, "tensordot": tensordot, "one_hot": one_hot,
    "einsum": einsum, "linear": linear, "normalize": normalize, "layer_norm": layer_norm,
    "dropout": dropout, "gather": gather, "index_select": index_select,
    "masked_fill": masked_fill, "pad": pad,
})
RANDOM.add("dropout")


# --------------------------------------------------------------------------- work estimates


def _einsum_work(args, result_shape):
    """Every combination of the formula's indices is one multiply-add."""
    equation, operands = args[0], args[1:]
    if not isinstance(equation, str):
        return cost.elementwise(args, result_shape)
    sizes: dict[str, int] = {}
    inputs = equation.split("->")[0].split(",")
    for term, operand in zip(inputs, operands):
        letters = [ch for ch in term if ch.isalpha()]
        shape = tuple(getattr(operand, "shape", ()))
        for letter, n in zip(letters, shape[len(shape) - len(letters):]):
            sizes[letter] = max(sizes.get(letter, 1), n)
    forward = max(math.prod(sizes.values()) if sizes else 1,
                  *(math.prod(getattr(o, "shape", ())) for o in operands))
    needing = [o for o in operands if getattr(o, "requires_grad", False)]
    return cost.Work(forward, forward * len(needing),
                     sum(math.prod(o.shape) for o in needing))


def _cubic_work(args, result_shape):
    """inverse, det, logdet: an LU factorisation, n³ for an n×n matrix."""
    x = args[0]
    n = x.shape[-1] if getattr(x, "dim", lambda: 0)() else 1
    forward = n ** 3 * max(1, math.prod(x.shape[:-2]) if x.dim() > 2 else 1)
    return cost.Work(forward, 3 * forward if x.requires_grad else 0,
                     x.numel() if x.requires_grad else 0)


def _linear_work(args, result_shape):
    x, weight = args[0], args[1]
    forward = max(1, x.numel()) * (weight.shape[0] if weight.dim() == 2 else 1)
    needing = [t for t in args[:2] if getattr(t, "requires_grad", False)]
    return cost.Work(forward, forward * len(needing), sum(t.numel() for t in needing))


def _tensordot_work(args, result_shape):
    """tensordot and kron: at most every pair of entries of the two tensors (an upper
    bound: the contraction or the product touches each pair once)."""
    a, b = args[0], args[1]
    forward = a.numel() * b.numel()
    needing = [t for t in (a, b) if t.requires_grad]
    return cost.Work(forward, forward * len(needing), sum(t.numel() for t in needing))


def _conv_work(args, result_shape):
    """A convolution: every output entry is a sum over one window of every input channel."""
    x, weight = args[0], args[1]
    per_output = math.prod(weight.shape[1:]) if weight.dim() > 1 else 1
    batch_and_out = x.shape[0] * weight.shape[0] if x.dim() > 2 else weight.shape[0]
    spatial = math.prod(x.shape[2:]) if x.dim() > 2 else x.numel()
    forward = max(batch_and_out * spatial * per_output, x.numel())
    needing = [t for t in args[:3] if getattr(t, "requires_grad", False)]
    return cost.Work(forward, forward * len(needing), sum(t.numel() for t in needing))


cost.COSTS.update({"conv1d": _conv_work, "conv2d": _conv_work})
cost.COSTS.update({"einsum": _einsum_work, "inverse": _cubic_work, "det": _cubic_work,
                   "solve": _cubic_work, "slogdet": _cubic_work, "linalg_norm": _cubic_work,
                   "logdet": _cubic_work, "linear": _linear_work,
                   "tensordot": _tensordot_work, "kron": _tensordot_work})
