"""Leaves made in the text are keyed by the node that made them: two leaves with the same
text are two leaves, each with its own gradient row (torch has two tensors)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from core.evaluation.evaluate import evaluate
from core.language.parser import parse

ROOT = Path(__file__).resolve().parents[1]
TWICE = "f = sum(ones(2, requires_grad=True) * 2) + sum(ones(2, requires_grad=True) * 3)"


def test_same_text_twice_gives_two_leaves_with_torchs_gradients():
    a, b = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    ((a * 2).sum() + (b * 3).sum()).backward()
    evaluation = evaluate(parse(TWICE), {})
    assert list(evaluation.gradients) == ["ones(2, requires_grad=True) (line 1, column 9)",
                                          "ones(2, requires_grad=True) (line 1, column 48)"]
    grads = list(evaluation.gradients.values())
    assert torch.equal(grads[0], a.grad) and torch.equal(grads[1], b.grad)


def test_a_unique_text_keeps_its_plain_name_and_named_leaves_their_names():
    text = ("w = torch.ones(2, requires_grad=True)\n"
            "g = sum(w * tensor([1.0, 2.0], requires_grad=True))\n"
            "f = g + sum(tensor([1.0, 2.0], requires_grad=True) ** 2) + sum(zeros(2, "
            "requires_grad=True))")
    w = torch.ones(2, requires_grad=True)
    c1 = torch.tensor([1.0, 2.0], requires_grad=True)
    c2 = torch.tensor([1.0, 2.0], requires_grad=True)
    z = torch.zeros(2, requires_grad=True)
    ((w * c1).sum() + (c2 ** 2).sum() + z.sum()).backward()
    evaluation = evaluate(parse(text), {})
    names = list(evaluation.gradients)
    assert names[0] == "w" and names[-1] == "zeros(2, requires_grad=True)"
    made = "tensor([1.0, 2.0], requires_grad=True)"
    assert [n.split(" (line")[0] for n in names[1:3]] == [made, made]
    for name, expected in zip(names, (w.grad, c1.grad, c2.grad, z.grad), strict=True):
        assert torch.equal(evaluation.gradients[name], expected), name


def test_cli_json_lists_both_leaves():
    done = subprocess.run([sys.executable, "main.py", "compute", TWICE, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    gradients = json.loads(done.stdout)["gradients"]
    assert sorted(gradients.values()) == [[2.0, 2.0], [3.0, 3.0]]
