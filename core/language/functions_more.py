"""The PyTorch a course notebook uses beyond the first functions: indexing, stacking,
shapes, reductions as torch spells them, losses and activations from
``torch.nn.functional``, stopping gradients, and construction with ranges and seeded random
numbers. Described without importing torch; :mod:`core.evaluation.ops_more` holds the
implementations.
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
        spec("unsqueeze", 1, 2, "insert a dim of size 1 at dim", ("dim",)),
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
        spec("elu", 1, 2, "x if x > 0 else alpha·(exp(x) − 1)", ("alpha",), **nn),
        spec("selu", 1, 1, "scale·elu(x, alpha) with torch's fixed constants", (), **nn),
        spec("celu", 1, 2, "x if x > 0 else alpha·(exp(x/alpha) − 1)", ("alpha",), **nn),
        spec("silu", 1, 1, "x·sigmoid(x) (swish)", (), **nn),
        spec("mish", 1, 1, "x·tanh(softplus(x))", (), **nn),
        spec("softsign", 1, 1, "x / (1 + |x|)", (), **nn),
        spec("hardtanh", 1, 3, "clamp to [min_val, max_val] = [−1, 1]",
             ("min_val", "max_val"), **nn),
        spec("relu6", 1, 1, "min(max(x, 0), 6)", (), **nn),
        spec("hardsigmoid", 1, 1, "relu6(x + 3) / 6", (), **nn),
        spec("hardswish", 1, 1, "x·relu6(x + 3) / 6", (), **nn),
        spec("logsigmoid", 1, 1, "log(sigmoid(x)), computed stably", (), **nn),
        spec("softplus", 1, 3, "log(1 + exp(beta·x)) / beta; x itself above threshold",
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
        # common: more elementwise functions (floor and friends have gradient zero)
        spec("asinh", 1, 1, "inverse hyperbolic sine"),
        spec("acosh", 1, 1, "inverse hyperbolic cosine (x ≥ 1)"),
        spec("atanh", 1, 1, "inverse hyperbolic tangent (|x| < 1)"),
        spec("erfc", 1, 1, "1 − erf(x)"),
        spec("erfinv", 1, 1, "inverse of erf (|x| < 1)"),
        spec("lgamma", 1, 1, "log |Γ(x)|"),
        spec("digamma", 1, 1, "Γ'(x) / Γ(x)"),
        spec("sinc", 1, 1, "sin(πx) / (πx), 1 at 0"),
        spec("sign", 1, 1, "−1, 0 or 1 (gradient zero)"),
        spec("floor", 1, 1, "round down (gradient zero)"),
        spec("ceil", 1, 1, "round up (gradient zero)"),
        spec("round", 1, 1, "round to nearest, ties to even (gradient zero)", ("decimals",)),
        spec("trunc", 1, 1, "round towards zero (gradient zero)"),
        spec("frac", 1, 1, "x − trunc(x) (gradient one)"),
        spec("atan2", 2, 2, "the angle of the point (x, y): atan2(y, x)"),
        spec("hypot", 2, 2, "√(x² + y²)"),
        spec("xlogy", 2, 2, "x·log(y), 0 where x = 0"),
        spec("fmod", 2, 2, "remainder with the sign of x (x % y in C)"),
        spec("remainder", 2, 2, "remainder with the sign of y (Python's %)"),
        spec("floor_divide", 2, 2, "x // y (torch has no gradient for it)"),
        # scans, sorting, order statistics
        spec("cumsum", 1, 2, "running sum along dim", ("dim",)),
        spec("cumprod", 1, 2, "running product along dim", ("dim",)),
        spec("sort", 1, 2, "the entries sorted along dim (the values; .indices: argsort)",
             ("dim", "descending")),
        spec("argsort", 1, 2, "the positions that sort x along dim", ("dim", "descending")),
        spec("topk", 1, 2, "the k largest entries along dim (the values)",
             ("k", "dim", "largest", "sorted")),
        spec("median", 1, 2, "the median (the lower of the two middle entries), all or "
             "along dim", ("dim", "keepdim")),
        # matrices
        spec("tril", 1, 2, "the lower triangle (the rest 0)", ("diagonal",)),
        spec("triu", 1, 2, "the upper triangle (the rest 0)", ("diagonal",)),
        spec("diag", 1, 2, "the diagonal of a matrix, or a matrix with a vector on its "
             "diagonal", ("diagonal",)),
        spec("diagonal", 1, 4, "a diagonal of a tensor", ("offset", "dim1", "dim2")),
        spec("inverse", 1, 1, "the inverse of a square matrix"),
        spec("det", 1, 1, "the determinant of a square matrix"),
        spec("logdet", 1, 1, "log of the determinant (NaN if it is negative)"),
        spec("kron", 2, 2, "the Kronecker product"),
        spec("solve", 2, 2, "torch.linalg.solve(A, B): X with A X = B", (), method=False),
        spec("linalg_norm", 1, 2, "torch.linalg.norm(x, ord): vector or matrix norms "
             "(ord=2 of a matrix: its largest singular value; 'fro', 'nuc', inf)",
             ("ord", "dim", "keepdim"), method=False, bare=False),
        spec("vector_norm", 1, 2, "torch.linalg.vector_norm(x, ord): the p-norm of the "
             "entries", ("ord", "dim", "keepdim"), method=False, bare=False),
        spec("slogdet", 1, 1, "torch.linalg.slogdet(A): (sign, log |det A|); "
             ".logabsdet or [1] is the differentiable part", (), method=False),
        spec("tensordot", 2, 3, "contract the last dims of a with the first of b", ("dims",)),
        spec("einsum", 2, None, "einsum('ij,jk->ik', a, b): sums of products by index",
             (), method=False),
        # layers
        spec("linear", 2, 3, "x Wᵀ + b", ("bias",), **nn),
        spec("normalize", 1, 4, "x / max(‖x‖_p, eps) along dim", ("p", "dim", "eps"), **nn),
        spec("layer_norm", 1, 4, "(x − mean) / √(var + eps) over the last dims, then "
             "weight and bias", ("normalized_shape", "weight", "bias", "eps"), **nn),
        spec("dropout", 1, 3, "zero entries at random with probability p, scale the rest by "
             "1/(1 − p) (training=False: x itself)", ("p", "training"), **nn),
        spec("conv1d", 2, 3, "1-d convolution (cross-correlation, as torch): input N×C×L, "
             "weight O×C×K", ("bias", "stride", "padding", "dilation", "groups"), **nn),
        spec("conv2d", 2, 3, "2-d convolution (cross-correlation, as torch): input N×C×H×W, "
             "weight O×C×KH×KW", ("bias", "stride", "padding", "dilation", "groups"), **nn),
        spec("max_pool2d", 2, 3, "the largest entry of each window",
             ("kernel_size", "stride", "padding"), **nn),
        spec("avg_pool2d", 2, 3, "the mean of each window", ("kernel_size", "stride",
                                                             "padding"), **nn),
        spec("batch_norm", 3, 5, "normalize each channel by the batch's mean and variance "
             "(training=True) or by the running ones given", ("running_mean", "running_var",
                                                              "weight", "bias", "training",
                                                              "momentum", "eps"), **nn),
        spec("gather", 1, 3, "entries picked along dim by an index tensor", ("dim", "index")),
        spec("index_select", 1, 3, "whole slices picked along dim", ("dim", "index")),
        spec("masked_fill", 1, 3, "value where the mask is True, x elsewhere",
             ("mask", "value")),
        spec("one_hot", 1, 2, "F.one_hot(y, num_classes=3): a row with a 1 at each class "
             "index, 0 elsewhere (whole numbers, no gradient; .float() to multiply)",
             ("num_classes",), **nn),
        spec("pad", 1, 2, "pad with a constant: pad=(left, right, top, bottom, ...)",
             ("pad", "mode", "value"), **nn),
        # conversions
        spec("float", 1, 1, "as float32", bare=False),
        spec("double", 1, 1, "as float64", bare=False),
        spec("long", 1, 1, "as whole numbers (no gradient)", bare=False),
        spec("bool", 1, 1, "as True/False (no gradient)", bare=False),
    ]
