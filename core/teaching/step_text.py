"""The words of every step, once: the Steps panel, ``steps`` text, the PDF deck and the PNG
frames all print what this module writes.

A step is a list of :class:`Line` (kind, text): the gradient flowing in (and, where several
paths meet, their sum), the gate's pattern, the local rule in the program's names, the
arithmetic (a matrix as a grid with its shape, never wrapped mid-row), notes (kinks, NaN)
and, at a leaf, the gradient it stores. Each reader styles the kinds its own way.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

import torch

from core.teaching.notation import LEGEND  # noqa: F401 - re-exported for the readers
from core.teaching.rules import (
    FULL_ENTRIES,
    MINUS,
    fmt,
    num,
    pretty,
    shape_text,
    signed_sum,
    superscript,
    wrap,
)

#: kinds of line: "in" (gradient in), "paths" (a fork's sum), "pattern", "rule", "math",
#: "grid" (a multi-line block in a fixed-width face), "note" (a banner: kink, NaN),
#: "result" (a leaf's gradient), "text" (plain words)
KINDS = ("in", "paths", "pattern", "rule", "math", "grid", "note", "result", "text")
#: what the deck prints instead of a number a student should predict first
HIDDEN = "?"

@dataclass(frozen=True)
class Line:
    """One line (or, for ``grid``, one block of lines) of a step's text."""

    kind: str
    text: str


# --------------------------------------------------------------------------- grids


def _is_grid(value) -> bool:
    return isinstance(value, torch.Tensor) and value.dim() == 2 and \
        1 < value.numel() <= FULL_ENTRIES


def matrix_rows(value: torch.Tensor) -> list[str]:
    """A small matrix as aligned rows ``[0.5  3]``, columns right-aligned."""
    cells = [[fmt(float(v)) for v in row] for row in value.detach().double().tolist()]
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    return ["[" + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + "]"
            for row in cells]


def _block(item) -> list[str]:
    """The lines of one item of a grid: a matrix with its shape underneath, else one line."""
    if _is_grid(item):
        rows = matrix_rows(item)
        caption = f"({shape_text(item.shape)})"
        width = max(len(rows[0]), len(caption))
        return [r.ljust(width) for r in rows] + [caption.center(width)]
    return [item if isinstance(item, str) else fmt(item)]


def grid(items, width: int = 0) -> str:
    """Items (matrices, numbers, operator strings) side by side, operators on the middle
    row of the matrices, shapes under them. Wider than ``width`` characters: split before an
    operator into blocks stacked one under the other, never inside a matrix."""
    blocks = [_block(item) for item in items]
    # segments start at an operator and run to the next one, so a split never separates
    # an operator from the operand after it
    operators = ("=", "·", "×", "⊙", "⊗", "+", MINUS)
    segments: list[list] = []
    for block in blocks:
        if not segments or (len(block) == 1 and block[0] in operators):
            segments.append([block])
        else:
            segments[-1].append(block)
    chunks, current, used = [], [], 0
    for segment in segments:
        w = sum(max(len(line) for line in block) + 1 for block in segment)
        if width and current and used + w > width:
            chunks.append(current)
            current, used = [], 2
        current += segment
        used += w
    chunks.append(current)
    out = []
    for k, chunk in enumerate(chunks):
        height = max(len(b) for b in chunk)
        middle = max((len(b) - 1) // 2 if len(b) > 1 else 0 for b in chunk)
        lines = [("  " if k else "") for _ in range(height)]
        for block in chunk:
            w = max(len(line) for line in block)
            top = 0 if len(block) > 1 else middle
            for r in range(height):
                text = block[r - top] if 0 <= r - top < len(block) else ""
                lines[r] += text.ljust(w) + " "
        out += [line.rstrip() for line in lines]
    return "\n".join(out)


def has_grid(items) -> bool:
    """True when one of ``items`` is a small matrix worth drawing as a grid."""
    return any(_is_grid(item) for item in items)


# --------------------------------------------------------------------------- backward steps


def node_name(step) -> str:
    """How the rules name ``step``'s value: ``g1``, ``(3w)``, ``exp(g1)``."""
    return wrap(pretty(step.display or step.name or step.expression or step.op))


def step_lines(trace, index: int, *, hide: bool = False, width: int = 0) -> list[Line]:
    """Every line of step ``index``. ``hide``: the gradients it sends are shown as "?"
    (the deck's predict-then-reveal pages); ``width``: grids wider than this many
    characters are split between operators."""
    step = trace.steps[index]
    f = derivative_of(trace)
    out: list[Line] = []
    if step.leaf_id:
        return _leaf_lines(trace, step, hide)
    me = node_name(step)
    g = step.grad_in[0] if step.grad_in else None
    if step.contributions and step.contributions[0].from_step is None:
        out += seed_lines(trace)
    elif g is not None and _is_grid(g):
        out.append(Line("in", f"gradient in: ∂{f}/∂{me} ="))
        out.append(Line("grid", grid([g])))
    elif g is not None:
        out.append(Line("in", f"gradient in: ∂{f}/∂{me} = {fmt(g)}"))
    if len(step.contributions) > 1:
        out.append(Line("paths", f"forks sum: {me} is used in {len(step.contributions)} "
                                 f"places; the engine added their gradients: "
                                 f"{signed_sum([c.value for c in step.contributions])} = "
                                 f"{fmt(g)}"))
    rule = step.rule
    # a second line of the pattern says which slot is which when a tensor fills two
    out += [Line("pattern", line) for line in rule.pattern.split("\n") if line]
    if rule.formula:
        out.append(Line("rule", rule.formula))
    if rule.terms:
        for term in rule.terms:
            out += _term_lines(term, hide, width)
    else:
        out += [Line("math", _hide(line) if hide else line) for line in rule.numbers]
    out += [Line(note_kind(note), note) for note in rule.notes]
    return out


def derivative_of(trace) -> str:
    """The numerator of every ∂·/∂ in the steps: the output's name, or ``(vᵀy)`` for a
    pass seeded with v (``y.backward(v)``); any trace-like object (a view's deck) works."""
    of = getattr(trace, "derivative_of", None)
    return of if isinstance(of, str) else trace.output_name


def seed_lines(trace) -> list[Line]:
    """The gradient the backward pass starts from: 1, or the v of ``y.backward(v)``."""
    y = trace.output_name
    v = getattr(trace, "seed_vector", None)
    if v is None:
        return [Line("in", f"gradient in: ∂{y}/∂{y} = 1 (the seed: the output's gradient "
                           "with respect to itself)")]
    why = (f"(the seed: {y} has several entries, so {y}.backward(v) starts from the v you "
           f"gave, not from 1; every gradient below is one of the number vᵀ{y} = "
           f"sum(v * {y}))")
    f = derivative_of(trace)
    if _is_grid(v):
        return [Line("in", f"gradient in: ∂{f}/∂{y} = v ="), Line("grid", grid([v])),
                Line("text", why)]
    return [Line("in", f"gradient in: ∂{f}/∂{y} = v = {fmt(v)} {why}")]


def note_kind(note: str) -> str:
    """"note" (a banner: a kink, a tie, NaN, torch's choice where there is no derivative)
    or "text" (information, such as what the Frobenius norm is)."""
    alarm = ("kink", "tie", "NaN", "∞", "no derivative", "infinite", "zero entry", "torch uses")
    return "note" if any(word in note for word in alarm) else "text"


def _hide(line: str) -> str:
    head, sep, _ = line.rpartition(" = ")
    return f"{head}{sep}{HIDDEN}" if sep else line


def _term_lines(term, hide: bool, width: int) -> list[Line]:
    lines = []
    local = term.local
    for line in term.lines:
        if has_grid(term.items) and local.value is not None and \
                line == f"{local.symbol} = {fmt(local.value)}":
            continue  # the grid below shows it
        is_chain = term.chain and line.startswith(term.chain)
        if not is_chain and _is_grid(local.value) and line.startswith(local.symbol + " = "):
            # the local derivative of a matrix: its formula, then its value as a grid
            lines.append(Line("math", f"{local.symbol} ="))
            lines.append(Line("grid", grid([local.value], width)))
        elif is_chain and term.items and has_grid(term.items):
            items = list(term.items)
            if hide:
                items[-1] = HIDDEN
            lines.append(Line("math", term.chain))
            lines.append(Line("grid", grid(["="] + items, width)))
        elif is_chain and hide:
            lines.append(Line("math", _hide(line)))
        elif hide and line.startswith("summed over"):
            lines.append(Line("math", line.split(":")[0] + ": " + HIDDEN))
        else:
            lines.append(Line("math", line))
    return lines


def _leaf_lines(trace, step, hide: bool) -> list[Line]:
    f = derivative_of(trace)
    leaf = next((leaf for leaf in trace.leaves.values() if leaf.node_id == step.node_id), None)
    name = step.name or (leaf.name if leaf else "this input")
    total = leaf.total if leaf is not None else (step.grad_in[0] if step.grad_in else None)
    terms = [c.value for c in step.contributions]
    out = [Line("text", step.rule.formula)]
    if len(terms) > 1:
        vias = "; ".join(f"{fmt(c.value)} via {pretty(c.via.split(' (')[0])}"
                         for c in step.contributions)
        out.append(Line("paths", f"paths: {vias}"))
    line = step.rule.numbers[0] if step.rule.numbers else f"{name}.grad = {fmt(total)}"
    out.append(Line("math", _hide(line) if hide else line))
    out.append(Line("result", f"∂{f}/∂{name} = {HIDDEN if hide else fmt(total)}"))
    out += [Line(note_kind(note), note) for note in step.rule.notes]
    return out


def leaf_merge_line(trace, step) -> Line:
    """For a leaf reached along one path, the line its sending step's page adds (the deck
    merges such one-term AccumulateGrad pages into the step that sent the gradient)."""
    f = derivative_of(trace)
    value = step.grad_in[0] if step.grad_in else None
    return Line("result", f"{step.name}.grad = ∂{f}/∂{step.name} = {fmt(value)} "
                          f"({step.name} is reached along one path: AccumulateGrad stores it)")


def plain_text(lines: list[Line], indent: str = "") -> list[str]:
    """Lines as plain text (the CLI): grids keep their rows, other lines as they are."""
    out = []
    for line in lines:
        for row in line.text.split("\n"):
            out.append(indent + ("  " if line.kind == "grid" else "") + row)
    return out


def wrapped(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` characters, continuation lines indented."""
    return textwrap.wrap(text, width, subsequent_indent="    ", break_on_hyphens=False) or [""]


# --------------------------------------------------------------------------- forward steps


_SYMBOLS = {"+": "+", "-": MINUS, "*": "×", "/": "/", "**": "^", "@": "·"}


def forward_arithmetic(evaluation, record) -> str:
    """A computed value with its arithmetic: ``3*w = 3 × 1 = 3``; matrices by shape:
    ``W @ x = (2×3)·(3) = [..]``."""
    from core.language.parser import Name, Number

    values = {id(r.node): r.tensor for r in evaluation.records}

    def value_of(node):
        if isinstance(node, Number):
            return node.value
        if id(node) in values:
            return values[id(node)]
        if isinstance(node, Name):
            return evaluation.inputs.get(node.name, evaluation.intermediates.get(node.name))
        return None

    def shown(node):
        v = value_of(node)
        if v is None:
            return pretty(node.text)
        if isinstance(v, torch.Tensor) and v.numel() > 4:
            return f"({shape_text(v.shape)})"
        text = fmt(v)
        return f"({text})" if text.startswith(MINUS) else text

    head, middle, result = _forward_parts(evaluation, record, value_of, shown)
    if middle is None:
        return f"{head} = {result}"
    if middle == result or middle == head:
        return f"{head} = {result}"
    return f"{head} = {middle} = {result}"


def _forward_parts(evaluation, record, value_of, shown):
    from core.language.parser import BinaryOp, Call, UnaryOp

    node = record.node
    head = pretty(node.text)
    if record.name and record.name != node.text:
        head = f"{record.name} = {head}"
    result = fmt(record.tensor.detach())
    if isinstance(node, BinaryOp):
        op = _SYMBOLS.get(node.op, node.op)
        if op == "×" and all(isinstance(value_of(n), torch.Tensor) and value_of(n).numel() > 1
                             for n in (node.left, node.right)):
            op = "⊙"
        middle = f"{shown(node.left)} {op} {shown(node.right)}"
        if node.op == "**" and isinstance(value_of(node.right), (int, float)):
            # a power as the pages write it elsewhere: 1², (−2)³, 4^(0.5)
            middle = f"{shown(node.left)}{superscript(value_of(node.right))}"
    elif isinstance(node, UnaryOp):
        middle = f"{MINUS}{shown(node.operand)}"
    elif isinstance(node, Call):
        args = ", ".join(shown(a) for a in node.args)
        middle = f"{node.function}({args})"
    else:
        middle = None
    return head, middle, result


def _forward_items(evaluation, record):
    """The operands and operator of a binary operation or a one-argument call as grid
    items (``[3, "×", W, "=", value]``), or None."""
    from core.language.parser import BinaryOp, Call, Name, Number

    values = {id(r.node): r.tensor for r in evaluation.records}

    def value_of(node):
        if isinstance(node, Number):
            return node.value
        if id(node) in values:
            return values[id(node)].detach()
        if isinstance(node, Name):
            v = evaluation.inputs.get(node.name, evaluation.intermediates.get(node.name))
            return v.detach() if v is not None else None
        return None

    node, result = record.node, record.tensor.detach()
    if isinstance(node, BinaryOp):
        left, right = value_of(node.left), value_of(node.right)
        if left is None or right is None:
            return None
        op = _SYMBOLS.get(node.op, node.op)
        if op == "×" and all(isinstance(v, torch.Tensor) and v.numel() > 1
                             for v in (left, right)):
            op = "⊙"
        return [left, op, right, "=", result]
    if isinstance(node, Call) and node.args:
        args = [value_of(a) for a in node.args]
        if any(a is None for a in args):
            return None
        if node.function in ("matmul", "mm", "mv") and len(args) == 2:
            return [args[0], "·", args[1], "=", result]
        items: list = [f"{node.function}("]
        for k, arg in enumerate(args):
            items += ([", "] if k else []) + [arg]
        return items + [")", "=", result]
    return None


#: functions applied to each entry of a tensor separately
ELEMENTWISE = frozenset("sin cos tan asin acos atan sinh cosh tanh exp expm1 log log2 log10 "
                        "log1p sqrt rsqrt square reciprocal abs neg sigmoid relu softplus "
                        "erf".split())


def _forward_notes(record, value) -> list[Line]:
    from core.language.parser import Call
    node = record.node
    if not isinstance(node, Call) or not node.args:
        return []
    if node.function in ELEMENTWISE and value.numel() > 1:
        return [Line("text", f"{node.function} is elementwise: it acts on each entry on its "
                             "own (it is not the matrix function)")]
    if node.function == "norm":
        p = node.kwarg("p")
        p_value = getattr(p, "value", 2.0) if p is not None else 2.0
        dims = node.kwarg("dim")
        arg = record.tensor.grad_fn
        if p_value == 2 and dims is None and arg is not None:
            return [Line("text", "norm with p = 2 of a matrix is the Frobenius norm: the "
                                 "square root of the sum of all its squared entries (all "
                                 "entries taken as one vector)")]
    return []


def forward_lines(evaluation, index: int) -> list[Line]:
    """The forward page of value ``index`` (in the order the program computed them)."""
    record = evaluation.records[index]
    value = record.tensor.detach()
    items = _forward_items(evaluation, record)
    if items is not None and has_grid(items):
        head = pretty(record.node.text)
        if record.name and record.name != record.node.text:
            head = f"{record.name} = {head}"
        out = [Line("math", head), Line("grid", grid(["="] + items, 52))]
    else:
        out = [Line("math", forward_arithmetic(evaluation, record))]
        if _is_grid(value):
            out.append(Line("grid", grid(["=", value])))
    out += _forward_notes(record, value)
    fn = record.tensor.grad_fn
    if fn is not None:
        out.append(Line("text", f"torch records {type(fn).__name__} for it: the backward pass "
                                "will send the gradient back through this node"))
    else:
        out.append(Line("text", "a constant: no gradient flows through it"))
    return out


def number(x) -> str:
    """A number as the pages print it (one minus sign, six significant digits)."""
    return num(float(x))
