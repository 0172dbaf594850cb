"""``y += e`` against torch, where it changes the tensor y in place.

The language runs ``y += e`` as ``y = y + e``. That gives torch's numbers unless torch's
in-place change shows: another name bound to y or to a view of it (which torch changes too),
a leaf that requires grad (torch refuses), a result of another shape or dtype (torch
refuses), or an operation that saved y before the change (torch's backward stops). Programs
generated here run through the app and through torch called directly on the same text:
torch refuses => the app refuses with a position; torch computes => the app shows the same
value and gradients, or (only where another name shares y's memory, which the language
cannot follow) refuses saying so.
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ExpressionError
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.language.values import VariableSpec

X = [1.5, -2.0, 3.0]
W = [[0.5, 1.0, -1.0], [2.0, 0.25, 1.5]]

STARTS = ["x * 1", "x * 2", "x.exp()", "x * x", "x.sum()", "torch.sigmoid(x)", "x", "x.detach()",
          "x.reshape(3)", "torch.tanh(x) * 3", "x + 0", "x / 2", "x.sum() * 1"]
ALIASES = ["", "a = y\n", "a = y[0:2]\n", "a = y * 1\n", "a = y.detach()\n", "a = y.exp()\n",
           "a = y * y\n"]
OPS = ["+", "-", "*", "/", "**"]
RIGHTS = ["1", "2.0", "x", "y", "y.sum()", "x[0]", "W", "y * y", "x.exp()", "torch.sin(y)"]


def torch_run(text: str):
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(W, dtype=torch.float64)
    scope = {"torch": torch, "x": x, "W": w}
    try:
        exec(text, scope)  # the test's reference: torch on the same text
        f = scope["f"]
        f.backward()
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        return None, None, err
    return f.detach(), x.grad if x.grad is not None else torch.zeros_like(x), None


def app_run(text: str):
    evaluation = evaluate(parse(text), {"x": VariableSpec("x", X, True),
                                        "W": VariableSpec("W", W, False)}, "float64")
    return evaluation.value, evaluation.gradients["x"]


def check_same(text: str) -> None:
    expected, grad, refused = torch_run(text)
    if refused is not None:
        with pytest.raises(ExpressionError) as raised:
            app_run(text)
        assert raised.value.span is not None, (text, raised.value.message)
        return
    try:
        value, app_grad = app_run(text)
    except ExpressionError as err:
        # torch computes it, changing another name through shared memory: the language
        # has no such names, and says so rather than show other numbers
        assert "would change too" in err.message, (text, err.message)
        return
    torch.testing.assert_close(value, expected, rtol=1e-12, atol=1e-12, equal_nan=True,
                               msg=lambda m: f"{text!r}: value: {m}")
    torch.testing.assert_close(app_grad, grad, rtol=1e-12, atol=1e-12, equal_nan=True,
                               msg=lambda m: f"{text!r}: gradient: {m}")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STARTS), st.sampled_from(ALIASES), st.sampled_from(OPS),
       st.sampled_from(RIGHTS), st.booleans(), st.booleans())
def test_augmented_assignment_as_torch(start, alias, op, right, twice, guarded):
    again = f"y {op}= {right}\n" if twice else ""
    uses = " + (a * x).sum()" if alias else ""
    change = f"y {op}= {right}\n"
    if guarded:  # torch.no_grad(): the values change, y's graph stays
        change = f"with torch.no_grad():\n    {change}"
    text = f"y = {start}\n{alias}{change}{again}f = (y * x).sum(){uses}"
    check_same(text)


@pytest.mark.parametrize("text", [
    "y = x * 1\na = y[0:2]\ny += 1\nf = (a * a).sum()",   # a view: torch changes a too
    "y = x * 1\na = y\ny += 1\nf = (a * x).sum()",        # the same tensor
    "x += 1\nf = (x * x).sum()",                          # a leaf that requires grad
    "y = x.exp()\ny += 1\nf = y.sum()",                   # exp saved its result
    "y = x * 2\ny += W\nf = y.sum()",                      # another shape
    "y = x * 2\ny *= 3\nf = y.sum()",                      # fine: same numbers
    "y = x.sum()\ny **= 2\nf = y",                         # fine: pow_ keeps the old value
    "c = 2\nc += 1.5\nf = (x * c).sum()",                  # a number: Python's +=
    "y = x * 2\nwith torch.no_grad():\n    y *= 3\nf = (y * x).sum()",  # y keeps its graph
    "y = x * 2\nwith torch.no_grad():\n    y += x\nf = (y * x).sum()",
])
def test_named_cases(text):
    check_same(text)


def test_the_message_names_what_would_change():
    with pytest.raises(ExpressionError) as raised:
        app_run("y = x * 1\na = y[0:2]\ny += 1\nf = (a * a).sum()")
    message = raised.value.message
    assert "a is a view sharing memory with y" in message and "y = y + 1" in message
    assert raised.value.span.line == 3
