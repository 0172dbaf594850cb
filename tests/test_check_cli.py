"""``main.py check``: the table, JSON, references and exit statuses."""
from __future__ import annotations

import json

from core.cli import main


def run(capsys, *argv):
    status = main(["check", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_table_for_the_sine_seed(capsys):
    status, out, _ = run(capsys, "f = w + sin(2*z)", "--var", "w=1", "--var", "z=2",
                         "--reference", "z=-1.3072872417272239", "--reference", "w=1")
    assert status == 0
    header = next(line for line in out.splitlines() if line.startswith("entry"))
    for column in ("autograd", "finite diff", "symbolic", "reference", "rel err", "verdict"):
        assert column in header
    z_row = next(line for line in out.splitlines() if line.startswith("z "))
    assert "-1.307287216" in z_row and "-1.307287242" in z_row and z_row.endswith("agree")
    assert "verdict: agree" in out
    assert "-1.3072872161865234" in out  # the float32 explanation


def test_matrix_seed_with_six_digit_reference(capsys):
    program = ("G1 = 3*W + torch.cos(Z); G2 = torch.matmul(W, W) + torch.sin(2*Z); "
               "F = torch.norm(torch.exp(G1) + torch.matmul(G1, G2), p=2)")
    status, out, _ = run(capsys, program, "--var", "W=[[1,0.5],[0.2,0.1]]",
                         "--var", "Z=[[1,0.5],[0.2,0.1]]", "--digits", "6",
                         "--reference", "W=[[109.231,15.7019],[9.28887,3.30879]]",
                         "--reference", "Z=[[-31.2551,-0.557821],[4.13727,1.89057]]")
    assert status == 0
    assert "verdict: agree (8 agree)" in out
    rows = [line for line in out.splitlines() if line.startswith(("W[", "Z["))]
    assert len(rows) == 8 and all(line.endswith("agree") for line in rows)


def test_json_output(capsys):
    status, out, _ = run(capsys, "F = torch.norm(W @ W, p=2)", "--var",
                         "W=[[1,0.5],[0.2,0.1]]", "--json", "--dtype", "float64",
                         "--digits", "6", "--reference",
                         "W=[[2.14, 0.6], [0.3, 0.1]]")
    data = json.loads(out)
    assert status == 1  # the made-up reference disagrees
    assert data["dtype"] == "float64" and len(data["rows"]) == 4
    row = data["rows"][0]
    assert row["entry"] == "W[0,0]" and row["finite_difference"]["agrees"] is True
    assert row["symbolic"]["agrees"] is True
    assert data["verdict"] == "disagree"
    assert data["tolerances"]["reference"] > data["tolerances"]["symbolic"]


def test_disagreement_exits_1_and_says_why(capsys):
    status, out, _ = run(capsys, "f = x**2", "--var", "x=3", "--reference", "x=5")
    assert status == 1
    assert "x: autograd differs from the reference (5)" in out


def test_user_errors_are_one_line(capsys):
    status, _, err = run(capsys, "f = x**2", "--var", "x=3", "--reference", "y=5")
    assert status == 2 and err.startswith("error: ") and "no input called 'y'" in err
    status, _, err = run(capsys, "f = x**2", "--var", "x=3", "--reference", "x")
    assert status == 2 and "NAME=VALUE" in err
    status, _, err = run(capsys, "f = x**2", "--var", "x=3", "--digits", "3")
    assert status == 2 and "--digits" in err


def test_nan_and_formulas(capsys):
    status, out, _ = run(capsys, "f = sqrt(x) + x", "--var", "x=0", "--formulas")
    assert status == 0
    assert "not checked" in out and "SqrtBackward0" in out
    assert "df/dx =" in out


def test_no_symbolic(capsys):
    status, out, _ = run(capsys, "f = x**2", "--var", "x=3", "--no-symbolic", "--json")
    data = json.loads(out)
    assert data["symbolic_status"] == "not requested"
    assert data["rows"][0]["verdict"] == "agree"


def test_reference_names_are_read_like_var_names(capsys):
    # --reference shares --var's NAME=VALUE reader: same name check, same value errors
    status, _, err = run(capsys, "f = x**2", "--var", "x=3", "--reference", "1x=6")
    assert status == 2 and err == "error: '1x' is not a valid variable name\n"
    status, _, err = run(capsys, "f = x**2", "--var", "x=3", "--reference", "x=nan")
    assert status == 2 and err.startswith("error: reference x") and "\n" == err[-1]
    assert err.count("\n") == 1
    status, out, _ = run(capsys, "f = x**2", "--var", "x=3", "--reference", " x = 6 ")
    assert status == 0 and "verdict: agree" in out


def test_program_without_gradients_says_there_is_nothing_to_check(capsys):
    for argv in (["f = 3*2"], ["f = x*2", "--const", "x=3"]):
        status, out, err = run(capsys, *argv)
        assert status == 0 and err == ""
        assert out.splitlines()[0] == "f = 6   (float32)"
        assert "nothing to check: no input needs a gradient" in out
        assert "entry" not in out and "()" not in out
