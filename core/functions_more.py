"""The PyTorch a course notebook uses beyond the first functions: indexing, stacking,
shapes, reductions as torch spells them, losses and activations from
``torch.nn.functional``, stopping gradients, and construction with ranges and seeded random
numbers. Described without importing torch; :mod:`core.ops_more` holds the implementations.
"""
from __future__ import annotations

_DIM = ("dim", "keepdim")
_GRAD = ("requires_grad", "dtype")
_REDUCTION = ("reduction",)


def specs(spec) -> list:
    """The specs, made with ``spec(name, min_args, max_args, summary, kwargs, **extra)``."""
    nn = {"method": False}
    return [
        # indexing, masks, joining
        spec("getitem", 2, None, "indexing and slicing: x[0], x[1:3], x[:, 0], x[..., -1], "
             "x[mask]", syntax="x[i, j:k]", bare=False, method=False),
        spec("gt", 2, 2, "x > y entry by entry: a mask of True/False (no gradient)"),
        spec("lt", 2, 2, "x < y entry by entry: a mask (no gradient)"),
        spec("ge", 2, 2, "x >= y entry by entry: a mask (no gradient)"),
        spec("le", 2, 2, "x <= y entry by entry: a mask (no gradient)"),
        spec("eq", 2, 2, "x == y entry by entry: a mask (no gradient)"),
        spec("ne", 2, 2, "x != y entry by entry: a mask (no gradient)"),
        spec("where", 3, 3, "where(cond, a, b): a where cond is True, b elsewhere"),
        spec("stack", 1, None, "stack([x, y], dim=0): join along a new dim", ("dim",),
             sequence=True, method=False),
        spec("cat", 1, None, "cat([x, y], dim=0): join along an existing dim", ("dim",),
             sequence=True, method=False),
        # shapes
        spec("view", 2, None, "the same entries in a new shape (-1: inferred)", ("size",),
             bare=False),
        spec("squeeze", 1, 2, "remove dims of size 1 (all, or the one given)", ("dim",)),
        spec("unsqueeze", 2, 2, "insert a dim of size 1 at dim", ("dim",)),
        spec("flatten", 1, 3, "flatten dims start_dim..end_dim into one",
             ("start_dim", "end_dim")),
        spec("permute", 2, None, "reorder the dims", ("dims",)),
        spec("expand", 2, None, "broadcast size-1 dims to a larger size (-1: keep)",
             ("size",), bare=False),
        spec("repeat", 2, None, "tile the tensor: repeat(2, 1) doubles the rows", (),
             bare=False),
        spec("flip", 2, None, "reverse the order of entries along dims", ("dims",)),
        spec("expand_as", 2, 2, "expand to the shape of another tensor", (), bare=False),
        spec("view_as", 2, 2, "view with the shape of another tensor", (), bare=False),
        spec("reshape_as", 2, 2, "reshape to the shape of another tensor", (), bare=False),
        # reductions
        spec("argmax", 1, 2, "position of the largest entry (all, or along dim)", _DIM),
        spec("argmin", 1, 2, "position of the smallest entry (all, or along dim)", _DIM),
        spec("amax", 1, 2, "largest entry along dim(s); ties share the gradient", _DIM),
        spec("amin", 1, 2, "smallest entry along dim(s); ties share the gradient", _DIM),
        spec("var", 1, 2, "variance (unbiased by default: divides by n − 1)",
             ("dim", "keepdim", "unbiased", "correction")),
        spec("std", 1, 2, "standard deviation (unbiased by default)",
             ("dim", "keepdim", "unbiased", "correction")),
        # arithmetic as methods
        spec("add", 2, 2, "x + alpha·y", ("alpha",)),
        spec("sub", 2, 2, "x − alpha·y", ("alpha",)),
        spec("mul", 2, 2, "x · y entry by entry"),
        spec("div", 2, 2, "x / y entry by entry"),
        # losses
        spec("mse_loss", 2, 2, "mean squared error", _REDUCTION, **nn),
        spec("l1_loss", 2, 2, "mean absolute error", _REDUCTION, **nn),
        spec("smooth_l1_loss", 2, 2, "squared below beta, absolute above",
             ("reduction", "beta"), **nn),
        spec("huber_loss", 2, 2, "squared below delta, linear above", ("reduction", "delta"),
             **nn),
        spec("cross_entropy", 2, 2, "log_softmax then negative log-likelihood (class "
             "indices or probabilities)",
             ("reduction", "weight", "label_smoothing", "ignore_index"), **nn),
        spec("nll_loss", 2, 2, "negative log-likelihood of log-probabilities",
             ("reduction", "weight", "ignore_index"), **nn),
        spec("binary_cross_entropy", 2, 2, "−(y log p + (1 − y) log(1 − p))",
             ("reduction", "weight"), **nn),
        spec("binary_cross_entropy_with_logits", 2, 2, "binary cross-entropy of sigmoid(x), "
             "computed stably", ("reduction", "weight", "pos_weight"), **nn),
        spec("kl_div", 2, 2, "Kullback-Leibler divergence; the input is log-probabilities",
             ("reduction", "log_target"), **nn),
        # activations
        spec("gelu", 1, 1, "x·Φ(x) (approximate='tanh': the tanh formula)", ("approximate",),
             **nn),
        spec("leaky_relu", 1, 2, "x if x > 0 else slope·x (slope 0.01)", ("negative_slope",),
             **nn),
        spec("elu", 1, 1, "x if x > 0 else alpha·(exp(x) − 1)", ("alpha",), **nn),
        spec("selu", 1, 1, "scale·elu(x, alpha) with torch's fixed constants", (), **nn),
        spec("celu", 1, 1, "x if x > 0 else alpha·(exp(x/alpha) − 1)", ("alpha",), **nn),
        spec("silu", 1, 1, "x·sigmoid(x) (swish)", (), **nn),
        spec("mish", 1, 1, "x·tanh(softplus(x))", (), **nn),
        spec("softsign", 1, 1, "x / (1 + |x|)", (), **nn),
        spec("hardtanh", 1, 3, "clamp to [min_val, max_val] = [−1, 1]",
             ("min_val", "max_val"), **nn),
        spec("relu6", 1, 1, "min(max(x, 0), 6)", (), **nn),
        spec("hardsigmoid", 1, 1, "relu6(x + 3) / 6", (), **nn),
        spec("hardswish", 1, 1, "x·relu6(x + 3) / 6", (), **nn),
        spec("logsigmoid", 1, 1, "log(sigmoid(x)), computed stably", (), **nn),
        spec("softplus", 1, 1, "log(1 + exp(beta·x)) / beta; x itself above threshold",
             ("beta", "threshold")),
        spec("tanhshrink", 1, 1, "x − tanh(x)", (), **nn),
        spec("clip", 1, 3, "another name for clamp", ("min", "max")),
        # stopping gradients
        spec("detach", 1, 1, "the same values, cut from the graph: no gradient flows back"),
        spec("requires_grad_", 1, 2, "make a tensor a leaf that gets a gradient (or not: "
             "requires_grad_(False))", ("requires_grad",), bare=False),
        # construction
        spec("arange", 1, 3, "start, start + step, ... below end", ("step",) + _GRAD + ("end",
             "start"), constructor=True, method=False),
        spec("linspace", 3, 3, "steps evenly spaced numbers from start to end",
             _GRAD + ("steps",), constructor=True, method=False),
        spec("randn", 1, None, "normal random numbers (after torch.manual_seed: repeatable)",
             _GRAD + ("size",), constructor=True, method=False),
        spec("rand", 1, None, "uniform random numbers in [0, 1)", _GRAD + ("size",),
             constructor=True, method=False),
        spec("randint", 2, 3, "random whole numbers in [low, high)", ("size", "dtype"),
             constructor=True, method=False),
        spec("manual_seed", 1, 1, "fix the random numbers that follow", (),
             constructor=True, method=False),
        spec("zeros_like", 1, 1, "zeros of the shape of x", _GRAD),
        spec("ones_like", 1, 1, "ones of the shape of x", _GRAD),
        spec("full_like", 2, 2, "a value repeated in the shape of x", _GRAD),
        spec("rand_like", 1, 1, "uniform random numbers of the shape of x", _GRAD),
        spec("randn_like", 1, 1, "normal random numbers of the shape of x", _GRAD),
        # conversions
        spec("float", 1, 1, "as float32", bare=False),
        spec("double", 1, 1, "as float64", bare=False),
        spec("long", 1, 1, "as whole numbers (no gradient)", bare=False),
        spec("bool", 1, 1, "as True/False (no gradient)", bare=False),
    ]
