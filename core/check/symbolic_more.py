"""SymPy translations of the notebook functions (:mod:`core.language.functions_more`).

Values are NumPy object arrays of SymPy expressions, as in :mod:`core.check.symbolic`, so indexing,
stacking and the shape functions are NumPy's own on those arrays. Masks (``x > 0``) and
positions (``argmax``) are read at the input values: they carry no gradient, and near the
point autograd differentiates, they are constants. Values the program cut off (``detach``,
``no_grad``) and tensors the program drew or built from ranges are constants too, taken from
the evaluation itself. What has no translation raises :class:`SymbolicUnavailable` with the
reason the Check tab shows.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy

from core.check.symbolic import (
    SymbolicUnavailable,
    _array,
    _dims,
    _int,
    _map,
    _map2,
    _reduce,
    _sigmoid,
    exact,
    value_of,
)

#: torch's selu constants (torch/nn/functional.py, ATen's Activation.h)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
#: functions whose result is a constant read from the evaluation (no gradient flows)
_CONSTANTS = {"arange", "linspace", "randn", "rand", "randint", "zeros_like", "ones_like",
              "full_like", "rand_like", "randn_like", "long", "bool", "argmax", "argmin",
              "one_hot",
              "gt", "lt", "ge", "le", "eq", "ne", "detach"}


def numeric(translator, value) -> np.ndarray:
    """The values of an array of formulas at the input point (floats)."""
    value = _array(value)
    out = np.empty(value.shape, dtype=float)
    for index in np.ndindex(value.shape):
        entry = value[index]
        if isinstance(entry, (bool, np.bool_)):
            out[index] = float(entry)
            continue
        number, problem = value_of(sympy.sympify(entry), translator.substitutions)
        if problem:
            raise SymbolicUnavailable(problem)
        out[index] = number
    return out


def constant(translator, node, fallback=None) -> np.ndarray:
    """The tensor the evaluation computed for ``node``, as exact constants."""
    tensor = getattr(translator, "computed", {}).get((node.span, node.text))
    if tensor is None:
        if fallback is None:
            raise SymbolicUnavailable(f"{node.text[:40]}: its value is not known here")
        data = numeric(translator, fallback)
    else:
        data = tensor.detach().double().numpy()
    if tensor is not None and tensor.dtype == __import__("torch").bool:
        return data.astype(bool)
    return _map(exact, np.asarray(data, dtype=float).astype(object))


def _piece(condition, then, otherwise):
    return sympy.Piecewise((then, condition), (otherwise, True))


def _rational(x: float):
    fraction = Fraction(x)
    return sympy.Rational(fraction.numerator, fraction.denominator)


def _above(translator, value, threshold) -> bool:
    number, problem = value_of(sympy.sympify(value), translator.substitutions)
    if problem:
        raise SymbolicUnavailable(problem)
    return number > float(threshold)


def _activation(name, kwargs, translator=None):
    """An entry-by-entry activation as a function of one SymPy expression."""
    half = sympy.Rational(1, 2)
    if name == "gelu":
        if kwargs.get("approximate", "none") == "tanh":
            k = sympy.sqrt(2 / sympy.pi)
            return lambda x: half * x * (1 + sympy.tanh(k * (x + sympy.Rational(44715, 10 ** 6)
                                                              * x ** 3)))
        return lambda x: half * x * (1 + sympy.erf(x / sympy.sqrt(2)))
    # the kinked ones with Max and Min (SymPy differentiates them to Heaviside steps and
    # evaluates them; a Piecewise it cannot always evaluate node by node)
    if name == "leaky_relu":
        slope = exact(float(kwargs.get("negative_slope", 0.01)))
        return lambda x: sympy.Max(x, 0) + slope * sympy.Min(x, 0)
    if name in ("elu", "selu", "celu"):
        alpha = exact(float(kwargs.get("alpha", 1.0)))
        if name == "selu":
            alpha, scale = _rational(_SELU_ALPHA), _rational(_SELU_SCALE)
            return lambda x: scale * (sympy.Max(x, 0) + alpha * (sympy.exp(sympy.Min(x, 0)) - 1))
        if name == "celu":
            return lambda x: sympy.Max(x, 0) + alpha * (sympy.exp(sympy.Min(x, 0) / alpha) - 1)
        return lambda x: sympy.Max(x, 0) + alpha * (sympy.exp(sympy.Min(x, 0)) - 1)
    if name == "silu":
        return lambda x: x * _sigmoid(x)
    if name == "mish":
        return lambda x: x * sympy.tanh(sympy.log(1 + sympy.exp(x)))
    if name == "softsign":
        return lambda x: x / (1 + sympy.Abs(x))
    if name in ("hardtanh", "relu6"):
        lo = exact(float(kwargs.get("min_val", -1.0))) if name == "hardtanh" else 0
        hi = exact(float(kwargs.get("max_val", 1.0))) if name == "hardtanh" else 6
        return lambda x: sympy.Min(sympy.Max(x, lo), hi)
    if name == "hardsigmoid":
        return lambda x: sympy.Min(sympy.Max(x / 6 + half, 0), 1)
    if name == "hardswish":
        return lambda x: x * sympy.Min(sympy.Max(x + 3, 0), 6) / 6
    if name == "logsigmoid":
        return lambda x: -sympy.log(1 + sympy.exp(-x))
    if name == "softplus":
        beta = exact(float(kwargs.get("beta", 1.0)))
        threshold = exact(float(kwargs.get("threshold", 20.0)))

        def softplus(x):
            # past the threshold torch returns x itself: the side is read at the input values
            if _above(translator, beta * x, threshold):
                return x
            return sympy.log(1 + sympy.exp(beta * x)) / beta
        return softplus
    if name == "tanhshrink":
        return lambda x: x - sympy.tanh(x)
    return None


def _index(translator, x, spec, tensors):
    index = []
    for item in spec:
        kind = item[0]
        if kind == "int":
            index.append(item[1])
        elif kind == "slice":
            index.append(slice(*item[1:]))
        elif kind == "ellipsis":
            index.append(Ellipsis)
        elif kind == "none":
            index.append(None)
        elif kind == "list":
            index.append(np.array(item[1], dtype=int))
        else:
            t = _array(tensors[item[1]])
            if t.size and all(isinstance(v, (bool, np.bool_)) for v in t.flat):
                index.append(t.astype(bool))  # a mask (its entries are True/False)
            else:
                index.append(numeric(translator, t).astype(int))
    return _array(x[tuple(index)])


def _mean_all(xs):
    return sympy.Add(*xs) / len(xs)


def _reduction(value, reduction):
    if reduction == "none":
        return value
    total = sympy.Add(*value.flat)
    return _array(total / value.size if reduction == "mean" else total)


def _log_softmax(x, axis):
    exps = _map(sympy.exp, x)
    total = _reduce(exps, axis, True, lambda xs: sympy.Add(*xs))
    return _map2(lambda a, b: a - sympy.log(b), x, total)


def _loss(translator, name, x, target, kwargs):
    reduction = kwargs.get("reduction", "mean")
    for key in ("weight", "pos_weight", "ignore_index") + (
            ("label_smoothing",) if kwargs.get("label_smoothing") else ()):
        if kwargs.get(key) is not None:
            raise SymbolicUnavailable(f"{name}(..., {key}=) has no SymPy translation here")
    if name == "mse_loss":
        return _reduction(_map2(lambda a, b: (a - b) ** 2, x, target), reduction)
    if name == "l1_loss":
        return _reduction(_map2(lambda a, b: sympy.Abs(a - b), x, target), reduction)
    if name == "smooth_l1_loss":
        # with m = min(|d|, beta): m²/(2 beta) + (|d| − m) is d²/(2 beta) below beta and
        # |d| − beta/2 above (no Piecewise, which SymPy cannot always evaluate)
        beta = exact(float(kwargs.get("beta", 1.0)))
        if beta == 0:
            return _reduction(_map2(lambda a, b: sympy.Abs(a - b), x, target), reduction)

        def smooth(a, b):
            m = sympy.Min(sympy.Abs(a - b), beta)
            return m ** 2 / (2 * beta) + sympy.Abs(a - b) - m
        return _reduction(_map2(smooth, x, target), reduction)
    if name == "huber_loss":
        delta = exact(float(kwargs.get("delta", 1.0)))

        def huber(a, b):  # m = min(|d|, delta): m²/2 + delta·(|d| − m)
            m = sympy.Min(sympy.Abs(a - b), delta)
            return m ** 2 / 2 + delta * (sympy.Abs(a - b) - m)
        return _reduction(_map2(huber, x, target), reduction)
    if name == "binary_cross_entropy":
        return _reduction(_map2(lambda p, y: -(y * sympy.log(p) + (1 - y) * sympy.log(1 - p)),
                                x, target), reduction)
    if name == "binary_cross_entropy_with_logits":
        return _reduction(_map2(lambda z, y: -(y * sympy.log(_sigmoid(z))
                                               + (1 - y) * sympy.log(1 - _sigmoid(z))),
                                x, target), reduction)
    if name == "kl_div":
        if kwargs.get("log_target"):
            pointwise = _map2(lambda a, b: sympy.exp(b) * (b - a), x, target)
        else:
            pointwise = _map2(lambda a, b: b * (sympy.log(b) - a) if b != 0 else sympy.Integer(0),
                              x, target)
        if reduction == "batchmean":
            rows = x.shape[0] if x.ndim else 1
            return _array(sympy.Add(*pointwise.flat) / rows)
        return _reduction(pointwise, reduction)
    if name in ("cross_entropy", "nll_loss"):
        axis = 1 if x.ndim > 1 else 0
        logp = _log_softmax(x, axis) if name == "cross_entropy" else x
        if name == "cross_entropy" and target.shape == x.shape:  # class probabilities
            losses = -_reduce(_map2(lambda a, b: a * b, logp, target), axis, False,
                              lambda xs: sympy.Add(*xs))
            return _reduction(_array(losses), reduction)
        classes = numeric(translator, target).astype(int)
        moved = np.moveaxis(logp, axis, -1) if logp.ndim > 1 else logp
        picked = np.empty(classes.shape, dtype=object)
        for index in np.ndindex(classes.shape):
            picked[index] = -moved[index][classes[index]] if logp.ndim > 1 else \
                -moved[classes[index]]
        return _reduction(_array(picked), reduction)
    return None


#: the common functions (core.language.functions_more), translated by :func:`translate_common`
_STEP_FUNCTIONS = {"sign", "floor", "ceil", "round", "trunc", "floor_divide", "argsort"}
COMMON = frozenset({
    "asinh", "acosh", "atanh", "erfc", "erfinv", "lgamma", "digamma", "sinc", "sign", "floor",
    "ceil", "round", "trunc", "frac", "atan2", "hypot", "xlogy", "fmod", "remainder",
    "floor_divide", "cumsum", "cumprod", "sort", "argsort", "topk", "median", "tril", "triu",
    "diag", "diagonal", "inverse", "det", "logdet", "kron", "tensordot", "einsum", "linear",
    "normalize", "layer_norm", "dropout", "gather", "index_select", "masked_fill", "pad",
    "solve", "linalg_norm", "vector_norm", "slogdet", "conv1d", "conv2d", "max_pool2d",
    "avg_pool2d", "batch_norm"})

#: the functions this module translates
NAMES = COMMON | frozenset(_CONSTANTS | {
    "manual_seed", "gelu", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "softsign",
    "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid", "softplus", "tanhshrink",
    "getitem", "where", "stack", "cat", "view", "flatten", "reshape_as", "view_as", "squeeze",
    "unsqueeze", "permute", "expand", "expand_as", "repeat", "flip", "amax", "amin", "var",
    "std", "add", "sub", "mul", "div", "float", "double", "clip", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "requires_grad_"})


def frozen(translator, value) -> np.ndarray:
    """A value computed under torch.no_grad(): its numbers, as constants."""
    return _map(exact, numeric(translator, value).astype(object))


def translate(translator, node, name, args, kwargs):
    """The SymPy array of ``name(*args, **kwargs)``; None when ``name`` is not one of the
    notebook functions."""
    if name in _CONSTANTS:
        return constant(translator, node)
    if name in COMMON:
        return translate_common(translator, node, name, args, kwargs)
    if name == "manual_seed":
        return _array(sympy.Integer(0))
    x = _array(args[0]) if not isinstance(args[0], list) else None
    positional = {"leaky_relu": ("negative_slope",), "hardtanh": ("min_val", "max_val"),
                  "elu": ("alpha",), "celu": ("alpha",), "softplus": ("beta", "threshold")}
    options = dict(kwargs)
    for key, value in zip(positional.get(name, ()), args[1:]):
        options[key] = float(_array(value).reshape(-1)[0])  # leaky_relu(x, 0.2)
    activation = _activation(name, options, translator)
    if activation is not None:
        return _map(activation, x)
    if name == "getitem":
        return _index(translator, x, args[1], args[2:])
    if name == "where":
        cond = _array(args[0])
        return np.where(cond.astype(bool), *np.broadcast_arrays(_array(args[1]),
                                                                _array(args[2])))
    if name in ("stack", "cat"):
        arrays = [_array(a) for a in args]
        dim = _int(kwargs.get("dim", 0))
        return np.stack(arrays, axis=dim) if name == "stack" else np.concatenate(arrays, dim)
    if name in ("view", "flatten", "reshape_as", "view_as", "squeeze", "unsqueeze", "permute",
                "expand", "expand_as", "repeat", "flip"):
        return _shape(name, x, args[1:], kwargs)
    if name in ("amax", "amin"):
        fn = sympy.Max if name == "amax" else sympy.Min
        dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        return _reduce(x, _dims(dim), bool(kwargs.get("keepdim", False)), lambda xs: fn(*xs))
    if name in ("var", "std"):
        dim = _dims(kwargs.get("dim", args[1] if len(args) > 1 else None))
        correction = kwargs.get("correction")
        if kwargs.get("unbiased") is not None:
            correction = 1 if kwargs["unbiased"] else 0
        c = exact(float(1 if correction is None else correction))

        def spread(xs):
            mean = sympy.Add(*xs) / len(xs)
            var = sympy.Add(*[(v - mean) ** 2 for v in xs]) / (len(xs) - c)
            return var if name == "var" else sympy.sqrt(var)
        return _reduce(x, dim, bool(kwargs.get("keepdim", False)), spread)
    if name in ("add", "sub", "mul", "div"):
        other = _array(args[1])
        alpha = exact(float(kwargs.get("alpha") or 1))
        op = {"add": lambda a, b: a + alpha * b, "sub": lambda a, b: a - alpha * b,
              "mul": lambda a, b: a * b, "div": lambda a, b: a / b}[name]
        return _map2(op, x, other)
    if name in ("float", "double"):
        return x
    if name == "clip":
        from core.language.parser import Call
        return translator._call(Call(node.span, node.text, "clamp", node.args, node.kwargs))
    if name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy",
                "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                "kl_div"):
        return _loss(translator, name, x, _array(args[1]), kwargs)
    if name == "requires_grad_":
        raise SymbolicUnavailable("requires_grad_() makes a new input here; SymPy follows the "
                                  "program's own inputs only")
    return None


def _ints(values) -> tuple[int, ...]:
    if len(values) == 1 and isinstance(values[0], (list, tuple)):
        values = values[0]
    return tuple(_int(v) for v in values)


def _shape(name, x, rest, kwargs):
    if name == "view":
        return x.reshape(_ints(list(rest) or [kwargs.get("size")]))
    if name == "flatten":
        start = _int(kwargs.get("start_dim", rest[0] if rest else 0)) % max(x.ndim, 1)
        end = _int(kwargs.get("end_dim", rest[1] if len(rest) > 1 else -1)) % max(x.ndim, 1)
        if x.ndim == 0:
            return x.reshape(1)
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])
    if name in ("reshape_as", "view_as"):
        return x.reshape(_array(rest[0]).shape)
    if name == "squeeze":
        dim = kwargs.get("dim", rest[0] if rest else None)
        if dim is None:
            return np.squeeze(x)
        dims = tuple(d for d in np.atleast_1d(_dims(dim)) if x.shape[d] == 1)
        return np.squeeze(x, axis=dims) if dims else x
    if name == "unsqueeze":
        return np.expand_dims(x, _int(kwargs.get("dim", rest[0] if rest else 0)))
    if name == "permute":
        return np.transpose(x, _ints(list(rest) or [kwargs.get("dims")]))
    if name in ("expand", "expand_as"):
        sizes = _array(rest[0]).shape if name == "expand_as" else _ints(list(rest) or
                                                                         [kwargs.get("size")])
        offset = len(sizes) - x.ndim
        final = tuple(x.shape[i - offset] if n == -1 else n for i, n in enumerate(sizes))
        return np.broadcast_to(x, final).copy()
    if name == "repeat":
        return np.tile(x, _ints(list(rest)))
    if name == "flip":
        return np.flip(x, _ints(list(rest) or [kwargs.get("dims")])).copy()
    return None


# --------------------------------------------------------------------------- common functions

_COMMON_UNARY = {
    "asinh": sympy.asinh, "acosh": sympy.acosh, "atanh": sympy.atanh, "erfc": sympy.erfc,
    "erfinv": sympy.erfinv, "lgamma": sympy.loggamma,
    "digamma": lambda x: sympy.polygamma(0, x),
    "sinc": lambda x: sympy.sin(sympy.pi * x) / (sympy.pi * x),
}
#: flat between jumps: the values, as constants (their derivative is 0, as torch's)
_STEPS = _STEP_FUNCTIONS


def _order(translator, x, dim, descending):
    values = numeric(translator, x)
    order = np.argsort(-values if descending else values, axis=dim, kind="stable")
    return order


def _matrix(x):
    if x.ndim != 2:
        raise SymbolicUnavailable("SymPy's matrix functions are used for one matrix at a time")
    return sympy.Matrix(x.tolist())


def translate_common(translator, node, name, args, kwargs):
    """The SymPy array of one of the common functions."""
    x = _array(args[0]) if not isinstance(args[0], (str, list)) else None
    if name in _COMMON_UNARY:
        return _map(_COMMON_UNARY[name], x)
    if name in _STEPS:
        return constant(translator, node)
    if name == "frac":  # x minus a step function (the step is a constant here)
        steps = _map(exact, np.asarray(np.trunc(numeric(translator, x))).astype(object))
        return _map2(lambda a, b: a - b, x, steps)
    if name in ("atan2", "hypot", "xlogy", "fmod", "remainder"):
        other = _array(args[1])
        if name == "atan2":
            return _map2(lambda a, b: sympy.atan2(a, b), x, other)
        if name == "hypot":
            return _map2(lambda a, b: sympy.sqrt(a ** 2 + b ** 2), x, other)
        if name == "xlogy":
            return _map2(lambda a, b: a * sympy.log(b), x, other)
        ratio = numeric(translator, _map2(lambda a, b: a / b, x, other))
        steps = np.asarray(np.trunc(ratio) if name == "fmod" else np.floor(ratio))
        return _map2(lambda a, b: a, x, other) - _map2(lambda b, q: b * q, other,
                                                        _map(exact, steps.astype(object)))
    if name in ("cumsum", "cumprod"):
        dim = _int(kwargs.get("dim", args[1] if len(args) > 1 else 0))
        return (np.cumsum if name == "cumsum" else np.cumprod)(x, axis=dim)
    if name in ("sort", "topk"):
        dim = _int(kwargs.get("dim", -1 if name == "topk" or len(args) < 2 else args[1]))
        descending = bool(kwargs.get("descending", False)) if name == "sort" else \
            bool(kwargs.get("largest", True))
        order = _order(translator, x, dim, descending)
        picked = np.take_along_axis(x, order, axis=dim)
        if name == "topk":
            k = _int(kwargs.get("k", args[1] if len(args) > 1 else None))
            picked = np.take(picked, range(k), axis=dim)
        return picked
    if name == "median":
        dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        if dim is None:
            flat = x.reshape(-1)
            order = _order(translator, flat, 0, False)
            return _array(flat[order[(flat.size - 1) // 2]])
        dim = _int(dim)
        order = _order(translator, x, dim, False)
        middle = np.take(order, [(x.shape[dim] - 1) // 2], axis=dim)
        picked = np.take_along_axis(x, middle, axis=dim)
        return picked if kwargs.get("keepdim") else np.squeeze(picked, axis=dim)
    if name in ("tril", "triu"):
        k = _int(kwargs.get("diagonal", args[1] if len(args) > 1 else 0))
        rows, cols = np.indices(x.shape[-2:])
        keep = (cols - rows <= k) if name == "tril" else (cols - rows >= k)
        return np.where(keep, x, sympy.Integer(0))
    if name == "diag":
        return np.diag(x, _int(kwargs.get("diagonal", args[1] if len(args) > 1 else 0)))
    if name == "diagonal":
        offset = _int(kwargs.get("offset", args[1] if len(args) > 1 else 0))
        d1 = _int(kwargs.get("dim1", args[2] if len(args) > 2 else 0))
        d2 = _int(kwargs.get("dim2", args[3] if len(args) > 3 else 1))
        return np.diagonal(x, offset, d1, d2).copy()
    if name == "inverse":
        return np.array(_matrix(x).inv().tolist(), dtype=object)
    if name in ("det", "logdet"):
        det = _matrix(x).det()
        return _array(det if name == "det" else sympy.log(det))
    if name == "kron":
        return np.kron(x, _array(args[1]))
    if name in ("conv1d", "conv2d", "max_pool2d", "avg_pool2d", "batch_norm"):
        return _layers(translator, name, x, args, kwargs)
    if name == "solve":
        rhs = _array(args[1])
        solved = _matrix(x).LUsolve(sympy.Matrix(rhs.tolist() if rhs.ndim == 2 else
                                                 [[v] for v in rhs.tolist()]))
        out = np.array(solved.tolist(), dtype=object)
        return out if rhs.ndim == 2 else out.reshape(-1)
    if name == "slogdet":
        return _array(sympy.log(sympy.Abs(_matrix(x).det())))
    if name in ("linalg_norm", "vector_norm"):
        ord_ = kwargs.get("ord", args[1] if len(args) > 1 else None)
        dim = kwargs.get("dim")
        matrix = name == "linalg_norm" and x.ndim == 2 and dim is None
        if matrix and ord_ not in (None, "fro"):
            raise SymbolicUnavailable(f"the matrix norm ord={ord_} goes through singular "
                                      "values or row sums, which have no SymPy translation "
                                      "here")
        power = 2.0 if ord_ in (None, "fro") else float(ord_)
        if power == float("inf"):
            return _reduce(x, _dims(dim), bool(kwargs.get("keepdim", False)),
                           lambda xs: sympy.Max(*[sympy.Abs(v) for v in xs]))
        p = exact(power)
        return _reduce(x, _dims(dim), bool(kwargs.get("keepdim", False)),
                       lambda xs: sympy.Add(*[sympy.Abs(v) ** p for v in xs]) ** (1 / p))
    if name == "tensordot":
        dims = kwargs.get("dims", args[2] if len(args) > 2 else 2)
        dims = [[_int(d) for d in g] if isinstance(g, (list, tuple)) else _int(g)
                for g in dims] if isinstance(dims, (list, tuple)) else _int(dims)
        return _array(np.tensordot(x, _array(args[1]), axes=dims))
    if name == "einsum":
        operands = [_array(a) for a in args[1:]]
        try:
            return _array(np.einsum(args[0], *operands, dtype=object, optimize=False))
        except (TypeError, ValueError) as err:
            raise SymbolicUnavailable(f"einsum has no SymPy translation here ({err})") from None
    if name == "linear":
        weight = _array(args[1])
        out = np.matmul(x, weight.T)
        bias = kwargs.get("bias", args[2] if len(args) > 2 else None)
        return _map2(lambda a, b: a + b, out, _array(bias)) if bias is not None else out
    if name == "normalize":  # normalize(x, p, dim, eps), positional as torch allows
        given = dict(zip(("p", "dim", "eps"), args[1:]))
        given = {k: float(_array(v).reshape(-1)[0]) for k, v in given.items()}
        kwargs = {**given, **kwargs}
        p = float(kwargs.get("p", 2.0))
        dim = _int(int(kwargs.get("dim", 1)))
        eps = exact(float(kwargs.get("eps", 1e-12)))
        power = exact(p)
        norms = _reduce(x, dim, True, lambda xs: sympy.Add(*[sympy.Abs(v) ** power
                                                             for v in xs]) ** (1 / power))
        return _map2(lambda a, n: a / sympy.Max(n, eps), x, norms)
    if name == "layer_norm":
        shape = kwargs.get("normalized_shape", args[1] if len(args) > 1 else None)
        shape = [shape] if not isinstance(shape, (list, tuple)) else shape
        count = len(shape)
        dims = tuple(range(x.ndim - count, x.ndim))
        eps = exact(float(kwargs.get("eps", 1e-5)))
        mean = _reduce(x, dims, True, lambda xs: sympy.Add(*xs) / len(xs))
        centred = _map2(lambda a, m: a - m, x, mean)
        var = _reduce(centred, dims, True, lambda xs: sympy.Add(*[v ** 2 for v in xs]) / len(xs))
        out = _map2(lambda c, v: c / sympy.sqrt(v + eps), centred, var)
        weight = kwargs.get("weight", args[2] if len(args) > 2 else None)
        bias = kwargs.get("bias", args[3] if len(args) > 3 else None)
        if weight is not None:
            out = _map2(lambda a, w: a * w, out, _array(weight))
        if bias is not None:
            out = _map2(lambda a, b: a + b, out, _array(bias))
        return out
    if name == "dropout":
        if not kwargs.get("training", args[2] if len(args) > 2 else True):
            return x
        raise SymbolicUnavailable("dropout's random mask has no SymPy translation; the "
                                  "finite differences use the same mask")
    if name == "gather":
        dim = _int(kwargs.get("dim", args[1] if len(args) > 1 else None))
        index = numeric(translator, kwargs.get("index", args[2] if len(args) > 2 else None))
        # torch.gather reads only the index's extent of the other dims (numpy would
        # broadcast a size-1 index dim over all of x's)
        axis = dim % x.ndim
        part = x[tuple(slice(None) if d == axis else slice(0, index.shape[d])
                       for d in range(x.ndim))]
        return np.take_along_axis(part, index.astype(int), axis=dim)
    if name == "index_select":
        dim = _int(kwargs.get("dim", args[1] if len(args) > 1 else None))
        index = numeric(translator, kwargs.get("index", args[2] if len(args) > 2 else None))
        return np.take(x, index.astype(int), axis=dim)
    if name == "masked_fill":
        mask = _array(kwargs.get("mask", args[1] if len(args) > 1 else None)).astype(bool)
        value = exact(float(_array(kwargs.get("value", args[2] if len(args) > 2 else 0))
                            .reshape(-1)[0]))
        return np.where(mask, value, x)
    if name == "pad":
        widths = kwargs.get("pad", args[1] if len(args) > 1 else None)
        widths = [_int(w) for w in widths]
        pairs = [(0, 0)] * x.ndim
        for k in range(len(widths) // 2):
            pairs[x.ndim - 1 - k] = (widths[2 * k], widths[2 * k + 1])
        value = exact(float(kwargs.get("value") or 0))
        return np.pad(x, pairs, mode="constant", constant_values=value)
    return None


#: every function whose value SymPy reads from the run (core.check.symbolic.computed_constants)
CONSTANT_FUNCTIONS = frozenset(_CONSTANTS | _STEP_FUNCTIONS)


def _pair(value, count):
    if isinstance(value, (list, tuple)):
        return tuple(_int(v) for v in value)
    return (_int(value),) * count


def _windows(x, kernel, stride, padding, fill):
    """Each window of the last len(kernel) dims of x: (output index, array of entries)."""
    dims = len(kernel)
    pads = [(0, 0)] * (x.ndim - dims) + [(p, p) for p in padding]
    padded = np.pad(x, pads, mode="constant", constant_values=fill) if any(padding) else x
    spatial = padded.shape[-dims:]
    counts = [(n - k) // s + 1 for n, k, s in zip(spatial, kernel, stride)]
    for out_index in np.ndindex(*counts):
        slices = tuple(slice(o * s, o * s + k) for o, s, k in zip(out_index, stride, kernel))
        yield out_index, padded[(Ellipsis,) + slices], counts


def _layers(translator, name, x, args, kwargs):
    """conv1d/conv2d (groups=1, dilation=1), max/avg pooling, batch_norm, on object arrays."""
    if name in ("conv1d", "conv2d"):
        dims = 1 if name == "conv1d" else 2
        weight = _array(args[1])
        bias = kwargs.get("bias", args[2] if len(args) > 2 else None)
        if _int(kwargs.get("groups", 1)) != 1 or _pair(kwargs.get("dilation", 1), dims) != \
                (1,) * dims or isinstance(kwargs.get("padding"), str):
            raise SymbolicUnavailable(f"{name} with groups, dilation or named padding has no "
                                      "SymPy translation here")
        stride = _pair(kwargs.get("stride", 1), dims)
        padding = _pair(kwargs.get("padding", 0), dims)
        batched = x.ndim == dims + 2
        inputs = x if batched else x[None]
        rows = []
        for sample in inputs:
            channels = None
            for out_index, window, counts in _windows(sample, weight.shape[2:], stride,
                                                      padding, sympy.Integer(0)):
                if channels is None:
                    channels = np.empty((weight.shape[0],) + tuple(counts), dtype=object)
                for o in range(weight.shape[0]):
                    total = sympy.Add(*[a * b for a, b in zip(window.flat, weight[o].flat)])
                    if bias is not None:
                        total += _array(bias).reshape(-1)[o]
                    channels[(o,) + out_index] = total
            rows.append(channels)
        out = np.stack(rows)
        return out if batched else out[0]
    if name in ("max_pool2d", "avg_pool2d"):
        kernel = _pair(kwargs.get("kernel_size", args[1] if len(args) > 1 else None), 2)
        stride_value = kwargs.get("stride", args[2] if len(args) > 2 else None)
        stride = kernel if stride_value is None else _pair(stride_value, 2)
        padding = _pair(kwargs.get("padding", 0), 2)
        if name == "max_pool2d" and any(padding):
            raise SymbolicUnavailable("max_pool2d with padding has no SymPy translation here")
        lead = x.shape[:-2]
        results = None
        for out_index, window, counts in _windows(x, kernel, stride, padding,
                                                  sympy.Integer(0)):
            if results is None:
                results = np.empty(tuple(lead) + tuple(counts), dtype=object)
            for lead_index in np.ndindex(*lead):
                entries = list(window[lead_index].flat)
                results[lead_index + out_index] = (sympy.Max(*entries) if name == "max_pool2d"
                                                   else sympy.Add(*entries) / len(entries))
        return results
    # batch_norm
    training = kwargs.get("training", args[5] if len(args) > 5 else False)
    eps = exact(float(kwargs.get("eps", 1e-5)))
    axes = tuple(d for d in range(x.ndim) if d != 1)
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    if training:
        mean = _reduce(x, axes, True, lambda xs: sympy.Add(*xs) / len(xs))
        centred = _map2(lambda a, m: a - m, x, mean)
        var = _reduce(centred, axes, True,
                      lambda xs: sympy.Add(*[v ** 2 for v in xs]) / len(xs))
    else:
        mean = _array(kwargs.get("running_mean", args[1] if len(args) > 1 else None))
        var = _array(kwargs.get("running_var", args[2] if len(args) > 2 else None))
        centred = _map2(lambda a, m: a - m, x, mean.reshape(shape))
        var = var.reshape(shape)
    out = _map2(lambda c, v: c / sympy.sqrt(v + eps), centred, var)
    weight = kwargs.get("weight", args[3] if len(args) > 3 else None)
    bias = kwargs.get("bias", args[4] if len(args) > 4 else None)
    if weight is not None:
        out = _map2(lambda a, w: a * w, out, _array(weight).reshape(shape))
    if bias is not None:
        out = _map2(lambda a, b: a + b, out, _array(bias).reshape(shape))
    return out
