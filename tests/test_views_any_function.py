"""Every view works on every function of the language through torch's own machinery (no
per-function code): paths sum to torch's gradient, both modes equal it, the Hessian equals
torch.autograd.functional.hessian, the Jacobian equals torch.autograd.functional.jacobian.
The torch side is written out here directly, function by function, from torch's names."""
from __future__ import annotations

import pytest
import torch

from core.evaluation.evaluate import evaluate, forward
from core.language.parser import parse
from core.views.hessian import hessian_of
from core.views.jacobian import jacobian_of
from core.views.modes import compare_modes
from core.views.paths import find_paths

F64 = torch.float64
X = [[0.3, 0.7], [0.4, 0.2]]  # inside every function's domain (acos, asin, log, sqrt ...)



def _elementwise(name):
    """``sum(name(x) * x)`` with torch's own function of that name."""
    return lambda x: torch.sum(getattr(torch, name)(x) * x)


# program text -> the same with torch called directly on the tensor x
CASES = {
    **{f"f = sum({n}(x) * x)": _elementwise(n)
       for n in ("abs", "acos", "asin", "atan", "cos", "cosh", "erf", "exp", "expm1", "log",
                 "log10", "log1p", "log2", "neg", "reciprocal", "relu", "rsqrt", "sigmoid",
                 "sin", "sinh", "sqrt", "square", "tan", "tanh")},
    "f = sum(softplus(x) * x)": lambda x: torch.sum(torch.nn.functional.softplus(x) * x),
    "f = sum(clamp(x, min=0.25, max=0.6) * x)": lambda x: torch.sum(
        torch.clamp(x, min=0.25, max=0.6) * x),
    "f = sum(softmax(x, dim=0) * x)": lambda x: torch.sum(torch.softmax(x, dim=0) * x),
    "f = sum(log_softmax(x, dim=1) * x)": lambda x: torch.sum(torch.log_softmax(x, dim=1) * x),
    "f = sum(logsumexp(x * x, dim=0))":
        lambda x: torch.sum(torch.logsumexp(x * x, dim=0)),
    "f = mean(x) * prod(x)": lambda x: torch.mean(x) * torch.prod(x),
    "f = max(x) * min(x)":
        lambda x: torch.max(x) * torch.min(x),
    "f = sum(maximum(x, t(x)) * minimum(x, 0.5))": lambda x: torch.sum(
        torch.maximum(x, x.t()) * torch.minimum(x, torch.tensor(0.5, dtype=F64))),
    "f = norm(x, p=2) + norm(x, p=3)": lambda x: torch.norm(x, p=2) + torch.norm(x, p=3),
    "f = trace(mm(x, x)) + dot(mv(x, sum(x, dim=0)), sum(x, dim=1))":
        lambda x: torch.trace(x @ x) + torch.dot(x @ x.sum(dim=0), x.sum(dim=1)),
    "f = sum(outer(sum(x, dim=0), sum(x, dim=1)) * transpose(x, 0, 1))": lambda x: torch.sum(
        torch.outer(x.sum(dim=0), x.sum(dim=1)) * x.transpose(0, 1)),
    "f = sum(reshape(x, 4) * reshape(pow(x, 3), 4))": lambda x: torch.sum(
        x.reshape(4) * (x ** 3).reshape(4)),
    "f = sum(matmul(x, eye(2) + ones(2, 2)) * x)": lambda x: torch.sum(
        (x @ (torch.eye(2, dtype=F64) + torch.ones(2, 2, dtype=F64))) * x),
}


def grad_of(fn):
    x = torch.tensor(X, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(fn(x), [x])
    return g


@pytest.mark.parametrize("text", list(CASES))
def test_paths_and_modes_equal_torch(text):
    fn = CASES[text]
    expected = grad_of(fn)
    evaluation = evaluate(parse(text), {"x": X}, "float64")
    leaf = find_paths(evaluation).leaves["x"]
    total = leaf.path_sum if leaf.paths is not None else leaf.total
    assert torch.allclose(total, expected, rtol=1e-10, atol=1e-12)
    report = compare_modes(forward(parse(text), {"x": X}, "float64"))
    assert torch.allclose(report.forward["x"], expected, rtol=1e-10, atol=1e-12)
    assert torch.allclose(report.reverse["x"], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("text", list(CASES))
def test_hessian_equals_torch(text):
    fn = CASES[text]
    expected = torch.autograd.functional.hessian(fn, torch.tensor(X, dtype=F64))
    report = hessian_of(forward(parse(text), {"x": X}, "float64"))
    assert torch.allclose(report.hessian["x"]["x"], expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "sqrt", "log1p", "relu", "abs"])
def test_jacobian_of_each_elementwise_function_is_diagonal(name):
    text = f"f = {name}(x) * x"
    expected = torch.autograd.functional.jacobian(
        lambda x: getattr(torch, name)(x) * x, torch.tensor(X, dtype=F64))
    report = jacobian_of(forward(parse(text), {"x": X}, "float64", allow_vector_output=True))
    assert torch.allclose(report.jacobian["x"], expected, rtol=1e-10, atol=1e-12)
