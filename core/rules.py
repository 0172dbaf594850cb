"""The local rule of every backward node the language can make, in words and in numbers.

Each step of the backward pass multiplies the gradient flowing into a node (``G``) by the
node's local derivative and sends the result to each of its inputs. :data:`RULES` maps torch's
backward node names (``ExpBackward0``, ``MulBackward0``, ``MmBackward0``, ...) to a
:class:`RuleSpec`: the formula in a student's words and a function that writes this step's
numbers ("1 × 34.4773 = 34.4773"). The numbers on the right of each ``=`` are the gradients
torch actually sent (the recorded step), the factors on the left are read from what the node
saved, so the line shows where torch's numbers come from.

:func:`rule_for` never fails for an unknown node: it falls back to a generic rule marked
``generic=True`` (the test suite checks that no function of the language needs it).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from core.serialize import format_number, tensor_to_data

#: Tensors with at most this many entries are written out in full; larger ones are summarised.
FULL_ENTRIES = 16


@dataclass(frozen=True)
class Rule:
    """The rule of one step: ``formula`` in words, ``numbers`` for this step (one line per
    input that receives a gradient). ``generic`` marks the fallback for unknown nodes."""

    op: str
    formula: str
    numbers: tuple[str, ...] = ()
    generic: bool = False

    @property
    def text(self) -> str:
        """Formula and numbers as lines of text (what the CLI and the PDF pages print)."""
        return "\n".join((self.formula,) + tuple(self.numbers))


@dataclass
class StepContext:
    """What a rule's number writer gets: the node, the gradient in, the gradients out,
    and a readable label for each input (its name or expression, None for no input)."""

    fn: object
    grad_in: list
    grad_out: list
    labels: list

    @property
    def g(self) -> torch.Tensor | None:
        """The gradient flowing into the node (its first output's gradient)."""
        return self.grad_in[0] if self.grad_in else None

    def saved(self, name: str):
        """A saved attribute (``self``, ``other``, ``result``...), None if not saved."""
        try:
            return getattr(self.fn, "_saved_" + name)
        except (AttributeError, RuntimeError):
            return None

    def label(self, i: int, default: str) -> str:
        """The name of input ``i`` for the numbers line."""
        if i < len(self.labels) and self.labels[i]:
            return self.labels[i]
        return default


@dataclass(frozen=True)
class RuleSpec:
    """A rule's formula and the writer of its numbers (``numbers(ctx) -> list[str]``)."""

    formula: str
    numbers: Callable[[StepContext], list[str]]


# --------------------------------------------------------------------------- formatting


def fmt(value) -> str:
    """A tensor or number for a rule line: scalars as numbers, small tensors in full
    (``[[1, 0.5], [0.2, 0.1]]``), large ones as a shape with their range."""
    if value is None:
        return "none"
    if isinstance(value, (int, float)):
        return format_number(float(value))
    value = value.detach()
    if value.numel() == 1 and value.dim() <= 1:
        return format_number(value.reshape(()).item())
    if value.numel() <= FULL_ENTRIES:
        return _nested(tensor_to_data(value))
    shape = "×".join(map(str, value.shape))
    flat = value.flatten().double()
    return (f"{shape} tensor (min {format_number(flat.min().item(), 4)}, "
            f"max {format_number(flat.max().item(), 4)})")


def _nested(data) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(_nested(item) for item in data) + "]"
    return format_number(data)


def _times(a, b) -> str:
    # × for numbers, ⊙ (entry by entry) as soon as one side is a tensor with several entries
    many = any(isinstance(t, torch.Tensor) and t.numel() > 1 for t in (a, b))
    return "⊙" if many else "×"


def _out(ctx: StepContext, i: int):
    return ctx.grad_out[i] if i < len(ctx.grad_out) else None


def _sum_note(ctx: StepContext, i: int, product) -> str:
    """When torch summed a broadcast gradient back to the input's shape, say so."""
    out = _out(ctx, i)
    if isinstance(product, torch.Tensor) and out is not None and product.shape != out.shape:
        return " summed back to the input's shape"
    return ""


# --------------------------------------------------------------------------- rule families


def _elementwise(formula: str, derivative: Callable[[StepContext], object]) -> RuleSpec:
    """A function of one tensor applied entry by entry: out = G × f'(x)."""

    def numbers(ctx: StepContext) -> list[str]:
        if _out(ctx, 0) is None:
            return []
        d = derivative(ctx)
        return [f"to {ctx.label(0, 'x')}: {fmt(ctx.g)} {_times(ctx.g, d)} {fmt(d)} = "
                f"{fmt(_out(ctx, 0))}"]

    return RuleSpec(formula, numbers)


def _binary(formula: str, derivatives: tuple[Callable, Callable],
            names: tuple[str, str] = ("x", "y")) -> RuleSpec:
    """An elementwise function of two tensors: each input gets G × its partial derivative
    (summed over dimensions that were broadcast)."""

    def numbers(ctx: StepContext) -> list[str]:
        lines = []
        for i, derivative in enumerate(derivatives):
            if _out(ctx, i) is None:
                continue
            d = derivative(ctx)
            product = ctx.g * d if isinstance(d, torch.Tensor) and ctx.g is not None else None
            lines.append(f"to {ctx.label(i, names[i])}: {fmt(ctx.g)} {_times(ctx.g, d)} {fmt(d)}"
                         f"{_sum_note(ctx, i, product)} = {fmt(_out(ctx, i))}")
        return lines

    return RuleSpec(formula, numbers)


def _passes(formula: str, how: str) -> RuleSpec:
    """Nodes that move entries without changing them (reshape, transpose, sum, expand):
    the gradient is G rearranged."""

    def numbers(ctx: StepContext) -> list[str]:
        return [f"to {ctx.label(i, 'x')}: G = {fmt(ctx.g)} {how} = {fmt(out)}"
                for i, out in enumerate(ctx.grad_out) if out is not None]

    return RuleSpec(formula, numbers)


def _custom(formula: str, parts: Callable[[StepContext], list[tuple[int, str]]]) -> RuleSpec:
    """A rule whose numbers are written by ``parts(ctx)``: (input index, middle text) pairs,
    each printed as ``to LABEL: middle = result``."""

    def numbers(ctx: StepContext) -> list[str]:
        return [f"to {ctx.label(i, 'x')}: {middle} = {fmt(_out(ctx, i))}"
                for i, middle in parts(ctx) if _out(ctx, i) is not None]

    return RuleSpec(formula, numbers)


def _const(value: float):
    return lambda ctx: value


def _s(name: str):
    """The factor is a tensor the node saved (``self``, ``other``...)."""
    return lambda ctx: ctx.saved(name)


def _safe(fn):
    """Factors are for display only: a missing saved value shows as '?' not a crash."""
    def run(ctx):
        try:
            return fn(ctx)
        except (TypeError, RuntimeError, AttributeError):
            return "?"
    return run


# --------------------------------------------------------------------------- the table

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _pow0_derivative(ctx):
    n = ctx.saved("exponent")
    x = ctx.saved("self")
    return n * x ** (n - 1) if n != 0 else torch.zeros_like(x)


def _softplus_derivative(ctx):
    beta, threshold = ctx.saved("beta"), ctx.saved("threshold")
    x = ctx.saved("self")
    z = x * beta
    return torch.where(z > threshold, torch.ones_like(x), torch.sigmoid(z))


def _clamp_derivative(ctx):
    x = ctx.saved("self")
    inside = torch.ones_like(x, dtype=torch.bool)
    lo, hi = ctx.saved("min"), ctx.saved("max")
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return inside.to(x.dtype)


def _chosen(which):
    """d/dx of max(x, y) / min(x, y): 1 where x wins, ½ on ties (torch splits them)."""
    def run(ctx, first=True):
        x, y = ctx.saved("self"), ctx.saved("other")
        wins = (x > y) if which == "max" else (x < y)
        loses = (x < y) if which == "max" else (x > y)
        mine = wins if first else loses
        return mine.to(x.dtype) + 0.5 * (x == y).to(x.dtype)
    return (_safe(lambda ctx: run(ctx, True)), _safe(lambda ctx: run(ctx, False)))


def _norm_parts(ctx):
    p = ctx.saved("ord")
    if p == 2:
        return [(0, f"G × x / ‖x‖ = {fmt(ctx.g)} × {fmt(ctx.saved('self'))} / "
                    f"{fmt(ctx.saved('result'))}")]
    return [(0, f"G × sign(x)|x|^(p−1) / ‖x‖^(p−1) with p = {format_number(float(p))}, "
                f"G = {fmt(ctx.g)}, x = {fmt(ctx.saved('self'))}, ‖x‖ = "
                f"{fmt(ctx.saved('result'))}")]


def _size_text(sizes) -> str:
    return "×".join(map(str, sizes)) if sizes else "scalar"


def _numel(sizes) -> int:
    return math.prod(sizes) if sizes else 1


def _mm_parts(ctx):
    a, b = ctx.saved("self"), ctx.saved("mat2")
    return [(0, f"G Bᵀ = {fmt(ctx.g)} · {fmt(b.mT if b is not None else None)}"),
            (1, f"Aᵀ G = {fmt(a.mT if a is not None else None)} · {fmt(ctx.g)}")]


def _mv_parts(ctx):
    a, v = ctx.saved("self"), ctx.saved("vec")
    return [(0, f"G vᵀ (outer product) = {fmt(ctx.g)} ⊗ {fmt(v)}"),
            (1, f"Aᵀ G = {fmt(a.mT if a is not None else None)} · {fmt(ctx.g)}")]


def _dot_parts(ctx):
    a, b = ctx.saved("self"), ctx.saved("tensor")
    return [(0, f"G × b = {fmt(ctx.g)} × {fmt(b)}"), (1, f"G × a = {fmt(ctx.g)} × {fmt(a)}")]


def _div_parts(ctx):
    x, y = ctx.saved("self"), ctx.saved("other")
    parts = [(0, f"G / y = {fmt(ctx.g)} / {fmt(y)}")]
    if x is not None and y is not None:
        parts.append((1, f"−G x / y² = −{fmt(ctx.g)} × {fmt(x)} / {fmt(y)}²"))
    return parts


def _pow1_parts(ctx):
    x, n, r = ctx.saved("self"), ctx.saved("exponent"), ctx.saved("result")
    return [(0, f"G × y·x^(y−1) = {fmt(ctx.g)} × {fmt(n)} × {fmt(x)}^({fmt(n)} − 1)"),
            (1, f"G × x^y·ln(x) = {fmt(ctx.g)} × {fmt(r)} × ln({fmt(x)})")]


def _pow2_parts(ctx):
    c, r = ctx.saved("self"), ctx.saved("result")
    return [(0, f"G × c^y·ln(c) = {fmt(ctx.g)} × {fmt(r)} × ln({fmt(c)})")]


def _sum_parts(ctx):
    sizes = ctx.saved("self_sym_sizes")
    return [(0, f"G = {fmt(ctx.g)} copied to every entry of the {_size_text(sizes)} input")]


def _sum_dim_parts(ctx):
    sizes, dim = ctx.saved("self_sym_sizes"), ctx.saved("dim")
    return [(0, f"G = {fmt(ctx.g)} copied along dim {_dims(dim)} of the "
                f"{_size_text(sizes)} input")]


def _dims(dim) -> str:
    if isinstance(dim, tuple):
        return ", ".join(str(_signed_dim(d)) for d in dim)
    return str(_signed_dim(dim))


def _signed_dim(d):
    # torch stores dim=-1 as an unsigned 64-bit number in saved attributes
    return d - 2 ** 64 if isinstance(d, int) and d >= 2 ** 63 else d


def _mean_parts(ctx):
    sizes = ctx.saved("self_sym_sizes")
    n = ctx.saved("self_sym_numel") or _numel(sizes)
    return [(0, f"G / n = {fmt(ctx.g)} / {n} in every entry of the {_size_text(sizes)} input")]


def _mean_dim_parts(ctx):
    sizes, dim = ctx.saved("self_sym_sizes"), ctx.saved("dim")
    dims = dim if isinstance(dim, tuple) else (dim,)
    n = math.prod(sizes[_signed_dim(d)] for d in dims) if sizes else 1
    return [(0, f"G / n = {fmt(ctx.g)} / {n} copied along dim {_dims(dim)}")]


def _prod_parts(ctx):
    return [(0, f"G × (product of the other entries) = G × {fmt(ctx.saved('result'))} / x "
                f"with x = {fmt(ctx.saved('self'))}, G = {fmt(ctx.g)}")]


def _extreme_parts(word):
    def parts(ctx):
        return [(0, f"G = {fmt(ctx.g)} to the {word} entry ({fmt(ctx.saved('result'))}), "
                    "0 to the others (shared equally on ties)")]
    return parts


def _extreme_dim_parts(word):
    def parts(ctx):
        return [(0, f"G = {fmt(ctx.g)} to the {word} entry along dim "
                    f"{_dims(ctx.saved('dim'))} (positions {fmt(ctx.saved('indices'))}), "
                    "0 elsewhere")]
    return parts


def _logsumexp_parts(ctx):
    x, r = ctx.saved("self"), ctx.saved("result")
    return [(0, f"G × softmax(x) = G × exp(x − {fmt(r)}) with x = {fmt(x)}, G = {fmt(ctx.g)}")]


def _softmax_parts(ctx):
    y = ctx.saved("result")
    return [(0, f"y ⊙ (G − Σ G⊙y) along dim {_dims(ctx.saved('dim'))} with y = {fmt(y)}, "
                f"G = {fmt(ctx.g)}")]


def _log_softmax_parts(ctx):
    y = ctx.saved("result")
    return [(0, f"G − softmax(x)·ΣG along dim {_dims(ctx.saved('dim'))} with softmax(x) = "
                f"{fmt(torch.exp(y) if y is not None else None)}, G = {fmt(ctx.g)}")]


def _trace_parts(ctx):
    sizes = ctx.saved("self_sym_sizes")
    return [(0, f"G = {fmt(ctx.g)} on the diagonal of a {_size_text(sizes)} matrix, 0 elsewhere")]


def _bmm_parts(ctx):
    return [(0, f"G Bᵀ for each matrix of the batch, G = {fmt(ctx.g)}"),
            (1, f"Aᵀ G for each matrix of the batch, G = {fmt(ctx.g)}")]


def _accumulate_numbers(ctx: StepContext) -> list[str]:
    # the engine has already added up what arrived; the trace lists the terms (Step.contributions)
    return [f"{ctx.label(0, 'the leaf')}.grad = {fmt(ctx.g)}"]


_UNARY: dict[str, tuple[str, Callable]] = {
    "SinBackward0": ("d/dx sin(x) = cos(x)", lambda c: torch.cos(c.saved("self"))),
    "CosBackward0": ("d/dx cos(x) = −sin(x)", lambda c: -torch.sin(c.saved("self"))),
    "TanBackward0": ("d/dx tan(x) = 1 + tan²(x)", lambda c: 1 + c.saved("result") ** 2),
    "AsinBackward0": ("d/dx asin(x) = 1 / √(1 − x²)",
                      lambda c: 1 / torch.sqrt(1 - c.saved("self") ** 2)),
    "AcosBackward0": ("d/dx acos(x) = −1 / √(1 − x²)",
                      lambda c: -1 / torch.sqrt(1 - c.saved("self") ** 2)),
    "AtanBackward0": ("d/dx atan(x) = 1 / (1 + x²)", lambda c: 1 / (1 + c.saved("self") ** 2)),
    "SinhBackward0": ("d/dx sinh(x) = cosh(x)", lambda c: torch.cosh(c.saved("self"))),
    "CoshBackward0": ("d/dx cosh(x) = sinh(x)", lambda c: torch.sinh(c.saved("self"))),
    "TanhBackward0": ("d/dx tanh(x) = 1 − tanh²(x)", lambda c: 1 - c.saved("result") ** 2),
    "ExpBackward0": ("d/dx exp(x) = exp(x)", lambda c: c.saved("result")),
    "Expm1Backward0": ("d/dx (exp(x) − 1) = exp(x)", lambda c: c.saved("result") + 1),
    "LogBackward0": ("d/dx log(x) = 1 / x", lambda c: 1 / c.saved("self")),
    "Log2Backward0": ("d/dx log2(x) = 1 / (x ln 2)", lambda c: 1 / (c.saved("self") * _LN2)),
    "Log10Backward0": ("d/dx log10(x) = 1 / (x ln 10)",
                       lambda c: 1 / (c.saved("self") * _LN10)),
    "Log1PBackward0": ("d/dx log(1 + x) = 1 / (1 + x)", lambda c: 1 / (1 + c.saved("self"))),
    "SqrtBackward0": ("d/dx √x = 1 / (2√x)", lambda c: 1 / (2 * c.saved("result"))),
    "RsqrtBackward0": ("d/dx x^(−1/2) = −½ x^(−3/2)", lambda c: -0.5 * c.saved("result") ** 3),
    "ReciprocalBackward0": ("d/dx (1/x) = −1 / x²", lambda c: -c.saved("result") ** 2),
    "AbsBackward0": ("d/dx |x| = sign(x) (0 at x = 0)", lambda c: torch.sign(c.saved("self"))),
    "NegBackward0": ("d/dx (−x) = −1", _const(-1.0)),
    "SigmoidBackward0": ("d/dx σ(x) = σ(x)(1 − σ(x))",
                         lambda c: c.saved("result") * (1 - c.saved("result"))),
    "ReluBackward0": ("d/dx relu(x) = 1 where x > 0, else 0",
                      lambda c: (c.saved("result") > 0).to(c.saved("result").dtype)),
    "SoftplusBackward0": ("d/dx softplus(x) = σ(x) (= 1 where x is past the threshold)",
                          _softplus_derivative),
    "ErfBackward0": ("d/dx erf(x) = 2/√π · exp(−x²)",
                     lambda c: 2 / math.sqrt(math.pi) * torch.exp(-c.saved("self") ** 2)),
    "PowBackward0": ("d/dx xⁿ = n·xⁿ⁻¹ (n a number)", _pow0_derivative),
    "ClampBackward1": ("d/dx clamp(x, min, max) = 1 inside [min, max], 0 outside",
                       _clamp_derivative),
    "ClampMinBackward0": ("d/dx clamp(x, min) = 1 where x ≥ min, else 0", _clamp_derivative),
    "ClampMaxBackward0": ("d/dx clamp(x, max) = 1 where x ≤ max, else 0", _clamp_derivative),
}

#: torch backward node name -> its rule.
RULES: dict[str, RuleSpec] = {
    name: _elementwise(formula, _safe(derivative)) for name, (formula, derivative) in _UNARY.items()
}
RULES.update({
    # operators + - * / **
    "AddBackward0": _binary("d/dx (x + y) = 1, d/dy (x + y) = 1", (_const(1.0), _const(1.0))),
    "AddBackward1": _binary("d/dx (x + c) = 1", (_const(1.0), _const(1.0))),
    "SubBackward0": _binary("d/dx (x − y) = 1, d/dy (x − y) = −1", (_const(1.0), _const(-1.0))),
    "SubBackward1": _binary("d/dx (x − c) = 1", (_const(1.0), _const(-1.0))),
    "RsubBackward0": _binary("d/dx (y − x) = −1, d/dy (y − x) = 1",
                             (_const(-1.0), _const(1.0))),
    "RsubBackward1": _binary("d/dx (c − x) = −1", (_const(-1.0), _const(1.0))),
    "MulBackward0": _binary("d/dx (x·y) = y, d/dy (x·y) = x",
                            (_safe(_s("other")), _safe(_s("self")))),
    "MulBackward1": _binary("d/dx (c·x) = c", (_safe(_s("other")), _const(0.0))),
    "DivBackward0": _custom("d/dx (x / y) = 1 / y, d/dy (x / y) = −x / y²", _div_parts),
    "DivBackward1": _binary("d/dx (x / c) = 1 / c",
                            (_safe(lambda c: 1 / c.saved("other")), _const(0.0))),
    "PowBackward1": _custom("d/dx x^y = y·x^(y−1), d/dy x^y = x^y·ln(x)", _pow1_parts),
    "PowBackward2": _custom("d/dy c^y = c^y·ln(c) (c a number)", _pow2_parts),
    "MaximumBackward0": _binary("d/dx max(x, y) = 1 where x is larger, 0 where y is "
                                "(ties share ½ each)", _chosen("max")),
    "MinimumBackward0": _binary("d/dx min(x, y) = 1 where x is smaller, 0 where y is "
                                "(ties share ½ each)", _chosen("min")),
    # reductions
    "SumBackward0": _custom("d/dxᵢ Σⱼ xⱼ = 1: every entry receives G", _sum_parts),
    "SumBackward1": _custom("d/dxᵢ (sum along dim) = 1: G is copied along the summed dim",
                            _sum_dim_parts),
    "MeanBackward0": _custom("d/dxᵢ mean(x) = 1/n: every entry receives G / n", _mean_parts),
    "MeanBackward1": _custom("d/dxᵢ (mean along dim) = 1/n: G / n is copied along the dim",
                             _mean_dim_parts),
    "ProdBackward0": _custom("d/dxᵢ Πⱼ xⱼ = product of the other entries = Π / xᵢ",
                             _prod_parts),
    "ProdBackward1": _custom("d/dxᵢ (product along dim) = product of the other entries",
                             _prod_parts),
    "LinalgVectorNormBackward0": _custom("d/dx ‖x‖ = x / ‖x‖ (p = 2); in general "
                                         "sign(x)|x|^(p−1) / ‖x‖^(p−1)", _norm_parts),
    "MaxBackward1": _custom("d/dxᵢ max(x) = 1 for the largest entry, 0 for the others",
                            _extreme_parts("largest")),
    "MinBackward1": _custom("d/dxᵢ min(x) = 1 for the smallest entry, 0 for the others",
                            _extreme_parts("smallest")),
    "MaxBackward0": _custom("d/dxᵢ (max along dim) = 1 for the largest entry of each row",
                            _extreme_dim_parts("largest")),
    "MinBackward0": _custom("d/dxᵢ (min along dim) = 1 for the smallest entry of each row",
                            _extreme_dim_parts("smallest")),
    "LogsumexpBackward0": _custom("d/dx logsumexp(x) = softmax(x) = exp(x − logsumexp(x))",
                                  _logsumexp_parts),
    "SoftmaxBackward0": _custom("d softmax: dx = y ⊙ (G − Σ G⊙y), y = softmax(x)",
                                _softmax_parts),
    "LogSoftmaxBackward0": _custom("d log_softmax: dx = G − softmax(x) · ΣG", _log_softmax_parts),
    "TraceBackward0": _custom("d/dX trace(X) = identity matrix: G goes to the diagonal",
                              _trace_parts),
    # products
    "MmBackward0": _custom("C = A B: dA = G Bᵀ, dB = Aᵀ G", _mm_parts),
    "BmmBackward0": _custom("C = A B for each matrix of a batch: dA = G Bᵀ, dB = Aᵀ G",
                            _bmm_parts),
    "MvBackward0": _custom("y = A v: dA = G vᵀ, dv = Aᵀ G", _mv_parts),
    "DotBackward0": _custom("d/da (a · b) = b, d/db (a · b) = a", _dot_parts),
    # entries moved, not changed: the gradient is moved back
    "TBackward0": _passes("Xᵀ: the gradient is transposed back", "transposed"),
    "TransposeBackward0": _passes("transpose(x, d0, d1): the gradient is transposed back",
                                  "transposed"),
    "PermuteBackward0": _passes("permute: the gradient's dims are put back in order",
                                "permuted back"),
    "ViewBackward0": _passes("reshape: the gradient is reshaped back to the input's shape",
                             "reshaped"),
    "UnsafeViewBackward0": _passes("reshape (inside matmul): the gradient is reshaped back",
                                   "reshaped"),
    "ReshapeAliasBackward0": _passes("reshape: the gradient is reshaped back", "reshaped"),
    "SqueezeBackward0": _passes("squeeze: the removed size-1 dims are put back", "unsqueezed"),
    "SqueezeBackward1": _passes("squeeze: the removed size-1 dim is put back", "unsqueezed"),
    "SqueezeBackward2": _passes("squeeze: the removed size-1 dims are put back", "unsqueezed"),
    "SqueezeBackward4": _passes("squeeze (inside matmul): the size-1 dim is put back",
                                "unsqueezed"),
    "UnsqueezeBackward0": _passes("unsqueeze (inside matmul): the added dim is removed",
                                  "squeezed"),
    "ExpandBackward0": _passes("expand (broadcast): the copies' gradients are added up",
                               "summed over the copies"),
    "CloneBackward0": _passes("copy: d/dx x = 1, the gradient passes unchanged", "unchanged"),
    "AliasBackward0": _passes("alias: the gradient passes unchanged", "unchanged"),
    # a leaf: the engine adds up the gradients of every path into .grad
    "AccumulateGrad": RuleSpec("a leaf adds up the gradients arriving on every path: "
                               "grad = Σ contributions", _accumulate_numbers),
})
# older torch builds name the norm's backward node differently: same rule
for _old in ("NormBackward0", "NormBackward1", "NormBackward2", "NormBackward3"):
    RULES.setdefault(_old, RULES["LinalgVectorNormBackward0"])

# the notebook functions' nodes (indexing, joining, losses, activations...): core.rules_more
from core import rules_more  # noqa: E402  (it builds on the helpers above)

rules_more.register(RULES)


def accumulate_rule(name: str, contributions, total) -> Rule:
    """The rule of a leaf's AccumulateGrad step with each path's term written out:
    ``w.grad = 6 + 103.432 = 109.432``."""
    terms = " + ".join(fmt(c) for c in contributions) or "0"
    line = f"{name}.grad = {terms}" + (f" = {fmt(total)}" if len(contributions) > 1 else "")
    return Rule("AccumulateGrad", RULES["AccumulateGrad"].formula, (line,))


def has_rule(op: str) -> bool:
    """True when ``op`` (a backward node's type name) has its own rule, not the fallback."""
    return op in RULES


def rule_for(fn, grad_in, grad_out, labels=()) -> Rule:
    """The rule of the step that ran ``fn``: its formula and this step's numbers.

    ``grad_in`` is the gradient flowing in (a list, as the engine passes it), ``grad_out``
    the gradients sent along ``next_functions`` (None where an input needs none),
    ``labels`` readable names of those inputs.
    """
    op = type(fn).__name__
    spec = RULES.get(op)
    ctx = StepContext(fn, list(grad_in), list(grad_out), list(labels))
    if spec is None:
        lines = [f"to {ctx.label(i, 'input ' + str(i + 1))}: {fmt(out)}"
                 for i, out in enumerate(ctx.grad_out) if out is not None]
        return Rule(op, f"torch's own backward formula for {op}: G = {fmt(ctx.g)} goes in",
                    tuple(lines), generic=True)
    try:
        numbers = tuple(spec.numbers(ctx))
    except (TypeError, RuntimeError, AttributeError, ValueError, IndexError):
        # the numbers are an explanation; if a saved value cannot be read, show the result
        numbers = tuple(f"to {ctx.label(i, 'x')}: {fmt(out)}"
                        for i, out in enumerate(ctx.grad_out) if out is not None)
    return Rule(op, spec.formula, numbers)
