"""A corpus of programs on int and bool tensors, dtype promotion, // and %, NaN and inf,
float32 and float64, views, reassignment and very large or small magnitudes, each run
through the app and through torch called directly on the same text (float32 and float64).

torch computes it => the app shows the same value (and dtype) and the same gradient; torch
refuses it => the app refuses it with a position. The app may also refuse, with a
position, what the language does not have (``~``, ``float('inf')`` in an expression, ...),
but never with a number of its own.
"""
from __future__ import annotations

import warnings

import pytest
import torch

from core.errors import ExpressionError
from core.evaluation.evaluate import evaluate
from core.language.parser import parse

X = [1.5, -2.0, 3.0, 0.0]

CORPUS = [
    'f = (torch.tensor([7, 8, 9, 10]) // 2 * x).sum()',
    'f = (torch.tensor([7, 8, 9, 10]) % 3 * x).sum()',
    'f = (torch.tensor([-7, 8, -9, 10]) // 2 * x).sum()',
    'f = (torch.tensor([-7, 8, -9, 10]) % 3 * x).sum()',
    'f = (x // 2).sum() + (x * x).sum()',
    'f = (x % 2 * x).sum()',
    'f = (x % -2 * x).sum()',
    'f = (torch.fmod(x, -2) * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]) / 2 * x).sum()',
    'f = (torch.tensor([True, False, True, True]) * x).sum()',
    'f = (torch.tensor([True, False, True, True]) + x).sum()',
    'f = ((x > 0) * x).sum()',
    'f = ((x > 0) + (x > 1) * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]) * 0.5 * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]) ** 2 * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]) ** -1 * x).sum()',
    'f = (2 ** torch.tensor([1, 2, 3, 4]) * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]).float() / 3 * x).sum()',
    'f = (x.long() * x).sum()',
    'f = (x.int() * x).sum()',
    'f = (x.bool() * x).sum()',
    'f = (x / 0).sum()',
    "f = (x * float('inf')).sum()",
    "f = (x * 0 * float('inf')).sum()",
    'f = (torch.log(x) * x).sum()',
    'f = (torch.sqrt(x)).sum()',
    'f = (x ** 0.5).sum()',
    'f = (x ** 0).sum() + x.sum()',
    'f = (x ** -1).sum()',
    'f = (x * 1e38 * 10).sum()',
    'f = (x * 1e-38 / 10).sum()',
    'f = (x * 1e-45).sum()',
    'f = (x * 3e38).sum()',
    'f = (torch.exp(x * 100)).sum()',
    'f = (torch.tensor(3) * x).sum()',
    'f = (torch.tensor(3.5) * x).sum()',
    'f = (torch.full((4,), 3) * x).sum()',
    'f = (torch.arange(4) * x).sum()',
    'f = (torch.arange(4) / 3 * x).sum()',
    'f = (torch.arange(4.0) * x).sum()',
    'f = (torch.arange(0, 4, 1) * x).sum()',
    'f = (torch.arange(4).float().mean() * x).sum()',
    'f = (torch.ones(4, dtype=torch.long) * 3 // 2 * x).sum()',
    'f = (torch.zeros(4, dtype=torch.bool) + x).sum()',
    'y = x; y = y * 2; f = (y * x).sum()',
    'y = x * 1; y = y + y; f = y.sum()',
    'a = x.view(2, 2); b = a.T; f = (a * b).sum()',
    'a = x[1:3]; f = (a * x[0:2]).sum()',
    'a = x.reshape(2, 2); f = (a @ a).sum()',
    'x2 = x * x; x2 = x2 * x2; f = x2.sum()',
    'x = x * 2; f = x.sum()',
    'c = 3; c = c / 2; f = (x * c).sum()',
    'c = 7; d = c // 2 * 1.0; f = (x * d).sum()',
    'f = x.sum() / 3',
    'f = x.mean() * 7 // 2',
    'f = (x * (1 / 3)).sum()',
    'f = (x * 16777217).sum()',
    'f = (x + 16777217).sum()',
    'f = (x * 2 ** 24 + 1).sum()',
    'f = (x * 1e8 + 1 - 1e8).sum()',
    'f = (torch.tensor([16777217, 1, 2, 3]) * x).sum()',
    'f = (torch.tensor([16777217.0, 1, 2, 3]) * x).sum()',
    'f = (torch.tensor([2**40, 1, 2, 3]) * x).sum()',
    'f = (x.double() * 0.1).sum()',
    'f = (x.double() * 0.1).float().sum()',
    'f = (torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64) * x).sum()',
    'f = torch.max(x, torch.tensor(1)).sum()',
    'f = torch.max(x, torch.tensor([1, 0, 2, 5])).sum()',
    'f = torch.where(x > 0, x, 0).sum()',
    'f = torch.where(x > 0, x, 0.5).sum()',
    'f = torch.clamp(x, 0, 1).sum()',
    'f = torch.clamp(x, min=torch.tensor(0)).sum()',
    'f = (x.sum(dtype=torch.float64)).sum()',
    'f = x.prod()',
    'f = (x * torch.nan).sum()',
    'f = torch.nan_to_num(x / 0).sum()',
    'f = (x.abs() ** 0.5).sum()',
    'f = torch.norm(x)',
    'f = torch.norm(x, p=0)',
    "f = torch.norm(x, p=float('inf'))",
    'f = (x * -0.0).sum()',
    'f = (torch.sign(x) * x).sum()',
    'f = (x.round() * x).sum()',
    'f = (torch.round(x * 2.5) * x).sum()',
    'f = (torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5])) * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]).sum() * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]).prod() * x).sum()',
    'f = (torch.tensor([100, 100, 100, 100]).prod() ** 3 * x).sum()',
    'f = (torch.tensor([True, True]).sum() * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]).max() * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]).argmax() * x).sum()',
    'f = (x.argmax() * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]).cumsum(0) * x).sum()',
    'f = (torch.tensor([5, 2, 3, 4]).sort().values * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]).abs() * x).sum()',
    'f = (-torch.tensor([1, 2, 3, 4]) * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]) - 0.5 * x).sum()',
    'f = (torch.tensor([1, 2, 3, 4]) @ x)',
    'f = (x @ torch.tensor([1, 2, 3, 4]))',
    'f = (x ** torch.tensor([1, 2, 3, 4])).sum()',
    'f = (torch.tensor([1, 2, 3, 4]) ** x).sum()',
    'f = (torch.tensor(2) ** x).sum()',
    'f = (2 ** x).sum()',
    'f = (x.pow(torch.tensor(2))).sum()',
    'f = (x.exp() / x.exp().sum()).sum()',
    '")[0])',
]


def torch_run(text: str, dtype):
    x = torch.tensor(X, dtype=dtype, requires_grad=True)
    scope = {"torch": torch, "x": x, "F": torch.nn.functional}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(text, scope)  # the test's reference: torch on the same text
    f = scope["f"]
    f.backward()
    return f.detach(), x.grad if x.grad is not None else torch.zeros_like(x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("text", CORPUS)
def test_app_shows_torch_s_numbers(text, dtype):
    try:
        expected, grad = torch_run(text, getattr(torch, dtype))
        refused = None
    except Exception as err:  # noqa: BLE001 - whatever torch raises, the app must refuse
        refused = err
    if refused is not None:
        with pytest.raises(ExpressionError) as raised:
            evaluate(parse(text), {"x": X}, dtype)
        assert raised.value.span is not None, raised.value.message
        return
    try:
        evaluation = evaluate(parse(text), {"x": X}, dtype)
    except ExpressionError as err:
        # only what the language does not have, never a refusal of torch's arithmetic
        assert err.kind in ("unsupported", "name", "syntax"), err
        assert err.span is not None
        return
    value = evaluation.value
    assert value.dtype == expected.dtype, (value.dtype, expected.dtype)
    torch.testing.assert_close(value, expected, rtol=1e-6, atol=0, equal_nan=True)
    torch.testing.assert_close(evaluation.gradients["x"], grad, rtol=1e-6, atol=0,
                               equal_nan=True)


def test_written_tensors_take_the_chosen_dtype():
    """The one place the app differs from Python on purpose: the dtype box sets the
    precision of every tensor, so a written ``torch.tensor([1.0, ...])`` is float64 when
    float64 is chosen (torch's default would be float32, and torch.dot would refuse the
    mix): the app's numbers are torch's with that dtype written out."""
    text = "f = torch.dot(x, torch.tensor([1.0, 2, 3, 4]))"
    evaluation = evaluate(parse(text), {"x": X}, "float64")
    expected, grad = torch_run(text.replace("4])", "4], dtype=torch.float64)"), torch.float64)
    assert evaluation.value.dtype == torch.float64
    torch.testing.assert_close(evaluation.value, expected, rtol=0, atol=0)
    torch.testing.assert_close(evaluation.gradients["x"], grad, rtol=0, atol=0)


@pytest.mark.parametrize("data", [[123456789, 2, -3], [True, False], [10**14, 1]])
def test_integer_and_bool_entries_are_shown_as_torch_holds_them(data):
    """An int tensor's entries are exact: shown in full, not as 1.23457e+08; a bool
    tensor's as True/False (torch's own print)."""
    from core.serialize import format_number, format_tensor
    from gui.summary import format_cell, format_data

    tensor = torch.tensor(data)
    shown = [format_number(v) for v in tensor.tolist()]
    assert shown == [str(v) for v in tensor.tolist()]
    assert format_tensor(tensor) == "[" + ", ".join(shown) + "]"
    assert format_data(tensor.tolist()) == format_cell(tensor.tolist()) == \
        "[" + ", ".join(shown) + "]"
