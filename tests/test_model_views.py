"""The views of issue 15 on graphs from real nn.Modules (autograd_explorer.explore; random
weights, fixed seed), against torch.autograd.functional and the tensors' own .grad: paths,
Jacobian and Hessian from the graph alone, forward mode with a callable, and a plain reason
where a view cannot work."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.func import functional_call

from autograd_explorer import explore
from core.errors import ExpressionError
from core.views import model_views
from core.views.hessian import hessian_of
from core.views.jacobian import jacobian_of
from core.views.modes import compare_modes
from core.views.paths import find_paths


class TwoLayer(nn.Module):
    """tanh(x W1ᵀ + b1) W2ᵀ + b2, then the mean squared error: a module returning its loss."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(3, 4), nn.Linear(4, 2)

    def forward(self, x, y):
        return nn.functional.mse_loss(self.fc2(torch.tanh(self.fc1(x))), y)


class Products(nn.Module):
    """A module written with explicit matrix products (torch.mm, torch.mv)."""

    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(torch.randn(3, 4))
        self.v = nn.Parameter(torch.randn(4))

    def forward(self, x):
        return torch.mv(torch.mm(x, self.W), self.v).pow(2).sum()


class Dropped(nn.Module):
    """A linear layer and dropout (training mode), summed."""

    def __init__(self):
        super().__init__()
        self.fc, self.drop = nn.Linear(3, 2), nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(x)).sum()


def _model():
    torch.manual_seed(0)
    model = TwoLayer().double()
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    return model, x, y


def _own_grads(model, *inputs) -> dict:
    """The parameters' .grad after loss.backward() on a copy of the model (torch itself)."""
    twin = copy.deepcopy(model)
    twin(*inputs).backward()
    return {name: p.grad for name, p in twin.named_parameters()}


def _as_function(model, names, *inputs):
    """The loss as a function of the named parameters (for torch.autograd.functional)."""
    def loss(*values):
        return functional_call(model, dict(zip(names, values, strict=True)), inputs)
    return loss


def test_paths_sum_to_each_parameters_grad():
    model, x, y = _model()
    ex = explore(model, (x, y))
    report = find_paths(ex.evaluation, ex.trace)
    grads = _own_grads(model, x, y)
    assert set(report.leaves) == set(grads)
    for name, leaf in report.leaves.items():
        torch.testing.assert_close(leaf.total.reshape(grads[name].shape), grads[name])
        if leaf.paths is not None:  # listed: the products add up to the gradient
            torch.testing.assert_close(leaf.path_sum.reshape(grads[name].shape), grads[name])
    assert all(p.grad is None for p in model.parameters())  # the user's model untouched


def test_jacobian_and_vjp_of_a_models_loss_match_torch():
    """explore takes a loss (one number): its Jacobian is one row, the gradient, and
    backward(gradient=v) scales it by v."""
    model, x, y = _model()
    ex = explore(model(x, y), params=model)  # explore(loss): the graph alone
    names = [name for name, _ in model.named_parameters()]
    params = tuple(p.detach() for _, p in model.named_parameters())
    expected = torch.autograd.functional.jacobian(_as_function(model, names, x, y), params)
    report = jacobian_of(ex.evaluation)
    scaled = jacobian_of(ex.evaluation, 2.5)
    for name, jac in zip(names, expected, strict=True):
        torch.testing.assert_close(report.jacobian[name], jac)
        torch.testing.assert_close(scaled.vjp[name], 2.5 * jac)
    assert all(p.grad is None for p in model.parameters())


def test_hessian_by_double_backward_over_the_explored_graph_matches_torch():
    model, x, y = _model()
    ex = explore(model(x, y), params=model)  # explore(loss): the graph alone
    report = hessian_of(ex.evaluation)
    names = [name for name, _ in model.named_parameters()]
    params = tuple(p.detach() for _, p in model.named_parameters())
    expected = torch.autograd.functional.hessian(_as_function(model, names, x, y), params)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            torch.testing.assert_close(report.hessian[a][b], expected[i][j])
    ones = tuple(torch.ones_like(p) for p in params)
    _, hvp = torch.autograd.functional.hvp(_as_function(model, names, x, y), params, ones)
    for name, value in zip(names, hvp, strict=True):
        torch.testing.assert_close(report.hvp[name], value)


def test_forward_mode_with_a_callable_agrees_with_reverse_and_grad():
    model, x, y = _model()
    ex = explore(model, (x, y))
    report = compare_modes(ex.evaluation, model_views.dual_replay(ex.evaluation))
    grads = _own_grads(model, x, y)
    for name, grad in grads.items():
        torch.testing.assert_close(report.forward[name], grad)
        torch.testing.assert_close(report.reverse[name], grad)
    entries = sum(p.numel() for p in model.parameters())
    assert report.passes == {"forward": entries, "reverse": 1}
    assert report.winner == "reverse"  # many parameters, one loss
    assert all(p.grad is None for p in model.parameters())


def test_forward_mode_on_a_plain_function_of_its_inputs():
    torch.manual_seed(2)
    a = torch.randn(3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)

    def f(a, b):
        return (torch.sin(a) * b).sum()

    ex = explore(f, (a, b))
    report = compare_modes(ex.evaluation, model_views.dual_replay(ex.evaluation))
    expected = torch.autograd.functional.jacobian(f, (a.detach(), b.detach()))
    torch.testing.assert_close(report.forward["inputs[0]"], expected[0])
    torch.testing.assert_close(report.forward["inputs[1]"], expected[1])


def test_forward_mode_without_a_callable_says_why():
    model, x, y = _model()
    ex = explore(model(x, y), params=model)
    with pytest.raises(ExpressionError) as caught:
        model_views.dual_replay(ex.evaluation)
    assert caught.value.message == model_views.FORWARD_MODE_REASON
    assert "explore(fn, inputs)" in caught.value.message


def test_forward_mode_refuses_a_model_with_dropout_in_training_mode():
    torch.manual_seed(3)
    model = Dropped()
    ex = explore(model, (torch.randn(2, 3),))
    with pytest.raises(ExpressionError) as caught:
        model_views.dual_replay(ex.evaluation)
    assert caught.value.message == model_views.DROPOUT_REASON


def test_matrix_products_of_a_module_match_the_parameters_grad():
    from core.views.microscope import lenses

    torch.manual_seed(4)
    model = Products().double()
    x = torch.randn(2, 3, dtype=torch.float64)
    ex = explore(model, (x,))
    found = lenses(ex.evaluation, ex.trace)
    assert {lens.op for lens in found} == {"MmBackward0", "MvBackward0"}
    grads = _own_grads(model, x)
    mm = next(lens for lens in found if lens.op == "MmBackward0")
    weight = next(o for o in mm.operands if o.label == "W")
    torch.testing.assert_close(weight.gradient, grads["W"])
