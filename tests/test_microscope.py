"""The matrix microscope (issue 15): for mm, mv and dot, each operand's gradient is the
product the shapes allow (G Bᵀ, Aᵀ G, G vᵀ, G b), equal to torch's gradient computed
directly, and each entry's written-out sum adds up to it."""
from __future__ import annotations

import re

import pytest
import torch

from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.teaching.trace import record_steps
from core.views.microscope import lenses

F64 = torch.float64
A = [[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]]
B = [[0.2, -1.0], [1.5, 0.3], [-0.7, 2.0]]


def lens_of(text, **values):
    evaluation = evaluate(parse(text), values, "float64")
    return lenses(evaluation, record_steps(evaluation))


def test_mm_gradients_are_g_b_transposed_and_a_transposed_g():
    (lens,) = lens_of("f = sum(exp(A @ B))", A=A, B=B)
    a = torch.tensor(A, dtype=F64, requires_grad=True)
    b = torch.tensor(B, dtype=F64, requires_grad=True)
    out = torch.sum(torch.exp(a @ b))
    ga, gb = torch.autograd.grad(out, [a, b])
    g = torch.exp(a @ b).detach()  # d sum(exp(C)) / dC
    assert torch.allclose(lens.g, g)
    left, right = lens.operands
    assert left.formula == "G Bᵀ" and right.formula == "Aᵀ G"
    assert torch.allclose(left.gradient, ga) and torch.allclose(left.gradient, g @ b.T)
    assert torch.allclose(right.gradient, gb) and torch.allclose(right.gradient, a.T @ g)
    assert "only G·Bᵀ is 2×3" in left.why
    # each entry's sum: Σ_c G[i,c] B[j,c], written out, adds up to its value
    label, text = left.entries[1]  # A[0,1]
    assert label == "∂F/∂A[0,1]"
    terms, value = text.rsplit(" = ", 1)
    products = [float(x.strip("()")) * float(y.strip("()"))
                for x, y in (t.split("·") for t in terms.split(" + "))]
    assert sum(products) == pytest.approx(float(value), rel=1e-3)
    assert float(value) == pytest.approx(float(ga[0, 1]), rel=1e-5)


def test_mv_and_dot():
    found = {lens.op: lens for lens in lens_of("f = dot(mv(W, x), x)",
                                              W=[[1.0, 2.0], [3.0, 4.0]], x=[0.5, -1.0])}
    W = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64, requires_grad=True)
    x = torch.tensor([0.5, -1.0], dtype=F64, requires_grad=True)
    gW, _ = torch.autograd.grad(torch.dot(W @ x, x), [W, x])
    mv = found["MvBackward0"]
    assert mv.operands[0].formula.startswith("G xᵀ")
    assert torch.allclose(mv.operands[0].gradient, gW)  # W is only in the mv
    dot = found["DotBackward0"]
    # the dot's G is 1: its operands get each other
    assert torch.allclose(dot.operands[0].gradient, x.detach())
    assert torch.allclose(dot.operands[1].gradient, (W @ x).detach())


def test_one_matrix_in_both_places_is_told_apart():
    (lens,) = lens_of("f = sum(W @ W)", W=[[1.0, 0.5], [0.2, 0.1]])
    assert [o.label for o in lens.operands] == ["W (left)", "W (right)"]
    W = torch.tensor([[1.0, 0.5], [0.2, 0.1]], dtype=F64, requires_grad=True)
    (gW,) = torch.autograd.grad(torch.sum(W @ W), [W])
    # the two contributions add up to W's gradient
    assert torch.allclose(lens.operands[0].gradient + lens.operands[1].gradient, gW)


def test_no_products_no_lenses_and_a_constant_operand_gets_no_gradient():
    from core.language.values import VariableSpec

    assert lens_of("f = sum(exp(x))", x=[1.0, 2.0]) == []
    evaluation = evaluate(parse("f = sum(A @ B)"),
                          {"A": A, "B": VariableSpec("B", B, requires_grad=False)}, "float64")
    (lens,) = lenses(evaluation, record_steps(evaluation))
    assert re.match(r"C = A B", lens.product)
    assert [o.label for o in lens.operands] == ["A"]
