"""Local rules of the backward nodes the notebook functions make (indexing, joining, shapes,
reductions, losses, activations), in the format of :mod:`core.teaching.rules`.

Each rule says in words what the node sends to each input and writes this step's numbers:
the factors are computed from what the node saved, the results on the right are the
gradients torch actually sent. :func:`register` adds them to :data:`core.teaching.rules.RULES`.
"""
from __future__ import annotations

import math

import torch

from core.teaching.rules import (
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


def _loss_weight(ctx):
    """(the weight= tensor or 1, its words in a symbol: "weight · " or "")."""
    weight = ctx.saved("weight")
    if isinstance(weight, torch.Tensor):
        return weight, "weight · "
    return 1.0, ""


def _bce_local(ctx):
    p, y = _x(ctx), ctx.saved("target")
    n, how = _divisor(ctx, p)
    w, w_text = _loss_weight(ctx)
    out = [Local(0, f"{w_text}({ctx.label(0)} {MINUS} {ctx.label(1)}) / ({ctx.arg(0)}(1 "
                    f"{MINUS} {ctx.label(0)})){how}", w * (p - y) / (p * (1 - p)) / n)]
    if _out(ctx, 1) is not None:
        out.append(Local(1, f"{w_text}log((1 {MINUS} {ctx.label(0)}) / {ctx.arg(0)}){how}",
                         w * torch.log((1 - p) / p) / n))
    return [term for term in out if _out(ctx, term.input) is not None]


def _bce_logits_local(ctx):
    x, y = _x(ctx), ctx.saved("target")
    n, how = _divisor(ctx, x)
    w, w_text = _loss_weight(ctx)
    pos = ctx.saved("pos_weight")
    sig = torch.sigmoid(x)
    if isinstance(pos, torch.Tensor):  # positives count pos_weight times
        out = [Local(0, f"{w_text}((pos_weight · {ctx.arg(1)} + 1 {MINUS} {ctx.arg(1)}) "
                        f"σ({ctx.label(0)}) {MINUS} pos_weight · {ctx.arg(1)}){how}",
                     w * ((pos * y + 1 - y) * sig - pos * y) / n)]
        target = (f"{w_text}(log(1 {MINUS} σ({ctx.label(0)})) {MINUS} pos_weight · "
                  f"log σ({ctx.label(0)})){how}",
                  w * (torch.nn.functional.logsigmoid(-x) - pos * torch.nn.functional.logsigmoid(x))
                  / n)
    else:
        out = [Local(0, f"{w_text}(σ({ctx.label(0)}) {MINUS} {ctx.arg(1)}){how}"
                     if w_text else f"σ({ctx.label(0)}) {MINUS} {ctx.arg(1)}{how}",
                     w * (sig - y) / n)]
        target = (f"{w_text}({MINUS}{ctx.arg(0)}){how}" if w_text else
                  f"{MINUS}{ctx.arg(0)}{how}", w * -x / n)
    if _out(ctx, 1) is not None:
        out.append(Local(1, *target))
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
    """Add the notebook functions' rules to ``rules`` (core.teaching.rules.RULES)."""
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
    register_common(rules)


# --------------------------------------------------------------------------- common functions

_ZERO = "0: the result is flat between its jumps, so torch sends 0 (jumps have no derivative)"

_COMMON_UNARY = {
    "AsinhBackward0": ("1 / √({x}² + 1)", lambda c: 1 / torch.sqrt(_x(c) ** 2 + 1)),
    "AcoshBackward0": ("1 / √({x}² − 1)", lambda c: 1 / torch.sqrt(_x(c) ** 2 - 1)),
    "AtanhBackward0": ("1 / (1 − {x}²)", lambda c: 1 / (1 - _x(c) ** 2)),
    "ErfcBackward0": ("−2/√π · exp(−{x}²)",
                      lambda c: -2 / math.sqrt(math.pi) * torch.exp(-_x(c) ** 2)),
    "ErfinvBackward0": ("√π/2 · exp(erfinv({x})²)",
                        lambda c: math.sqrt(math.pi) / 2 * torch.exp(torch.erfinv(_x(c)) ** 2)),
    "LgammaBackward0": ("digamma({x})", lambda c: torch.digamma(_x(c))),
    "DigammaBackward0": ("trigamma({x}) = polygamma(1, {x})",
                         lambda c: torch.polygamma(1, _x(c))),
    "SincBackward0": ("(cos(π{x}) − sinc({x})) / {x} (0 at 0)",
                      lambda c: torch.where(_x(c) == 0, torch.zeros_like(_x(c)),
                                            (torch.cos(math.pi * _x(c)) - torch.sinc(_x(c)))
                                            / _x(c))),
    "SignBackward0": (_ZERO, lambda c: torch.zeros_like(c.g)),
    "FloorBackward0": (_ZERO, lambda c: torch.zeros_like(c.g)),
    "CeilBackward0": (_ZERO, lambda c: torch.zeros_like(c.g)),
    "RoundBackward0": (_ZERO, lambda c: torch.zeros_like(c.g)),
    "RoundBackward1": (_ZERO, lambda c: torch.zeros_like(c.g)),
    "TruncBackward0": (_ZERO, lambda c: torch.zeros_like(c.g)),
    "FracBackward0": ("1 ({x} minus the step function trunc, whose slope is 0)",
                      lambda c: torch.ones_like(c.g)),
}


def _atan2_local(ctx):
    y, x = ctx.saved("self"), ctx.saved("other")
    r2 = x ** 2 + y ** 2
    out = []
    if _out(ctx, 0) is not None:
        out.append(Local(0, f"{ctx.arg(1)} / ({ctx.arg(0)}² + {ctx.arg(1)}²)", x / r2))
    if _out(ctx, 1) is not None:
        out.append(Local(1, f"{MINUS}{ctx.arg(0)} / ({ctx.arg(0)}² + {ctx.arg(1)}²)", -y / r2))
    return out


def _hypot_local(ctx):
    a, b, r = ctx.saved("self"), ctx.saved("other"), ctx.saved("result")
    out = []
    if _out(ctx, 0) is not None:
        out.append(Local(0, f"{ctx.arg(0)} / {ctx.me}", a / r))
    if _out(ctx, 1) is not None:
        out.append(Local(1, f"{ctx.arg(1)} / {ctx.me}", b / r))
    return out


def _remainder_local(which):
    def local(ctx):
        x, y = ctx.saved("self"), ctx.saved("other")
        out = []
        if _out(ctx, 0) is not None:
            out.append(Local(0, "1", 1.0))
        if _out(ctx, 1) is not None and x is not None and y is not None:
            q = torch.trunc(x / y) if which == "fmod" else torch.floor(x / y)
            word = "trunc" if which == "fmod" else "floor"
            out.append(Local(1, f"{MINUS}{word}({ctx.label(0)} / {ctx.label(1)})", -q))
        return out
    return local


def _cumsum_words(ctx, i):
    return (f"summed from the end back along dim {_dims(ctx.saved('dim'))}: each entry of "
            f"{ctx.arg(0)} gets the gradients of every running sum it is part of")


def _cumprod_local(ctx):
    return [Local(0, f"Σ over the running products containing each entry of {ctx.arg(0)} of "
                     f"{ctx.G} × (that product / the entry), along dim "
                     f"{_dims(ctx.saved('dim'))}", None, f"{fmt(ctx.g)} → {fmt(_out(ctx, 0))}",
                  "")]


def _sorted_words(ctx, i):
    indices = ctx.saved("indices")
    return (f"put back to the positions the entries came from ({fmt(indices)}) along dim "
            f"{_dims(ctx.saved('dim'))}")


def _median_words(ctx, i):
    indices = ctx.saved("indices")
    where = f"positions {fmt(indices)}" if indices is not None else "the median entry"
    return f"to the middle entry ({where}) of {ctx.arg(0)}, 0 to the others"


def _triangle_words(word):
    def words(ctx, i):
        return (f"kept in the {word} triangle (diagonal {_signed_dim(ctx.saved('diagonal'))}),"
                " 0 elsewhere, as the forward kept the entries")
    return words


def _diagonal_words(ctx, i):
    return (f"written back on the diagonal (offset {_signed_dim(ctx.saved('offset') or 0)}) "
            f"of the zeros of shape {shape_text(ctx.saved('self_sym_sizes') or ())}")


def _diag_embed_words(ctx, i):
    return f"read off the diagonal (offset {_signed_dim(ctx.saved('offset') or 0)})"


def _inverse_local(ctx):
    inv = ctx.saved("inverse")
    if inv is None:
        inv = ctx.saved("result")
    return [Local(0, f"{MINUS}{ctx.me}ᵀ · {ctx.G} · {ctx.me}ᵀ", None,
                  f"{MINUS}{fmt(inv.mT if inv is not None else None)} · {fmt(ctx.g)} · "
                  f"{fmt(inv.mT if inv is not None else None)}", "")]


def _det_local(ctx):
    a, d = ctx.saved("A"), ctx.saved("result")
    value = None
    if a is not None and d is not None:
        value = d.unsqueeze(-1).unsqueeze(-1) * torch.linalg.inv(a).mT
    return [Local(0, f"det({ctx.label(0)}) · {ctx.arg(0)}⁻ᵀ (the adjugate, transposed)",
                  value)]


def _slogdet_local(ctx):
    # two outputs: the sign (no gradient) and log |det|, whose gradient is the second one in
    a = ctx.saved("A")
    g = ctx.grad_in[1] if len(ctx.grad_in) > 1 else None
    inverse_t = torch.linalg.inv(a).mT if a is not None else None
    return [Local(0, f"∂{ctx.output}/∂log|det({ctx.label(0)})| × {ctx.arg(0)}⁻ᵀ (log |det| "
                     "differentiates to the inverse, transposed)", None,
                  f"{fmt(g)} × {fmt(inverse_t)}", "")]


def _addmm_local(ctx):
    m1, m2 = ctx.saved("mat1"), ctx.saved("mat2")
    out = []
    if _out(ctx, 0) is not None:
        out.append(Local(0, f"{ctx.G} summed over the rows the bias was broadcast to", None,
                         f"{fmt(ctx.g)} summed to shape {shape_text(_out(ctx, 0).shape)}", ""))
    if _out(ctx, 1) is not None:
        out.append(Local(1, f"{ctx.arg(2)}ᵀ", m2.mT if m2 is not None else None, "", "right"))
    if _out(ctx, 2) is not None:
        out.append(Local(2, f"{ctx.arg(1)}ᵀ", m1.mT if m1 is not None else None, "", "left"))
    return out


def _layer_norm_local(ctx):
    out = []
    if _out(ctx, 0) is not None:
        gw = f"{ctx.G}·weight"
        out.append(Local(0, f"({gw} − mean({gw}) − normalized·mean({gw}·normalized)) / std over "
                            f"the normalized dims (normalized: the normalized {ctx.label(0)}, "
                            "std: its standard deviation)", None,
                         f"{fmt(ctx.g)} → {fmt(_out(ctx, 0))}", ""))
    for i, word in ((1, "weight"), (2, "bias")):
        if _out(ctx, i) is not None:
            what = f"{ctx.G} · the normalized input" if i == 1 else ctx.G
            out.append(Local(i, f"{what} summed over the other dims (the {word} is shared)",
                             None, f"{fmt(_out(ctx, i))}", ""))
    return out


def _gather_words(ctx, i):
    return (f"added back into the positions {fmt(ctx.saved('index'))} picked along dim "
            f"{_dims(ctx.saved('dim'))} of {ctx.arg(0)}, 0 elsewhere")


def _index_select_words(ctx, i):
    return (f"added back into the slices {fmt(ctx.saved('index'))} along dim "
            f"{_dims(ctx.saved('dim'))} of {ctx.arg(0)}, 0 elsewhere")


def _masked_fill_local(ctx):
    mask = ctx.saved("mask")
    out = []
    if _out(ctx, 0) is not None:
        out.append(Local(0, "1 where the mask is False, 0 where the fill value replaced "
                            f"{ctx.label(0)}", (~mask).to(ctx.g.dtype) if mask is not None
                         else None))
    return out


def _pad_words(ctx, i):
    return f"with the padding cut off again (pad = {tuple(ctx.saved('pad') or ())})"


def _solve_local(ctx):
    a, x = ctx.saved("A"), ctx.saved("result")
    out = []
    if a is None or x is None:
        return out
    gb = torch.linalg.solve(a.mT, ctx.g if ctx.g.dim() == x.dim() else ctx.g)
    if _out(ctx, 0) is not None:
        out.append(Local(0, f"{MINUS}({ctx.arg(0)}⁻ᵀ {ctx.G}) · (the solution)ᵀ", None,
                         f"{MINUS}{fmt(gb)} · {fmt(x)}ᵀ", ""))
    if _out(ctx, 1) is not None:
        out.append(Local(1, f"{ctx.arg(0)}⁻ᵀ {ctx.G}: the same solve with {ctx.arg(0)} "
                            "transposed", None, fmt(gb), ""))
    return out


def _svd_local(ctx):
    u, vh = ctx.saved("U"), ctx.saved("Vh")
    g_s = ctx.grad_in[1] if len(ctx.grad_in) > 1 else None
    return [Local(0, f"(left singular vectors) · diag(∂{ctx.output}/∂(singular values)) · "
                     f"(right singular vectors)ᵀ of {ctx.label(0)} (only the singular values "
                     "are used here)", None,
                  f"{fmt(u)} · diag({fmt(g_s)}) · {fmt(vh)}", "")]


def _conv_local(ctx):
    stride, padding = ctx.saved("stride"), ctx.saved("padding")
    how = f"(stride {tuple(stride or ())}, padding {tuple(padding or ())})"
    out = []
    words = {0: f"{ctx.G} convolved back with the flipped weights {how}: each input entry "
                "gets the gradients of every output window it is part of, times the weight "
                "it met there",
             1: f"{ctx.G} correlated with the input {how}: each weight gets the sum, over "
                "every window, of the gradient there times the input entry it met",
             2: f"{ctx.G} summed over the batch and every position of each output channel"}
    for i in range(3):
        if _out(ctx, i) is not None:
            out.append(Local(i, words[i], None, f"{fmt(_out(ctx, i))}", ""))
    return out


def _max_pool_words(ctx, i):
    return (f"to the largest entry of each {tuple(ctx.saved('kernel_size') or ())} window "
            f"(positions {fmt(ctx.saved('result1'))}), 0 to the others")


def _avg_pool_words(ctx, i):
    size = ctx.saved("kernel_size") or ()
    count = math.prod(size) if size else 1
    return f"divided by {count} and spread over each {tuple(size)} window"


def _batch_norm_local(ctx):
    training = ctx.saved("training")
    out = []
    if _out(ctx, 0) is not None:
        if training:
            gw = f"{ctx.G}·weight"
            text = (f"({gw} − mean({gw}) − normalized·mean({gw}·normalized)) / std per "
                    "channel over the batch (the mean and variance of the batch depend on "
                    "every entry)")
        else:
            text = (f"{ctx.G}·weight / √(running variance + eps) (the running statistics are "
                    "constants)")
        out.append(Local(0, text, None, f"{fmt(_out(ctx, 0))}", ""))
    for i, word in ((1, "weight"), (2, "bias")):
        if _out(ctx, i) is not None:
            what = f"{ctx.G} · the normalized input" if i == 1 else ctx.G
            out.append(Local(i, f"{what} summed over the batch and positions of each channel "
                                f"(the {word} is shared)", None, f"{fmt(_out(ctx, i))}", ""))
    return out


def register_common(rules: dict) -> None:
    """The rules of the common functions' nodes (scans, sorting, matrices, layers)."""
    for name, (symbol, derivative) in _COMMON_UNARY.items():
        rules[name] = elementwise(symbol, _safe(derivative))
    rules.update({
        "Atan2Backward0": custom(_atan2_local),
        "HypotBackward0": custom(_hypot_local),
        "FmodBackward0": custom(_remainder_local("fmod")),
        "FmodBackward1": custom(_remainder_local("fmod")),
        "RemainderBackward0": custom(_remainder_local("remainder")),
        "RemainderBackward1": custom(_remainder_local("remainder")),
        "CumsumBackward0": custom(_moved(_cumsum_words)),
        "CumprodBackward0": custom(_cumprod_local),
        "SortBackward0": custom(_moved(_sorted_words), "sorting routes: each entry gets the "
                                "gradient of the place it was sorted to"),
        "TopkBackward0": custom(_moved(_sorted_words), "topk routes: the picked entries get "
                                "their gradients, the others 0"),
        "MedianBackward0": custom(_moved(_median_words), "median routes: the middle entry "
                                  "gets the gradient"),
        "MedianBackward1": custom(_moved(_median_words), "median routes: the middle entry "
                                  "of each row gets the gradient"),
        "TrilBackward0": custom(_moved(_triangle_words("lower"))),
        "TriuBackward0": custom(_moved(_triangle_words("upper"))),
        "DiagonalBackward0": custom(_moved(_diagonal_words)),
        "DiagonalBackward0_copy": custom(_moved(_diagonal_words)),
        "DiagEmbedBackward0": custom(_moved(_diag_embed_words)),
        "LinalgInvExBackward0": custom(_inverse_local),
        "LinalgDetBackward0": custom(_det_local),
        "LinalgSlogdetBackward0": custom(_slogdet_local),
        "LinalgSolveExBackward0": custom(_solve_local),
        "ConvolutionBackward0": custom(_conv_local, "convolutions share their weights: each "
                                       "weight adds up the gradients of every window"),
        "MaxPool2DWithIndicesBackward0": custom(_moved(_max_pool_words), "max routes: the "
                                                "largest entry of each window gets the "
                                                "gradient"),
        "AvgPool2DBackward0": custom(_moved(_avg_pool_words), "the mean spreads: every entry "
                                     "of each window gets the same share"),
        "NativeBatchNormBackward0": custom(_batch_norm_local),
        "LinalgSvdBackward0": custom(_svd_local),
        "AddmmBackward0": custom(_addmm_local),
        "NativeLayerNormBackward0": custom(_layer_norm_local),
        "GatherBackward0": custom(_moved(_gather_words)),
        "IndexSelectBackward0": custom(_moved(_index_select_words)),
        "MaskedFillBackward0": custom(_masked_fill_local),
        "ConstantPadNdBackward0": custom(_moved(_pad_words)),
    })
