"""The local rule of every backward node, written in the program's own names.

Each step of the backward pass reads as one template, "gradient out = gradient in × local
derivative", with ∂ and the student's names substituted:

    ∂f/∂w += ∂f/∂(3w) · ∂(3w)/∂w = 34.4773 × 3 = 103.432

A rule is a :class:`RuleSpec` in :data:`RULES` (keyed by torch's backward node name). Its
``local(ctx)`` returns one :class:`Local` per input that receives a gradient: the local
derivative as a formula in the program's names (``σ(z)(1 − σ(z))``), its value, the
arithmetic that gives the value (``0.622 × 0.378``), and how the incoming gradient meets it
(× entry by entry, or a matrix product on either side). :func:`rule_for` turns those into the
step's lines; every number it prints is the tensor a rule computed from what the node saved
or the gradient torch actually sent, so the page shows where torch's numbers come from.

Names: :class:`StepContext` carries the display of each input slot (``ctx.arg(i)``: a
variable, a named intermediate, the user's subexpression, a constant's text, or, for a node
torch made inside a function, a description such as ``reshape(x)``), the node's own display
(``ctx.me``) and the output's name (``ctx.output``). A rule never prints a letter of its own
(no "x", "y", "G"): templates use ``{x}``, ``{y}`` (slots 0 and 1), ``{me}`` and ``{G}``
(the incoming gradient, ∂f/∂me), which :meth:`StepContext.sub` binds.

Rules written in the earlier form ``RuleSpec(formula, numbers)`` (placeholder letters in the
formula, lines "to LABEL: ..." from ``numbers``) still work: :func:`bind_placeholders`
replaces their letters by the program's names. See docs/CONTRACTS.md for how to write one.
"""
from __future__ import annotations

import collections
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from core.serialize import distinct, format_number, tensor_to_data

#: Tensors with at most this many entries are written out in full; larger ones are summarised.
FULL_ENTRIES = 16
#: The minus sign of every number and difference on the pages (U+2212, not a hyphen).
MINUS = "−"


# --------------------------------------------------------------------------- formatting


def num(x: float, digits: int = 6) -> str:
    """A number with the page's minus sign: ``−0.416147``."""
    x = float(x)
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("∞" if x > 0 else MINUS + "∞")
    text = format_number(x, digits)
    return MINUS + text[1:] if text.startswith("-") else text


def fmt(value) -> str:
    """A tensor or number for a rule line: scalars as numbers, small tensors in full
    (``[[1, 0.5], [0.2, 0.1]]``), large ones as a shape with their range."""
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return num(float(value))
    value = value.detach()
    if value.numel() == 1 and value.dim() <= 1:
        return num(value.reshape(()).item())
    if 0 < value.numel() <= FULL_ENTRIES:
        return _nested(tensor_to_data(value))
    key = (value.data_ptr(), tuple(value.shape), tuple(value.stride()), value.dtype,
           value._version)
    for cached, _kept, text in _SUMMARIES:
        # the entry holds the tensor itself, so its memory cannot be another's meanwhile
        if cached == key:
            return text
    flat = distinct(value).flatten().double()  # an expanded view: its few stored entries
    if not flat.numel():
        return f"empty {shape_text(value.shape)} tensor"
    text = (f"{shape_text(value.shape)} tensor (min {num(flat.min().item(), 4)}, "
            f"max {num(flat.max().item(), 4)})")
    _SUMMARIES.appendleft((key, value, text))
    return text


#: the last few large tensors summarised: the steps of ``s = s + sum(W)`` name the same
#: million-entry W on every line, and its min and max need computing once
_SUMMARIES: collections.deque = collections.deque(maxlen=8)


def _nested(data) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(_nested(item) for item in data) + "]"
    if isinstance(data, str):  # "nan", "inf", "-inf" from tensor_to_data
        return {"-inf": MINUS + "∞", "inf": "∞", "nan": "NaN"}.get(data, data)
    return num(data)


def base(value) -> str:
    """A number as the base of a power: negative ones in parentheses, ``(−2)²`` not ``−2²``."""
    text = fmt(value)
    return f"({text})" if text.startswith(MINUS) else text


def shape_text(shape) -> str:
    """``2×3``; ``scalar`` for a 0-d shape."""
    return "×".join(map(str, shape)) if len(shape) else "scalar"


def signed_sum(values) -> str:
    """Terms joined as a sum with the minus written once: ``6 − 2.5 + 3``."""
    out = ""
    for k, value in enumerate(values):
        text = fmt(value)
        if k == 0:
            out = text
        elif text.startswith(MINUS):
            out += f" {MINUS} {text[1:]}"
        else:
            out += f" + {text}"
    return out or "0"


def _many(value) -> bool:
    return isinstance(value, torch.Tensor) and value.numel() > 1


def times(a, b) -> str:
    """× when one side is a single number, ⊙ (entry by entry) when both have several."""
    return "⊙" if _many(a) and _many(b) else "×"


_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_NUMBER = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?")
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def pretty(text: str) -> str:
    """The user's subexpression as the pages write it: ``3*w`` as ``3w``, ``w**2`` as
    ``w²``, ``torch.``/``F.`` prefixes dropped, spacing tidied."""
    text = " ".join(text.split())
    text = re.sub(r"\b(?:torch\.nn\.functional|torch|F|nn\.functional)\.", "", text)
    text = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)\s*\*\s*(?=[A-Za-z_(])(?!\*)", r"\1", text)
    text = re.sub(r"\s*\*\*\s*(\d)(?![\d.])", lambda m: m.group(1).translate(_SUPERSCRIPT), text)
    return re.sub(r"(?<![0-9.][eE])-", MINUS, text)


def atomic(text: str) -> bool:
    """True when ``text`` reads as one thing without parentheses: a name, a number, a call
    ``f(...)`` or something already in matching parentheses."""
    if _IDENT.fullmatch(text) or _NUMBER.fullmatch(text):
        return True
    match = re.match(r"^[A-Za-z_σ][\w.]*\(|^\(", text)
    if not match or not text.endswith(")"):
        return False
    depth = 0
    for k, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and k >= match.end() - 1 and k != len(text) - 1:
            return False
    return True


def wrap(text: str) -> str:
    """``text`` in parentheses unless :func:`atomic`: ``∂f/∂(3w)`` but ``∂f/∂w``."""
    return text if atomic(text) else f"({text})"


def superscript(n) -> str:
    """An exponent written small: ``²`` for 2, ``^(0.5)`` for 0.5."""
    if isinstance(n, torch.Tensor):
        n = n.item()
    n = float(n)
    if n.is_integer() and abs(n) < 1000:
        return str(int(n)).translate(_SUPERSCRIPT)
    return f"^({num(n)})"


# --------------------------------------------------------------------------- rule data


@dataclass(frozen=True)
class Local:
    """The local derivative ∂(node)/∂(input) of one input, as a rule writes it.

    ``symbol``: the derivative in the program's names (use :meth:`StepContext.sub` to bind
    ``{x}``, ``{y}``, ``{me}``, ``{G}``); ``value``: its value (a tensor or number), or None
    when the gradient is not a plain product (then ``work`` holds the whole computation);
    ``work``: the arithmetic that gives ``value`` from the numbers ("0.622 × 0.378"), empty
    when ``value`` is read directly; ``apply``: how the gradient in (G) meets the value:
    ``"×"`` entry by entry (with broadcasting summed back), ``"right"`` G · value (matrix
    product), ``"left"`` value · G, ``"outer"`` G ⊗ value, ``""`` not a product (``symbol``
    and ``work`` are then the whole gradient, written with ``{G}``); ``note``: a word on this
    input at these values (a kink, torch's choice at 0), shown on the page.
    """

    input: int
    symbol: str
    value: object = None
    work: str = ""
    apply: str = "×"
    note: str = ""


@dataclass(frozen=True)
class Term:
    """One input's share of a step: its display name, the :class:`Local` and the tensors
    the line multiplies (``g`` in, ``out`` the gradient torch sent to it)."""

    input: int
    name: str
    local: Local
    g: object
    out: object
    lines: tuple[str, ...]
    #: the chain rule in symbols (``∂f/∂w += ∂f/∂(3w) · ∂(3w)/∂w``) and the numbers after
    #: it as items (tensors, numbers and operator strings), for pages that draw matrices
    #: as grids: ``(G, "×", value, "=", out)``
    chain: str = ""
    items: tuple = ()


@dataclass(frozen=True)
class Rule:
    """The rule of one step: ``formula`` (the local derivatives in the program's names),
    ``numbers`` (this step's arithmetic, a few lines per input that receives a gradient),
    ``pattern`` (the gate's intuition: add distributes, mul swaps, max routes), ``notes``
    (kinks, torch's choice at a point with no derivative, NaN), ``terms`` (the same lines
    with the tensors behind them). ``generic`` marks the fallback for unknown nodes."""

    op: str
    formula: str
    numbers: tuple[str, ...] = ()
    generic: bool = False
    pattern: str = ""
    notes: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()

    @property
    def text(self) -> str:
        """Pattern, formula, numbers and notes as lines (what the CLI and the pages print)."""
        head = tuple(line for line in (self.pattern, self.formula) if line)
        return "\n".join(head + tuple(self.numbers) + tuple(self.notes))


@dataclass
class StepContext:
    """What a rule gets: the node ``fn``, the gradient in, the gradients out, and the names.

    ``labels[i]``: the display of input slot ``i`` (None when torch's slot has no name and no
    constant was found); ``output``: the name of the program's output; ``node``: the node's
    own display (its assigned name or subexpression); ``constants``: the texts of the user's
    operands that are not inputs of the node (the ``2`` of ``2**w``)."""

    fn: object
    grad_in: list
    grad_out: list
    labels: list
    output: str = "f"
    node: str = ""
    constants: list = field(default_factory=list)
    #: slot -> its name when the same tensor fills several slots (``y * y``: ``y₁``, ``y₂``)
    aliases: dict = field(default_factory=dict)
    #: slots whose alias names a tensor of its own (the same text computed twice)
    separate: set = field(default_factory=set)
    #: the forward values of the input slots where the program made them (None elsewhere):
    #: what a node did not save (relu keeps only its result, so x < 0 and x = 0 look alike)
    inputs: list = field(default_factory=list)

    def input_value(self, i: int):
        """The forward value of input slot ``i``, or None when it is not known."""
        value = self.inputs[i] if i < len(self.inputs) else None
        return value.detach() if isinstance(value, torch.Tensor) else None

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

    def label(self, i: int, default: str = "") -> str:
        """The raw display of input slot ``i`` (the user's text, tidied); a tensor that
        fills several slots is named by its slot (``y₁``, ``y₂``: see :func:`slot_aliases`)."""
        if i in self.aliases:
            return self.aliases[i]
        return self.plain_label(i, default)

    def plain_label(self, i: int, default: str = "") -> str:
        """The display of the tensor whose gradient slot ``i``'s term adds to: without the
        slot's subscript when one tensor fills several slots."""
        if i in self.separate:
            return self.aliases[i]
        if i < len(self.labels) and self.labels[i]:
            return pretty(str(self.labels[i]))
        if default:
            return default
        return f"input {i + 1} of {self.me}"

    def arg(self, i: int) -> str:
        """Input slot ``i`` as a factor or a ∂ denominator: parenthesised unless atomic."""
        if i in self.aliases:
            return self.aliases[i]
        return wrap(self.label(i))

    def plain_arg(self, i: int) -> str:
        """:meth:`arg` without a slot's subscript: ``y`` in ``∂f/∂y += ...``."""
        return self.aliases[i] if i in self.separate else wrap(self.plain_label(i))

    def const(self, k: int = 0, default: str = "") -> str:
        """The text of the ``k``-th operand that is a constant, not an input of the node."""
        if k < len(self.constants) and self.constants[k]:
            return wrap(pretty(str(self.constants[k])))
        return default

    @property
    def me(self) -> str:
        """The node's own display, parenthesised unless atomic: ``(3w)``, ``g1``, ``exp(g1)``."""
        return wrap(pretty(self.node)) if self.node else "this node"

    @property
    def G(self) -> str:  # noqa: N802 - the name the templates use
        """The incoming gradient in ∂ notation: ``∂f/∂(3w)``."""
        return f"∂{self.output}/∂{self.me}"

    def sub(self, template: str) -> str:
        """``template`` with ``{x}``/``{y}`` (slots 0 and 1), ``{c}`` (the first constant
        operand), ``{me}`` and ``{G}`` bound to the program's names. Inside a call's own
        parentheses a slot is written bare: ``cos({x})`` gives ``cos(2z)``."""
        slots = {"x": 0, "y": 1}
        out = template
        for key, i in slots.items():
            out = out.replace(f"({{{key}}})", f"({self.label(i)})")
            out = out.replace(f"{{{key}}}", self.arg(i))
        return (out.replace("{c}", self.const(0, "the constant")).replace("{me}", self.me)
                .replace("{G}", self.G))


@dataclass(frozen=True)
class RuleSpec:
    """A rule: ``local(ctx) -> list[Local]`` (one per input that gets a gradient) and the
    gate ``pattern`` in words (may use ``{x}``, ``{y}``, ``{me}``).

    The earlier form ``RuleSpec(formula, numbers)`` is accepted too: ``formula`` with
    placeholder letters (x, y, c, a, b, v, A, B, n, G) and ``numbers(ctx)`` returning
    lines ``"to LABEL: middle = result"``; :func:`bind_placeholders` binds the letters.
    """

    formula: str | None = None
    numbers: Callable[[StepContext], list[str]] | None = None
    local: Callable[[StepContext], list[Local]] | None = None
    pattern: str = ""


def _out(ctx: StepContext, i: int):
    return ctx.grad_out[i] if i < len(ctx.grad_out) else None


# --------------------------------------------------------------------------- rule families


def elementwise(symbol: str, derivative: Callable, work: Callable | None = None,
                note: Callable | None = None, pattern: str = "") -> RuleSpec:
    """A function of one tensor applied entry by entry: out = G × f'(x). ``symbol`` is
    f'(x) as a template in ``{x}``; ``derivative(ctx)`` its value; ``work(ctx)`` the
    arithmetic; ``note(ctx)`` a word on these values (or "")."""

    def local(ctx: StepContext) -> list[Local]:
        if _out(ctx, 0) is None:
            return []
        return [Local(0, ctx.sub(symbol), _safe(derivative)(ctx),
                      _safe_text(work)(ctx) if work else "", "×",
                      _safe_text(note)(ctx) if note else "")]

    return RuleSpec(local=local, pattern=pattern)


def binary(symbols: tuple[str, str], derivatives: tuple[Callable, Callable],
           pattern: str = "", works: tuple | None = None,
           notes: tuple | None = None) -> RuleSpec:
    """An elementwise function of two tensors: each input gets G × its partial derivative
    (summed over the dimensions that were broadcast)."""

    def local(ctx: StepContext) -> list[Local]:
        out = []
        for i in (0, 1):
            if _out(ctx, i) is None:
                continue
            work = _safe_text(works[i])(ctx) if works and works[i] else ""
            note = _safe_text(notes[i])(ctx) if notes and notes[i] else ""
            out.append(Local(i, ctx.sub(symbols[i]), _safe(derivatives[i])(ctx), work, "×",
                             note))
        return out

    return RuleSpec(local=local, pattern=pattern)


def passes(how: str, pattern: str = "") -> RuleSpec:
    """Nodes that move entries without changing them (reshape, transpose, squeeze): the
    gradient is {G} moved back (``how`` says how, e.g. "transposed back")."""

    def local(ctx: StepContext) -> list[Local]:
        return [Local(i, f"{ctx.G} {how}", None, fmt(ctx.g) + f" {how}", "")
                for i, out in enumerate(ctx.grad_out) if out is not None]

    return RuleSpec(local=local, pattern=pattern)


def custom(local: Callable[[StepContext], list[Local]], pattern: str = "") -> RuleSpec:
    """A rule whose :class:`Local` list ``local(ctx)`` writes itself."""
    return RuleSpec(local=local, pattern=pattern)


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
        except (TypeError, RuntimeError, AttributeError, ValueError):
            return "?"
    return run


def _safe_text(fn):
    def run(ctx):
        try:
            return fn(ctx) or ""
        except (TypeError, RuntimeError, AttributeError, ValueError, IndexError):
            return ""
    return run


def _at_zero(value) -> bool:
    return isinstance(value, torch.Tensor) and bool((value == 0).any())


def _is(value) -> bool:
    return isinstance(value, torch.Tensor)


# --------------------------------------------------------------------------- the table

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_X, _R = _s("self"), _s("result")


def _kink(what: str, choice: str):
    """A note for an input sitting exactly on a kink: what torch gives there."""
    def note(ctx):
        x = ctx.saved("self")
        if _at_zero(x):
            return f"kink: {ctx.sub(what)} has no derivative where {ctx.label(0)} = 0; {choice}"
        return ""
    return note


def _pow0_local(ctx):
    n, x = ctx.saved("exponent"), ctx.saved("self")
    n = float(n.item() if isinstance(n, torch.Tensor) else n)
    if n == 0:
        return [Local(0, "0", torch.zeros_like(x))]
    value = n * x ** (n - 1)
    note = ""
    if n - 1 < 0 and _at_zero(x):
        note = f"at {ctx.label(0)} = 0 the power {superscript(n - 1)} is infinite"
    return [Local(0, f"{num(n)}·{ctx.arg(0)}{superscript(n - 1)}", value,
                  f"{num(n)} × {base(x)}{superscript(n - 1)}", "×", note)]


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


def _clamp_tensor_local(ctx):
    """clamp with tensor bounds (torch's clamp_backward_min_max): x gets G inside the
    bounds, a bound gets G where it is the one taken (min yields to max when min > max)."""
    x, lo, hi = ctx.saved("self"), ctx.saved("min"), ctx.saved("max")
    inside = torch.ones_like(x, dtype=torch.bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    me, low, high = ctx.arg(0), ctx.arg(1), ctx.arg(2)
    parts = []
    if _out(ctx, 0) is not None:
        where = " ≤ ".join([low] * (lo is not None) + [me] + [high] * (hi is not None))
        parts.append(Local(0, f"1 where {where}, else 0", inside.to(x.dtype)))
    if lo is not None and _out(ctx, 1) is not None:
        taken = x < lo if hi is None else (x < lo) & (lo < hi)
        parts.append(Local(1, f"1 where {me} < {low}" + (f" < {high}" if hi is not None else "")
                           + ", else 0", taken.to(x.dtype)))
    if hi is not None and _out(ctx, 2) is not None:
        taken = x > hi if lo is None else (x > hi) | (hi < lo)
        parts.append(Local(2, f"1 where {me} > {high}" + (f" or {high} < {low}" if lo is not None
                                                          else "") + ", else 0",
                           taken.to(x.dtype)))
    return parts


def _chosen(which: str, first: bool):
    """∂ max(x, y)/∂x (or min, or ∂/∂y): 1 where it wins, ½ on ties (torch splits them)."""
    def run(ctx):
        x, y = ctx.saved("self"), ctx.saved("other")
        wins = (x > y) if which == "max" else (x < y)
        loses = (x < y) if which == "max" else (x > y)
        mine = wins if first else loses
        return mine.to(x.dtype) + 0.5 * (x == y).to(x.dtype)
    return run


def _tie_note(ctx):
    x, y = ctx.saved("self"), ctx.saved("other")
    if x is not None and y is not None and bool((x == y).any()):
        return (f"tie: where {ctx.label(0)} = {ctx.label(1)} there is no derivative; torch "
                "gives ½ to each")
    return ""


def _binary_extreme(which: str) -> RuleSpec:
    word, op = ("larger", ">") if which == "max" else ("smaller", "<")
    return binary((f"1 where {{x}} {op} {{y}}, ½ where equal, 0 elsewhere",
                   f"1 where {{y}} {op} {{x}}, ½ where equal, 0 elsewhere"),
                  (_chosen(which, True), _chosen(which, False)),
                  pattern=f"{which} routes: the gradient goes to the {word} input "
                          "(½ each on ties)", notes=(_tie_note, _tie_note))


def _div_local(ctx):
    x, y = ctx.saved("self"), ctx.saved("other")
    parts = []
    if _out(ctx, 0) is not None:
        parts.append(Local(0, ctx.sub("1/{y}"), 1 / y, f"1 / {base(y)}"))
    if _out(ctx, 1) is not None and x is not None:
        parts.append(Local(1, ctx.sub(f"{MINUS}{{x}}/{{y}}²"), -x / y ** 2,
                           f"{MINUS}{base(x)} / {base(y)}²"))
    return parts


def _pow1_local(ctx):
    x, n, r = ctx.saved("self"), ctx.saved("exponent"), ctx.saved("result")
    parts = []
    if _out(ctx, 0) is not None:
        zero = n == 0
        # torch's pow_backward: the factor is 0 wherever the exponent is 0 (n·x^(n−1) would
        # be 0 × ∞ at x = 0)
        value = torch.where(zero, torch.zeros_like(x * n), n * x ** (n - 1))
        note = (f"where {ctx.label(1)} = 0 torch uses 0 for {ctx.sub('{y}·{x}^({y} − 1)')}"
                .replace("−", MINUS) if bool(zero.any()) else "")
        parts.append(Local(0, ctx.sub("{y}·{x}^({y} − 1)".replace("−", MINUS)), value,
                           "" if note else f"{base(n)} × {base(x)}^({fmt(n)} {MINUS} 1)",
                           "×", note))
    if _out(ctx, 1) is not None:
        at0 = x == 0
        value = torch.where(at0 & (n >= 0), torch.zeros_like(r), r * torch.log(x))
        note = ""
        if bool(at0.any()):
            note = (f"at {ctx.label(0)} = 0, {ctx.sub('{x}^{y}·ln({x})')} would be 0 × ln 0; "
                    "torch uses 0 there (the limit when the exponent is ≥ 0)")
        work = "" if note else f"{base(r)} × ln({fmt(x)})"
        parts.append(Local(1, ctx.sub("{x}^{y}·ln({x})"), value, work, "×", note))
    return parts


def _pow2_local(ctx):
    c, r = ctx.saved("self"), ctx.saved("result")
    name = ctx.const(0, fmt(c))
    return [Local(0, f"{name}^{ctx.arg(0)}·ln({name.strip('()') if atomic(name) else name})",
                  r * math.log(float(c)) if not isinstance(c, torch.Tensor)
                  else r * torch.log(c), f"{base(r)} × ln({fmt(c)})")]


def _ones_like_input(ctx):
    sizes = ctx.saved("self_sym_sizes")
    dtype = ctx.g.dtype if ctx.g is not None else torch.float32
    return torch.ones(tuple(sizes) if sizes is not None else (), dtype=dtype)


def _sum_local(ctx):
    return [Local(0, f"1 for every entry of {ctx.label(0)}", _ones_like_input(ctx))]


def _dims(dim) -> str:
    if isinstance(dim, tuple):
        return ", ".join(str(_signed_dim(d)) for d in dim)
    return str(_signed_dim(dim))


def _signed_dim(d):
    # torch stores dim=-1 as an unsigned 64-bit number in saved attributes
    return d - 2 ** 64 if isinstance(d, int) and d >= 2 ** 63 else d


def _sum_dim_local(ctx):
    sizes, dim = ctx.saved("self_sym_sizes"), ctx.saved("dim")
    return [Local(0, f"{ctx.G} copied along dim {_dims(dim)} of {ctx.label(0)}", None,
                  f"{fmt(ctx.g)} copied along dim {_dims(dim)} to shape "
                  f"{shape_text(sizes or ())}", "")]


def _mean_local(ctx):
    sizes = ctx.saved("self_sym_sizes") or ()
    n = ctx.saved("self_sym_numel") or (math.prod(sizes) if sizes else 1)
    return [Local(0, f"1/{n} for every entry of {ctx.label(0)} ({shape_text(sizes)})",
                  _ones_like_input(ctx) / n)]


def _mean_dim_local(ctx):
    sizes, dim = ctx.saved("self_sym_sizes"), ctx.saved("dim")
    dims = dim if isinstance(dim, tuple) else (dim,)
    n = math.prod(sizes[_signed_dim(d)] for d in dims) if sizes else 1
    return [Local(0, f"{ctx.G} / {n} copied along dim {_dims(dim)} of {ctx.label(0)}", None,
                  f"{fmt(ctx.g)} / {n} copied along dim {_dims(dim)}", "")]


def _others_product(x: torch.Tensor, dim=None) -> torch.Tensor:
    """For each entry, the product of the other entries (of its row along ``dim``), computed
    without dividing, so a zero entry is handled as torch does."""
    x = x.detach()
    if dim is None:
        flat = x.reshape(-1)
        out = torch.empty_like(flat)
        for k in range(flat.numel()):
            out[k] = torch.cat([flat[:k], flat[k + 1:]]).prod()
        return out.reshape(x.shape)
    moved = x.movedim(dim, -1)
    out = torch.empty_like(moved)
    for k in range(moved.shape[-1]):
        out[..., k] = torch.cat([moved[..., :k], moved[..., k + 1:]], dim=-1).prod(-1)
    return out.movedim(-1, dim)


def _prod_local(ctx):
    x = ctx.saved("self")
    dim = ctx.saved("dim")
    note = ""
    if _at_zero(x):
        note = (f"{ctx.label(0)} has a zero entry: the product of the other entries is "
                "computed directly (dividing the product by the entry would divide by 0)")
    if dim is None:
        return [Local(0, f"the product of the other entries of {ctx.label(0)}",
                      _others_product(x), "", "×", note)]
    d = _signed_dim(dim)
    return [Local(0, f"{ctx.G} × (the product of the other entries along dim {d} of "
                     f"{ctx.arg(0)})", None,
                  f"{fmt(ctx.g)} × {fmt(_others_product(x, d))}", "", note)]


def _norm_local(ctx):
    p, x, r = ctx.saved("ord"), ctx.saved("self"), ctx.saved("result")
    p = float(p.item() if isinstance(p, torch.Tensor) else p)
    same = isinstance(r, torch.Tensor) and r.numel() == 1
    matrix = isinstance(x, torch.Tensor) and x.dim() >= 2 and same
    what = f"‖{ctx.label(0)}‖"
    frob = (f"{what} is the Frobenius norm of the matrix {ctx.label(0)}: all its entries as one "
            "vector") if matrix and p == 2 else ""
    if not same:
        return [Local(0, f"{ctx.G} × sign({ctx.label(0)})|{ctx.label(0)}|{superscript(p - 1)} / "
                         f"{what}{superscript(p - 1)} along the reduced dims (p = {num(p)})", None,
                      f"{ctx.label(0)} = {fmt(x)}, {what} = {fmt(r)}", "", frob)]
    zero = bool((r == 0).all())
    if zero:
        return [Local(0, f"0 (torch's subgradient where {what} = 0)", torch.zeros_like(x), "",
                      "×", f"{what} = 0: the norm has no derivative there; torch picks the "
                      "subgradient 0")]
    if p == 2:
        value = torch.zeros_like(x) if zero else x / r
        note = (f"{what} = 0: the norm has no derivative there; torch picks the subgradient "
                "0" if zero else frob)
        return [Local(0, f"{ctx.arg(0)} / {what}", value, f"{fmt(x)} / {fmt(r)}", "×", note)]
    value = torch.zeros_like(x) if zero else torch.sign(x) * x.abs() ** (p - 1) / r ** (p - 1)
    note = f"{what} = 0: torch picks the subgradient 0" if zero else ""
    return [Local(0, f"sign({ctx.label(0)})|{ctx.label(0)}|{superscript(p - 1)} / "
                     f"{what}{superscript(p - 1)}", value,
                  f"sign({fmt(x)}) ⊙ |{fmt(x)}|{superscript(p - 1)} / {base(r)}"
                  f"{superscript(p - 1)}", "×", note)]


def _extreme_local(word: str):
    def local(ctx):
        x, r = ctx.saved("self"), ctx.saved("result")
        hits = (x == r)
        count = int(hits.sum())
        value = hits.to(x.dtype) / max(count, 1)
        note = ""
        if count > 1:
            note = (f"tie: {count} entries of {ctx.label(0)} share the {word} value "
                    f"{fmt(r)}; torch splits the gradient evenly, 1/{count} each")
        return [Local(0, f"1 for the {word} entry of {ctx.label(0)}, 0 for the others", value,
                      "", "×", note)]
    return local


def _extreme_dim_local(word: str):
    def local(ctx):
        return [Local(0, f"{ctx.G} to the {word} entry along dim "
                         f"{_dims(ctx.saved('dim'))} of {ctx.label(0)}, 0 elsewhere", None,
                      f"{fmt(ctx.g)} to positions {fmt(ctx.saved('indices'))}", "",
                      "on ties torch sends it all to the position it returned as the index")]
    return local


def _logsumexp_local(ctx):
    x, r = ctx.saved("self"), ctx.saved("result")
    value = torch.exp(x - r)
    if ctx.g is not None and ctx.g.numel() == 1:
        return [Local(0, f"softmax({ctx.label(0)}) = exp({ctx.label(0)} {MINUS} {ctx.me})",
                      value, f"exp({fmt(x)} {MINUS} {base(r)})")]
    return [Local(0, f"{ctx.G} × softmax({ctx.label(0)}) along the reduced dims", None,
                  f"{fmt(ctx.g)} × {fmt(value)}", "")]


def _softmax_local(ctx):
    y, g = ctx.saved("result"), ctx.g
    d = _signed_dim(ctx.saved("dim"))
    s = (g * y).sum(d, keepdim=True)
    return [Local(0, f"{ctx.me} ⊙ ({ctx.G} {MINUS} Σ({ctx.G} ⊙ {ctx.me})) along dim {d}", None,
                  f"{fmt(y)} ⊙ ({fmt(g)} {MINUS} {base(s)})", "")]


def _log_softmax_local(ctx):
    y, g = ctx.saved("result"), ctx.g
    d = _signed_dim(ctx.saved("dim"))
    return [Local(0, f"{ctx.G} {MINUS} softmax({ctx.label(0)}) ⊙ Σ{ctx.G} along dim {d}", None,
                  f"{fmt(g)} {MINUS} {fmt(torch.exp(y))} ⊙ {fmt(g.sum(d, keepdim=True))}", "")]


def _trace_local(ctx):
    sizes = ctx.saved("self_sym_sizes")
    return [Local(0, f"{ctx.G} on the diagonal of {ctx.label(0)}, 0 elsewhere", None,
                  f"{fmt(ctx.g)} on the diagonal of the {shape_text(sizes or ())} matrix", "")]


def _t(value):
    return value.mT if isinstance(value, torch.Tensor) and value.dim() >= 2 else value


def _mm_local(ctx):
    a, b = ctx.saved("self"), ctx.saved("mat2")
    parts = []
    if _out(ctx, 0) is not None:
        parts.append(Local(0, f"{ctx.arg(1)}ᵀ", _t(b), "", "right"))
    if _out(ctx, 1) is not None:
        parts.append(Local(1, f"{ctx.arg(0)}ᵀ", _t(a), "", "left"))
    return parts


def _mv_local(ctx):
    a, v = ctx.saved("self"), ctx.saved("vec")
    parts = []
    if _out(ctx, 0) is not None:
        parts.append(Local(0, ctx.arg(1), v, "", "outer"))
    if _out(ctx, 1) is not None:
        parts.append(Local(1, f"{ctx.arg(0)}ᵀ", _t(a), "", "left"))
    return parts


def _bmm_local(ctx):
    a, b = ctx.saved("self"), ctx.saved("mat2")
    parts = []
    if _out(ctx, 0) is not None:
        parts.append(Local(0, f"{ctx.G} · {ctx.arg(1)}ᵀ for each matrix of the batch", None,
                           f"{fmt(ctx.g)} · {fmt(_t(b))}", ""))
    if _out(ctx, 1) is not None:
        parts.append(Local(1, f"{ctx.arg(0)}ᵀ · {ctx.G} for each matrix of the batch", None,
                           f"{fmt(_t(a))} · {fmt(ctx.g)}", ""))
    return parts


def _dot_local(ctx):
    a, b = ctx.saved("self"), ctx.saved("tensor")
    parts = []
    if _out(ctx, 0) is not None:
        parts.append(Local(0, ctx.arg(1), b))
    if _out(ctx, 1) is not None:
        parts.append(Local(1, ctx.arg(0), a))
    return parts


def _expand_local(ctx):
    return [Local(i, f"{ctx.G} summed over the copies the broadcast made", None,
                  f"{fmt(ctx.g)} summed back to shape {shape_text(out.shape)}", "")
            for i, out in enumerate(ctx.grad_out) if out is not None]


_UNARY: dict[str, tuple] = {
    # op: (symbol of the local derivative, its value, the arithmetic, a note at kinks)
    "SinBackward0": ("cos({x})", lambda c: torch.cos(_X(c)), lambda c: f"cos({fmt(_X(c))})"),
    "CosBackward0": (MINUS + "sin({x})", lambda c: -torch.sin(_X(c)),
                     lambda c: f"{MINUS}sin({fmt(_X(c))})"),
    "TanBackward0": ("1 + tan²({x})", lambda c: 1 + _R(c) ** 2, lambda c: f"1 + {base(_R(c))}²"),
    "AsinBackward0": ("1 / √(1 − {x}²)", lambda c: 1 / torch.sqrt(1 - _X(c) ** 2),
                      lambda c: f"1 / √(1 {MINUS} {base(_X(c))}²)"),
    "AcosBackward0": ("−1 / √(1 − {x}²)", lambda c: -1 / torch.sqrt(1 - _X(c) ** 2),
                      lambda c: f"{MINUS}1 / √(1 {MINUS} {base(_X(c))}²)"),
    "AtanBackward0": ("1 / (1 + {x}²)", lambda c: 1 / (1 + _X(c) ** 2),
                      lambda c: f"1 / (1 + {base(_X(c))}²)"),
    "SinhBackward0": ("cosh({x})", lambda c: torch.cosh(_X(c)), lambda c: f"cosh({fmt(_X(c))})"),
    "CoshBackward0": ("sinh({x})", lambda c: torch.sinh(_X(c)), lambda c: f"sinh({fmt(_X(c))})"),
    "TanhBackward0": ("1 − tanh²({x})", lambda c: 1 - _R(c) ** 2,
                      lambda c: f"1 {MINUS} {base(_R(c))}²"),
    "ExpBackward0": ("exp({x})", _R, None),
    "Expm1Backward0": ("exp({x})", lambda c: _R(c) + 1, lambda c: f"{fmt(_R(c))} + 1"),
    "LogBackward0": ("1/{x}", lambda c: 1 / _X(c), lambda c: f"1 / {base(_X(c))}"),
    "Log2Backward0": ("1 / ({x} ln 2)", lambda c: 1 / (_X(c) * _LN2),
                      lambda c: f"1 / ({base(_X(c))} × 0.693147)"),
    "Log10Backward0": ("1 / ({x} ln 10)", lambda c: 1 / (_X(c) * _LN10),
                       lambda c: f"1 / ({base(_X(c))} × 2.30259)"),
    "Log1PBackward0": ("1 / (1 + {x})", lambda c: 1 / (1 + _X(c)),
                       lambda c: f"1 / (1 + {base(_X(c))})"),
    "SqrtBackward0": ("1 / (2√{x})", lambda c: 1 / (2 * _R(c)),
                      lambda c: f"1 / (2 × {fmt(_R(c))})"),
    "RsqrtBackward0": ("−½ {x}^(−3/2)", lambda c: -0.5 * _R(c) ** 3,
                       lambda c: f"{MINUS}0.5 × {base(_R(c))}³"),
    "ReciprocalBackward0": ("−1/{x}²", lambda c: -_R(c) ** 2,
                            lambda c: f"{MINUS}{base(_R(c))}²"),
    "AbsBackward0": ("sign({x})", lambda c: torch.sign(_X(c)), lambda c: f"sign({fmt(_X(c))})",
                     _kink("|{x}|", "torch uses sign(0) = 0")),
    "NegBackward0": ("−1", _const(-1.0), None),
    "SigmoidBackward0": ("σ({x})(1 − σ({x}))", lambda c: _R(c) * (1 - _R(c)),
                         lambda c: f"{fmt(_R(c))} {times(_R(c), 0)} {fmt(1 - _R(c))}"),
    "ReluBackward0": ("1 where {x} > 0, else 0",
                      lambda c: (_R(c) > 0).to(_R(c).dtype), None,
                      # relu saves only its result, 0 for x < 0 and x = 0 alike: the kink
                      # is named only where the input's own value is 0
                      lambda c: (f"kink: relu({c.label(0)}) has no derivative where "
                                 f"{c.label(0)} = 0; torch uses 0 there"
                                 if _at_zero(c.input_value(0)) else "")),
    "SoftplusBackward0": ("σ({x}) (1 past the threshold)", _softplus_derivative, None),
    "ErfBackward0": ("2/√π · exp(−{x}²)",
                     lambda c: 2 / math.sqrt(math.pi) * torch.exp(-_X(c) ** 2),
                     lambda c: f"1.12838 × exp({MINUS}{base(_X(c))}²)"),
    "PowBackward0": None,  # written by _pow0_local (the exponent is a number)
    "ClampBackward1": ("1 inside [min, max], 0 outside", _clamp_derivative, None),
    "ClampMinBackward0": ("1 where {x} ≥ min, else 0", _clamp_derivative, None),
    "ClampMaxBackward0": ("1 where {x} ≤ max, else 0", _clamp_derivative, None),
}


def _unary_spec(entry) -> RuleSpec:
    symbol, derivative, work, *note = entry
    return elementwise(symbol.replace("−", MINUS), derivative, work, note[0] if note else None)


#: torch backward node name -> its rule.
RULES: dict[str, RuleSpec] = {
    name: _unary_spec(entry) for name, entry in _UNARY.items() if entry is not None
}
_ADD = "add distributes: each input receives the incoming gradient unchanged"
_MUL = "mul swaps: each factor receives the incoming gradient times the other factor"
RULES.update({
    "PowBackward0": custom(_pow0_local),
    # operators + - * / **
    "AddBackward0": binary(("1", "1"), (_const(1.0), _const(1.0)), _ADD),
    "AddBackward1": binary(("1", "1"), (_const(1.0), _const(1.0)), _ADD),
    "SubBackward0": binary(("1", MINUS + "1"), (_const(1.0), _const(-1.0)),
                           "subtraction: the first input receives the gradient, the second "
                           "its negative"),
    "SubBackward1": binary(("1", MINUS + "1"), (_const(1.0), _const(-1.0))),
    "RsubBackward0": binary((MINUS + "1", "1"), (_const(-1.0), _const(1.0))),
    "RsubBackward1": binary((MINUS + "1", "1"), (_const(-1.0), _const(1.0))),
    "MulBackward0": binary(("{y}", "{x}"), (_s("other"), _s("self")), _MUL),
    "MulBackward1": binary(("{y}", "{x}"), (_s("other"), _const(0.0)), _MUL),
    "DivBackward0": custom(_div_local),
    "DivBackward1": binary(("1/{y}", "0"), (lambda c: 1 / c.saved("other"), _const(0.0))),
    "PowBackward1": custom(_pow1_local),
    "PowBackward2": custom(_pow2_local),
    "ClampBackward0": custom(_clamp_tensor_local, "clamp routes: where {x} is inside the "
                             "bounds it receives the gradient, elsewhere the bound it passed"),
    "MaximumBackward0": _binary_extreme("max"),
    "MinimumBackward0": _binary_extreme("min"),
    # reductions
    "SumBackward0": custom(_sum_local, "sum copies: every entry receives the gradient"),
    "SumBackward1": custom(_sum_dim_local, "sum copies: every entry receives the gradient"),
    "MeanBackward0": custom(_mean_local),
    "MeanBackward1": custom(_mean_dim_local),
    "ProdBackward0": custom(_prod_local),
    "ProdBackward1": custom(_prod_local),
    "LinalgVectorNormBackward0": custom(_norm_local),
    "MaxBackward1": custom(_extreme_local("largest"),
                           "max routes: the gradient goes to the largest entry"),
    "MinBackward1": custom(_extreme_local("smallest"),
                           "min routes: the gradient goes to the smallest entry"),
    "MaxBackward0": custom(_extreme_dim_local("largest"),
                           "max routes: the gradient goes to the largest entry of each row"),
    "MinBackward0": custom(_extreme_dim_local("smallest"),
                           "min routes: the gradient goes to the smallest entry of each row"),
    "LogsumexpBackward0": custom(_logsumexp_local),
    "SoftmaxBackward0": custom(_softmax_local),
    "LogSoftmaxBackward0": custom(_log_softmax_local),
    "TraceBackward0": custom(_trace_local),
    # products
    "MmBackward0": custom(_mm_local),
    "BmmBackward0": custom(_bmm_local),
    "MvBackward0": custom(_mv_local),
    "DotBackward0": custom(_dot_local, _MUL),
    # entries moved, not changed: the gradient is moved back
    "TBackward0": passes("transposed back"),
    "TransposeBackward0": passes("transposed back"),
    "PermuteBackward0": passes("with its dims put back in order"),
    "ViewBackward0": passes("reshaped back to its input shape"),
    "UnsafeViewBackward0": passes("reshaped back to its input shape"),
    "ReshapeAliasBackward0": passes("reshaped back to its input shape"),
    "SqueezeBackward0": passes("with the removed size-1 dims put back"),
    "SqueezeBackward1": passes("with the removed size-1 dim put back"),
    "SqueezeBackward2": passes("with the removed size-1 dims put back"),
    "SqueezeBackward4": passes("with the size-1 dim put back"),
    "UnsqueezeBackward0": passes("with the added size-1 dim removed"),
    "ExpandBackward0": custom(_expand_local),
    "CloneBackward0": passes("unchanged (copied)"),
    "AliasBackward0": passes("unchanged"),
})
# older torch builds name the norm's backward node differently: same rule
for _old in ("NormBackward0", "NormBackward1", "NormBackward2", "NormBackward3"):
    RULES.setdefault(_old, RULES["LinalgVectorNormBackward0"])

#: What a leaf's step says: the engine sums the paths of this one backward pass (as it does
#: at every node reached along several paths); .grad is where the total is stored.
ACCUMULATE_FORMULA = ("forks sum: {name} is reached along {count} paths; the engine adds "
                      "their gradients and stores the total in {name}.grad")
ACCUMULATE_ONE = "{name} is reached along one path: its gradient is stored in {name}.grad"


def register(op: str, spec: RuleSpec) -> None:
    """Add the rule of backward node ``op`` (modules ``core/rules_*.py`` call this, or
    ``RULES.update``); a later registration of the same name wins."""
    RULES[op] = spec


# the notebook functions' nodes (indexing, joining, losses, activations...):
# core.teaching.rules_more
from core.teaching import rules_more  # noqa: E402  (it builds on the helpers above)

rules_more.register(RULES)


def accumulate_rule(name: str, contributions, total) -> Rule:
    """The rule of a leaf's AccumulateGrad step with each path's term written out:
    ``∂f/∂w = 6 + 103.432 = 109.432``."""
    line = f"{name}.grad = {signed_sum(contributions)}"
    if len(contributions) > 1:
        line += f" = {fmt(total)}"
    words = ACCUMULATE_FORMULA if len(contributions) > 1 else ACCUMULATE_ONE
    return Rule("AccumulateGrad", words.replace("{name}", name).replace(
        "{count}", str(len(contributions))), (line,))


def has_rule(op: str) -> bool:
    """True when ``op`` (a backward node's type name) has its own rule, not the fallback."""
    return op in RULES or op == "AccumulateGrad"


# --------------------------------------------------------------------------- writing a step


def _reduced_dims(full_shape, shape) -> tuple[int, ...]:
    """The axes of ``full_shape`` that broadcasting added or stretched relative to ``shape``."""
    extra = len(full_shape) - len(shape)
    dims = list(range(extra))
    for k, size in enumerate(shape):
        if size == 1 and full_shape[extra + k] != 1:
            dims.append(extra + k)
    return tuple(dims)


def reduction_line(product: torch.Tensor, out: torch.Tensor, name: str) -> str:
    """``summed over axis 0 (w was broadcast): 0 − 0.333 − 1.333 = −1.667``."""
    dims = _reduced_dims(tuple(product.shape), tuple(out.shape))
    if not dims:
        return ""
    axes = ("axis " if len(dims) == 1 else "axes ") + ", ".join(map(str, dims))
    head = f"summed over {axes} ({name} was broadcast to {shape_text(product.shape)})"
    moved = product.movedim(dims, tuple(range(len(dims)))).reshape(
        math.prod(product.shape[d] for d in dims), -1)
    if moved.shape[1] <= 4 and moved.shape[0] <= 6:
        sums = "; ".join(f"{signed_sum(list(moved[:, k]))} = {fmt(moved[:, k].sum())}"
                         for k in range(moved.shape[1]))
        return f"{head}: {sums}" + (f", so {fmt(out)}" if out.numel() > 1 else "")
    return f"{head}: {fmt(product)} → {fmt(out)}"


def _product_text(local: Local, g, out) -> tuple[str, str, object]:
    """(symbolic product, numeric product, the unreduced product tensor or None)."""
    v = local.value
    shown = fmt(v) if v is not None else "?"
    if shown.startswith(MINUS) and not shown.startswith(MINUS + "∞") and "[" not in shown:
        shown = f"({shown})"  # 1 × (−0.8), as a student writes it: not 1 × −0.8
    if local.apply == "right":
        return "·", f"{fmt(g)} · {shown}", None
    if local.apply == "left":
        return "·", f"{shown} · {fmt(g)}", None
    if local.apply == "outer":
        return "⊗", f"{fmt(g)} ⊗ {shown}", None
    product = None
    if isinstance(v, torch.Tensor) and isinstance(g, torch.Tensor):
        try:
            product = g * v
        except RuntimeError:
            product = None
    elif isinstance(v, (int, float)) and isinstance(g, torch.Tensor):
        product = g * v
    return times(g, v), f"{fmt(g)} {times(g, v)} {shown}", product


def _shapes(a, b) -> str:
    if all(isinstance(t, torch.Tensor) for t in (a, b)):
        return f"({shape_text(a.shape)})·({shape_text(b.shape)})"
    return ""


def term_lines(ctx: StepContext, local: Local) -> tuple[str, ...]:
    """The lines of one input's share: the local derivative evaluated (when there is
    arithmetic to show), the chain rule, and any sum over broadcast axes."""
    return _term(ctx, local)[0]


def _term(ctx: StepContext, local: Local) -> tuple[tuple[str, ...], str, tuple]:
    """(lines, chain in symbols, numeric items) of one input's share."""
    i, g, out = local.input, ctx.g, _out(ctx, local.input)
    name = ctx.arg(i)
    target = f"∂{ctx.output}/∂{ctx.plain_arg(i)}"
    lines = []
    if local.apply == "":
        middle = f" = {local.work}" if local.work else ""
        chain = f"{target} += {local.symbol}"
        items = ((local.work, "=", out) if local.work else ("=", out))
        lines.append(f"{chain}{middle} = {fmt(out)}")
    else:
        d_local = f"∂{ctx.me}/∂{name}"
        value_text = fmt(local.value) if local.value is not None else "?"
        if local.work or local.symbol != value_text:
            evaluation = " = ".join(part for part in (local.symbol, local.work, value_text)
                                    if part)
            lines.append(evaluation if local.apply == "×" else f"{local.symbol} = {value_text}")
        sign, numbers, product = _product_text(local, g, out)
        if local.apply == "right":
            chain = f"{target} += {ctx.G} · {local.symbol}"
            shapes = _shapes(g, local.value)
        elif local.apply == "left":
            chain = f"{target} += {local.symbol} · {ctx.G}"
            shapes = _shapes(local.value, g)
        elif local.apply == "outer":
            chain = f"{target} += {ctx.G} ⊗ {local.symbol}"
            shapes = ""
        else:
            chain = f"{target} += {ctx.G} · {d_local}"
            shapes = ""
        # a broadcast input: the product has the broadcast shape and is summed back to the
        # input's; the line shows the product as it is (true as written), the sum follows
        reduced = product is not None and isinstance(out, torch.Tensor) \
            and tuple(product.shape) != tuple(out.shape)
        result = product if reduced else out
        lines.append(f"{chain} = {numbers} = {fmt(result)}")
        shown = local.value if local.value is not None else "?"
        items = {"right": (g, "·", shown), "left": (shown, "·", g),
                 "outer": (g, "⊗", shown)}.get(local.apply, (g, sign, shown)) + ("=", result)
        if shapes and isinstance(out, torch.Tensor):
            lines.append(f"shapes: {shapes} = ({shape_text(out.shape)}), the shape of "
                         f"{ctx.plain_arg(i)}; "
                         "the transpose is what makes the inner sizes match")
        if reduced:
            lines.append(reduction_line(product, out, ctx.plain_arg(i)))
    return tuple(line for line in lines if line), chain, items


_PLACEHOLDER = re.compile(r"(?<![A-Za-z_0-9ᵢⱼ])(d/d)?([xyabcvnABGXCv])(?![A-Za-z_0-9(])")


def bind_placeholders(text: str, ctx: StepContext) -> str:
    """An earlier-form rule's text with its placeholder letters bound to the program's
    names: x, a, A, X and v are input 1, y, b, B and the second v input 2, c and n the
    constant, G the incoming gradient (∂f/∂node); ``d/dx`` becomes ``∂/∂w``."""
    first = {"x": 0, "a": 0, "A": 0, "X": 0, "y": 1, "b": 1, "B": 1, "v": 1}

    def replace(match):
        deriv, letter = match.groups()
        if letter == "G":
            bound = ctx.G
        elif letter in ("c", "n", "C"):
            bound = ctx.const(0, "the constant")
        else:
            bound = ctx.arg(first[letter])
        return f"∂/∂{bound}" if deriv else bound

    return _PLACEHOLDER.sub(replace, text)


def _legacy_rule(op: str, spec: RuleSpec, ctx: StepContext) -> Rule:
    formula = bind_placeholders(spec.formula or "", ctx)
    lines = []
    for line in spec.numbers(ctx) if spec.numbers else []:
        match = re.match(r"to (.*?): (.*)$", line)
        if match:
            label, rest = match.groups()
            lines.append(f"∂{ctx.output}/∂{wrap(pretty(label))} += "
                         f"{bind_placeholders(rest, ctx)}")
        else:
            lines.append(bind_placeholders(line, ctx))
    return Rule(op, formula, tuple(lines))


def _nonfinite_note(ctx: StepContext) -> str:
    for i, out in enumerate(ctx.grad_out):
        if isinstance(out, torch.Tensor) and not bool(torch.isfinite(distinct(out)).all()):
            bad = "NaN" if bool(torch.isnan(distinct(out)).any()) else "∞"
            g_ok = ctx.g is None or bool(torch.isfinite(distinct(ctx.g)).all())
            where = ("it starts here: the local derivative is not finite at these values"
                     if g_ok else "it arrived with the incoming gradient and passes on")
            return f"{bad} in the gradient sent to {ctx.arg(i)}: {where}"
    return ""


#: what each input slot of an operation is called, for a tensor that fills several slots
_SLOT_WORDS = (("Mul", ("first factor", "second factor")), ("Mm", ("first factor",
               "second factor")), ("Mv", ("matrix", "vector")), ("Dot", ("first factor",
               "second factor")), ("Bmm", ("first factor", "second factor")),
               ("Pow", ("base", "exponent")), ("Div", ("numerator", "denominator")),
               ("Add", ("first term", "second term")), ("Sub", ("first operand",
               "second operand")))
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def slot_word(op: str, i: int) -> str:
    """What input slot ``i`` of operation ``op`` is called: "first factor", "base"..."""
    words = next((w for prefix, w in _SLOT_WORDS if op.startswith(prefix)), ())
    return words[i] if i < len(words) else f"input {i + 1}"


def slot_aliases(op: str, ctx: StepContext) -> tuple[dict[int, str], str]:
    """When one tensor fills several input slots of a node (``y * y``, ``W @ W``,
    ``x ** x``), a name per slot (``y₁``, ``y₂``) and the sentence that says which is
    which, so that each slot's term reads differently: ``∂f/∂y₁ = y₂; ∂f/∂y₂ = y₁``.
    Both terms still add into the one tensor's gradient, ``∂f/∂y += ...``."""
    slots: dict[str, list[int]] = {}
    edges = list(getattr(ctx.fn, "next_functions", ()) or ())
    for i, label in enumerate(ctx.labels):
        if label:
            slots.setdefault(ctx.plain_label(i), []).append(i)
    words = next((w for prefix, w in _SLOT_WORDS if op.startswith(prefix)), ())
    aliases, sentences = {}, []
    for label, where in slots.items():
        if len(where) < 2:
            continue
        named = []
        for k, i in enumerate(where):
            aliases[i] = wrap(label) + str(k + 1).translate(_SUBSCRIPT)
            word = words[i] if i < len(words) else f"input {i + 1}"
            named.append(f"{aliases[i]} the {word}")
        count = "twice" if len(where) == 2 else f"{len(where)} times"
        joined = ", ".join(named[:-1]) + " and " + named[-1]
        every = "both" if len(where) == 2 else "all"
        # the same tensor, or the same text computed again ((x*y)*(x*y): two nodes)
        made_by = {(id(edges[i][0]), edges[i][1]) for i in where
                   if i < len(edges) and edges[i][0] is not None}
        if len(made_by) > 1:
            ctx.separate.update(where)
            sentences.append(f"{wrap(label)} is computed {count}, by separate nodes: "
                             f"{joined}; each receives its own gradient")
        else:
            sentences.append(f"{wrap(label)} is used {count} here: as {joined}; {every} "
                             f"terms add into ∂{ctx.output}/∂{wrap(label)}")
    return aliases, "\n".join(sentences)


def rule_for(fn, grad_in, grad_out, labels=(), *, output: str = "f", node: str = "",
             constants=(), inputs=()) -> Rule:
    """The rule of the step that ran ``fn``: its formula and this step's numbers.

    ``grad_in`` is the gradient flowing in (a list, as the engine passes it), ``grad_out``
    the gradients sent along ``next_functions`` (None where an input needs none),
    ``labels`` the display of each input slot, ``output`` the output's name, ``node`` the
    node's own display, ``constants`` the texts of constant operands, ``inputs`` the
    forward values of the input slots where known.
    """
    op = type(fn).__name__
    spec = RULES.get(op)
    ctx = StepContext(fn, list(grad_in), list(grad_out), list(labels), output, node,
                      list(constants), inputs=list(inputs))
    ctx.aliases, naming = slot_aliases(op, ctx)
    nonfinite = _nonfinite_note(ctx)
    if spec is None:
        lines = [f"∂{output}/∂{ctx.plain_arg(i)} += {fmt(out)}"
                 for i, out in enumerate(ctx.grad_out) if out is not None]
        return Rule(op, f"torch's own backward formula for {op}: {ctx.G} = {fmt(ctx.g)} goes in",
                    tuple(lines), generic=True, notes=(nonfinite,) if nonfinite else ())
    try:
        if spec.local is None:
            rule = _legacy_rule(op, spec, ctx)
            return Rule(op, rule.formula, rule.numbers, notes=(nonfinite,) if nonfinite else ())
        locals_ = spec.local(ctx)
        terms, formula = [], []
        for local in locals_:
            name = ctx.arg(local.input)
            if local.apply == "×":
                formula.append(f"∂{ctx.me}/∂{name} = {local.symbol}")
            elif local.apply in ("right", "left", "outer"):
                how = {"right": f"{ctx.G} · {local.symbol}", "left": f"{local.symbol} · {ctx.G}",
                       "outer": f"{ctx.G} ⊗ {local.symbol}"}[local.apply]
                formula.append(f"∂{ctx.output}/∂{name} = {how}")
            lines, chain, items = _term(ctx, local)
            terms.append(Term(local.input, ctx.plain_arg(local.input), local, ctx.g,
                              _out(ctx, local.input),
                              lines, chain, items))
    except (TypeError, RuntimeError, AttributeError, ValueError, IndexError, ZeroDivisionError):
        # the numbers are an explanation; if a saved value cannot be read, show the result
        numbers = tuple(f"∂{output}/∂{ctx.plain_arg(i)} += {fmt(out)}"
                        for i, out in enumerate(ctx.grad_out) if out is not None)
        return Rule(op, "", numbers, notes=(nonfinite,) if nonfinite else ())
    notes = tuple(dict.fromkeys(n for n in [t.local.note for t in terms] + [nonfinite] if n))
    pattern = "\n".join(p for p in (ctx.sub(spec.pattern) if spec.pattern else "", naming)
                        if p)
    return Rule(op, "; ".join(formula), tuple(line for t in terms for line in t.lines),
                pattern=pattern, notes=notes, terms=tuple(terms))
