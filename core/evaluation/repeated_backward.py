"""What torch does with a pasted cell's repeated ``backward()`` calls: found by running them.

The app computes one backward pass. A cell that calls ``y.backward()`` twice does something
else in torch, and what depends on the graph: if the first call freed the values the graph
saved (no ``retain_graph=True``), the second raises "Trying to backward through the graph a
second time"; a graph that saved nothing (``y = x + 1``) runs again; with
``retain_graph=True`` the second call adds the same gradient into ``.grad`` again, so it
doubles. Rather than describe this (and be wrong for one of the cases), :func:`replay_notes`
runs the cell's calls on a fresh copy of the graph, resets of ``.grad`` included, and says
what torch did, with its own error message or the ``.grad`` values it left.
"""
from __future__ import annotations


def replay_notes(program, specs, dtype: str) -> list[str]:
    """One note per backward() after the first, saying what torch does there; [] when the
    program has no repeated backward() (``program.backward_calls``)."""
    from core.evaluation.evaluate import forward
    from core.teaching.rules import fmt

    calls = list(getattr(program, "backward_calls", []) or [])
    if sum(kind == "backward" for kind, _, _ in calls) < 2:
        return []
    evaluation = forward(program, specs, dtype)
    output = evaluation.output
    if not output.requires_grad or output.grad_fn is None:
        return []
    leaves = {name: t for name, t in evaluation.inputs.items() if t.requires_grad}
    notes = []
    previous_line = None
    since_reset = 0
    previous_retained = True
    for kind, line, retain in calls:
        if kind == "reset":
            for tensor in leaves.values():
                tensor.grad = None
            since_reset = 0
            continue
        try:
            output.backward(retain_graph=retain)
        except RuntimeError as err:
            message = str(err).strip().split(". ")[0].rstrip(".")
            why = ("" if previous_retained else
                   f" (the backward() on line {previous_line} did not pass retain_graph=True, so "
                   "torch freed the values the graph saved)")
            notes.append(f"line {line}: in torch this backward() raises RuntimeError: "
                         f"\"{message}.\"{why}; the app shows the gradient of one backward()")
            return notes
        since_reset += 1
        if previous_line is None:
            pass  # the first backward(): what the app shows
        elif since_reset > 1:
            grads = ", ".join(f"{name}.grad = {fmt(t.grad)}" for name, t in leaves.items()
                              if t.grad is not None)
            notes.append(f"line {line}: in torch this backward() adds the same gradient into "
                         f".grad again: {grads}, {since_reset} times the gradient of one "
                         "backward(), which the app shows")
        else:
            notes.append(f"line {line}: .grad was cleared before this backward(), so in torch "
                         ".grad again holds the gradient of one backward(), as the app shows")
        previous_retained, previous_line = retain, line
    return notes
