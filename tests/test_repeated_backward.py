"""A pasted cell's second backward(): the note says what torch does, checked against torch
run directly on the same calls (an error with torch's message, or .grad doubled)."""
from __future__ import annotations

import pytest
import torch

from core.evaluation.evaluate import evaluate
from core.language.parser import parse

HEAD = "import torch\nx = torch.tensor(2.0, requires_grad=True)\n"


def _torch(body: str):
    """Run the cell's calls with torch itself: (error message or None, x.grad)."""
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 2 + 2 * x if "x**2" in body else x + 1
    try:
        for line in body.splitlines():
            if line.startswith("y.backward(retain_graph=True)"):
                y.backward(retain_graph=True)
            elif line.startswith("y.backward()"):
                y.backward()
            elif line.startswith("x.grad.zero_()"):
                x.grad.zero_()
    except RuntimeError as err:
        return str(err), None
    return None, x.grad


def _notes(body: str) -> str:
    evaluation = evaluate(parse(HEAD + body), {})
    return " ".join(str(w) for w in evaluation.warnings if w.kind == "note")


@pytest.mark.parametrize("body", [
    "y = x**2 + 2*x\ny.backward()\ny.backward()\n",
    "y = x**2 + 2*x\ny.backward(retain_graph=True)\ny.backward()\n",
    "y = x + 1\ny.backward()\ny.backward()\n",  # nothing saved: torch runs it again
    "y = x**2 + 2*x\ny.backward(retain_graph=True)\nx.grad.zero_()\ny.backward()\n",
])
def test_the_note_says_what_torch_does(body):
    error, grad = _torch(body)
    notes = _notes(body)
    assert "adds to .grad, here it is computed once" not in notes
    if error is not None:
        assert "raises RuntimeError" in notes
        assert error.split(". ")[0] in notes  # torch's own words
        assert "Trying to backward through the graph a second time" in notes
    elif "zero_" in body:
        assert "cleared" in notes and "adds the same gradient" not in notes
    else:
        assert f"x.grad = {grad.item():g}" in notes and "raises" not in notes


def test_the_issue_numbers():
    # retain_graph=True: torch's x.grad is 12 where one backward() (the app's) gives 6
    notes = _notes("y = x**2 + 2*x\ny.backward(retain_graph=True)\ny.backward()\n")
    assert "x.grad = 12" in notes
    evaluation = evaluate(parse(HEAD + "y = x**2 + 2*x\ny.backward()\ny.backward()\n"), {})
    assert float(evaluation.gradients["x"]) == 6.0
