"""The view commands (paths, modes, jacobian, hessian, train, and the window's Views dock,
which calls the same functions) price their passes with the backward-work estimate before
running any of them, and stop at a deadline between backward nodes (issue 11).

Each budget is checked two ways: with the limit lowered in-process, counting the passes that
actually ran (none may run once the estimate is over), and with the real limit on a program
within the forward pass's bounds whose view would do too much work (in a subprocess, as a
user runs it: one ``error:`` line, exit 2, or a stated reason where the view still has a
cheaper answer)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core import limits
from core.cli import main as cli_main
from core.errors import LimitError
from core.evaluation.evaluate import forward
from core.language.parser import parse

ROOT = Path(__file__).resolve().parents[1]


def _one_error_line(status, err, *needles):
    assert status == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "internal error" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _count(monkeypatch, module, name):
    """Count calls to ``module.name`` (a torch function the view calls per pass)."""
    calls = []
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


# work estimates reach the Evaluation ------------------------------------------------------

def test_evaluation_carries_the_estimates_of_one_pass():
    """A 20×500 @ 500×20 product of two tensors needing gradients: 200,000 multiply-adds
    forward, twice that backward (by hand), plus the sum's 400 entries."""
    text = "a = ones(20, 500) * w\nb = ones(500, 20) * w\nf = sum(a @ b)"
    ev = forward(parse(text), {"w": 1.0})
    assert 400_000 <= ev.backward_work <= 400_000 + 4 * 20_000 + 3 * 400
    assert 200_000 <= ev.forward_work <= 200_000 + 4 * 20_000 + 400


# jacobian -------------------------------------------------------------------------------

JACOBIAN = "a = ones(4, 50) * w\nb = ones(50, 30) * w\nF = sum(a @ b, 0)"  # 30 outputs


def test_jacobian_rows_are_priced_before_any_runs(monkeypatch, capsys):
    ev = forward(parse(JACOBIAN), {"w": 1.0}, allow_vector_output=True)
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", ev.backward_work * 10)  # 10 passes fit
    calls = _count(monkeypatch, torch.autograd, "grad")
    status = cli_main(["jacobian", JACOBIAN, "--var", "w=1"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert len(calls) == 1  # the VJP only: the 30 rows were refused before any ran
    assert "the Jacobian is not built" in out and "the limit on backward work" in out
    assert "30 passes" in out and "at most 9 passes fit" in out
    # within the limit the rows are built and equal torch's own Jacobian
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", ev.backward_work * 31)
    status = cli_main(["jacobian", JACOBIAN, "--var", "w=1", "--json"])
    out, _ = capsys.readouterr()
    import json
    rows = json.loads(out)["jacobian"]["w"]

    def fn(w):
        return (torch.ones(4, 50) * w @ (torch.ones(50, 30) * w)).sum(0)

    expected = torch.autograd.functional.jacobian(fn, torch.tensor(1.0))
    assert torch.allclose(torch.tensor(rows), expected)


def test_jacobian_stops_at_its_deadline(monkeypatch, capsys):
    from core.views import jacobian
    monkeypatch.setattr(jacobian, "MAX_SECONDS", 0.0)
    status = cli_main(["jacobian", JACOBIAN, "--var", "w=1"])
    _one_error_line(status, capsys.readouterr()[1], "building the Jacobian took longer than 0 s")


# hessian --------------------------------------------------------------------------------

HESSIAN = "a = ones(4, 50) * W\nb = ones(50, 30) * W\nf = sum((a @ b) ** 2)"


def test_hessian_double_backward_is_refused_before_it_runs(monkeypatch, capsys):
    ev = forward(parse(HESSIAN), {"W": 1.0})
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 2 * ev.backward_work)  # needs 3×
    calls = _count(monkeypatch, torch.autograd, "grad")
    status = cli_main(["hessian", HESSIAN, "--var", "W=1"])
    _one_error_line(status, capsys.readouterr()[1], "second derivatives",
                    "the limit on backward work")
    assert calls == []


def test_hessian_rows_are_priced_the_hvp_still_comes(monkeypatch, capsys):
    text = "f = sum((ones(3, 4) @ W) ** 3)"
    value = "W=[[1, 2], [3, 4], [5, 6], [7, 8]]"  # 8 entries: 8 rows of the Hessian
    ev = forward(parse(text), {"W": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]})
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 7 * ev.backward_work)  # 1 + 2·2 fit
    calls = _count(monkeypatch, torch.autograd, "grad")
    status = cli_main(["hessian", text, "--var", value, "--json", "--dtype", "float64"])
    out, err = capsys.readouterr()
    assert status == 0, err
    import json
    data = json.loads(out)
    assert data["hessian"] is None and "the limit on backward work" in data["reason"]
    assert len(calls) == 2  # the gradient (create_graph) and the HVP, no row

    def fn(w):
        return ((torch.ones(3, 4, dtype=torch.float64) @ w) ** 3).sum()

    w = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]], dtype=torch.float64)
    _, hvp = torch.autograd.functional.hvp(fn, w, torch.ones_like(w))
    assert torch.allclose(torch.tensor(data["hvp"]["W"], dtype=torch.float64), hvp,
                          rtol=1e-5)


def test_hessian_stops_at_its_deadline(monkeypatch, capsys):
    from core.views import hessian
    monkeypatch.setattr(hessian, "MAX_SECONDS", 0.0)
    status = cli_main(["hessian", "f = sin(w) * w * z", "--var", "w=1", "--var", "z=2"])
    _one_error_line(status, capsys.readouterr()[1], "took longer than 0 s")


# modes ----------------------------------------------------------------------------------

MODES = "a = ones(4, 50) @ W\nf = sum(a ** 2)"
MODES_W = "W=" + str([[0.5] * 6] * 50)  # 300 input entries: 300 forward-mode passes


def test_modes_forward_passes_are_priced_before_any_runs(monkeypatch, capsys):
    ev = forward(parse(MODES), {"W": [[0.5] * 6] * 50})
    one = ev.forward_work + ev.backward_work
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 100 * one)
    from core.views import modes
    calls = _count(monkeypatch, modes, "replay")
    status = cli_main(["modes", MODES, "--var", MODES_W])
    _one_error_line(status, capsys.readouterr()[1], "forward mode", "300 passes",
                    "the limit on backward work")
    assert calls == []
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 400 * one)
    assert cli_main(["modes", MODES, "--var", MODES_W]) == 0
    assert len(calls) == 300
    capsys.readouterr()


def test_modes_reverse_passes_stop_at_the_deadline(monkeypatch, capsys):
    from core.views import modes
    monkeypatch.setattr(modes, "MAX_SECONDS", 0.0)
    status = cli_main(["modes", "F = sin(x) * x", "--var", "x=[1, 2, 3]"])
    _one_error_line(status, capsys.readouterr()[1], "took longer than 0 s")


# paths ----------------------------------------------------------------------------------

PATHS = "a = ones(4, 4) * w\nb = a @ a\nc = b @ b\nf = sum(c @ c)"  # 8 paths from w


def test_paths_listing_is_priced_the_factored_sums_still_come(monkeypatch, capsys):
    ev = forward(parse(PATHS), {"w": 0.5})
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 4 * ev.backward_work)
    status = cli_main(["paths", PATHS, "--var", "w=0.5", "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    import json
    leaf = json.loads(out)["leaves"]["w"]
    assert leaf["count"] == 8 and leaf["paths"] is None
    assert "the limit on backward work" in leaf["reason"] and "8 passes" in leaf["reason"]
    # the gradient shown is still torch's: d/dw sum((A w)^8 products) by autograd directly
    w = torch.tensor(0.5, requires_grad=True)
    a = torch.ones(4, 4) * w
    c = (a @ a) @ (a @ a)
    (c @ c).sum().backward()
    assert leaf["total"] == pytest.approx(w.grad.item(), rel=1e-5)


def test_paths_listing_stops_at_its_deadline(monkeypatch, capsys):
    from core.views import paths
    monkeypatch.setattr(paths, "MAX_SECONDS", 0.0)
    status = cli_main(["paths", "g = w * w\nf = g * g", "--var", "w=2"])
    _one_error_line(status, capsys.readouterr()[1], "listing the paths took longer than 0 s")


# train ----------------------------------------------------------------------------------

TRAIN = "a = ones(10, 10) @ W\nL = sum(a ** 2)"
TRAIN_W = "W=" + str([[0.1] * 10] * 10)


def test_train_steps_are_priced_before_the_first(monkeypatch, capsys):
    ev = forward(parse(TRAIN), {"W": [[0.1] * 10] * 10})
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 5 * (ev.forward_work + ev.backward_work))
    from core.views import train
    calls = _count(monkeypatch, train, "replay")
    status = cli_main(["train", TRAIN, "--var", TRAIN_W, "--steps", "6"])
    _one_error_line(status, capsys.readouterr()[1], "--steps", "6 steps",
                    "the limit on backward work", "at most 5 steps fit")
    assert calls == []
    assert cli_main(["train", TRAIN, "--var", TRAIN_W, "--steps", "5", "--lr", "0.001"]) == 0
    assert len(calls) == 5
    capsys.readouterr()


def test_train_keeps_a_bounded_history(monkeypatch):
    """Each step keeps the parameters and gradients for the plots: 2 × 100 entries here."""
    from core.views.train import Trainer
    monkeypatch.setattr(limits, "MAX_TRACE_ENTRIES", 2 * 100 * 7)
    trainer = Trainer(parse(TRAIN), {"W": [[0.1] * 10] * 10}, lr=0.001)
    trainer.check_steps(7)
    with pytest.raises(LimitError, match="at most 7 more steps fit"):
        trainer.check_steps(8)
    for _ in range(3):
        trainer.step()
    with pytest.raises(LimitError, match="at most 4 more steps fit"):
        trainer.check_steps(5)


def test_a_training_step_backward_has_the_backward_deadline(monkeypatch):
    from core.views.train import Trainer
    trainer = Trainer(parse(TRAIN), {"W": [[0.1] * 10] * 10})
    monkeypatch.setattr(limits, "MAX_BACKWARD_SECONDS", 0.0)
    with pytest.raises(LimitError, match="the training step's backward pass took longer"):
        trainer.step()


def test_window_train_tab_run_is_priced(monkeypatch):
    """The Train tab's Run (gui.train_view.run_steps, on a worker) refuses like the CLI."""
    pytest.importorskip("PySide6")
    from core.views.train import Trainer
    from gui.train_view import run_steps
    trainer = Trainer(parse(TRAIN), {"W": [[0.1] * 10] * 10}, lr=0.001)
    ev = forward(parse(TRAIN), {"W": [[0.1] * 10] * 10})
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 3 * (ev.forward_work + ev.backward_work))
    with pytest.raises(LimitError, match="Run: .*at most 3 steps fit"):
        run_steps(trainer, 4)
    assert trainer.report.loss == []
    run_steps(trainer, 3)
    assert len(trainer.report.loss) == 3


def test_backward_twice_is_priced_and_timed(monkeypatch):
    from core.evaluation.grad_semantics import backward_again, leaf_and_non_leaf
    text = "g = sin(w) * w\nf = g * g"
    ev = forward(parse(text), {"w": 1.0})
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", ev.backward_work)
    with pytest.raises(LimitError, match="backward\\(\\) twice"):
        backward_again(parse(text), {"w": 1.0})
    with pytest.raises(LimitError, match="the limit on backward work"):
        leaf_and_non_leaf(parse(text), {"w": 1.0})
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 10 ** 10)
    monkeypatch.setattr(limits, "MAX_BACKWARD_SECONDS", 0.0)
    with pytest.raises(LimitError, match="took longer than 0 s"):
        backward_again(parse(text), {"w": 1.0})


def test_plotting_f_is_priced(monkeypatch):
    from core.views.train import function_along
    ev = forward(parse("f = sum(ones(30) * w) ** 2"), {"w": 1.0})
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 100 * ev.forward_work)
    with pytest.raises(LimitError, match="plotting f at 201 points"):
        function_along(parse("f = sum(ones(30) * w) ** 2"), {"w": 1.0}, "float32", "w", 0, 1)
    xs, ys = function_along(parse("f = sum(ones(30) * w) ** 2"), {"w": 1.0}, "float32", "w",
                            0, 1, points=100)
    assert ys[-1] == pytest.approx(900.0)


# the real limits, as a user meets them ---------------------------------------------------

BIG = "A = ones(1000, 1000) * w\nB = ones(1000, 1000) * w\n"
REAL = [
    # 3e9 multiply-adds a step (1e9 forward, 2e9 backward): 20 steps are 6e10
    (["train", BIG + "s = sum(A @ B) * 0.0001", "--var", "w=0.001"],
     ["--steps", "at most 3 steps fit"]),
    # three products: a 6e9 backward pass, fine for compute; double backward is 1.2e10 more
    (["hessian", BIG + "s = sum(A @ B) + sum(B @ A) + sum(A @ A)", "--var", "w=0.001"],
     ["second derivatives"]),
    # a 1000-entry W: 1000 forward-mode passes of about 2e9 each
    (["modes", "A = ones(1000, 1000) @ W\ns = sum((A @ ones(1, 1000)) @ ones(1000, 1000))",
      "--var", "W=" + str([[0.001]] * 1000)],
     ["forward mode", "passes"]),
]


@pytest.mark.parametrize("argv,needles", REAL, ids=[r[0][0] for r in REAL])
def test_real_limits_refuse_heavy_views_in_one_line(argv, needles):
    done = subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    _one_error_line(done.returncode, done.stderr, "the limit on backward work", *needles)
    assert done.stdout == ""


def test_real_limits_jacobian_states_why_its_rows_are_not_built():
    argv = ["jacobian", "A = ones(300, 3000) * w\nB = ones(3000, 300) * w\nF = sum(A @ B, 1)",
            "--var", "w=0.001"]
    done = subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "the Jacobian is not built" in done.stdout
    assert "the limit on backward work" in done.stdout
    assert "vᵀ ∂F/∂w = 540000" in done.stdout  # 300 × 3000 × 300 × 2w at w = 0.001
