"""Where a program passes through a kink: relu or abs at 0, max/min ties, clamp edges.

At such points there is no derivative; torch returns a convention (a subgradient) and a
finite difference straddling the kink returns an average of the two sides. Neither is wrong,
so the check reports "non-smooth" there instead of a disagreement.

:func:`kinks` reads an evaluation's forward records and, for every operation with a kink,
computes its *branch pattern*: which side of the kink each entry is on (the sign of relu's
argument, which argument of maximum wins, which entries attain a max, where clamp clips).
Two evaluations at nearby points took the same smooth branch exactly when every pattern is
equal; an entry of a pattern at the kink itself (a sign of 0, a tie) means the point is on it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.errors import Span
from core.language.parser import Call, Literal, Name, Number, UnaryOp

#: Functions whose derivative jumps somewhere (or that jump themselves: sign, floor).
KINK_FUNCTIONS = frozenset({"relu", "abs", "maximum", "minimum", "max", "min", "clamp", "clip",
                            "norm", "amax", "amin", "leaky_relu", "relu6", "hardtanh",
                            "hardsigmoid", "hardswish", "sign", "floor", "ceil", "round",
                            "trunc", "frac"})

#: Activations made of straight pieces: their corners (None: a keyword gives it)
_CORNERS = {"leaky_relu": (0.0,), "relu6": (0.0, 6.0), "hardsigmoid": (-3.0, 3.0),
            "hardswish": (-3.0, 3.0)}

#: Steps: where each jumps (the function is constant, or has slope 1, between the jumps)
_JUMPS = {"sign": "0", "floor": "the whole numbers", "ceil": "the whole numbers",
          "trunc": "the whole numbers", "frac": "the whole numbers",
          "round": "the halves (0.5, 1.5, ...)"}


@dataclass
class Kink:
    """One operation with a kink: its text, where it is, its branch pattern, and whether
    some entry sits exactly on the kink."""

    key: tuple
    text: str
    span: Span
    pattern: tuple[torch.Tensor, ...]
    at_kink: bool
    what: str
    #: what torch's backward gives there, in words (it is not always one side's value:
    #: abs'(0) is 0, a tie in maximum gives ½ to each)
    torch_gives: str = ""

    def same_branch(self, other: Kink) -> bool:
        """True if ``other`` (the same operation at another point) took the same branches."""
        if len(self.pattern) != len(other.pattern):
            return False
        return all(a.shape == b.shape and torch.equal(a, b)
                   for a, b in zip(self.pattern, other.pattern))


def kinks(evaluation) -> dict[tuple, Kink]:
    """Every kinked operation of ``evaluation``, keyed by its place in the text (so the same
    operation can be found in another evaluation of the same program)."""
    by_node = {id(record.node): record for record in evaluation.records}
    found: dict[tuple, Kink] = {}
    for record in evaluation.records:
        node = record.node
        if not isinstance(node, Call) or node.function not in KINK_FUNCTIONS:
            continue
        args = [_value(arg, record, evaluation, by_node) for arg in node.args]
        if not args or args[0] is None:
            continue
        out = record.tensor.detach()
        kwargs = {key: _literal(value) for key, value in node.kwargs}
        other = node.args[1] if len(node.args) > 1 else node.kwarg("other")
        if node.function in ("max", "min") and other is not None \
                and _is_tensor(other, record, evaluation, by_node):
            # torch.max(x, y) with a tensor y, a 0-d one too, is torch.maximum
            args = [args[0], _value(other, record, evaluation, by_node)]
            pattern, at_kink, what, gives = _pattern(f"{node.function}imum", args, {}, out)
        else:
            pattern, at_kink, what, gives = _pattern(node.function, args, kwargs, out)
        if pattern is None:
            continue
        key = (node.span, node.text)
        found[key] = Kink(key, node.text, node.span, pattern, at_kink, what, gives)
    return found


def crossed(base: dict[tuple, Kink], other: dict[tuple, Kink]) -> list[Kink]:
    """The kinks of ``base`` whose branch differs in ``other`` (a nearby point)."""
    return [kink for key, kink in base.items()
            if key not in other or not kink.same_branch(other[key])]


# --------------------------------------------------------------------------- internals


def _literal(node):
    """A keyword argument's plain value (numbers and literals), or None."""
    while isinstance(node, UnaryOp):
        inner = _literal(node.operand)
        return None if inner is None else (-inner if node.op == "-" else inner)
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Literal):
        return node.value
    return None


def _value(node, record, evaluation, by_node):
    """The value an argument of ``record``'s operation had, from the forward records."""
    while isinstance(node, UnaryOp) and node.op == "+":
        node = node.operand
    if isinstance(node, UnaryOp) and node.op == "-" and id(node) not in by_node:
        inner = _value(node.operand, record, evaluation, by_node)  # clip(x, -2.5, 1.5)
        return -inner if isinstance(inner, torch.Tensor) else None
    if isinstance(node, Number):
        return torch.tensor(node.value, dtype=torch.float64)
    if isinstance(node, Literal):
        return node.value if not isinstance(node.value, (int, float)) else \
            torch.tensor(float(node.value), dtype=torch.float64)
    if id(node) in by_node:
        return by_node[id(node)].tensor.detach()
    if isinstance(node, Name):
        # the latest value bound to the name by an earlier statement, else the input
        for earlier in reversed(evaluation.records[: record.index]):
            if earlier.name == node.name and earlier.statement < record.statement:
                return earlier.tensor.detach()
        tensor = evaluation.inputs.get(node.name)
        if tensor is None:
            tensor = evaluation.intermediates.get(node.name)
        return None if tensor is None else tensor.detach()
    return None


def _is_tensor(node, record, evaluation, by_node) -> bool:
    """True if the argument ``node`` was a tensor when ``record`` was computed (numbers
    written out, and names bound to them, stay Python numbers in the evaluator)."""
    while isinstance(node, UnaryOp) and node.op == "+":
        node = node.operand
    if id(node) in by_node:
        return True
    if isinstance(node, Name):
        return _value(node, record, evaluation, by_node) is not None
    return False


def _as_tensor(value, like):
    if isinstance(value, torch.Tensor):
        return value.detach().to(like.dtype)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=like.dtype)
    return None


def _number(value, default: float) -> float:
    """A positional number argument as ``_value`` gives it (a 0-d tensor), or ``default``."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return default


def _pattern(function, args, kwargs, out):
    """(pattern tensors, at_kink, description of the kink, what torch gives there) for one
    operation; the last is torch's backward at the kink, in words (checked in the tests)."""
    none = (None, False, "", "")
    x = args[0]
    if not isinstance(x, torch.Tensor):
        return none
    if function == "relu":
        sign = torch.sign(x)
        return ((sign,), bool((sign == 0).any()), "the kink of relu at 0",
                "torch gives relu'(0) = 0, the value on the left side")
    if function == "abs":
        sign = torch.sign(x)
        return ((sign,), bool((sign == 0).any()), "the kink of abs at 0",
                "torch gives sign(0) = 0: neither side's value (−1 or 1) but their average")
    second = args[1] if len(args) > 1 else None
    if function in ("maximum", "minimum"):
        other = _as_tensor(second, x)
        if other is None:
            return none
        sign = torch.sign(x - other)
        return ((sign,), bool((sign == 0).any()),
                f"a tie between the two arguments of {function} (its kink)",
                "torch gives ½ of the gradient to each of the two tied arguments")
    if function in ("max", "min"):
        dim = kwargs.get("dim", second)
        if isinstance(dim, torch.Tensor):  # a number written out, as _value returns it
            dim = int(dim.item())
        reduce = torch.amax if function == "max" else torch.amin
        if dim is None:
            mask = x == reduce(x)
            ties = mask.sum() > 1
            gives = "torch shares the gradient equally among the tied entries"
        else:
            mask = x == reduce(x, dim=int(dim), keepdim=True)
            ties = (mask.sum(dim=int(dim)) > 1).any()
            gives = ("torch gives the whole gradient to the one tied entry its index points "
                     "to, and 0 to the others")
        return (mask,), bool(ties), f"a tie for the {function}imum", gives
    if function in _CORNERS or function == "hardtanh":
        corners = _CORNERS.get(function) or (
            float(kwargs.get("min_val", _number(second, -1.0))),
            float(kwargs.get("max_val", _number(args[2] if len(args) > 2 else None, 1.0))))
        signs = tuple(torch.sign(x - corner) for corner in corners)
        return (signs, any(bool((s == 0).any()) for s in signs),
                f"a corner of {function} (at {', '.join(f'{c:g}' for c in corners)})",
                "torch gives the derivative of the piece on the left at 0 for leaky_relu "
                "and relu6, and of the piece inside the corners elsewhere"
                if function in ("leaky_relu", "relu6") else
                "torch gives the derivative of the piece inside the corners")
    if function in _JUMPS:
        if function == "sign":
            pattern = torch.sign(x)
            at = pattern == 0
        elif function == "round":
            # round(x, decimals=d) jumps at the halves of 10^-d (0.05, 0.15... for d = 1)
            scaled = x * 10.0 ** _number(kwargs.get("decimals"), 0.0)
            pattern = torch.round(scaled)
            at = (scaled - torch.floor(scaled)) == 0.5
        else:
            pattern = torch.floor(x)
            at = x == pattern
        return ((pattern,), bool(at.any()), f"a jump of {function} (at {_JUMPS[function]})",
                "torch gives the derivative between the jumps "
                + ("(1)" if function == "frac" else "(0)"))
    if function in ("amax", "amin"):
        dim = kwargs.get("dim", second)
        if isinstance(dim, torch.Tensor):
            dim = int(dim.item())
        reduce = torch.amax if function == "amax" else torch.amin
        dims = tuple(range(x.dim())) if dim is None else (
            tuple(int(d) for d in dim) if isinstance(dim, (list, tuple)) else (int(dim),))
        mask = x == reduce(x, dim=dims, keepdim=True) if x.dim() else torch.ones_like(
            x, dtype=torch.bool)
        ties = (mask.sum(dim=dims) > 1).any() if x.dim() else torch.tensor(False)
        return ((mask,), bool(ties), f"a tie for the {function[1:]}imum",
                "torch shares the gradient equally among the tied entries")
    if function in ("clamp", "clip"):
        lo = kwargs.get("min", args[1] if len(args) > 1 else None)
        hi = kwargs.get("max", args[2] if len(args) > 2 else None)
        signs = []
        for edge in (lo, hi):
            edge = _as_tensor(edge, x)
            if edge is not None:
                signs.append(torch.sign(x - edge))
        if not signs:
            return none
        return (tuple(signs), any(bool((s == 0).any()) for s in signs),
                "an edge of clamp (a kink)",
                "torch gives x the gradient 1 there, the value inside the bounds")
    if function == "norm":
        p = kwargs.get("p", 2)
        if p == 1:
            sign = torch.sign(x)
            return ((sign,), bool((sign == 0).any()), "the kink of a 1-norm at 0",
                    "torch gives sign(0) = 0 for an entry at 0")
        zero = out == 0
        return ((zero,), bool(zero.any()), "the kink of a norm at zero",
                "torch gives 0 there (a subgradient), not a one-sided value")
    return none
