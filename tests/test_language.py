"""The expression language: what it accepts, and the position of what it refuses."""
from __future__ import annotations

import pytest

from core.errors import ExpressionError
from core.language.functions import FUNCTIONS
from core.language.parser import BinaryOp, Call, Literal, Name, Number, parse


def error_of(text):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    return info.value


def test_statements_names_and_output():
    program = parse("g1 = 3*w + cos(z)  # first\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2")
    assert program.free_names == ["w", "z"]
    assert program.assigned_names == ["g1", "g2", "f"]
    assert program.output_name == "f"
    assert [s.text for s in program.statements] == ["3*w + cos(z)", "w**2 + sin(2*z)",
                                                    "exp(g1) + 3*g2"]


def test_bare_final_expression_is_the_output():
    program = parse("a = x * 2\na + 1")
    assert program.output_name is None
    assert program.free_names == ["x"]


def test_spans_are_one_based_and_cover_the_subexpression():
    expr = parse("f = exp(w)").output.expr
    assert isinstance(expr, Call) and expr.function == "exp"
    assert (expr.span.line, expr.span.column, expr.span.end_column) == (1, 5, 11)
    assert expr.text == "exp(w)"


@pytest.mark.parametrize("text", ["torch.sin(x)", "sin(x)", "x.sin()",
                                  "torch.nn.functional.relu(x)", "F.relu(x)",
                                  "nn.functional.relu(x)"])
def test_function_spellings(text):
    expr = parse(text).output.expr
    assert isinstance(expr, Call)
    assert expr.function in ("sin", "relu")
    assert isinstance(expr.args[0], Name) and expr.args[0].name == "x"


def test_keywords_and_literals():
    expr = parse("norm(W, p=2, dim=(0, 1), keepdim=True)").output.expr
    assert dict((k, v.value) for k, v in expr.kwargs) == {"p": 2, "dim": [0, 1], "keepdim": True}
    expr = parse("torch.tensor([[1, -0.5]], dtype=torch.float64, requires_grad=True)").output.expr
    assert isinstance(expr.args[0], Literal) and expr.args[0].value == [[1, -0.5]]
    assert expr.kwarg("dtype").value == "float64"


def test_operators_and_precedence():
    expr = parse("-x**2 + a @ b / 2").output.expr
    assert isinstance(expr, BinaryOp) and expr.op == "+"
    assert expr.left.op == "-" and expr.left.operand.op == "**"  # -(x**2), as Python reads it
    assert expr.right.op == "/" and expr.right.left.op == "@"


def test_augmented_assignment_and_reassignment():
    program = parse("y = x\ny += 1\ny = y * y")
    assert program.free_names == ["x"]
    assert program.statements[1].expr.op == "+"


def test_variables_may_share_a_function_name():
    program = parse("t = 2*x\nmax = t + 1\nmax * t")
    assert program.free_names == ["x"]


def test_numbers_are_floats():
    assert parse("3").output.expr == Number(parse("3").output.expr.span, "3", 3.0)


@pytest.mark.parametrize("text,line,column,fragment", [
    ("exp(w", 1, 4, "never closed"),
    ("f = w ^ 2", 1, 5, "**"),
    ("f = w & 1", 1, 5, "'&'"),
    ("f = w\ng = foo(w)", 2, 5, "unknown function 'foo'"),
    ("f = sinn(w)", 1, 5, "did you mean sin"),
    ("f = torch.from_file('x')", 1, 5, "torch.from_file"),
    ("f = w.__class__", 1, 5, "underscore"),
    ("f = _secret", 1, 5, "underscore"),
    ("f = w[0.5]", 1, 7, "whole number"),
    ("f = w[a:b]", 1, 7, "slice bounds must be whole numbers"),
    ("f = w if w else 1", 1, 5, "conditional"),
    ("f = 0 < w < 1", 1, 5, "chained comparisons"),
    ("f = w is x", 1, 5, "comparisons"),
    ("f = lambda: 1", 1, 5, "lambda"),
    ("import os", 1, 1, "import"),
    ("def f(): pass", 1, 1, "function definitions"),
    ("f = 'text'", 1, 5, "text in quotes"),
    ("f = sin", 1, 5, "is a function"),
    ("w * 2\nf = w", 1, 1, "does not name it"),
    ("f = sum(x, dim=0, out=y)", 1, 23, "no keyword argument 'out'"),
    ("f = sin(x, y)", 1, 5, "takes 1 argument"),
    ("f = (x := 2)", 1, 6, "walrus"),
    ("f = [x for x in y]", 1, 5, "comprehensions"),
    ("f = f'{x}'", 1, 5, "f-strings"),
    ("f = x²", 1, 6, "**"),
    ("f = 2·x", 1, 6, "*"),
    ("a, b = x, y", 1, 1, "one plain name"),
    ("torch = 1", 1, 1, "torch"),
    ("2x + 1", 1, 1, "write 2*x for a product"),
    ("f = (x + 1))", 1, 12, "no opening bracket"),
    ("f = x +", 1, 8, "ends before the expression is complete"),
    ("f(x) = x", 1, 1, "must be a single name"),
    ("f = x y", 1, 7, "an operator is missing"),
    ("f = sin x", 1, 9, "call a function with parentheses, as in sin(x)"),
    ("  f = x", 1, 2, "remove the spaces"),
    ("f = x,", 1, 5, "remove the comma"),
    ("", None, None, "empty"),
    ("   \n# only a comment\n", None, None, "nothing to compute"),
])
def test_errors_have_a_message_and_position(text, line, column, fragment):
    err = error_of(text)
    assert fragment in err.message, err.message
    if line is None:
        return
    assert (err.span.line, err.span.column) == (line, column), str(err)


def test_non_ascii_identifiers_are_refused_before_parsing():
    # Python would fold fullwidth "ｅxp" to "exp" and fullwidth underscores to "__"
    err = error_of("f = ｅxp(w)")
    assert "U+FF45" in err.message and err.span.column == 5
    err = error_of("w.＿＿dict＿＿")
    assert err.span.column == 3


def test_non_ascii_in_comments_is_fine():
    assert parse("f = w * 2  # ∂f/∂w = 2").free_names == ["w"]


def test_every_function_parses_by_bare_name_and_torch_prefix():
    for name, spec in FUNCTIONS.items():
        if spec.constructor or not spec.bare:
            continue
        args = ", ".join(["x"] * spec.min_args)
        if spec.sequence:
            args = "[x, x]"
        assert parse(f"{name}({args})").output.expr.function == name
        assert parse(f"torch.{name}({args})").output.expr.function == name


def test_a_likely_typo_of_an_assigned_name_gets_a_note():
    program = parse("g1 = 3*w\ng2 = w*w\nf = g1 + g3")
    assert program.free_names == ["w", "g3"]
    assert any("'g3'" in note and "did you mean 'g1' or 'g2'?" in note for note in program.notes)
    # names far from every assigned one, and one-letter names, say nothing
    assert parse("g1 = 3*w\nf = g1 * z").notes == []
    assert parse("a = 2*w\nf = a + b").notes == []
