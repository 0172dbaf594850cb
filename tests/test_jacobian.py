"""Vector outputs (issue 15): the VJP equals backward(gradient=v) and the Jacobian equals
torch.autograd.functional.jacobian, both computed directly in the test; rows are VJPs."""
from __future__ import annotations

import json

import pytest
import torch

from core.cli import main as cli_main
from core.errors import ExpressionError
from core.evaluation.evaluate import forward
from core.language.parser import parse
from core.views.jacobian import MAX_JACOBIAN_ENTRIES, jacobian_of

F64 = torch.float64


def report_of(text, v=None, **values):
    return jacobian_of(forward(parse(text), values, "float64", allow_vector_output=True), v)


CASES = [
    ("f = W @ x", lambda W, x: W @ x, {"W": [[1.0, 2.0], [3.0, 4.0]], "x": [1.0, -1.0]}),
    ("h = tanh(x)\nf = outer(h, exp(x)) * a", lambda x, a: torch.outer(torch.tanh(x),
     torch.exp(x)) * a, {"x": [0.3, -0.7, 1.1], "a": 2.0}),
    ("f = softmax(x * s, dim=0)", lambda x, s: torch.softmax(x * s, dim=0),
     {"x": [1.0, 2.0, 0.5], "s": 0.7}),
    ("f = sin(x) * x**2 + y", lambda x, y: torch.sin(x) * x ** 2 + y,
     {"x": [0.1, 2.0], "y": [[1.0, 2.0], [3.0, 4.0]]}),
]


@pytest.mark.parametrize("text, fn, values", CASES)
def test_jacobian_equals_torch_functional_jacobian(text, fn, values):
    report = report_of(text, **values)
    tensors = tuple(torch.tensor(v, dtype=F64) for v in values.values())
    expected = torch.autograd.functional.jacobian(fn, tensors)
    for name, jac in zip(values, expected, strict=True):
        assert report.jacobian[name].shape == jac.shape
        assert torch.allclose(report.jacobian[name], jac, rtol=1e-10, atol=1e-12), name


@pytest.mark.parametrize("text, fn, values", CASES)
def test_vjp_equals_backward_with_gradient(text, fn, values):
    tensors = [torch.tensor(v, dtype=F64, requires_grad=True) for v in values.values()]
    out = fn(*tensors)
    generator = torch.Generator().manual_seed(len(text))
    v = torch.randn(out.shape, dtype=F64, generator=generator)
    out.backward(gradient=v)
    report = report_of(text, v.tolist(), **values)
    for name, t in zip(values, tensors, strict=True):
        assert torch.allclose(report.vjp[name], t.grad, rtol=1e-10, atol=1e-12), name
    # the default v is ones, as sum(...) would give
    ones = report_of(text, **values)
    sums = torch.autograd.grad(fn(*tensors).sum(), tensors)
    for name, g in zip(values, sums, strict=True):
        assert torch.allclose(ones.vjp[name], g, rtol=1e-10, atol=1e-12)


def test_rows_are_vjps_with_one_hot_v():
    text, fn, values = CASES[1]
    report = report_of(text, **values)
    x = torch.tensor(values["x"], dtype=F64, requires_grad=True)
    out = fn(x, torch.tensor(2.0, dtype=F64))
    for k in range(out.numel()):
        e = torch.zeros(out.numel(), dtype=F64)
        e[k] = 1
        (row,) = torch.autograd.grad(out, [x], e.reshape(out.shape), retain_graph=True)
        assert torch.allclose(report.row("x", k), row, rtol=1e-12)


def test_finite_differences_agree():
    report = report_of("f = exp(x) * sum(sin(x))", x=[0.2, -0.4, 0.9])
    x0 = torch.tensor([0.2, -0.4, 0.9], dtype=F64)
    h = 1e-6
    for j in range(3):
        dx = torch.zeros(3, dtype=F64)
        dx[j] = h
        fd = (torch.exp(x0 + dx) * torch.sin(x0 + dx).sum()
              - torch.exp(x0 - dx) * torch.sin(x0 - dx).sum()) / (2 * h)
        assert torch.allclose(report.jacobian["x"][:, j], fd, rtol=1e-6)


def test_bound_keeps_the_vjp_and_drops_the_matrix():
    n = 101  # 101 x 101 = 10,201 entries > 10,000
    assert n * n > MAX_JACOBIAN_ENTRIES >= 100 * 100
    report = report_of("f = x * 2", x=[1.0] * n)
    assert report.jacobian is None and "10,201 entries" in report.reason
    assert torch.equal(report.vjp["x"], torch.full((n,), 2.0, dtype=F64))
    assert report_of("f = x * 2", x=[1.0] * 100).jacobian["x"].shape == (100, 100)


def test_v_of_the_wrong_shape_is_an_error_with_a_position():
    with pytest.raises(ExpressionError, match="shaped like the output") as info:
        report_of("f = x * 2", [1.0, 2.0, 3.0], x=[1.0, 2.0])
    assert info.value.span is not None and info.value.where == "--grad-output"


def test_cli(capsys):
    assert cli_main(["jacobian", "f = W @ x", "--var", "W=[[1,2],[3,4]]", "--var", "x=[1,-1]",
                     "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["output_shape"] == [2]
    assert data["jacobian"]["x"] == [[1.0, 2.0], [3.0, 4.0]]  # d(Wx)/dx = W
    assert data["jacobian"]["W"] == [[[1.0, -1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, -1.0]]]
    assert cli_main(["jacobian", "f = x*2", "--var", "x=[1,2]", "--grad-output", "[1,"]) == 2
    assert capsys.readouterr().err.startswith("error: --grad-output")


def test_compute_steps_paths_accept_grad_output_as_backward_gradient(capsys):
    W = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    v = torch.tensor([2.0, -1.0])
    (torch.exp(W @ x)).backward(gradient=v)
    argv = ["f = exp(W @ x)", "--var", "W=[[1,2],[3,4]]", "--var", "x=[0.5,-1]",
            "--grad-output", "[2,-1]", "--json"]
    assert cli_main(["compute", *argv]) == 0
    data = json.loads(capsys.readouterr().out)
    assert torch.allclose(torch.tensor(data["gradients"]["W"]), W.grad)
    assert torch.allclose(torch.tensor(data["gradients"]["x"]), x.grad)
    assert cli_main(["steps", *argv]) == 0
    steps = json.loads(capsys.readouterr().out)
    assert torch.allclose(torch.tensor(steps["leaves"]["x"]["total"]), x.grad)
    assert steps["steps"][0]["grad_in"] == [[2.0, -1.0]]  # the seed is v, not ones
    assert cli_main(["paths", *argv]) == 0
    paths = json.loads(capsys.readouterr().out)
    assert torch.allclose(torch.tensor(paths["leaves"]["x"]["path_sum"]), x.grad)
    # without v the vector output is refused, saying how to choose one
    assert cli_main(["compute", *argv[:-3]]) == 2
    assert "--grad-output" in capsys.readouterr().err
    assert cli_main(["compute", *argv[:-2], "[1,2,3]"]) == 2
    assert "shaped like the output" in capsys.readouterr().err
