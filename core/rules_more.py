"""Local rules of the backward nodes the notebook functions make (indexing, joining, shapes,
reductions, losses, activations), in the format of :mod:`core.rules`.

Each rule says in words what the node sends to each input and writes this step's numbers:
the factors are computed from what the node saved, the results on the right are the
gradients torch actually sent. :func:`register` adds them to :data:`core.rules.RULES`.
"""
from __future__ import annotations

import math

import torch

from core.rules import (
    RuleSpec,
    StepContext,
    _custom,
    _dims,
    _elementwise,
    _out,
    _passes,
    _safe,
    _signed_dim,
    _size_text,
    fmt,
)

_REDUCTION = {0: "none", 1: "mean", 2: "sum"}
_SQRT_2PI = math.sqrt(2 * math.pi)


def _x(ctx):
    return ctx.saved("self")


# --------------------------------------------------------------------------- activations


def _gelu(ctx):
    x = _x(ctx)
    if ctx.saved("approximate") == "tanh":
        k = math.sqrt(2 / math.pi)
        t = torch.tanh(k * (x + 0.044715 * x ** 3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * k * (1 + 3 * 0.044715 * x ** 2)
    return 0.5 * (1 + torch.erf(x / math.sqrt(2))) + x * torch.exp(-x ** 2 / 2) / _SQRT_2PI


def _elu(ctx):
    x = _x(ctx)
    alpha, scale, input_scale = (float(ctx.saved(k)) for k in ("alpha", "scale", "input_scale"))
    if x is None:  # torch saves the result instead when alpha >= 0 and it may
        r = ctx.saved("result")
        return torch.where(r > 0, torch.full_like(r, scale), input_scale * (r + alpha * scale))
    return torch.where(x > 0, torch.full_like(x, scale),
                       scale * alpha * input_scale * torch.exp(x * input_scale))


def _silu(ctx):
    s = torch.sigmoid(_x(ctx))
    return s * (1 + _x(ctx) * (1 - s))


def _mish(ctx):
    x = _x(ctx)
    sp = torch.nn.functional.softplus(x)
    return torch.tanh(sp) + x * (1 - torch.tanh(sp) ** 2) * torch.sigmoid(x)


def _hardtanh(ctx):
    x = _x(ctx)
    lo, hi = float(ctx.saved("min_val")), float(ctx.saved("max_val"))
    return ((x > lo) & (x < hi)).to(x.dtype)


def _hardswish(ctx):
    x = _x(ctx)
    return torch.where(x < -3, torch.zeros_like(x),
                       torch.where(x <= 3, x / 3 + 0.5, torch.ones_like(x)))


_ACTIVATIONS = {
    "GeluBackward0": ("d/dx gelu(x) = Φ(x) + x·φ(x) (Φ, φ: the normal distribution's cdf and "
                      "density; approximate='tanh' differentiates the tanh formula)", _gelu),
    "LeakyReluBackward0": ("d/dx leaky_relu(x) = 1 where x > 0, the negative slope elsewhere",
                           lambda c: torch.where(_x(c) > 0, torch.ones_like(_x(c)),
                                                 torch.full_like(_x(c), float(
                                                     c.saved("negative_slope"))))),
    "EluBackward0": ("d/dx elu(x) = scale where x > 0, scale·alpha·exp(x) elsewhere "
                     "(selu: torch's fixed scale and alpha)", _elu),
    "CeluBackward0": ("d/dx celu(x) = 1 where x > 0, exp(x / alpha) elsewhere",
                      lambda c: torch.where(_x(c) > 0, torch.ones_like(_x(c)),
                                            torch.exp(_x(c) / float(c.saved("alpha"))))),
    "SiluBackward0": ("d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))", _silu),
    "MishBackward0": ("d/dx x·tanh(softplus(x)) = tanh(sp) + x·(1 − tanh²(sp))·σ(x), "
                      "sp = softplus(x)", _mish),
    "HardtanhBackward0": ("d/dx hardtanh(x) = 1 strictly between min_val and max_val, 0 "
                          "outside (and at the edges)", _hardtanh),
    "HardsigmoidBackward0": ("d/dx hardsigmoid(x) = 1/6 for −3 < x < 3, 0 outside",
                             lambda c: ((_x(c) > -3) & (_x(c) < 3)).to(_x(c).dtype) / 6),
    "HardswishBackward0": ("d/dx hardswish(x) = 0 below −3, x/3 + ½ up to 3, 1 above",
                           _hardswish),
    "LogSigmoidBackward0": ("d/dx log σ(x) = 1 − σ(x) = σ(−x)",
                            lambda c: torch.sigmoid(-_x(c))),
}


# --------------------------------------------------------------------------- losses


def _divisor(ctx, x) -> tuple[float, str]:
    reduction = _REDUCTION.get(ctx.saved("reduction"), "mean")
    if reduction == "mean":
        return float(x.numel()), f" / n (n = {x.numel()}, reduction='mean')"
    return 1.0, f" (reduction='{reduction}')"


def _pointwise_loss(word: str, local):
    """A loss of input and target entry by entry: input gets G × local / n, the target
    gets minus that."""
    def parts(ctx):
        x, y = _x(ctx), ctx.saved("target")
        n, how = _divisor(ctx, x)
        d = local(ctx, x, y)
        return [(0, f"G × {word}{how} = {fmt(ctx.g)} × {fmt(d / n if n != 1 else d)}"),
                (1, f"−(the input's share) = −{fmt(ctx.g)} × {fmt(d / n if n != 1 else d)}")]
    return parts


def _nll_parts(ctx):
    target = ctx.saved("target")
    total = ctx.saved("total_weight")
    reduction = _REDUCTION.get(ctx.saved("reduction"), "mean")
    how = (f"divided by the total weight {fmt(total)} (reduction='mean')"
           if reduction == "mean" else f"(reduction='{reduction}')")
    return [(0, f"−G = −{fmt(ctx.g)} at each row's target class {fmt(target)}, {how}; "
                "0 for the other classes")]


def _bce_parts(ctx):
    p, y = _x(ctx), ctx.saved("target")
    n, how = _divisor(ctx, p)
    d = (p - y) / (p * (1 - p))
    return [(0, f"G × (p − y) / (p(1 − p)){how} = {fmt(ctx.g)} × {fmt(d / n)}"),
            (1, f"G × log((1 − p) / p){how} = {fmt(ctx.g)} × "
                f"{fmt(torch.log((1 - p) / p) / n)}")]


def _bce_logits_parts(ctx):
    x, y = _x(ctx), ctx.saved("target")
    n, how = _divisor(ctx, x)
    d = torch.sigmoid(x) - y
    return [(0, f"G × (σ(x) − y){how} = {fmt(ctx.g)} × {fmt(d / n)}"),
            (1, f"−G × x{how} = −{fmt(ctx.g)} × {fmt(x / n)}")]


# --------------------------------------------------------------------------- shapes


def _select_parts(ctx):
    return [(0, f"G = {fmt(ctx.g)} into entry {_signed_dim(ctx.saved('index'))} of dim "
                f"{_signed_dim(ctx.saved('dim'))} of the {_size_text(ctx.saved('self_sym_sizes'))}"
                " input, 0 elsewhere")]


def _slice_parts(ctx):
    start, end, step = (_signed_dim(ctx.saved(k)) for k in ("start", "end", "step"))
    return [(0, f"G = {fmt(ctx.g)} into entries {start}:{end}:{step} of dim "
                f"{_signed_dim(ctx.saved('dim'))} of the "
                f"{_size_text(ctx.saved('self_sym_sizes'))} input, 0 elsewhere")]


def _index_parts(ctx):
    indices = ctx.saved("indices") or ()
    shown = ", ".join(fmt(i) for i in indices if i is not None)
    return [(0, f"G = {fmt(ctx.g)} into the picked entries ({shown}) of the "
                f"{_size_text(ctx.saved('self_sym_sizes'))} input, added up where an entry "
                "is picked more than once; 0 elsewhere")]


def _joined_parts(ctx):
    dim = _dims(ctx.saved("dim"))
    return [(i, f"its part of G = {fmt(ctx.g)} along dim {dim}")
            for i in range(len(ctx.grad_out))]


def _where_parts(ctx):
    cond = ctx.saved("condition")
    return [(0, f"G where the condition is True: {fmt(ctx.g)} masked by {fmt(cond)}"),
            (1, f"G where it is False: {fmt(ctx.g)} masked by not {fmt(cond)}")]


def _repeat_parts(ctx):
    return [(0, f"G = {fmt(ctx.g)} with the {_size_text(ctx.saved('repeats'))} copies added "
                f"up into the {_size_text(ctx.saved('self_sym_sizes'))} input")]


def _flip_parts(ctx):
    return [(0, f"G = {fmt(ctx.g)} flipped back along dim {_dims(ctx.saved('dims'))}")]


# --------------------------------------------------------------------------- reductions


def _extreme_parts(word):
    def parts(ctx):
        return [(0, f"G = {fmt(ctx.g)} to the {word} entries along dim "
                    f"{_dims(ctx.saved('dim')) or 'all'} ({fmt(ctx.saved('result'))}), split "
                    "equally between ties; 0 to the others")]
    return parts


def _count(ctx) -> tuple[int, float]:
    x = _x(ctx)
    dim = ctx.saved("dim")
    dims = tuple(range(x.dim())) if dim is None or dim == () else (
        dim if isinstance(dim, tuple) else (dim,))
    n = math.prod(x.shape[_signed_dim(d)] for d in dims) if x.dim() else 1
    correction = ctx.saved("correction")
    correction = 1.0 if correction is None else float(correction)
    return n, correction


def _var_parts(ctx):
    x = _x(ctx)
    n, c = _count(ctx)
    dim = ctx.saved("dim")
    mean = x.mean(dim=dim if dim else None, keepdim=True) if dim else x.mean()
    return [(0, f"G × 2(x − mean) / (n − correction) with n = {n}, correction = "
                f"{fmt(c)}, mean = {fmt(mean)}, G = {fmt(ctx.g)}")]


def _std_parts(ctx):
    x = _x(ctx)
    n, c = _count(ctx)
    dim = ctx.saved("dim")
    mean = x.mean(dim=dim if dim else None, keepdim=True) if dim else x.mean()
    return [(0, f"G × (x − mean) / ((n − correction) · std) with n = {n}, correction = "
                f"{fmt(c)}, mean = {fmt(mean)}, std = {fmt(ctx.saved('result'))}, "
                f"G = {fmt(ctx.g)}")]


# --------------------------------------------------------------------------- alpha of add/sub


def _with_alpha(spec: RuleSpec, sign: float) -> RuleSpec:
    """x.add(y, alpha=2): the second input's gradient is scaled by alpha (−alpha for sub)."""

    def numbers(ctx: StepContext) -> list[str]:
        alpha = ctx.saved("alpha")
        if alpha in (None, 1):
            return spec.numbers(ctx)
        lines = []
        if _out(ctx, 0) is not None:
            lines.append(f"to {ctx.label(0, 'the first input')}: G = {fmt(_out(ctx, 0))}")
        if _out(ctx, 1) is not None:
            lines.append(f"to {ctx.label(1, 'the second input')}: G × {fmt(sign * alpha)} "
                         f"(alpha = {fmt(alpha)}) = {fmt(ctx.g)} × {fmt(sign * alpha)} = "
                         f"{fmt(_out(ctx, 1))}")
        return lines

    return RuleSpec(spec.formula, numbers)


def _xlogy_parts(ctx):
    x, y = ctx.saved("self"), ctx.saved("other")
    return [(0, f"G × log(y) = {fmt(ctx.g)} × log({fmt(y)})"),
            (1, f"G × x / y = {fmt(ctx.g)} × {fmt(x)} / {fmt(y)}")]


def register(rules: dict) -> None:
    """Add the notebook functions' rules to ``rules`` (core.rules.RULES)."""
    for name, (formula, derivative) in _ACTIVATIONS.items():
        rules[name] = _elementwise(formula, _safe(derivative))
    rules.update({
        "MseLossBackward0": _custom(
            "mse_loss: ∂/∂input = 2(input − target) / n (n entries with reduction='mean'); "
            "the target gets the opposite",
            _pointwise_loss("2(x − y)", lambda c, x, y: 2 * (x - y))),
        "SmoothL1LossBackward0": _custom(
            "smooth_l1_loss: ∂/∂input = (input − target) / beta where |input − target| < "
            "beta, its sign elsewhere (divided by n for the mean)",
            _pointwise_loss("clip((x − y)/beta, −1, 1)", lambda c, x, y: torch.clamp(
                (x - y) / float(c.saved("beta")), -1, 1) if float(c.saved("beta")) > 0
                else torch.sign(x - y))),
        "HuberLossBackward0": _custom(
            "huber_loss: ∂/∂input = input − target where |input − target| ≤ delta, "
            "delta·sign elsewhere (divided by n for the mean)",
            _pointwise_loss("clip(x − y, −delta, delta)", lambda c, x, y: torch.clamp(
                x - y, -float(c.saved("delta")), float(c.saved("delta"))))),
        "NllLossBackward0": _custom(
            "nll_loss: ∂/∂input = −1 at each row's target class (divided by the number of "
            "rows, or their total weight, for the mean), 0 elsewhere", _nll_parts),
        "BinaryCrossEntropyBackward0": _custom(
            "binary_cross_entropy: ∂/∂p = (p − y) / (p(1 − p)), divided by n for the mean",
            _bce_parts),
        "BinaryCrossEntropyWithLogitsBackward0": _custom(
            "binary_cross_entropy_with_logits: ∂/∂x = σ(x) − y, divided by n for the mean",
            _bce_logits_parts),
        "SelectBackward0": _custom("indexing one position: the gradient goes back into that "
                                   "entry, every other entry gets 0", _select_parts),
        "SliceBackward0": _custom("slicing: the gradient goes back into the sliced entries, "
                                  "the others get 0", _slice_parts),
        "IndexBackward0": _custom("indexing with a mask or positions: each picked entry gets "
                                  "its gradient (summed if picked twice), the others 0",
                                  _index_parts),
        "StackBackward0": _custom("stack: each input gets its slice of the gradient",
                                  _joined_parts),
        "CatBackward0": _custom("cat: each input gets its block of the gradient",
                                _joined_parts),
        "WhereBackward0": _custom("where(cond, a, b): a gets the gradient where cond is True, "
                                  "b where it is False (the mask itself gets none)",
                                  _where_parts),
        "RepeatBackward0": _custom("repeat: the gradients of all the copies are added up",
                                   _repeat_parts),
        "FlipBackward0": _custom("flip: the gradient is flipped back", _flip_parts),
        "UnsqueezeBackward0": _passes("unsqueeze: the added size-1 dim is removed from the "
                                      "gradient", "squeezed"),
        "ToCopyBackward0": _passes("a change of dtype: the gradient passes unchanged, "
                                   "converted back", "converted back"),
        "AmaxBackward0": _custom("amax: the largest entries along dim get the gradient "
                                 "(shared equally by ties), the others 0",
                                 _extreme_parts("largest")),
        "AminBackward0": _custom("amin: the smallest entries along dim get the gradient "
                                 "(shared equally by ties), the others 0",
                                 _extreme_parts("smallest")),
        "XlogyBackward0": _custom("xlogy(x, y) = x·log(y) (0 where x = 0): ∂/∂x = log(y), "
                                  "∂/∂y = x / y", _xlogy_parts),
        "VarBackward0": _custom("var: ∂/∂xᵢ = 2(xᵢ − mean) / (n − correction)", _var_parts),
        "StdBackward0": _custom("std: ∂/∂xᵢ = (xᵢ − mean) / ((n − correction)·std)",
                                _std_parts),
    })
    rules["AddBackward0"] = _with_alpha(rules["AddBackward0"], 1.0)
    rules["SubBackward0"] = _with_alpha(rules["SubBackward0"], -1.0)
