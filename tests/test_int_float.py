"""Numbers keep Python's int/float distinction, as torch sees them.

``2`` is an int and ``2.0`` a float; a name bound to either is the same; arithmetic follows
Python (``2*3`` is the int 6, ``6/3`` the float 2.0, ``7 // 2`` the int 3). torch tells them
apart in dims, sizes, repeats, indices and overloads (``torch.max(x, 0)`` reduces along dim
0, ``torch.max(x, 0.0)`` is refused), so every generated program here runs through the app
and through torch called directly on the same text: either both give the same value and
gradient, or torch refuses and the app refuses with a position.
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

X = [[1.5, -2.0, 3.0], [0.5, 4.0, -0.25]]

#: where the number c goes; each a tensor expression of x that torch runs as written
TEMPLATES = [
    "torch.max(x, {c}).values", "torch.min(x, {c}).values", "x.sum(dim={c})", "x.sum({c})",
    "x.mean(dim={c})", "torch.softmax(x, {c})", "x.cumsum({c})", "x.unsqueeze({c})",
    "x.repeat({c}, 1)", "x.reshape({c}, -1)", "x.flatten({c})", "x.pow({c})", "x ** {c}", "x * {c}",
    "x / {c}", "x - {c}", "torch.clamp(x, min={c})", "x[{c}]", "x[:, {c}]", "x.transpose(0, {c})",
    "torch.ones({c}) * x[0, 0]", "torch.full((2,), {c}) * x[0, 0]", "x.amax({c})",
    "torch.logsumexp(x, {c})", "x.prod({c})", "x.std({c})",
    "torch.topk(x, {c}).values", "x.squeeze({c})",
]

_NUMBER = st.one_of(st.integers(-3, 3), st.sampled_from([0.0, 1.0, 2.0, -1.0, 0.5, 1.5]))
_OPS = ["+", "-", "*", "/", "//", "%", "**"]


@st.composite
def number_text(draw) -> str:
    """A small constant expression: a number, or two numbers with an operator."""
    left = draw(_NUMBER)
    if draw(st.booleans()):
        return repr(left)
    op = draw(st.sampled_from(_OPS))
    right = draw(_NUMBER)
    if op == "**":
        right = draw(st.sampled_from([0, 1, 2, 2.0]))
    return f"{left!r} {op} {right!r}"


def _torch_run(text: str):
    """torch called directly: the same lines as Python, x a float64 leaf."""
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    scope = {"torch": torch, "x": x}
    try:
        exec(text, scope)  # the test's own reference, never the app's code path
        f = scope["f"]
        f.backward()
    except (TypeError, RuntimeError, ValueError, IndexError, ZeroDivisionError,
            OverflowError) as err:
        return None, None, err
    return f.detach(), x.grad, None


def _app_run(text: str):
    program = parse(text)
    evaluation = evaluate(program, {"x": VariableSpec("x", X, True)}, "float64")
    return evaluation.value, evaluation.gradients["x"]


def check_same(text: str) -> None:
    """The app and torch agree on ``text``, or both refuse it (the app with a position)."""
    expected, grad, refused = _torch_run(text)
    if refused is not None:
        with pytest.raises(ExpressionError) as raised:
            _app_run(text)
        assert raised.value.span is not None, (text, raised.value.message)
        return
    value, app_grad = _app_run(text)
    torch.testing.assert_close(value, expected.to(value.dtype), rtol=1e-12, atol=1e-12,
                               equal_nan=True, msg=lambda m: f"{text!r}: value: {m}")
    torch.testing.assert_close(app_grad, grad, rtol=1e-12, atol=1e-12, equal_nan=True,
                               msg=lambda m: f"{text!r}: gradient: {m}")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number_text(), st.sampled_from(TEMPLATES), st.booleans())
def test_numbers_in_every_position_as_torch(number, template, bound):
    """A number written in place or bound to a name first behaves as in torch."""
    if bound:
        text = f"c = {number}\nf = ({template.format(c='c')}).sum() * 1.0"
    else:
        text = f"f = ({template.format(c=f'({number})')}).sum() * 1.0"
    check_same(text)


@pytest.mark.parametrize("text", [
    "c = 0.0\nf = torch.max(x, c).values.sum()",      # the case: a float is refused
    "c = 0\nf = torch.max(x, c).values.sum()",        # an int is a dim
    "c = torch.tensor(0.)\nf = torch.max(x, c).sum()",  # a tensor is elementwise
    "n = 2 * 3 // 4\nf = x.sum(dim=n).sum()",          # 6 // 4 = 1, an int
    "n = 6 / 3\nf = x.sum(dim=n).sum()",                # 2.0: refused as torch refuses
    "n = 2\nf = torch.ones(n, 3).mul(x).sum()",
    "n = 2.0\nf = torch.ones(n, 3).mul(x).sum()",
    "f = x.repeat(2, 1).sum() * (7 % 3)",
    "f = (x * (-7 // 2)).sum() + (x * (-7 % 3)).sum() + (x * (7.5 % 2)).sum()",
    "f = (x * 2**70 * 1.0).sum()",                      # a float: fine
    "f = (x * 2**70).sum()",                            # an int past int64: torch refuses
    "f = x[1].sum()",
    "i = 1.0\nf = x[i].sum()",
    "f = x.sum(0, keepdim=1).sum()",                    # torch: keepdim must be bool
    "f = x.sum(0, keepdim=True).sum()",
    "f = torch.max(x, 1, 1).values.sum()",
    "f = torch.max(x, 1, True).values.sum()",
    "f = x.var(0, unbiased=0).sum()",
    "f = torch.ones(2, requires_grad=1).sum() * x.sum()",
    "f = (5 % x).sum()",                                # torch has no backward for it
    "f = (torch.tensor(5.0) % x).sum()",
])
def test_named_cases(text):
    check_same(text)


def test_the_float_in_max_is_refused_naming_it():
    with pytest.raises(ExpressionError) as raised:
        _app_run("c = 0.0\nf = torch.max(x, c).values.sum()")
    assert "float" in raised.value.message and "clamp" in raised.value.message
    assert raised.value.span.line == 2


def test_arithmetic_keeps_python_types():
    """2*3 is an int (a valid size), 6/3 a float (refused as a size), as in Python."""
    evaluation = evaluate(parse("f = torch.ones(2 * 3).sum() * x.sum()"),
                          {"x": VariableSpec("x", X, True)}, "float64")
    assert evaluation.value.item() == pytest.approx(6 * sum(sum(r) for r in X))
    with pytest.raises(ExpressionError, match="float"):
        evaluate(parse("f = torch.ones(6 / 3).sum() * x.sum()"),
                 {"x": VariableSpec("x", X, True)}, "float64")
