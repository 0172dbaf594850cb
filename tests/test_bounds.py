"""Every bound of the language, checked at N (accepted) and N+1 (a clear error naming it)."""
from __future__ import annotations

import pytest

from core import limits
from core.errors import ExpressionError, LimitError
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.language.values import parse_value


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

    from core.language.parser import tree_depth
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


# ------------------------------------------------------------------------ the check's budgets


def test_symbolic_time_budget_says_skipped_too_large():
    """exp(exp(exp(exp(exp(w))))) at 3 ran for minutes inside SymPy's evalf, which no
    deadline checked between steps can stop: the separate process is stopped instead."""
    from core.check import check_gradients

    evaluation = evaluate(parse("f = exp(exp(exp(exp(exp(w)))))"), {"w": 3.0}, "float64")
    report = check_gradients(evaluation, symbolic_time_limit=0.5)
    assert report.symbolic_status.startswith("skipped (too large)")
    assert "0.5 s" in report.symbolic_status
    assert any(note.startswith("symbolic: skipped (too large)") for note in report.notes)


def test_symbolic_memory_budget_says_skipped_too_large():
    """pow(w, pow(w, pow(w, w))) at 10 asks SymPy for 10**(10**10**10) and filled the memory."""
    from core.check import symbolic

    evaluation = evaluate(parse("f = pow(w, pow(w, pow(w, w)))"), {"w": 10.0}, "float64")
    result = symbolic.differentiate(evaluation, ["w"], time_limit=60,
                                    memory_limit=200 * 2**20)
    assert result.reason.startswith("skipped (too large)") and "memory" in result.reason


def test_symbolic_work_can_be_cancelled():
    import threading

    from core.check import symbolic

    cancel = threading.Event()
    cancel.set()
    evaluation = evaluate(parse("f = exp(exp(exp(exp(exp(w)))))"), {"w": 3.0}, "float64")
    result = symbolic.differentiate(evaluation, ["w"], time_limit=60, cancel=cancel)
    assert result.reason == "cancelled"


def test_symbolic_size_bounds_say_skipped_too_large(monkeypatch):
    from core.check import symbolic

    monkeypatch.setattr(symbolic, "MAX_FORMULA_SIZE", 20)  # reaches the child process too
    evaluation = evaluate(parse("f = sin(w) * cos(w) * exp(w) * tanh(w) * w * w"),
                          {"w": 0.5}, "float64")
    result = symbolic.differentiate(evaluation, ["w"])
    assert "skipped (too large)" in (result.reason or "") + " ".join(
        d.note or "" for d in result.derivatives.values())


def test_large_inputs_check_a_seeded_random_sample(capsys):
    """A 1,000,000-entry input is checked on a stated random sample (seed reported), not
    entry by entry for minutes; the same entries every time."""
    import json
    import random

    from core.check import check_gradients
    from core.cli import main as cli_main

    values = [float(i % 7) for i in range(5_000)]
    evaluation = evaluate(parse("f = sum(v * v)"), {"v": values}, "float64")
    report = check_gradients(evaluation, symbolic=False, max_entries=30)
    picked = sorted(random.Random(0).sample(range(5_000), 30))
    assert [row.index for row in report.rows] == [(i,) for i in picked]
    assert all(row.verdict == "agree" for row in report.rows)
    for row in report.rows:  # d/dv sum(v*v) = 2v, by hand
        assert row.autograd == 2 * values[row.index[0]]
    assert report.sample.to_dict() == {"entries": 5_000, "checked": 30, "seed": 0}
    again = check_gradients(evaluation, symbolic=False, max_entries=30)
    assert [row.index for row in again.rows] == [row.index for row in report.rows]

    program = "v = torch.ones(1000000, requires_grad=True)\nf = (v * v).sum()"
    import core.check as check_module
    status = cli_main(["check", program, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["sample"] == {"entries": 1_000_000, "checked": check_module.MAX_ENTRIES,
                              "seed": check_module.SAMPLE_SEED}
    assert len(data["rows"]) == check_module.MAX_ENTRIES
    assert "random sample" in data["notes"][0]


def test_zero_against_symbolic_rounding_is_agreement():
    """d/dx sum(softmax(x)) is exactly 0; SymPy's 30-digit evaluation leaves 4.9e-32 of
    cancellation, autograd gives 0: that is agreement, not a false alarm."""
    from core.check import check_gradients

    evaluation = evaluate(parse("f = sum(softmax(x))"), {"x": [0.3, 1.7, 2.9]}, "float64")
    report = check_gradients(evaluation)
    assert report.verdict == "agree", [row.reasons for row in report.rows]


def test_the_floor_does_not_hide_a_wrong_tiny_gradient():
    """The floor scales with f and x: a program whose gradients are all tiny keeps its
    relative tolerance, so a wrong 0 (or a wrong factor) is still caught."""
    import torch

    from core.check import check_gradients

    evaluation = evaluate(parse("f = 1e-30 * w * w"), {"w": 1.0}, "float64")
    assert check_gradients(evaluation).verdict == "agree"
    for wrong in (0.0, 1e-30):  # the right value is 2e-30
        report = check_gradients(evaluation, gradients={"w": torch.tensor(wrong,
                                                                         dtype=torch.float64)})
        assert report.verdict == "disagree"


# ------------------------------------------------------------------------ backward's budgets


def _products(repeats: int) -> str:
    return ("a = ones(20, 500) * w\nb = ones(500, 20) * w\ns = sum(a @ b)\n"
            + "s = s + sum(a @ b)\n" * repeats + "f = s")


def test_backward_work_is_refused_before_the_operation_allocates(monkeypatch):
    """Each a @ b (20×500 @ 500×20) costs 200,000 multiply-adds forward and twice that
    backward (a gradient for a and one for b): by hand, the k-th product brings the
    backward estimate to about k × 400,000, so a budget of 2,000,000 is passed at the 5th."""
    from core.evaluation import cost

    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 2_000_000)
    per_product = cost.estimate("@", [_leafish((20, 500)), _leafish((500, 20))], (20, 20))
    assert per_product.forward == 20 * 500 * 20 and per_product.backward == 2 * 200_000
    allocated = []
    import core.evaluation.evaluate as ev_module
    real = ev_module._TORCH_OPERATORS["@"]
    monkeypatch.setitem(ev_module._TORCH_OPERATORS, "@",
                        lambda a, b: allocated.append(1) or real(a, b))
    with pytest.raises(LimitError, match="2,000,000 multiply-adds") as err:
        evaluate(parse(_products(10)), {"w": 1.0})
    assert err.value.span.line == 7  # the 5th product: line 3 is the first
    assert len(allocated) == 4  # the refused product never ran
    evaluate(parse(_products(3)), {"w": 1.0})  # 4 products: within the budget


def _leafish(shape):
    import torch
    return torch.ones(shape, requires_grad=True)


def test_constants_cost_no_backward_work(monkeypatch):
    """Products of constants need no gradient: nothing is charged to the backward pass."""
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", 10)  # c * w: 2 (one entry, twice)
    text = "c = sum(ones(50, 50) @ ones(50, 50))\nf = c * w"
    ev = evaluate(parse(text), {"w": 2.0})
    assert ev.gradients["w"].item() == 50 * 50 * 50  # sum of a 50×50 matrix of 50s


def test_backward_pass_has_its_own_time_limit(monkeypatch):
    monkeypatch.setattr(limits, "MAX_BACKWARD_SECONDS", 0.0)
    with pytest.raises(LimitError, match="the backward pass took longer than 0 s"):
        evaluate(parse("f = sin(w) * w"), {"w": 1.0})


def test_recording_the_steps_has_its_own_time_limit(monkeypatch):
    from core.teaching.trace import record_steps

    ev = evaluate(parse("f = sin(w) * w"), {"w": 1.0})
    monkeypatch.setattr(limits, "MAX_BACKWARD_SECONDS", 0.0)
    with pytest.raises(LimitError, match="recording the steps took longer than 0 s"):
        record_steps(ev)


def test_every_function_has_a_cost_estimate():
    """A function added to the language gets the elementwise estimate unless it registers
    its own in core.evaluation.cost.COSTS (documented in docs/CONTRACTS.md)."""
    import torch

    from core.evaluation import cost
    from core.language.functions import FUNCTIONS

    x = torch.ones(3, 4, requires_grad=True)
    for name in FUNCTIONS:
        work = cost.estimate(name, [x, torch.ones(4, 3)], None)
        assert work.forward >= x.numel() and work.backward >= 0, name
        assert work.gradient_entries == x.numel(), name  # only x needs a gradient


def test_a_registered_cost_rule_is_charged(monkeypatch):
    from core.evaluation import cost

    monkeypatch.setitem(cost.COSTS, "exp", lambda args, shape: cost.Work(1, 10**15, 1))
    with pytest.raises(LimitError, match="multiply-adds"):
        evaluate(parse("f = exp(w)"), {"w": 1.0})


# ------------------------------------------------------------------------ the steps' storage


def _stored(trace) -> int:
    """Numbers the trace really holds, over every tensor it keeps (each counted once)."""
    import torch

    from core.teaching.trace import stored_entries

    seen, total, stack = set(), 0, [trace.steps, list(trace.leaves.values())]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            if id(item) not in seen:
                seen.add(id(item))
                total += stored_entries(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif hasattr(item, "__dataclass_fields__"):
            stack.extend(getattr(item, name) for name in item.__dataclass_fields__)
    return total


def test_steps_keep_repeated_gradients_once(monkeypatch):
    """The issue's program: s = s + sum(W) with a 1000×1000 W, 600 times. Every sum sends W
    a gradient that is one number repeated a million times; the steps keep it as that
    number (they kept a million-entry copy per step: gigabytes). The values are unchanged."""
    import torch

    from core.teaching.trace import record_steps

    # about 3 s here; the time limits are not what this test is about (a busy machine)
    for name in ("MAX_SECONDS", "MAX_BACKWARD_SECONDS", "MAX_TRACE_SECONDS"):
        monkeypatch.setattr(limits, name, 600.0)

    text = "W = ones(1000, 1000) * w\ns = sum(W)\n" + "s = s + sum(W)\n" * 600 + "f = s"
    ev = evaluate(parse(text), {"w": 1.0})
    trace = record_steps(ev)
    assert len(trace.steps) == 2 * 601 + 1
    assert _stored(trace) < 3_000_000  # a few whole tensors, not 601 (or 1,202) of them
    # df/dw = 601 sums of a million ones (by hand), and the stored running sums agree
    assert trace.leaves["w"].total.item() == 601 * 1_000_000
    w_node = next(s for s in trace.steps if s.op == "MulBackward0")
    assert len(w_node.contributions) == 601
    for k in (1, 2, 601):
        contribution = w_node.contributions[k - 1]
        assert contribution.value.shape == (1000, 1000)
        assert torch.equal(contribution.running_total, torch.full((1000, 1000), float(k)))


def test_compact_copies_are_exact():
    import torch

    from core.teaching.trace import add_compact, compact_copy, compact_value, stored_entries

    row = torch.randn(1, 5)
    expanded = row.expand(4, 5)
    kept = compact_copy(expanded)
    assert torch.equal(kept, expanded) and stored_entries(kept) == 5
    assert torch.equal(add_compact(kept, kept), 2 * expanded)
    full = torch.randn(70, 70)
    assert torch.equal(compact_copy(full), full) and stored_entries(compact_copy(full)) == 4900
    ones = torch.ones(100, 100)
    assert torch.equal(compact_value(ones), ones) and stored_entries(compact_value(ones)) == 1
    assert compact_value(full) is full


def test_steps_storage_budget(monkeypatch):
    from core.teaching.trace import record_steps

    ev = evaluate(parse("W = sin(V) * w\nf = sum(W * W)"), {"w": 1.0, "V": [[0.5] * 50] * 50})
    monkeypatch.setattr(limits, "MAX_TRACE_ENTRIES", 1_000)
    with pytest.raises(LimitError, match="more than 1,000 gradient entries"):
        record_steps(ev)


def test_steps_time_limit(monkeypatch):
    from core.teaching.trace import record_steps

    ev = evaluate(parse("f = sin(w) * cos(w)"), {"w": 1.0})
    monkeypatch.setattr(limits, "MAX_TRACE_SECONDS", -1.0)
    with pytest.raises(LimitError, match="recording the steps took longer than -1 s"):
        record_steps(ev)


# ------------------------------------------------------------------------ exports


def _png_size(data: bytes) -> tuple[int, int]:
    import struct
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _graph_and_trace(text="g = 3*w + cos(z)\nf = exp(g) * w", **values):
    from core.drawing.graph import build_graph
    from core.teaching.trace import record_steps
    ev = evaluate(parse(text), values or {"w": 1.0, "z": 1.0})
    return build_graph(ev), record_steps(ev)


def test_png_pixels_are_bounded(monkeypatch):
    """A graph at 1,200 dpi would be tens of millions of pixels: the picture is held within
    the pixel limit (a 2,000-node graph at 1,200 dpi asked cairo for gigabytes)."""
    from core.drawing import render

    graph, _ = _graph_and_trace()
    big = _png_size(render.render(graph, render.RenderOptions(dpi=1200), "png"))
    monkeypatch.setattr(render, "MAX_PNG_AREA", 250_000)
    small = _png_size(render.render(graph, render.RenderOptions(dpi=1200), "png"))
    assert big[0] * big[1] > 250_000  # the limit matters here
    assert max(small) <= 500 and small[0] * small[1] <= 250_000


def test_step_frames_are_within_the_pixel_limit(monkeypatch, tmp_path):
    from core.drawing import render
    from core.teaching.step_export import export_frames

    graph, trace = _graph_and_trace()
    monkeypatch.setattr(render, "MAX_PNG_AREA", 90_000)
    paths = export_frames(graph, trace, tmp_path, dpi=1200)
    for path in paths:
        width, height = _png_size(path.read_bytes())
        assert max(width, height) <= 300


def test_step_export_has_a_time_limit(monkeypatch, tmp_path):
    from core.teaching import step_export

    graph, trace = _graph_and_trace()
    monkeypatch.setattr(step_export, "MAX_EXPORT_SECONDS", 0.0)
    with pytest.raises(LimitError, match="exporting the steps took longer than 0 s"):
        step_export.export_frames(graph, trace, tmp_path / "frames")
    with pytest.raises(LimitError, match="took longer than 0 s"):
        step_export.export_pdf(graph, trace, tmp_path / "steps.pdf")
    assert not (tmp_path / "steps.pdf").exists()
    assert list((tmp_path / "frames").iterdir()) == []


def test_step_export_can_be_cancelled(tmp_path):
    import threading

    from core.drawing.render import Cancelled
    from core.teaching import step_export

    graph, trace = _graph_and_trace()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        step_export.export_frames(graph, trace, tmp_path / "frames", cancel=cancel)
    with pytest.raises(Cancelled):
        step_export.export_pdf(graph, trace, tmp_path / "steps.pdf", cancel=cancel)
    assert not (tmp_path / "steps.pdf").exists()


def test_total_entries_are_refused_before_the_operation_allocates(monkeypatch):
    """The bound on all tensors together is checked with the predicted size of the next
    result, so the operation that would pass it never runs."""
    import core.evaluation.evaluate as ev_module

    monkeypatch.setattr(limits, "MAX_TOTAL_ELEMENTS", 250)
    ran = []
    real = ev_module._TORCH_OPERATORS["*"]
    monkeypatch.setitem(ev_module._TORCH_OPERATORS, "*", lambda a, b: ran.append(1) or real(a, b))
    # w (1) + ones (100) + A (100) = 201; the next product would make 100 more
    with pytest.raises(LimitError, match="more than 250 tensor entries") as err:
        evaluate(parse("A = ones(100) * w\nB = A * A\nf = sum(B)"), {"w": 1.0})
    assert err.value.span.line == 2 and len(ran) == 1


def _deck_inputs():
    from core.drawing.graph import build_graph
    from core.teaching.trace import record_steps
    ev = evaluate(parse("g = 3*w + cos(z)\nf = exp(g) * w"), {"w": 1.0, "z": 1.0})
    return ev, build_graph(ev), record_steps(ev)


def test_deck_frames_are_within_the_pixel_limit(monkeypatch, tmp_path):
    """The step deck's PNG frames (steps --frames, the window's frame export): at 1,200 dpi
    a slide would be 16,000×9,000 pixels; the frame is scaled to the pixel limit."""
    from core.drawing import render
    from core.teaching import deck

    monkeypatch.setattr(render, "MAX_PNG_AREA", 200_000)
    ev, graph, trace = _deck_inputs()
    paths = deck.export_frames(ev, graph, trace, tmp_path, dpi=1200)
    for path in paths[:2]:
        width, height = _png_size(path.read_bytes())
        assert width * height <= 200_000 * 1.01 and width > height  # still a 16:9 slide


def test_deck_export_time_limit_and_cancel(monkeypatch, tmp_path):
    import threading

    from core.drawing.render import Cancelled
    from core.teaching import deck, step_export

    ev, graph, trace = _deck_inputs()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        deck.export_pdf(ev, graph, trace, tmp_path / "s.pdf", cancel=cancel)
    monkeypatch.setattr(step_export, "MAX_EXPORT_SECONDS", 0.0)
    with pytest.raises(LimitError, match="exporting the steps took longer than 0 s"):
        deck.export_frames(ev, graph, trace, tmp_path / "frames")
    with pytest.raises(LimitError, match="took longer than 0 s"):
        deck.export_pdf(ev, graph, trace, tmp_path / "s.pdf")
    assert not (tmp_path / "s.pdf").exists()


def test_a_failure_inside_sympy_is_a_reason_not_a_traceback(monkeypatch):
    """What the child process raises is raised again by core.sandbox; differentiate turns
    it into the result's reason."""
    from core import sandbox
    from core.check import symbolic

    def broken(*args, **kwargs):
        raise TypeError("SymPy tripped")

    monkeypatch.setattr(sandbox, "run_bounded", broken)
    evaluation = evaluate(parse("f = sin(w)"), {"w": 1.0})
    result = symbolic.differentiate(evaluation, ["w"])
    assert result.reason == "SymPy could not do this (TypeError: SymPy tripped)"


def test_the_sandbox_raises_the_childs_exception_and_returns_its_result():
    import math

    from core import sandbox

    assert sandbox.run_bounded(math.factorial, (10,), seconds=30, memory_bytes=1 << 28) \
        == 3628800
    with pytest.raises(ValueError):
        sandbox.run_bounded(math.factorial, (-1,), seconds=30, memory_bytes=1 << 28)


def test_steps_json_summarises_large_tensors(capsys):
    """steps --json writes a tensor of more than 10,000 entries as its summary, as the
    steps show it (30 steps of a million-entry gradient were 575 MB of JSON); small ones
    stay in full."""
    import json

    from core.cli import main as cli_main
    from core.serialize import JSON_FULL_ENTRIES

    program = "W = ones(200, 100) * w\ns = sum(W * W)\nf = s + w"
    assert cli_main(["steps", program, "--var", "w=3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    summaries = [g for step in data["steps"] for g in step["grad_out"] if isinstance(g, dict)]
    assert summaries, "the 20,000-entry gradients are summarised"
    for summary in summaries:
        assert summary["entries"] == 20_000 > JSON_FULL_ENTRIES
        assert summary["shape"] == [200, 100]
    # W = 3 everywhere; each of W*W's two slots receives the other factor, 3, and W's own
    # node the sum of both, 2W = 6 (by hand): the summaries say so
    assert any(s["min"] == s["max"] == s["mean"] == 3.0 for s in summaries)
    into_w = [g for step in data["steps"] for g in step["grad_in"] if isinstance(g, dict)]
    assert any(s["min"] == s["max"] == s["mean"] == 6.0 for s in into_w)
    assert data["leaves"]["w"]["total"] == 6 * 20_000 + 1  # df/dw = sum of 2W·1, plus 1
