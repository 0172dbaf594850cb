"""Autograd Explorer's core: the expression language, evaluation with torch.autograd,
the backward-graph model, rendering, step recording and gradient checks.

Nothing in this package imports Qt (tests/test_architecture.py enforces it), so every
piece can run headless, in a worker thread, or from ``main.py``'s sub-commands.
"""
