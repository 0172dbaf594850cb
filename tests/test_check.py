"""core.check: autograd against finite differences, SymPy and reference values.

Independent references: the seed notebook's Mathematica numbers, derivatives worked out by
hand below, and a custom autograd Function with a deliberately wrong backward.
"""
from __future__ import annotations

import json
import math

import pytest
import torch

from core.check import check_gradients
from core.check.finite_differences import finite_differences, step_for
from core.errors import ExpressionError
from core.evaluation.evaluate import evaluate, forward
from core.language.parser import parse
from core.language.values import VariableSpec


def run(text, variables, dtype="float64", **kwargs):
    """Evaluate ``text`` and check it."""
    evaluation = evaluate(parse(text), variables, dtype)
    return evaluation, check_gradients(evaluation, **kwargs)


def by_label(report):
    return {row.label: row for row in report.rows}


# --------------------------------------------------------------------------- the seed


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_seed_examples_agree_with_every_method(seed_example, dtype):
    # Tolerances (core.check.compare): float32 autograd keeps ~7 digits, so 1e-4 relative;
    # float64 keeps ~16, so 1e-8 against SymPy, 1e-6 against the finite differences (their
    # own h^2 error); the matrix example's reference has 6 digits, so 5e-6 more there.
    evaluation, report = run(seed_example["expression"], seed_example["vars"], dtype,
                             reference=seed_example["reference"])
    assert report.verdict == "agree"
    assert {row.verdict for row in report.rows} == {"agree"}
    for row in report.rows:
        for comparison in row.comparisons:
            assert comparison.agrees, (row.label, comparison)
    # and the reference really was compared, entry by entry, against the seed's numbers
    flat = {}
    for name, value in seed_example["reference"]["gradients"].items():
        values = torch.tensor(value, dtype=torch.float64).reshape(-1).tolist()
        for row, expected in zip(report.rows_for(name), values):
            flat[row.label] = expected
    assert {label: by_label(report)[label].reference.value for label in flat} == flat


def test_seed_float32_against_exact_is_rounding_and_explained():
    ex = next(e for e in json.loads(open("tests/data/seed_examples.json").read())["examples"]
              if e["title"].startswith("Sine"))
    _, report = run(ex["expression"], ex["vars"], "float32", reference=ex["reference"])
    z = by_label(report)["z"]
    assert z.autograd == ex["torch_float32"]["gradients"]["z"]  # -1.3072872161865234
    assert z.symbolic.value == pytest.approx(-1.3072872417272239, rel=1e-15)
    assert 1e-9 < z.symbolic.rel_error < 1e-7  # float32 rounding: ~2e-8
    assert "-1.3072872161865234" in report.explanation
    assert "-1.3072872417272239" in report.explanation


def test_seed_notebook_code_with_leaves_made_in_the_text():
    text = ("w = torch.ones(1, requires_grad=True)\nz = torch.ones(1, requires_grad=True)\n"
            "g1 = 3*w + torch.cos(z)\ng2 = torch.pow(w,2) + torch.sin(2*z)\n"
            "f = torch.exp(g1) + 3*g2")
    _, report = run(text, {}, "float32")
    rows = by_label(report)
    assert report.verdict == "agree"
    assert rows["w[0]"].finite_difference.value == pytest.approx(109.43202095367012, rel=1e-9)
    assert rows["z[0]"].symbolic.value == pytest.approx(-31.508562530134782, rel=1e-14)


def test_matrix_reference_digits_matter():
    ex = json.loads(open("tests/data/seed_examples.json").read())["examples"][3]
    # given to 6 digits, the Mathematica matrix agrees; read as if exact, in float64 it cannot
    _, exact = run(ex["expression"], ex["vars"], "float64",
                   reference=ex["reference"]["gradients"])
    assert exact.verdict == "disagree"
    assert all("reference" in r for row in exact.rows if row.verdict == "disagree"
               for r in row.reasons)


# --------------------------------------------------------------------------- by hand

S = 1 / (1 + math.exp(-0.4))
HAND = [
    # expression, values, gradients worked out by hand
    ("f = x**3", {"x": 2.0}, {"x": 12.0}),
    ("f = x*y + sin(x)", {"x": 1.5, "y": -2.0}, {"x": -2.0 + math.cos(1.5), "y": 1.5}),
    ("f = exp(-x**2)", {"x": 0.7}, {"x": -1.4 * math.exp(-0.49)}),
    ("f = x / y", {"x": 3.0, "y": 4.0}, {"x": 0.25, "y": -3.0 / 16}),
    ("f = sigmoid(x)", {"x": 0.4}, {"x": S * (1 - S)}),
    ("f = log(x) * sqrt(x)", {"x": 4.0},
     {"x": 1 / 4 * 2 + math.log(4.0) / (2 * 2)}),
    ("f = sum(v * v)", {"v": [1.0, -2.0, 3.0]}, {"v": [2.0, -4.0, 6.0]}),
    ("f = dot(a, b)", {"a": [1.0, 2.0], "b": [3.0, -1.0]}, {"a": [3.0, -1.0], "b": [1.0, 2.0]}),
    # f = sum_i sum_j A_ij x_j: df/dA_ij = x_j, df/dx_j = sum_i A_ij
    ("f = sum(A @ x)", {"A": [[1.0, 2.0], [3.0, 4.0]], "x": [0.5, -1.0]},
     {"A": [[0.5, -1.0], [0.5, -1.0]], "x": [4.0, 6.0]}),
    # d/dv log(sum(exp v)) = softmax(v)
    ("f = logsumexp(v)", {"v": [0.0, math.log(3.0)]}, {"v": [0.25, 0.75]}),
    # d/dv |v| = v / |v|
    ("f = norm(v)", {"v": [3.0, 4.0]}, {"v": [0.6, 0.8]}),
    # d/dX trace(X^T X) = 2X
    ("f = trace(X.T @ X)", {"X": [[1.0, -2.0], [0.5, 3.0]]}, {"X": [[2.0, -4.0], [1.0, 6.0]]}),
    # relu away from its kink: slope 1 for x > 0, 0 for x < 0
    ("f = relu(x) + relu(y)", {"x": 2.0, "y": -1.0}, {"x": 1.0, "y": 0.0}),
]


@pytest.mark.parametrize("text,values,expected", HAND, ids=[h[0] for h in HAND])
def test_hand_derived_gradients(text, values, expected):
    _, report = run(text, values, "float64")
    assert report.verdict == "agree", [(r.label, r.reasons) for r in report.rows]
    for name, value in expected.items():
        flat = torch.tensor(value, dtype=torch.float64).reshape(-1).tolist()
        rows = report.rows_for(name)
        assert len(rows) == len(flat)
        for row, hand in zip(rows, flat):
            assert row.autograd == pytest.approx(hand, rel=1e-12, abs=1e-14)
            assert row.finite_difference.value == pytest.approx(hand, rel=1e-7, abs=1e-9)
            assert row.symbolic.value == pytest.approx(hand, rel=1e-13, abs=1e-15)


# --------------------------------------------------------------------------- a wrong gradient


class WrongSquare(torch.autograd.Function):
    """x**2 with a deliberately wrong backward: x instead of 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class RightSquare(WrongSquare):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x


def _custom_gradient(function, values):
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(function.apply(x).sum(), x)
    return grad


def test_check_catches_a_wrong_backward():
    values = [[1.0, -2.0], [0.5, 3.0]]
    evaluation = evaluate(parse("f = sum(X**2)"), {"X": values}, "float64")
    wrong = _custom_gradient(WrongSquare, values)
    report = check_gradients(evaluation, gradients={"X": wrong})
    assert report.verdict == "disagree"
    for row in report.rows:
        assert row.verdict == "disagree"
        assert row.finite_difference.agrees is False and row.symbolic.agrees is False
        assert row.finite_difference.rel_error == pytest.approx(0.5, rel=1e-6)
        assert any("finite difference" in r for r in row.reasons)


def test_the_same_check_passes_a_right_backward():
    values = [[1.0, -2.0], [0.5, 3.0]]
    evaluation = evaluate(parse("f = sum(X**2)"), {"X": values}, "float64")
    report = check_gradients(evaluation, gradients={"X": _custom_gradient(RightSquare, values)})
    assert report.verdict == "agree"


def test_one_wrong_entry_is_singled_out():
    evaluation = evaluate(parse("f = sum(exp(v))"), {"v": [0.1, 0.2, 0.3]}, "float32")
    grads = {"v": evaluation.gradients["v"].clone()}
    grads["v"][1] *= 1.001  # wrong in the 4th digit: more than float32 rounding
    verdicts = [row.verdict for row in check_gradients(evaluation, gradients=grads).rows]
    assert verdicts == ["agree", "disagree", "agree"]


def test_wrong_reference_is_reported():
    _, report = run("f = w + sin(2*z)", {"w": 1.0, "z": 2.0}, "float32",
                    reference={"z": -1.3})
    z = by_label(report)["z"]
    assert z.verdict == "disagree" and z.reference.agrees is False
    assert z.finite_difference.agrees and z.symbolic.agrees


def test_reference_that_does_not_fit_is_a_user_error():
    evaluation = evaluate(parse("f = x**2"), {"x": 3.0}, "float64")
    with pytest.raises(ExpressionError, match="no input called 'y'"):
        check_gradients(evaluation, {"y": 1.0})
    evaluation = evaluate(parse("f = sum(v)"), {"v": [1.0, 2.0]}, "float64")
    with pytest.raises(ExpressionError, match="shape"):
        check_gradients(evaluation, {"v": [1.0, 2.0, 3.0]})


# --------------------------------------------------------------------------- kinks


@pytest.mark.parametrize("text,values,label", [
    ("f = relu(x)", {"x": 0.0}, "x"),
    ("f = abs(x - y)", {"x": 1.0, "y": 1.0}, "x"),
    ("f = maximum(x, y) * 2", {"x": 1.5, "y": 1.5}, "y"),
    ("f = clamp(x, min=0, max=1)", {"x": 1.0}, "x"),
    ("f = max(v)", {"v": [1.0, 3.0, 3.0]}, "v[1]"),
])
def test_kinks_are_flagged_not_disagreements(text, values, label):
    _, report = run(text, values, "float64")
    row = by_label(report)[label]
    assert row.verdict == "non-smooth"
    assert "kink" in row.reasons[0] or "tie" in row.reasons[0]
    assert report.verdict != "disagree"


def test_entries_not_feeding_a_kink_are_still_checked():
    _, report = run("f = max(v)", {"v": [1.0, 3.0, 3.0]}, "float64")
    assert [row.verdict for row in report.rows] == ["agree", "non-smooth", "non-smooth"]
    _, report = run("f = relu(x) + y**2", {"x": 0.0, "y": 2.0}, "float64")
    assert by_label(report)["y"].verdict == "agree"


# --------------------------------------------------------------------------- NaN and inf


def test_nan_in_the_forward_pass_names_its_operation():
    evaluation, report = run("g = x * 2\nh = log(g - 10)\nf = h + x", {"x": 1.0}, "float64")
    origin = report.nonfinite
    assert origin.stage == "forward" and origin.what == "NaN"
    assert origin.expression == "log(g - 10)" and origin.span.line == 2
    record = next(r for r in evaluation.records if r.node.text == "log(g - 10)")
    assert origin.node_id == str(id(record.tensor.grad_fn))
    assert all(row.verdict == "not checked" for row in report.rows)
    assert "log(g - 10)" in report.rows[0].reasons[0]


def test_infinity_in_the_backward_pass_names_its_operation():
    evaluation, report = run("f = sqrt(x) + y", {"x": 0.0, "y": 1.0}, "float64")
    origin = report.nonfinite
    assert origin.stage == "backward" and origin.op == "SqrtBackward0"
    record = next(r for r in evaluation.records if r.node.text == "sqrt(x)")
    assert origin.node_id == str(id(record.tensor.grad_fn))
    rows = by_label(report)
    assert rows["x"].verdict == "not checked" and rows["y"].verdict == "agree"


# --------------------------------------------------------------------------- bounds and data


def test_step_is_exactly_representable_and_scales():
    for x in (0.0, 0.1, 1.0, -3.7, 1e6, 123456.789):
        h = step_for(x)
        assert (x + h) - x == h  # the difference really spans the step
        assert h == pytest.approx(2.220446049250313e-16 ** (1 / 3) * max(1, abs(x)), rel=1e-6)


def test_finite_differences_are_capped_and_say_so():
    evaluation = evaluate(parse("f = sum(v * v)"), {"v": [float(i) for i in range(10)]},
                          "float64")
    result = finite_differences(evaluation, max_entries=4)
    computed = [e for e in result.entries.values() if e.value is not None]
    assert len(computed) == 4
    assert "6 entries were not checked" in result.notes[0]
    # the check itself takes a seeded random sample of 4 entries instead of the first 4
    report = check_gradients(evaluation, symbolic=False, max_entries=4)
    assert [row.verdict for row in report.rows] == ["agree"] * 4
    expected = sorted(__import__("random").Random(0).sample(range(10), 4))
    assert [row.index for row in report.rows] == [(i,) for i in expected]
    assert report.sample.to_dict() == {"entries": 10, "checked": 4, "seed": 0}
    assert "a random sample of 4 of them (seed 0)" in report.notes[0]


def test_constants_are_not_checked_and_fd_uses_float64():
    variables = {"x": 0.1, "c": VariableSpec("c", 3.0, requires_grad=False)}
    evaluation, report = run("f = c * x**2", variables, "float32")
    assert [row.label for row in report.rows] == ["x"]
    # the finite difference is at x = 0.1 exactly (float64), not at float32's 0.100000001
    assert report.rows[0].finite_difference.value == pytest.approx(0.6, rel=1e-9)


def test_fd_runs_on_a_fresh_float64_evaluation():
    evaluation = forward(parse("f = x * 1e-8 + 1"), {"x": 1.0}, "float32")
    # float32 cannot even see the change (1 + 1e-8 == 1), float64 can
    entry = finite_differences(evaluation).entries[("x", ())]
    assert entry.value == pytest.approx(1e-8, rel=1e-2)
    # |f| = 1 is much larger than the slope: the difference's rounding error is real, and
    # the noise bound the tolerance adds (16 eps |f| / h) covers it
    assert abs(entry.value - 1e-8) <= entry.noise


def test_report_is_json():
    _, report = run("f = sqrt(x)", {"x": 0.0}, "float32", reference={"x": 1.0})
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["rows"][0]["autograd"] == "inf"
    assert data["nonfinite"]["op"] == "SqrtBackward0"
    assert data["rows"][0]["verdict"] == "not checked"


def test_near_a_kink_the_step_shrinks_below_the_distance_to_it():
    # 1e-9 from relu's kink the first step (6e-6) straddles it; smaller steps do not, and
    # the finite difference settles on relu's derivative there, 1
    _, report = run("f = relu(x)", {"x": 1e-9}, "float64")
    row = by_label(report)["x"]
    assert row.verdict == "agree" and row.finite_difference.value == pytest.approx(1.0)


@pytest.mark.parametrize("text, value, exact", [
    # each function's own scale, not 1: the step must follow it
    ("f = exp(w*1e6)", 1e-6, 1e6 * math.e),
    ("f = w**3", 1e-30, 3e-60),
    ("f = exp(w/1e6)", 3e6, math.exp(3) / 1e6),
    ("f = sin(1000*w) * cos(w)", 0.3, 1000 * math.cos(300) * math.cos(0.3)
     - math.sin(300) * math.sin(0.3)),
])
def test_finite_differences_follow_the_functions_own_scale(text, value, exact):
    """Against the derivative by hand: the old fixed step gave 9.57e7 for exp(w*1e6)."""
    _, report = run(text, {"w": value}, "float64")
    row = by_label(report)["w"]
    assert row.finite_difference.value == pytest.approx(exact, rel=1e-6)
    assert row.verdict == "agree"


def test_where_finite_differences_cannot_resolve_they_say_so_instead_of_disagreeing():
    # sin(w*1e8) at 1: the argument 1e8 is rounded to 1e-8, so f is noise on the scale a
    # step must have; the symbolic value (and torch) are right
    _, report = run("f = sin(w*1e8)", {"w": 1.0}, "float64")
    row = by_label(report)["w"]
    assert row.finite_difference.value is None
    assert any(reason.startswith("finite differences cannot resolve") for reason in row.reasons)
    assert row.verdict == "agree"
    assert row.autograd == pytest.approx(1e8 * math.cos(1e8), rel=1e-6)


def test_float32_underflow_is_explained_not_a_disagreement():
    _, report = run("f = w**3", {"w": 1e-30}, "float32")
    row = by_label(report)["w"]
    assert row.autograd == 0.0 and row.verdict == "agree"
    assert any("smallest normal number" in reason for reason in row.reasons)


@pytest.mark.parametrize("text, values, label, gives", [
    ("f = abs(x)", {"x": 0.0}, "x", "sign(0) = 0"),
    ("f = relu(x)", {"x": 0.0}, "x", "relu'(0) = 0"),
    ("f = maximum(x, y)", {"x": 1.0, "y": 1.0}, "x", "½"),
    ("f = max(v)", {"v": [1.0, 3.0, 3.0]}, "v[1]", "equally"),
])
def test_kinks_are_worded_as_torch_behaves(text, values, label, gives):
    """No "one-sided value by convention" where torch gives 0 or ½; the words match the
    number torch gave."""
    evaluation, report = run(text, values, "float64")
    row = by_label(report)[label]
    assert row.verdict == "non-smooth"
    assert not any("one-sided" in reason for reason in row.reasons)
    assert any(gives in reason for reason in row.reasons)
    expected = {"sign(0) = 0": 0.0, "relu'(0) = 0": 0.0, "½": 0.5, "equally": 0.5}[gives]
    assert row.autograd == expected
