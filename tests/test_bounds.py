"""Every bound of the language, checked at N (accepted) and N+1 (a clear error naming it)."""
from __future__ import annotations

import pytest

from core import limits
from core.errors import ExpressionError, LimitError
from core.evaluate import evaluate
from core.language import parse
from core.values import parse_value


def test_text_length(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 40)
    text = "f = x + 1" + " " * 31
    assert len(text) == 40
    parse(text)
    with pytest.raises(LimitError, match="40 characters"):
        parse(text + " ")


def test_statement_count(monkeypatch):
    monkeypatch.setattr(limits, "MAX_STATEMENTS", 5)
    parse("\n".join(["y = x"] + ["y = y * 2"] * 4))
    with pytest.raises(LimitError, match="limit is 5") as info:
        parse("\n".join(["y = x"] + ["y = y * 2"] * 5))
    assert info.value.span.line == 6


def test_default_statement_bound_allows_a_5000_operation_chain():
    text = "y = x\n" + "y = y * 1.0001\ny = sin(y) + x\n" * 2500
    program = parse(text)
    assert len(program.statements) == 5001 <= limits.MAX_STATEMENTS


def _nested(depth_parens):
    return "f = " + "(" * depth_parens + "x" + ")" * depth_parens


def test_depth(monkeypatch):
    monkeypatch.setattr(limits, "MAX_DEPTH", 10)
    # depth counts Python's syntax tree: Assign, each unary minus, the Name, its context
    parse("f = " + "-" * 7 + "x")
    with pytest.raises(LimitError, match="limit is 10"):
        parse("f = " + "-" * 8 + "x")


def test_parser_nesting_limit_is_a_clear_error():
    err = pytest.raises(ExpressionError, parse, "(" * 500 + "w" + ")" * 500).value
    assert err.kind == "limit" and "nested" in err.message


def test_long_flat_chain_is_refused_by_depth_not_by_a_crash():
    text = "f = " + " + ".join(["x"] * 5000)
    err = pytest.raises(ExpressionError, parse, text).value
    assert err.kind == "limit" and str(limits.MAX_DEPTH) in err.message


def test_constant_exponent():
    n = limits.MAX_CONSTANT_EXPONENT
    assert evaluate(parse(f"f = 1.0 ** {n} * x"), {"x": 1.0}).value.item() == 1.0
    with pytest.raises(LimitError, match=f"limit is {n:,}"):
        evaluate(parse(f"f = 1.0 ** {n + 1} * x"), {"x": 1.0})
    with pytest.raises(LimitError, match="exponent"):
        evaluate(parse("2**2**2**2**2"), {})
    with pytest.raises(LimitError, match="too large"):
        evaluate(parse("f = 10.0 ** 400 * x"), {"x": 1.0})


def test_tensor_size_is_checked_before_allocating(monkeypatch):
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 100)
    evaluate(parse("sum(torch.ones(10, 10)) * x"), {"x": 1.0})
    with pytest.raises(LimitError, match="101 entries"):
        evaluate(parse("sum(torch.ones(101)) * x"), {"x": 1.0})
    # broadcasting 10x1 + 1x11 would make 110 entries: refused before torch allocates
    with pytest.raises(LimitError, match="110 entries"):
        evaluate(parse("sum(a + b)"), {"a": [[1.0]] * 10, "b": [[1.0] * 11]})
    with pytest.raises(LimitError):
        evaluate(parse("sum(outer(a, b))"), {"a": [1.0] * 10, "b": [1.0] * 11})


def test_default_size_bound_refuses_the_hostile_ones():
    with pytest.raises(LimitError, match="10,000,000,000 entries"):
        evaluate(parse("torch.ones(100000, 100000).sum() * w"), {"w": 1.0})


def test_total_elements(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TOTAL_ELEMENTS", 30)
    evaluate(parse("sum(x * 2)"), {"x": [1.0] * 10})  # 10 + 10 + 1 = 21
    with pytest.raises(LimitError, match="30 tensor entries"):
        evaluate(parse("sum(x * 2 * 2)"), {"x": [1.0] * 10})  # 10+10+10+1 = 31


def test_time_limit(monkeypatch):
    monkeypatch.setattr(limits, "MAX_SECONDS", 0.0)
    with pytest.raises(LimitError, match="time limit"):
        evaluate(parse("f = x * 2"), {"x": 1.0})


def test_value_bounds(monkeypatch):
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 4)
    assert parse_value("[[1, 2], [3, 4]]") == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(LimitError, match="5 entries"):
        parse_value("[1, 2, 3, 4, 5]")
    monkeypatch.setattr(limits, "MAX_VALUE_CHARS", 10)
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 100)
    assert parse_value("[1,2,3,4 ]") == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(LimitError, match="limit is 10"):
        parse_value("[1,2,3,4,5]")


def test_value_dimensions():
    parse_value("[" * limits.MAX_DIMS + "1" + "]" * limits.MAX_DIMS)
    with pytest.raises(LimitError, match="dimensions"):
        parse_value("[" * (limits.MAX_DIMS + 1) + "1" + "]" * (limits.MAX_DIMS + 1))


def test_short_statements_are_never_too_deep():
    # the parser skips measuring one-line statements shorter than MAX_DEPTH - 5 characters;
    # check that premise on the deepest short statements the language can spell
    import ast

    from core.language import tree_depth
    k = limits.MAX_DEPTH
    shapes = [lambda n: "-" * n + "x", lambda n: "(" * n + "x" + ")" * n,
              lambda n: "sin(" * n + "x" + ")" * n, lambda n: "[" * n + "x" + "]" * n,
              lambda n: "x" + "+x" * n, lambda n: "a." * n + "b",
              lambda n: "f(a=" * n + "x" + ")" * n, lambda n: "y=" + "-" * n + "x"]
    checked = 0
    for shape in shapes:
        n = max(n for n in range(k) if len(shape(n)) + 5 < k)
        text = shape(n)
        assert len(text) + 5 < k
        assert tree_depth(ast.parse(text).body[0]) <= k, text
        checked += 1
    assert checked == len(shapes)
