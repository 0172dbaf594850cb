"""Property-based fuzzing: whatever the text, the language answers with a result or its own
ExpressionError, never another exception, and quickly (hypothesis' deadline is the bound the
issue sets: 2 s for any input)."""
from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ExpressionError
from core.evaluate import evaluate
from core.functions import FUNCTIONS
from core.language import parse

VALUES = {"w": 1.0, "z": 0.5, "x": [1.0, -2.0], "A": [[1.0, 0.5], [0.2, 0.1]],
          "B": [[2.0, 0.0], [1.0, 3.0]], "v": [0.0, 1.0, 2.0]}

TOKENS = (["w", "z", "x", "A", "B", "v", "q", "0", "1", "2", "0.5", "1e3", "-1", "1e308",
           "+", "-", "*", "/", "**", "@", "(", ")", "[", "]", ",", ".", "=", "\n", " ",
           "torch.", "F.", "__", "_", "dim=", "p=", "keepdim=True", "requires_grad=True",
           "dtype=torch.float64", "#", "'", "lambda", "import", "^", "&", "%", "ｅ", "²", "\x00",
           ".T", ".sum()", "g = ", "f = "]
          + sorted(FUNCTIONS))

FAST = settings(max_examples=300, deadline=2000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _run(text: str) -> None:
    try:
        evaluate(parse(text), VALUES, "float32")
    except ExpressionError as err:
        assert err.message and isinstance(err.kind, str)
        if err.span is not None:
            assert err.span.line >= 1 and err.span.column >= 1


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_token_soup_never_escapes(text):
    _run(text)


@FAST
@given(st.text(alphabet=string.printable + "ｅ²×−\u200b", max_size=120))
def test_random_text_never_escapes(text):
    _run(text)


def _expressions():
    leaf = st.sampled_from(["w", "z", "x", "A", "B", "v", "2", "0.5", "0", "-1"])

    def extend(children):
        binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "@"]), children)
        unary = st.tuples(st.sampled_from(sorted(FUNCTIONS)), children)
        return st.one_of(binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
                         unary.map(lambda t: f"{t[0]}({t[1]})"),
                         children.map(lambda c: f"sum({c})"))
    return st.recursive(leaf, extend, max_leaves=12)


@FAST
@given(st.lists(_expressions(), min_size=1, max_size=4))
def test_well_formed_programs_answer_cleanly(parts):
    lines = [f"g{i} = {p}" for i, p in enumerate(parts[:-1])] + [f"f = sum({parts[-1]})"]
    _run("\n".join(lines))
