"""The built-in examples made for the views of issue 15: at least two open on each view,
and each view's numbers match the example's reference, worked out by hand or with SymPy
(resources/examples.json says which)."""
from __future__ import annotations

from collections import Counter

import pytest
import torch

from core.evaluation.evaluate import evaluate, forward
from core.language.parser import parse
from core.views.hessian import hessian_of
from core.views.jacobian import jacobian_of
from core.views.modes import compare_modes
from core.views.paths import find_paths
from core.views.train import train
from gui.examples import load_examples

VIEW_EXAMPLES = [e for e in load_examples() if e.view]


def ids(examples):
    return [e.title.split(":")[0] for e in examples]


def of(view):
    return [e for e in VIEW_EXAMPLES if e.view == view]


def test_at_least_two_examples_open_on_each_view():
    counts = Counter(e.view for e in VIEW_EXAMPLES)
    assert set(counts) == {"paths", "modes", "jacobian", "hessian", "train"}
    assert min(counts.values()) >= 2


def close(a, b):
    return torch.allclose(torch.as_tensor(a, dtype=torch.float64),
                          torch.as_tensor(b, dtype=torch.float64), rtol=1e-6, atol=1e-9)


def vector_forward(example):
    return forward(parse(example.expression), example.specs(), example.dtype,
                   allow_vector_output=True)


@pytest.mark.parametrize("example", of("paths"), ids=ids(of("paths")))
def test_paths_examples(example):
    report = find_paths(evaluate(parse(example.expression), example.specs(), example.dtype))
    for name, count in example.reference.get("paths", {}).items():
        assert report.leaves[name].count == count
    for name, grad in example.reference["gradients"].items():
        leaf = report.leaves[name]
        assert close(leaf.total, grad)
        if leaf.paths is not None:
            assert close(leaf.path_sum, grad)


@pytest.mark.parametrize("example", of("modes"), ids=ids(of("modes")))
def test_modes_examples(example):
    report = compare_modes(vector_forward(example))
    assert report.passes == example.reference["passes"]
    expected = example.reference.get("jacobian") or example.reference["gradients"]
    for name, value in expected.items():
        assert close(report.forward[name], value) and close(report.reverse[name], value)


@pytest.mark.parametrize("example", of("jacobian"), ids=ids(of("jacobian")))
def test_jacobian_examples(example):
    report = jacobian_of(vector_forward(example))
    for name, value in example.reference["jacobian"].items():
        assert close(report.jacobian[name], value)
    for name, value in example.reference["gradients"].items():
        assert close(report.vjp[name], value)  # v = ones


@pytest.mark.parametrize("example", of("hessian"), ids=ids(of("hessian")))
def test_hessian_examples(example):
    report = hessian_of(forward(parse(example.expression), example.specs(), example.dtype))
    for a, row in example.reference["hessian"].items():
        for b, value in row.items():
            assert close(report.hessian[a][b], value), (a, b)


@pytest.mark.parametrize("example", of("train"), ids=ids(of("train")))
def test_train_examples_first_step_uses_the_reference_gradient(example):
    report = train(parse(example.expression), example.specs(), example.dtype, lr=0.01,
                   steps=5)
    for name, value in example.reference["gradients"].items():
        assert close(report.gradients[name][0], value)
        start = torch.as_tensor(example.vars[name], dtype=torch.float64)
        # the first step is w - 0.01 * dL/dw, with the reference gradient
        assert close(report.params[name][0], start - 0.01 * torch.as_tensor(value))
    assert report.loss[-1] < report.loss[0]
