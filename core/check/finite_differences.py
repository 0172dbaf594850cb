"""Central finite differences in float64, one input entry at a time.

For each entry x of each input, ``(f(x + h) - f(x - h)) / 2h`` on a fresh float64
evaluation of the same program. The first step is ``h = eps^(1/3) * max(1, |x|)`` (about
6e-6 for |x| <= 1): it balances the truncation error of the formula (which grows as h^2)
against the rounding error of f (which grows as eps*|f|/h) for a function that changes on
the scale of 1 or of x. Functions have scales of their own (``exp(w*1e6)`` changes a
thousandfold within 1e-5 of w; ``w**3`` at 1e-30 lives on the scale 1e-30), so the step is
then chosen from the function itself: the difference is taken again with the step ten times
smaller, and again, until two successive differences agree (the truncation error at that
step is below the tolerance); the smaller step's value is kept. If the differences never
settle before the rounding of f swamps them, the entry has no finite difference and says
that finite differences cannot resolve this derivative (rather than report a wrong number).
Each step is made exactly representable, ``h = (x + h) - x``, so the difference spans 2h.

Each entry costs two forward passes; beyond :data:`MAX_ENTRIES` entries (or past the time
budget) the remaining entries are reported as not checked rather than silently skipped.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import torch

from core.check import nonsmooth
from core.errors import ExpressionError
from core.language.parser import BinaryOp, Call, Name, Program, UnaryOp
from core.language.values import VariableSpec

EPS = float(torch.finfo(torch.float64).eps)
#: Input entries checked by finite differences (two forward passes each).
MAX_ENTRIES = 2_000
#: Seconds the finite differences may take in all (checked between entries).
TIME_LIMIT = 20.0
#: The rounding error of a float64 evaluation, as a multiple of eps*|f|: a program of a
#: few dozen operations loses a few units in the last place on each.
ROUNDING_FACTOR = 16.0
#: Two differences at steps h and h/10 "agree" within this relative tolerance (the
#: truncation error falls a hundredfold per step, so agreement means it is below this)
SETTLED_RTOL = 1e-7
#: Each smaller step is this many times smaller than the last
STEP_FACTOR = 10.0
#: A difference whose rounding error is above this fraction of its value is all noise:
#: smaller steps only make it worse
MAX_NOISE = 1.0


@dataclass
class EntryDifference:
    """The finite difference of one entry, or why there is none."""

    name: str
    index: tuple[int, ...]
    value: float | None = None
    step: float | None = None
    #: bound on the difference's rounding error (absolute), from |f| and the step
    noise: float = 0.0
    #: kinks whose branch changes between x - h, x and x + h
    kinks: list[nonsmooth.Kink] = field(default_factory=list)
    #: why there is no value (or why it is not meaningful)
    note: str | None = None


@dataclass
class FiniteDifferences:
    """All entries' finite differences, the float64 value of f, and notes on what was capped."""

    entries: dict[tuple[str, tuple[int, ...]], EntryDifference]
    value: float | None
    base_kinks: dict[tuple, nonsmooth.Kink]
    notes: list[str] = field(default_factory=list)


def step_for(x: float) -> float:
    """The central-difference step for an entry of value ``x`` (exactly representable)."""
    h = EPS ** (1 / 3) * max(1.0, abs(x))
    return (x + h) - x


def finite_differences(evaluation, *, max_entries: int = MAX_ENTRIES,
                       time_limit: float = TIME_LIMIT,
                       only: dict[str, set[int]] | None = None) -> FiniteDifferences:
    """Central differences of the evaluation's output for every entry of every input
    that needs a gradient, each on fresh float64 evaluations. ``only`` restricts them to
    some entries (input name -> flat positions), e.g. a random sample of a large input."""
    from core.evaluation.ops_more import FLOAT_DTYPE
    token = FLOAT_DTYPE.set(torch.float64)  # x.float() stays float64 in the re-runs
    try:
        program, specs = free_program(evaluation)
    finally:
        FLOAT_DTYPE.reset(token)
    base = _run(program, specs)
    base_kinks = nonsmooth.kinks(base)
    f0 = float(base.output.detach().item())
    result = FiniteDifferences({}, f0, base_kinks)
    deadline = time.monotonic() + time_limit
    done = 0
    for name, tensor in evaluation.inputs.items():
        if not tensor.requires_grad:
            continue
        center = base.inputs[name].detach().clone()
        # the other inputs as the base run made them: each shifted run starts from tensors,
        # not from the values as lists (a million-entry input took a second per run so)
        tensors = {n: t.detach() for n, t in base.inputs.items()}
        flat = center.reshape(-1)
        positions = range(flat.numel()) if only is None else sorted(only.get(name, ()))
        for position in positions:
            index = unravel(position, tuple(center.shape))
            entry = EntryDifference(name, index)
            result.entries[(name, index)] = entry
            if done >= max_entries:
                entry.note = (f"not computed: finite differences stop after {max_entries:,} "
                              "entries (two evaluations each)")
                continue
            if time.monotonic() > deadline:
                entry.note = (f"not computed: finite differences stop after {time_limit:g} s")
                continue
            done += 1
            _difference(entry, program, specs, name, center, position, base_kinks, f0, tensors)
    skipped = sum(1 for e in result.entries.values() if e.value is None and e.note
                  and e.note.startswith("not computed"))
    if skipped:
        result.notes.append(f"{skipped:,} entries were not checked by finite differences "
                            f"(limits: {max_entries:,} entries, {time_limit:g} s)")
    return result


def _difference(entry, program, specs, name, center, position, base_kinks, f0,
                tensors: dict | None = None) -> None:
    x = float(center.reshape(-1)[position])
    h = step_for(x)
    previous = None  # (value, noise, kinks, step) at the last, larger step
    while True:
        found = _central(entry, program, specs, name, center, position, x, h, base_kinks, f0,
                         tensors)
        if found is None:  # f could not be evaluated or is not finite: the note says why
            return
        value, noise = found
        current = (value, noise, list(entry.kinks), h)
        if previous is not None:
            last = previous[0]
            if abs(value - last) <= SETTLED_RTOL * max(abs(value), abs(last)) + 2 * noise:
                # the truncation error at the larger step is below the tolerance, and its
                # rounding error is the smaller of the two: keep it
                entry.value, entry.noise, entry.kinks, entry.step = previous
                return
        smaller = (x + h / STEP_FACTOR) - x
        swamped = previous is not None and noise > MAX_NOISE * abs(value)
        if smaller == 0.0 or smaller >= h or swamped:
            entry.value = None
            entry.kinks = current[2]
            entry.note = (f"finite differences cannot resolve this derivative: the difference "
                          f"quotients at steps from {step_for(x):.1g} down to {h:.1g} do not "
                          "settle before the rounding of f swamps them (f changes on a scale "
                          "finer than the step can follow)")
            return
        previous = current
        h = smaller


def _central(entry, program, specs, name, center, position, x, h, base_kinks, f0,
             tensors: dict | None = None):
    """(difference quotient, bound on its rounding error) at step ``h``, or None (with
    ``entry.note`` saying why) when f cannot be evaluated on both sides."""
    values = []
    crossed = []
    for sign in (1.0, -1.0):
        shifted = center.clone()
        shifted.reshape(-1)[position] = x + sign * h
        try:
            if tensors is None:
                run = _run(program, {**specs, name: VariableSpec(name, shifted.tolist(),
                                                                 False)})
            else:
                run = _replay(program, {**tensors, name: shifted})
        except ExpressionError as err:
            entry.note = f"f cannot be evaluated at {name} {'+' if sign > 0 else '-'} h: {err}"
            return None
        values.append(float(run.output.detach().item()))
        crossed.extend(k for k in nonsmooth.crossed(base_kinks, nonsmooth.kinks(run))
                       if k not in crossed)
    # the kinks crossed at the smallest step tried: a larger step may straddle a kink
    # that is merely near
    entry.kinks = crossed
    f_plus, f_minus = values
    if not (math.isfinite(f_plus) and math.isfinite(f_minus)):
        entry.note = ("f is not finite on both sides of this point (at x + h or x - h), so "
                      "there is no finite difference")
        return None
    noise = ROUNDING_FACTOR * EPS * max(abs(f_plus), abs(f_minus), abs(f0)) / h
    return (f_plus - f_minus) / (2 * h), noise


def _run(program: Program, specs: dict):
    from core.evaluation.evaluate import forward
    from core.evaluation.ops_more import FLOAT_DTYPE
    token = FLOAT_DTYPE.set(torch.float64)  # x.float() stays float64 in the re-runs
    try:
        with torch.no_grad():
            return forward(program, specs, "float64")
    finally:
        FLOAT_DTYPE.reset(token)


def _replay(program: Program, tensors: dict):
    """The program in float64 on the given input tensors: its output, forward records,
    inputs and named values (what :func:`nonsmooth.kinks` reads), without turning values
    into lists and back."""
    from types import SimpleNamespace

    from core.evaluation.evaluate import replay
    from core.evaluation.ops_more import FLOAT_DTYPE
    token = FLOAT_DTYPE.set(torch.float64)
    try:
        with torch.no_grad():
            output, records = replay(program, tensors, "float64")
    finally:
        FLOAT_DTYPE.reset(token)
    named = {record.name: record.tensor for record in records if record.name}
    return SimpleNamespace(output=output, records=records, inputs=tensors, intermediates=named)


def unravel(position: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index of entry ``position`` of a row-major tensor of ``shape``."""
    index = []
    for size in reversed(shape):
        index.append(position % size)
        position //= size
    return tuple(reversed(index))


# --------------------------------------------------------------- inputs made in the text


def free_program(evaluation) -> tuple[Program, dict[str, VariableSpec]]:
    """The program with every input as a free name, and float64 values for all of them.

    Inputs made in the text (``w = torch.ones(1, requires_grad=True)``, as in the seed
    notebook) cannot be perturbed through the variables table, so their constructor call is
    replaced by a name bound to the same value. The values come from a fresh float64 run,
    so a literal such as ``tensor([0.1])`` is read in float64, not float32.
    """
    from core.evaluation.evaluate import forward
    with torch.no_grad():
        fresh = forward(evaluation.program, evaluation.specs, "float64")
    program = evaluation.program
    specs = {name: VariableSpec(name, spec.value, False)
             for name, spec in evaluation.specs.items()}
    made = {id(t): name for name, t in fresh.inputs.items() if name not in evaluation.specs}
    replace = {}
    for record in fresh.records:
        name = made.get(id(record.tensor))
        if name is not None and isinstance(record.node, Call):
            replace[id(record.node)] = name
    for name in made.values():
        specs[name] = VariableSpec(name, fresh.inputs[name].detach().tolist(), False)
    if not replace:
        return program, specs
    statements = [dataclasses.replace(s, expr=_substitute(s.expr, replace))
                  for s in program.statements]
    free = list(program.free_names) + [n for n in replace.values() if n not in program.free_names]
    return Program(program.text, statements, free, list(program.assigned_names),
                   list(program.notes)), specs


def _substitute(node, replace: dict[int, str]):
    """``node`` with the calls named in ``replace`` turned into names (depth is bounded
    by the parser, so recursion is safe)."""
    if id(node) in replace:
        return Name(node.span, node.text, replace[id(node)])
    if isinstance(node, BinaryOp):
        return dataclasses.replace(node, left=_substitute(node.left, replace),
                                   right=_substitute(node.right, replace))
    if isinstance(node, UnaryOp):
        return dataclasses.replace(node, operand=_substitute(node.operand, replace))
    if isinstance(node, Call):
        return dataclasses.replace(
            node, args=tuple(_substitute(a, replace) for a in node.args),
            kwargs=tuple((k, _substitute(v, replace)) for k, v in node.kwargs))
    return node
