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
    MINUS,
    Local,
    RuleSpec,
    StepContext,
    _dims,
    _out,
    _safe,
    _signed_dim,
    custom,
    elementwise,
    fmt,
    passes,
    shape_text,
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


def _hardtanh_local(ctx):
    lo, hi = (fmt(float(ctx.saved(k))) for k in ("min_val", "max_val"))
    return [Local(0, f"1 where {lo} < {ctx.label(0)} < {hi}, 0 outside (and at the edges)",
                  _hardtanh(ctx))]


def _hardswish(ctx):
    x = _x(ctx)
    return torch.where(x < -3, torch.zeros_like(x),
                       torch.where(x <= 3, x / 3 + 0.5, torch.ones_like(x)))


_ACTIVATIONS = {
    # op: (the local derivative in the program's names ({x}: the input), its value)
    "GeluBackward0": ("Φ({x}) + {x}·φ({x}) (Φ, φ: the standard normal cdf and density; "
                      "approximate='tanh' differentiates the tanh formula)", _gelu),
    "LeakyReluBackward0": ("1 where {x} > 0, the negative slope elsewhere",
                           lambda c: torch.where(_x(c) > 0, torch.ones_like(_x(c)),
                                                 torch.full_like(_x(c), float(
                                                     c.saved("negative_slope"))))),
    "EluBackward0": ("scale where {x} > 0, scale·alpha·exp({x}) elsewhere (selu: the "
                     "fixed scale and alpha of torch)", _elu),
    "CeluBackward0": ("1 where {x} > 0, exp({x} / alpha) elsewhere",
                      lambda c: torch.where(_x(c) > 0, torch.ones_like(_x(c)),
                                            torch.exp(_x(c) / float(c.saved("alpha"))))),
    "SiluBackward0": ("σ({x})·(1 + {x}·(1 − σ({x})))", _silu),
    "MishBackward0": ("tanh(sp) + {x}·(1 − tanh²(sp))·σ({x}), sp = softplus({x})", _mish),
    "HardtanhBackward0": None,  # written by _hardtanh_local (its bounds are numbers)
    "HardsigmoidBackward0": ("1/6 for −3 < {x} < 3, 0 outside",
                             lambda c: ((_x(c) > -3) & (_x(c) < 3)).to(_x(c).dtype) / 6),
    "HardswishBackward0": ("0 below −3, {x}/3 + ½ up to 3, 1 above", _hardswish),
    "LogSigmoidBackward0": ("1 − σ({x}) = σ(−{x})", lambda c: torch.sigmoid(-_x(c))),
}


# --------------------------------------------------------------------------- losses


def _divisor(ctx, x) -> tuple[float, str]:
    reduction = _REDUCTION.get(ctx.saved("reduction"), "mean")
    if reduction == "mean":
        n = x.numel()
        return float(n), f" / {n} (reduction='mean': the mean of {n} entries)"
    return 1.0, f" (reduction='{reduction}')"


def _pointwise_loss(symbol: str, local_value):
    """A loss of input and target entry by entry: the input gets G × local / n, the
    target (when it needs a gradient) minus that."""
    def local(ctx):
        x, y = _x(ctx), ctx.saved("target")
        n, how = _divisor(ctx, x)
        d = local_value(ctx, x, y) / n
        text = ctx.sub(symbol) + how
        out = [Local(0, text, d)]
        if _out(ctx, 1) is not None:
            out.append(Local(1, MINUS + "(" + text + ")", -d))
        return [term for term in out if _out(ctx, term.input) is not None]
    return local


def _nll_local(ctx):
    target = ctx.saved("target")
    total = ctx.saved("total_weight")
    reduction = _REDUCTION.get(ctx.saved("reduction"), "mean")
    how = (f", divided by the total weight {fmt(total)} (reduction='mean')"
           if reduction == "mean" else f" (reduction='{reduction}')")
    return [Local(0, f"{MINUS}{ctx.G} at the target class of each row of {ctx.arg(0)}{how}, "
                     "0 for the other classes", None,
                  f"{MINUS}{fmt(ctx.g)} at classes {fmt(target)}", "")]


def _bce_local(ctx):
    p, y = _x(ctx), ctx.saved("target")
    n, how = _divisor(ctx, p)
    out = [Local(0, f"({ctx.label(0)} {MINUS} {ctx.label(1)}) / ({ctx.arg(0)}(1 {MINUS} "
                    f"{ctx.label(0)})){how}", (p - y) / (p * (1 - p)) / n)]
    if _out(ctx, 1) is not None:
        out.append(Local(1, f"log((1 {MINUS} {ctx.label(0)}) / {ctx.arg(0)}){how}",
                         torch.log((1 - p) / p) / n))
    return [term for term in out if _out(ctx, term.input) is not None]


def _bce_logits_local(ctx):
    x, y = _x(ctx), ctx.saved("target")
    n, how = _divisor(ctx, x)
    out = [Local(0, f"σ({ctx.label(0)}) {MINUS} {ctx.arg(1)}{how}",
                 (torch.sigmoid(x) - y) / n)]
    if _out(ctx, 1) is not None:
        out.append(Local(1, f"{MINUS}{ctx.arg(0)}{how}", -x / n))
    return [term for term in out if _out(ctx, term.input) is not None]


# --------------------------------------------------------------------------- shapes


def _moved(words):
    """A rule whose gradient is G put back into place (``words(ctx)`` says where)."""
    def local(ctx):
        return [Local(i, f"{ctx.G} {words(ctx, i)}", None, f"{fmt(ctx.g)} {words(ctx, i)}", "")
                for i, out in enumerate(ctx.grad_out) if out is not None]
    return local


def _select_words(ctx, i):
    return (f"into entry {_signed_dim(ctx.saved('index'))} of dim "
            f"{_signed_dim(ctx.saved('dim'))} of the "
            f"{shape_text(ctx.saved('self_sym_sizes') or ())} {ctx.arg(0)}, 0 elsewhere")


def _slice_words(ctx, i):
    start, end, step = (_signed_dim(ctx.saved(k)) for k in ("start", "end", "step"))
    return (f"into entries {start}:{end}:{step} of dim {_signed_dim(ctx.saved('dim'))} of "
            f"the {shape_text(ctx.saved('self_sym_sizes') or ())} {ctx.arg(0)}, 0 elsewhere")


def _index_words(ctx, i):
    indices = ctx.saved("indices") or ()
    shown = ", ".join(fmt(t) for t in indices if t is not None)
    return (f"into the picked entries ({shown}) of the "
            f"{shape_text(ctx.saved('self_sym_sizes') or ())} {ctx.arg(0)}, added up where an "
            "entry is picked more than once; 0 elsewhere")


def _joined_words(ctx, i):
    return f"cut into the parts along dim {_dims(ctx.saved('dim'))}: {ctx.arg(i)} gets its part"


def _where_local(ctx):
    cond = ctx.saved("condition")
    out = []
    for i, (word, mask) in enumerate((("True", cond), ("False", ~cond if cond is not None
                                                        else None))):
        if _out(ctx, i) is None:
            continue
        out.append(Local(i, f"1 where the condition is {word}, 0 elsewhere",
                         mask.to(ctx.g.dtype) if mask is not None else None))
    return out


def _repeat_words(ctx, i):
    return (f"with the copies of repeat{tuple(ctx.saved('repeats') or ())} added up into the "
            f"{shape_text(ctx.saved('self_sym_sizes') or ())} {ctx.arg(0)}")


def _flip_words(ctx, i):
    return f"flipped back along dim {_dims(ctx.saved('dims'))}"


# --------------------------------------------------------------------------- reductions


def _extreme_local(word):
    def local(ctx):
        x, r, dim = _x(ctx), ctx.saved("result"), ctx.saved("dim")
        keep = r if ctx.saved("keepdim") or r.dim() == x.dim() else r
        if dim and not ctx.saved("keepdim"):
            for d in sorted(_signed_dim(d) % x.dim() for d in dim):
                keep = keep.unsqueeze(d)
        hits = (x == keep).to(x.dtype)
        count = hits.sum(dim=tuple(_signed_dim(d) for d in dim) if dim else None,
                         keepdim=True)
        note = ""
        if bool((count > 1).any()):
            note = f"tie: equal {word} entries share the gradient evenly"
        return [Local(0, f"1 for the {word} entr{'ies' if dim else 'y'} of {ctx.arg(0)}"
                         f"{' along dim ' + _dims(dim) if dim else ''} (shared by ties), 0 "
                         "for the others", hits / count, "", "×", note)]
    return local


def _count(ctx) -> tuple[int, float]:
    x = _x(ctx)
    dim = ctx.saved("dim")
    dims = tuple(range(x.dim())) if dim is None or dim == () else (
        dim if isinstance(dim, tuple) else (dim,))
    n = math.prod(x.shape[_signed_dim(d)] for d in dims) if x.dim() else 1
    correction = ctx.saved("correction")
    correction = 1.0 if correction is None else float(correction)
    return n, correction


def _centred(ctx):
    x = _x(ctx)
    dim = ctx.saved("dim")
    dims = tuple(_signed_dim(d) for d in dim) if dim else None
    return x - (x.mean(dim=dims, keepdim=True) if dims else x.mean())


def _var_local(ctx):
    n, c = _count(ctx)
    d = _centred(ctx)
    return [Local(0, f"2({ctx.label(0)} {MINUS} mean) / (count {MINUS} correction), count = {n}, "
                     f"correction = {fmt(c)}", 2 * d / (n - c))]


def _std_local(ctx):
    n, c = _count(ctx)
    d = _centred(ctx)
    r = ctx.saved("result")
    dim = ctx.saved("dim")
    if dim and not ctx.saved("keepdim"):
        for k in sorted(_signed_dim(k) % _x(ctx).dim() for k in dim):
            r = r.unsqueeze(k)
    return [Local(0, f"({ctx.label(0)} {MINUS} mean) / ((count {MINUS} correction)·{ctx.me}), "
                     f"count = {n}, correction = {fmt(c)}", d / ((n - c) * r))]


def _xlogy_local(ctx):
    x, y = ctx.saved("self"), ctx.saved("other")
    out = []
    if _out(ctx, 0) is not None:
        out.append(Local(0, f"log({ctx.label(1)})", torch.log(y)))
    if _out(ctx, 1) is not None:
        out.append(Local(1, f"{ctx.arg(0)} / {ctx.arg(1)}", x / y))
    return out


# --------------------------------------------------------------------------- alpha of add/sub


def _with_alpha(spec: RuleSpec, sign: float) -> RuleSpec:
    """x.add(y, alpha=2): the second input's gradient is scaled by alpha (−alpha for sub)."""

    def local(ctx: StepContext) -> list[Local]:
        alpha = ctx.saved("alpha")
        if alpha in (None, 1):
            return spec.local(ctx)
        out = []
        if _out(ctx, 0) is not None:
            out.append(Local(0, "1", 1.0))
        if _out(ctx, 1) is not None:
            out.append(Local(1, f"{'' if sign > 0 else MINUS}alpha = {fmt(sign * alpha)}",
                             sign * float(alpha)))
        return out

    return RuleSpec(local=local, pattern=spec.pattern)


def register(rules: dict) -> None:
    """Add the notebook functions' rules to ``rules`` (core.rules.RULES)."""
    for name, entry in _ACTIVATIONS.items():
        if entry is not None:
            rules[name] = elementwise(entry[0], _safe(entry[1]))
    rules["HardtanhBackward0"] = custom(_hardtanh_local)
    rules.update({
        "MseLossBackward0": custom(_pointwise_loss(
            f"2({{x}} {MINUS} {{y}})", lambda c, x, y: 2 * (x - y))),
        "SmoothL1LossBackward0": custom(_pointwise_loss(
            f"({{x}} {MINUS} {{y}}) / beta inside ±beta, its sign outside",
            lambda c, x, y: torch.clamp((x - y) / float(c.saved("beta")), -1, 1)
            if float(c.saved("beta")) > 0 else torch.sign(x - y))),
        "HuberLossBackward0": custom(_pointwise_loss(
            f"{{x}} {MINUS} {{y}} inside ±delta, delta·sign outside",
            lambda c, x, y: torch.clamp(x - y, -float(c.saved("delta")),
                                        float(c.saved("delta"))))),
        "NllLossBackward0": custom(_nll_local, "nll_loss picks: only the target class of "
                                   "each row receives the gradient"),
        "BinaryCrossEntropyBackward0": custom(_bce_local),
        "BinaryCrossEntropyWithLogitsBackward0": custom(_bce_logits_local),
        "SelectBackward0": custom(_moved(_select_words), "indexing routes: the picked entry "
                                  "receives the gradient, the others 0"),
        "SliceBackward0": custom(_moved(_slice_words), "slicing routes: the sliced entries "
                                 "receive the gradient, the others 0"),
        "IndexBackward0": custom(_moved(_index_words), "indexing routes: each picked entry "
                                 "receives its gradient (summed if picked twice)"),
        "StackBackward0": custom(_moved(_joined_words), "stack splits: each input gets its "
                                 "slice of the gradient"),
        "CatBackward0": custom(_moved(_joined_words), "cat splits: each input gets its block "
                               "of the gradient"),
        "WhereBackward0": custom(_where_local, "where routes: the first choice gets the "
                                 "gradient where the mask is True, the second where it is "
                                 "False; the mask itself gets none"),
        "RepeatBackward0": custom(_moved(_repeat_words), "copies sum: the gradients of all "
                                  "the copies are added up"),
        "FlipBackward0": custom(_moved(_flip_words)),
        "ToCopyBackward0": passes("unchanged, converted back to the dtype of the input"),
        "AmaxBackward0": custom(_extreme_local("largest"), "amax routes: the gradient goes "
                                "to the largest entries"),
        "AminBackward0": custom(_extreme_local("smallest"), "amin routes: the gradient goes "
                                "to the smallest entries"),
        "VarBackward0": custom(_var_local),
        "StdBackward0": custom(_std_local),
        "XlogyBackward0": custom(_xlogy_local),
    })
    rules["AddBackward0"] = _with_alpha(rules["AddBackward0"], 1.0)
    rules["SubBackward0"] = _with_alpha(rules["SubBackward0"], -1.0)
