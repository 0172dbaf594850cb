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
