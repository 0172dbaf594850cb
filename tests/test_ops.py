"""core.evaluation.ops: the shape predictions that guard the size bounds agree with torch."""
from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.evaluation.ops import broadcast_shapes

shapes = st.lists(st.sampled_from([1, 2, 3]), max_size=4).map(tuple)


@settings(max_examples=300, deadline=None)
@given(st.lists(shapes, min_size=1, max_size=3))
def test_broadcast_shapes_agrees_with_torch(many):
    try:
        expected = tuple(torch.broadcast_shapes(*many))
    except RuntimeError:
        expected = None
    assert broadcast_shapes(*many) == expected


def test_batch_mismatch_in_matmul_is_a_clear_error():
    import pytest

    from core.errors import ExpressionError
    from core.evaluation.evaluate import evaluate
    from core.language.parser import parse
    a = [[[1.0, 0.0], [0.0, 1.0]]] * 2
    b = [[[1.0, 0.0], [0.0, 1.0]]] * 3
    with pytest.raises(ExpressionError, match="batch dimensions"):
        evaluate(parse("sum(a @ b)"), {"a": a, "b": b})
