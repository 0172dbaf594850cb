"""The headless contract of ``main.py compute`` (tests and users rely on it)."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent


def compute(capsys, *argv):
    status = cli_main(["compute", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_contract_through_a_real_process():
    # one real subprocess: main.py as a user runs it, JSON on stdout
    result = subprocess.run(
        [sys.executable, "main.py", "compute", "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\n"
         "f = exp(g1) + 3*g2", "--var", "w=1", "--var", "z=1", "--dtype", "float64", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"value", "gradients", "intermediates", "dtype", "warnings"}
    assert data["dtype"] == "float64"
    assert data["gradients"]["w"] == pytest.approx(109.43202095367012, rel=1e-12)
    assert data["gradients"]["z"] == pytest.approx(-31.508562530134782, rel=1e-12)
    assert isinstance(data["value"], float)  # a 0-d value stays a plain number
    g1 = 3 + math.cos(1)
    assert data["intermediates"]["g1"]["value"] == pytest.approx(g1, rel=1e-12)
    assert data["intermediates"]["g1"]["gradient"] == pytest.approx(math.exp(g1), rel=1e-12)


def test_errors_exit_2_with_one_line_through_a_real_process():
    result = subprocess.run([sys.executable, "main.py", "compute", "exp(w", "--var", "w=1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: line 1, column 4: syntax error: '(' was never closed: add the closing bracket"]
    assert result.stdout == ""


def test_matrix_gradients_keep_their_shape(capsys):
    status, out, _ = compute(capsys, "F = norm(exp(W) @ W, p=2)", "--var",
                             "W=[[1,0.5],[0.2,0.1]]", "--json")
    assert status == 0
    grads = json.loads(out)["gradients"]["W"]
    assert len(grads) == 2 and all(len(row) == 2 for row in grads)


def test_constants_and_dtype(capsys):
    status, out, _ = compute(capsys, "f = a*x", "--var", "x=2", "--const", "a=3", "--json")
    data = json.loads(out)
    assert status == 0 and data["gradients"] == {"x": 3.0} and data["dtype"] == "float32"


def test_file_and_stdin(tmp_path, capsys, monkeypatch):
    program = tmp_path / "prog.txt"
    program.write_text("# a comment\ny = x**2\n", encoding="utf-8")
    status, out, _ = compute(capsys, "--file", str(program), "--var", "x=3", "--json")
    assert status == 0 and json.loads(out)["gradients"]["x"] == 6.0
    import io
    monkeypatch.setattr(sys, "stdin", io.StringIO("y = x**3"))
    status, out, _ = compute(capsys, "--file", "-", "--var", "x=2", "--json")
    assert json.loads(out)["gradients"]["x"] == 12.0


def test_semicolons_separate_statements_on_one_line(capsys):
    status, out, _ = compute(capsys, "a = 2*x; b = a*a; b", "--var", "x=1", "--json")
    assert status == 0 and json.loads(out)["gradients"]["x"] == 8.0


def test_readable_summary(capsys):
    status, out, _ = compute(capsys, "g = w*w\nf = 3*g", "--var", "w=2")
    assert status == 0
    assert "f = 12" in out and "df/dw = 12" in out and "df/dg = 3" in out


def test_expression_starting_with_minus(capsys):
    status, out, _ = compute(capsys, "-x**2", "--var", "x=3", "--json")
    assert status == 0 and json.loads(out)["gradients"]["x"] == -6.0


def test_nan_is_a_warning_in_json(capsys):
    status, out, _ = compute(capsys, "log(w - 5)", "--var", "w=1", "--json")
    data = json.loads(out)
    assert status == 0 and data["value"] == "nan"
    assert any("log(w - 5)" in w for w in data["warnings"])


@pytest.mark.parametrize("argv,fragment", [
    (["f = w"], "'w' has no value"),
    (["f = w", "--var", "w"], "NAME=VALUE"),
    (["f = w", "--var", "w=[1,"], "w"),
    (["f = w", "--var", "w=[[1,2],[3]]"], "not rectangular"),
    (["f = w", "--var", "2w=1"], "not a valid variable name"),
    (["--file", "/nonexistent/prog.txt"], "no such file"),
    ([], "give a program"),
    (["f = w", "--dtype", "float16"], "invalid choice"),
    (["f = w", "--file", "x.txt"], "not both"),
])
def test_usage_errors(capsys, argv, fragment):
    status, out, err = compute(capsys, *argv)
    assert status == 2
    assert fragment in err and "Traceback" not in err


def test_literal_backslash_n_separates_statements(capsys):
    # what a shell passes for 'g = 3*w\nf = g*g' in single quotes
    status, out, _ = compute(capsys, "g = 3*w\\nf = g*g", "--var", "w=1", "--json")
    assert status == 0 and json.loads(out)["gradients"]["w"] == 18.0


def test_text_output_prints_the_vector_jacobian_products_of_a_vector_output(capsys):
    # backward(gradient=v) on y = x * x: x.grad = 2·x ⊙ v (torch called directly below)
    import torch

    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = torch.tensor([[1.0, 3.0], [1.0, -1.0]])
    (x * x).backward(v)
    status, out, _ = compute(capsys, "y = x * x", "--var", "x=[[1, 2], [3, 4]]",
                             "--grad-output", "[[1, 3], [1, -1]]")
    assert status == 0
    grad_lines = out[out.index("d(vᵀy)/dx = "):].splitlines()[:2]
    numbers = [float(t) for line in grad_lines
               for t in line.replace("d(vᵀy)/dx = ", "").strip(" [],").replace("]", "").split(",")]
    assert numbers == x.grad.flatten().tolist()
    assert "v = [[1, 3]," in out


def test_matrix_rows_line_up_under_their_first_row(capsys):
    status, out, _ = compute(capsys, "y = x * x\nf = y.sum()", "--var", "x=[[1, -2], [3, 3]]")
    assert status == 0
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  y = "))
    assert lines[first + 1].index("[") == lines[first].index("[[") + 1


def test_random_numbers_are_a_note_on_one_line_not_a_warning(capsys):
    import torch

    status, out, _ = compute(capsys, "torch.manual_seed(0)\nW = torch.randn(2, 3)\nf = sum(W * w)",
                             "--var", "w=1")
    assert status == 0
    torch.manual_seed(0)
    first = torch.randn(2, 3)[0, 0].item()
    drew = next(line for line in out.splitlines() if " drew " in line)
    assert drew.startswith("note: ") and f"drew [[{first:.4g}, " in drew
    assert "warning" not in out
