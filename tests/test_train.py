"""Training (issue 15): losses and parameters equal torch.optim.SGD run directly on the same
program; the .grad semantics are torch's own (doubling, the freed-graph error, non-leaves)."""
from __future__ import annotations

import json

import pytest
import torch

from core.cli import main as cli_main
from core.errors import ExpressionError, LimitError
from core.evaluation.grad_semantics import backward_again, leaf_and_non_leaf
from core.language.parser import parse
from core.language.values import VariableSpec
from core.views.train import MAX_TRAIN_STEPS, train

REGRESSION = "pred = w*x + b\nloss = mean((pred - y)**2)"
X, Y = [1.0, 2.0, 3.0, 4.0], [3.1, 4.9, 7.2, 8.8]


def data():
    return {"w": 0.0, "b": 0.0, "x": VariableSpec("x", X, False),
            "y": VariableSpec("y", Y, False)}


def sgd_directly(lr, steps, momentum=0.0, dtype=torch.float32):
    w = torch.tensor(0.0, dtype=dtype, requires_grad=True)
    b = torch.tensor(0.0, dtype=dtype, requires_grad=True)
    x, y = torch.tensor(X, dtype=dtype), torch.tensor(Y, dtype=dtype)
    opt = torch.optim.SGD([w, b], lr=lr, momentum=momentum)
    losses, ws, bs = [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.mean((w * x + b - y) ** 2)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        ws.append(w.item())
        bs.append(b.item())
    return losses, ws, bs


@pytest.mark.parametrize("lr, momentum", [(0.01, 0.0), (0.05, 0.9), (0.02, 0.5)])
def test_linear_regression_equals_torch_sgd(lr, momentum):
    report = train(parse(REGRESSION), data(), "float32", lr=lr, steps=20, momentum=momentum)
    losses, ws, bs = sgd_directly(lr, 20, momentum)
    assert report.loss == losses  # same float32 arithmetic, same order: equal exactly
    assert [float(v) for v in report.params["w"]] == ws
    assert [float(v) for v in report.params["b"]] == bs
    assert set(report.params) == {"w", "b"}  # x and y are data


def test_one_step_by_hand():
    # f = x**2 at x = 3, lr 0.1: grad 6, x <- 3 - 0.6 = 2.4; then grad 4.8, x <- 1.92
    report = train(parse("f = x**2"), {"x": 3.0}, "float64", lr=0.1, steps=2)
    assert report.loss == [9.0, pytest.approx(5.76)]
    assert [float(v) for v in report.params["x"]] == [pytest.approx(2.4), pytest.approx(1.92)]
    assert [float(g) for g in report.gradients["x"]] == [6.0, pytest.approx(4.8)]


def test_divergence_stops_with_a_note():
    report = train(parse("f = x**2"), {"x": 1.0}, "float32", lr=2.0, steps=1000)
    assert "too large" in report.note and len(report.loss) < 1000
    assert report.loss[1] == 9.0  # x: 1 -> -3 -> 9: loss 1, 9, 81, ...


@pytest.mark.parametrize("kwargs, error", [
    ({"lr": float("nan")}, ExpressionError), ({"lr": -1.0}, ExpressionError),
    ({"momentum": 1.0}, ExpressionError), ({"steps": 0}, ExpressionError),
    ({"steps": MAX_TRAIN_STEPS + 1}, LimitError),
])
def test_bad_settings(kwargs, error):
    with pytest.raises(error):
        train(parse("f = x**2"), {"x": 1.0}, **kwargs)


def test_nothing_to_train_and_vector_loss():
    with pytest.raises(ExpressionError, match="no input needs a gradient"):
        train(parse("f = x**2"), {"x": VariableSpec("x", 1.0, False)})
    with pytest.raises(ExpressionError, match="single number"):
        train(parse("f = x**2"), {"x": [1.0, 2.0]})


def test_backward_again_doubles_grad_like_torch():
    result = backward_again(parse("f = w**3 + z*w"), {"w": 2.0, "z": 0.5}, "float64",
                            retain_graph=True)
    w = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    z = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    f = w ** 3 + z * w
    f.backward(retain_graph=True)
    once = w.grad.clone()
    f.backward()
    assert float(result.first["w"]) == float(once) == 12.5
    assert float(result.second["w"]) == float(w.grad) == 25.0
    assert float(result.second["z"]) == float(z.grad) == 4.0
    assert not result.error and "zero_grad" in result.explanation


def test_backward_again_without_retain_graph_shows_torch_error():
    result = backward_again(parse("f = exp(w) * w"), {"w": 1.0}, retain_graph=False)
    w = torch.tensor(1.0, requires_grad=True)
    f = torch.exp(w) * w
    f.backward()
    with pytest.raises(RuntimeError) as info:
        f.backward()
    assert result.error == str(info.value).strip()
    assert "retain_graph" in result.explanation and not result.second


def test_non_leaf_grad_is_none_in_torch():
    found = {a.name: a for a in leaf_and_non_leaf(parse("h = w*w\nf = 3*h"), {"w": 2.0})}
    assert found["w"].is_leaf and float(found["w"].torch_grad) == 12.0
    assert not found["h"].is_leaf and found["h"].torch_grad is None
    assert float(found["h"].gradient) == 3.0


def test_cli_json(capsys):
    argv = ["train", REGRESSION, "--var", "w=0", "--var", "b=0", "--const",
            f"x={X}", "--const", f"y={Y}", "--lr", "0.1", "--steps", "20", "--json"]
    assert cli_main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    losses, ws, bs = sgd_directly(0.1, 20)
    assert data["loss"] == pytest.approx(losses, rel=1e-6, abs=1e-30)
    assert data["params"]["w"] == pytest.approx(ws)
    assert data["params"]["b"] == pytest.approx(bs)
    assert cli_main(["train", "f = x**2", "--var", "x=1", "--lr", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --lr")
