"""What the gradient is for: gradient descent on the program's own inputs.

The inputs that need a gradient are the parameters, constants are the data, the program's
output is the loss. Each step is the loop every PyTorch course writes, with torch's own
optimizer: ``opt.zero_grad(); loss = program(params); loss.backward(); opt.step()``, which
for plain SGD is w ← w − η ∂L/∂w (with momentum: b ← μ b + ∂L/∂w, w ← w − η b).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import torch

from core import limits
from core.errors import ExpressionError, LimitError
from core.evaluation.cost import check_repeated_work
from core.evaluation.deadline import backward_deadline
from core.evaluation.evaluate import forward, replay
from core.language.values import format_shape
from core.serialize import tensor_to_data

#: optimisation steps one run may take
MAX_TRAIN_STEPS = 10_000
#: seconds one run may take
MAX_SECONDS = 30.0
#: the largest learning rate accepted (anything larger only overflows)
MAX_LEARNING_RATE = 1e6


@dataclass
class TrainReport:
    """``loss[k]``: the loss computed in step k (before its update); ``params[name][k]``:
    the parameter after step k; ``start``: the parameters before the first step."""

    output_name: str
    lr: float
    momentum: float
    start: dict[str, torch.Tensor]
    loss: list[float] = field(default_factory=list)
    params: dict[str, list[torch.Tensor]] = field(default_factory=dict)
    gradients: dict[str, list[torch.Tensor]] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict:
        """The ``train --json`` object: ``{"loss": [...], "params": {"w": [...]}}``."""
        return {"output": self.output_name, "lr": self.lr, "momentum": self.momentum,
                "loss": [tensor_to_data(torch.tensor(x)) for x in self.loss],
                "params": {k: [tensor_to_data(v) for v in vs] for k, vs in self.params.items()},
                "start": {k: tensor_to_data(v) for k, v in self.start.items()},
                "note": self.note}


def check_settings(lr: float, steps: int, momentum: float) -> None:
    """Refuse settings torch would refuse or that cannot finish: one clear message each."""
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or not 0 < lr <= \
            MAX_LEARNING_RATE:
        raise ExpressionError("value", f"the learning rate must be a number above 0 and at "
                              f"most {MAX_LEARNING_RATE:g}, not {lr}", where="--lr")
    if not isinstance(momentum, (int, float)) or not math.isfinite(momentum) \
            or not 0 <= momentum < 1:
        raise ExpressionError("value", f"momentum must be at least 0 and below 1, not "
                              f"{momentum}", where="--momentum")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ExpressionError("value", f"steps must be a whole number of at least 1, not "
                              f"{steps}", where="--steps")
    if steps > MAX_TRAIN_STEPS:
        raise LimitError(f"{steps:,} steps asked for; the limit is {MAX_TRAIN_STEPS:,}",
                         where="--steps")


class Trainer:
    """Parameters, data and a torch.optim.SGD for ``program``; :meth:`step` runs one step.

    The window keeps one Trainer to step through; :func:`train` runs many steps at once.
    """

    def __init__(self, program, variables, dtype: str = "float32", *, lr: float = 0.1,
                 momentum: float = 0.0):
        check_settings(lr, 1, momentum)
        evaluation = forward(program, variables, dtype)  # checks names, shapes and output
        self.program, self.dtype = program, dtype
        # the work estimates of one pass price each step (the graph itself is not kept)
        self.work = SimpleNamespace(forward_work=evaluation.forward_work,
                                    backward_work=evaluation.backward_work)
        self.output_name = evaluation.output_name
        self.tensors = {n: t.detach().clone().requires_grad_(t.requires_grad)
                        for n, t in evaluation.inputs.items()}
        self.names = [n for n, t in self.tensors.items() if t.requires_grad]
        if not self.names:
            raise ExpressionError("value", "nothing to train: no input needs a gradient (the "
                                  "inputs that need one are the parameters)")
        if not evaluation.output.requires_grad:
            raise ExpressionError("output", f"{self.output_name} does not depend on any "
                                  "parameter, so gradient descent cannot change it",
                                  program.output.span)
        self.optimizer = torch.optim.SGD([self.tensors[n] for n in self.names], lr=lr,
                                         momentum=momentum)
        self.report = TrainReport(self.output_name, lr, momentum,
                                  {n: self.tensors[n].detach().clone() for n in self.names},
                                  params={n: [] for n in self.names},
                                  gradients={n: [] for n in self.names})

    def check_steps(self, steps: int, where: str = "--steps") -> None:
        """Refuse, before the first of them, ``steps`` more steps whose estimated work (a
        forward and a backward pass each) passes the limit on backward work, or whose
        kept parameters and gradients (every step's, for the plots) pass the limit on
        kept entries."""
        check_repeated_work("training (a forward and a backward pass per step)", self.work,
                            steps, "both", where=where, unit=("step", "steps"))
        done = len(self.report.loss)
        per_step = 2 * sum(self.tensors[n].numel() for n in self.names)
        kept = (done + steps) * per_step
        if kept > limits.MAX_TRACE_ENTRIES:
            fit = max(0, limits.MAX_TRACE_ENTRIES // per_step - done)
            raise LimitError(f"training for {done + steps:,} steps keeps every step's "
                             f"parameters and gradients, {kept:,} entries; the limit is "
                             f"{limits.MAX_TRACE_ENTRIES:,} (at most {fit:,} more steps "
                             "fit)", where=where)

    def step(self) -> float:
        """One step: zero the gradients, compute the loss, backward, update. Returns the
        loss computed before the update."""
        self.optimizer.zero_grad()
        loss, _ = replay(self.program, self.tensors, self.dtype)
        if loss.numel() != 1:
            raise ExpressionError("output", f"the loss has shape {format_shape(loss.shape)}: "
                                  "wrap it in sum(...) or mean(...)", self.program.output.span)
        if loss.grad_fn is None:
            loss.backward()  # a leaf: nothing to interrupt
        else:
            with backward_deadline(loss, limits.MAX_BACKWARD_SECONDS,
                                   "the training step's backward pass"):
                loss.backward()
        self.optimizer.step()
        value = float(loss.detach())
        self.report.loss.append(value)
        for name in self.names:
            tensor = self.tensors[name]
            self.report.params[name].append(tensor.detach().clone())
            self.report.gradients[name].append(tensor.grad.detach().clone())
        return value


def train(program, variables, dtype: str = "float32", *, lr: float = 0.1, steps: int = 20,
          momentum: float = 0.0) -> TrainReport:
    """Run ``steps`` SGD steps; stops early (with a note) when the loss stops being finite."""
    check_settings(lr, steps, momentum)
    trainer = Trainer(program, variables, dtype, lr=lr, momentum=momentum)
    trainer.check_steps(steps)
    deadline = time.monotonic() + MAX_SECONDS
    for k in range(steps):
        loss = trainer.step()
        if not math.isfinite(loss):
            trainer.report.note = (f"the loss became {loss} at step {k + 1}: the learning rate "
                                   f"{lr:g} is too large for this loss; try a smaller one")
            break
        if time.monotonic() > deadline:
            trainer.report.note = (f"stopped after {k + 1} steps: the time limit is "
                                   f"{MAX_SECONDS:g} s")
            break
    return trainer.report


def format_training(report: TrainReport, digits: int = 6) -> str:
    """The loss and the parameters, step by step."""
    from core.serialize import format_inline, format_number
    rule = "w ← w − η ∂L/∂w" if not report.momentum else "b ← μb + ∂L/∂w, w ← w − η b"
    lines = [f"SGD on {report.output_name}: {rule}, η = {report.lr:g}"
             + (f", μ = {report.momentum:g}" if report.momentum else ""), ""]
    start = ", ".join(f"{k} = {format_inline(v, digits)}" for k, v in report.start.items())
    lines.append(f"start: {start}")
    for k, loss in enumerate(report.loss):
        params = ", ".join(f"{n} = {format_inline(vs[k], digits)}"
                           for n, vs in report.params.items())
        lines.append(f"step {k + 1}: {report.output_name} = {format_number(loss, digits)}, "
                     f"then {params}")
    if report.note:
        lines += ["", f"note: {report.note}"]
    return "\n".join(lines)


#: points one plot of f along an input may evaluate
MAX_CURVE_POINTS = 1_001


def function_along(program, variables, dtype: str, name: str, lo: float, hi: float,
                   points: int = 201) -> tuple[list[float], list[float]]:
    """f at ``points`` values of the scalar input ``name`` from ``lo`` to ``hi``, every other
    input held at its value: the curve the tangent line touches. NaN where f is not finite."""
    if not 2 <= points <= MAX_CURVE_POINTS:
        raise LimitError(f"{points} points asked for; between 2 and {MAX_CURVE_POINTS:,}")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ExpressionError("value", f"the range {lo:g} to {hi:g} is not an interval",
                              where=name)
    evaluation = forward(program, variables, dtype)
    if name not in evaluation.inputs or evaluation.inputs[name].numel() != 1:
        raise ExpressionError("value", f"{name} is not a single-number input", where=name)
    check_repeated_work(f"plotting {evaluation.output_name} at {points:,} points (a forward "
                        "pass each)", evaluation, points, "forward")
    tensors = {n: t.detach() for n, t in evaluation.inputs.items()}
    xs = [lo + (hi - lo) * k / (points - 1) for k in range(points)]
    ys = []
    deadline = time.monotonic() + MAX_SECONDS
    with torch.no_grad():
        for x in xs:
            tensors[name] = torch.tensor(x, dtype=evaluation.inputs[name].dtype).reshape(
                evaluation.inputs[name].shape)
            out, _ = replay(program, tensors, dtype)
            y = float(out.detach().reshape(-1)[0]) if out.numel() == 1 else math.nan
            ys.append(y if math.isfinite(y) else math.nan)
            if time.monotonic() > deadline:
                raise LimitError(f"plotting took longer than {MAX_SECONDS:g} s, the limit")
    return xs, ys


def tangent_at(program, variables, dtype: str, name: str, x: float) -> tuple[float, float]:
    """(f, df/dname) with the scalar input ``name`` set to ``x``: the point and slope of the
    tangent line, from one backward pass."""
    specs = dict(variables)
    spec = specs.get(name)
    specs[name] = spec.__class__(name, float(x), True) if spec is not None else float(x)
    evaluation = forward(program, specs, dtype)
    leaf = evaluation.inputs[name]
    if not evaluation.output.requires_grad:
        return float(evaluation.output.detach()), 0.0
    (grad,) = torch.autograd.grad(evaluation.output, [leaf], allow_unused=True)
    return float(evaluation.output.detach()), 0.0 if grad is None else float(grad)
