"""The window shows torch's numbers for the calls issue 10 found wrong (against torch typed
directly, never against the app's own code)."""
from __future__ import annotations

import pytest
import torch

from tests.gui.conftest import compute_and_draw

pytestmark = pytest.mark.gui


def test_two_leaves_with_the_same_text_each_keep_their_gradient_row(qtbot, window):
    text = "f = sum(ones(2, requires_grad=True) * 2) + sum(ones(2, requires_grad=True) * 3)"
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    ((a * 2).sum() + (b * 3).sum()).backward()
    result = compute_and_draw(qtbot, window, text, {})
    first = result.quantity("ones(2, requires_grad=True) (line 1, column 9)")
    second = result.quantity("ones(2, requires_grad=True) (line 1, column 48)")
    assert first.grad == a.grad.tolist() and second.grad == b.grad.tolist()
    table = window.results.text()
    assert "(line 1, column 9)" in table and "(line 1, column 48)" in table


def test_max_with_a_variable_given_as_a_number_is_elementwise(qtbot, window):
    values = {"x": [[1.5, -2.0, 3.0], [0.5, 4.0, 0.25]], "y": 1.0}
    x = torch.tensor(values["x"], requires_grad=True)
    y = torch.tensor(values["y"], requires_grad=True)
    f = torch.max(x, y).sum()
    f.backward()
    result = compute_and_draw(qtbot, window, "f = sum(torch.max(x, y))",
                              {"x": str(values["x"]), "y": "1.0"})
    assert result.value == pytest.approx(f.item()) and f.item() == 11.5
    assert result.quantity("x").grad == x.grad.tolist()
    assert result.quantity("y").grad == pytest.approx(y.grad.item())
    assert not any("does not depend" in w for w in result.warnings)


def test_an_output_that_is_an_input_is_not_told_it_depends_on_nothing(qtbot):
    """y = x: the results show dy/dx = 1 (torch: y is x, its gradient 1), so the Steps tab
    must not say the output depends on no input."""
    from core.evaluation.evaluate import evaluate
    from core.language.parser import parse
    from core.teaching.trace import record_steps
    from gui.step_panel import StepPanel

    evaluation = evaluate(parse("y = x"), {"x": 2.0})
    assert float(evaluation.gradients["x"]) == 1.0
    assert not any("does not depend" in str(w) for w in evaluation.warnings)
    panel = StepPanel()
    qtbot.addWidget(panel)
    panel.set_trace(record_steps(evaluation))
    text = panel.details.toPlainText()
    assert "No backward steps" in text and "does not depend" not in text
    assert "is an input itself" in text


def test_clamp_bounds_and_implicit_softmax_dim_as_torch_gives_them(qtbot, window):
    import torch.nn.functional as F

    x = torch.tensor([[[1.0, 2.0], [3.0, 0.5]], [[0.1, 0.2], [2.5, 1.5]]], requires_grad=True)
    lo = torch.tensor(0.3, requires_grad=True)
    hi = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning):
        f = (F.softmax(torch.clamp(x, lo, hi)) * torch.arange(8.0).reshape(2, 2, 2)).sum()
    f.backward()
    result = compute_and_draw(
        qtbot, window, "f = sum(F.softmax(torch.clamp(x, lo, hi)) * w)",
        {"x": str(x.tolist()), "lo": "0.3", "hi": "[1.0, 2.0]",
         "w": str(torch.arange(8.0).reshape(2, 2, 2).tolist())},
        grads={"x": True, "lo": True, "hi": True, "w": False})
    assert result.value == pytest.approx(f.item(), rel=1e-6)
    for name, tensor in (("x", x), ("lo", lo), ("hi", hi)):
        shown = torch.tensor(result.quantity(name).grad)
        torch.testing.assert_close(shown, tensor.grad, rtol=1e-5, atol=1e-6,
                                   msg=lambda m, n=name: f"{n}: {m}")
    assert any("Implicit dimension choice for softmax" in w for w in result.warnings)
