"""Property-based fuzzing: whatever the text, the language answers with a result or its own
ExpressionError, never another exception, and quickly (hypothesis' deadline is the bound the
issue sets: 2 s for any input)."""
from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ExpressionError
from core.evaluation.evaluate import evaluate
from core.language.functions import FUNCTIONS
from core.language.parser import parse

VALUES = {"w": 1.0, "z": 0.5, "x": [1.0, -2.0], "A": [[1.0, 0.5], [0.2, 0.1]],
          "B": [[2.0, 0.0], [1.0, 3.0]], "v": [0.0, 1.0, 2.0]}

TOKENS = (["w", "z", "x", "A", "B", "v", "q", "0", "1", "2", "0.5", "1e3", "-1", "1e308",
           "+", "-", "*", "/", "**", "@", "(", ")", "[", "]", ",", ".", "=", "\n", " ",
           "torch.", "F.", "__", "_", "dim=", "p=", "keepdim=True", "requires_grad=True",
           "dtype=torch.float64", "#", "'", "lambda", "import", "^", "&", "%", "ｅ", "²", "\x00",
           ".T", ".sum()", "g = ", "f = ",
           # the notebook syntax: indexing, slices, comparisons, no_grad, seeds, constants
           ":", "::", "...", "None", "[0]", "[-1]", "[::2]", "[1:]", "[:, 0]", ">", "<", ">=",
           "==", "!=", "with torch.no_grad():\n    ", ".detach()", ".requires_grad_()",
           "torch.manual_seed(", "math.pi", "reduction='sum'", "axis=", "alpha=",
           ".values", ".indices", "10**9", "2**63", "-10**18", "[True, False]", "[0, 2]"]
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


def _index_item():
    number = st.integers(min_value=-10**20, max_value=10**20).map(str)
    small = st.integers(min_value=-4, max_value=4).map(str)
    part = st.one_of(st.just(""), number, small)
    slice_ = st.tuples(part, part, st.one_of(st.just(""), number, small)).map(
        lambda t: f"{t[0]}:{t[1]}:{t[2]}")
    return st.one_of(small, number, slice_, st.just("..."), st.just("None"),
                     st.just("x > 0"), st.just("[0, 1]"), st.just("[5]"))


@FAST
@given(st.sampled_from(["x", "A", "v", "w"]),
       st.lists(_index_item(), min_size=1, max_size=4).map(", ".join))
def test_indexing_never_reads_out_of_bounds_or_escapes(name, index):
    # any index, however large or odd, is torch's answer or one clear error
    text = f"f = sum({name}[{index}])"
    try:
        evaluation = evaluate(parse(text), VALUES, "float64")
    except ExpressionError as err:
        assert err.message and err.span is not None
        return
    import torch

    value = torch.tensor(VALUES[name], dtype=torch.float64)
    assert evaluation.output.numel() == 1
    assert evaluation.gradients[name].shape == value.shape


@FAST
@given(st.sampled_from(["repeat", "expand", "view", "permute", "flip", "squeeze", "unsqueeze",
                        "flatten"]),
       st.lists(st.integers(min_value=-2, max_value=10**7), min_size=1, max_size=9))
def test_shape_functions_stay_within_the_bounds(function, sizes):
    import math

    from core import limits
    text = f"f = sum(A.{function}({', '.join(map(str, sizes))}))"
    try:
        evaluation = evaluate(parse(text), VALUES, "float32")
    except ExpressionError as err:
        assert err.message
        return
    for record in evaluation.records:
        assert math.prod(record.tensor.shape) <= limits.MAX_ELEMENTS


@FAST
@given(st.sampled_from(["randn", "rand", "arange", "linspace", "randint", "zeros", "ones"]),
       st.lists(st.integers(min_value=-10**19, max_value=10**19), min_size=1, max_size=4),
       st.integers(min_value=-2**65, max_value=2**65))
def test_seeds_and_sizes_from_the_text_are_bounded(function, sizes, seed):
    args = ", ".join(map(str, sizes))
    if function == "randint":
        args = f"0, {sizes[0]}, ({args},)"
    text = f"torch.manual_seed({seed})\nr = torch.{function}({args})\nf = sum(r * w)"
    try:
        evaluate(parse(text), VALUES, "float32")
    except ExpressionError as err:
        assert err.message and err.span is not None
