"""A time limit for torch's backward pass, checked between its nodes.

``output.backward()`` runs inside torch's engine; a hook registered on every node is the
only place Python gets control back while it runs. :func:`backward_deadline` registers a
pre-hook on each node reachable from the output that raises :class:`LimitError` once the
deadline has passed (the engine stops and re-raises it), and removes the hooks afterwards.
One node's own work is bounded beforehand by :data:`core.limits.MAX_BACKWARD_WORK`.
"""
from __future__ import annotations

import contextlib
import time

from core.errors import LimitError


def reachable_nodes(root) -> list:
    """Every autograd node reachable from ``root`` through next_functions (iteratively)."""
    if root is None:
        return []
    seen = {root}
    order = [root]
    stack = [root]
    while stack:
        fn = stack.pop()
        for child, _ in fn.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                order.append(child)
                stack.append(child)
    return order


@contextlib.contextmanager
def backward_deadline(output, seconds: float, what: str = "the backward pass", cancel=None):
    """Within the block, every node of ``output``'s graph checks, before it runs, that
    ``seconds`` have not passed (and that ``cancel``, a ``threading.Event``, is not set)."""
    deadline = time.monotonic() + seconds

    def check(_grad_outputs):
        if time.monotonic() > deadline:
            raise LimitError(f"{what} took longer than {seconds:g} s, its time limit")
        if cancel is not None and cancel.is_set():
            raise LimitError(f"{what} was cancelled")

    handles = [fn.register_prehook(check) for fn in reachable_nodes(output.grad_fn)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
