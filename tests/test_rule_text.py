"""Every rule speaks the program's language: its text names only the program's own
variables and subexpressions, and every number in a step's arithmetic is the trace's.

Property-tested over every program of tests/test_rules.py (one or more per function and
operator of the language, so rules added for new functions are covered as soon as their
function is listed there), with the variables renamed at random to names that collide with
the letters rules used to print (x, y, a, b, A, B, G, v...).
"""
from __future__ import annotations

import random
import re

import pytest
import torch

from core.evaluation.evaluate import evaluate
from core.language.functions import FUNCTIONS
from core.language.parser import parse
from core.teaching.rules import MINUS, RULES, fmt
from core.teaching.trace import record_steps
from tests.test_rules import CALLS, OPERATORS, VALUES, VARIANTS, program_for

#: names a student may well use, including every letter the rules once printed
POOL = ["x", "y", "a", "b", "A", "B", "G", "v", "w", "z", "n", "c", "u", "X", "W", "q", "k",
        "h", "g1", "xs", "theta"]
#: one tensor in several input slots of one node: each slot's term must read differently
SAME_TWICE = ["sum(x * x)", "sum(x @ x)", "sum(mm(x, x))", "sum(x ** x)", "sum(x + x)",
              "sum(x - x)", "sum(x / x)", "dot(v, v)", "s * s"]
PROGRAMS = sorted({program_for(n) for n in FUNCTIONS} | set(OPERATORS.values()) | set(VARIANTS)
                  | set(SAME_TWICE))
FREE = ("x", "y", "v", "u", "a", "s")
#: backward nodes the language cannot make today (older torch names, batch-only forms):
#: a rule added for a node the language makes must get a program in tests/test_rules.py
NOT_MADE = {"NormBackward0", "NormBackward1", "NormBackward2", "NormBackward3",
            "PermuteBackward0", "SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2",
            "AliasBackward0", "ReshapeAliasBackward0", "ExpandBackward0",
            "AddBackward1", "SubBackward1", "MulBackward1", "DivBackward1", "RsubBackward0",
            "BmmBackward0", "ClampMinBackward0", "ClampMaxBackward0"}


def _rename(text: str, mapping: dict) -> str:
    return re.sub(r"[A-Za-z_][A-Za-z_0-9]*", lambda m: mapping.get(m.group(0), m.group(0)), text)


def _run(text: str, mapping: dict):
    program = parse("f = " + _rename(text, mapping))
    values = {mapping[k]: VALUES[k] for k in FREE if mapping.get(k) in program.free_names}
    evaluation = evaluate(program, values, "float64")
    return program, record_steps(evaluation)


def _all_text(rule) -> str:
    return "\n".join([rule.pattern, rule.formula, *rule.numbers, *rule.notes])


def _letters(text: str) -> set[str]:
    # numbers first (1e−05 is not the letter e), then identifiers
    text = re.sub(r"(?<![A-Za-z_0-9])\d*\.?\d+(?:[eE][-+−]?\d+)?", " ", text)
    return set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))


#: multi-letter words the rules may use: English and the names of functions
WORDS_OK = re.compile(r"[a-z]{2,}|[A-Z][a-z]+|NaN|ln|exp")


def _mapping(seed: int) -> dict:
    rng = random.Random(seed)
    names = [n for n in POOL if n not in FUNCTIONS]
    return dict(zip(FREE, rng.sample(names, len(FREE)), strict=True))


@pytest.mark.parametrize("text", PROGRAMS)
def test_rule_text_uses_only_the_programs_names(text):
    for seed in range(3):
        mapping = _mapping(hash((text, seed)) % 10_000)
        program, trace = _run(text, mapping)
        # the program's names, and any word of its own text (a subexpression such as
        # ones(2, requires_grad=True) is the program's too)
        own = set(program.free_names) | set(program.assigned_names) | _letters(program.text)
        for step in trace.steps:
            for word in _letters(_all_text(step.rule)):
                if word in own:
                    continue
                assert word in FUNCTIONS or (len(word) > 1 and WORDS_OK.fullmatch(word)), (
                    f"{step.op} in {program.text!r} prints {word!r}, which is not one of the "
                    f"program's names {sorted(own)}:\n{_all_text(step.rule)}")


@pytest.mark.parametrize("text", PROGRAMS)
def test_rule_text_follows_a_renaming_of_the_variables(text):
    first, second = _mapping(1), _mapping(2)
    _, one = _run(text, first)
    _, two = _run(text, second)
    # the same program under other names: every line is the same with the names swapped
    swap = {first[k]: second[k] for k in FREE}
    for a, b in zip(one.steps, two.steps, strict=True):
        assert _rename(_all_text(a.rule), swap) == _all_text(b.rule)


def _reduce_to(product: torch.Tensor, shape) -> torch.Tensor:
    return product.sum_to_size(shape) if tuple(product.shape) != tuple(shape) else product


#: programs at the points where a rule's general formula breaks down (0 × ∞, ties, zeros)
EDGES = [("f = x ** y", {"x": 0.0, "y": 2.0}), ("f = x ** x", {"x": 0.0}),
         ("f = x ** y", {"x": 2.0, "y": 0.0}), ("f = x ** 3", {"x": -2.0}),
         ("f = prod(x)", {"x": [2.0, 0.0, 3.0]}), ("f = sum(prod(x, dim=0))",
                                                   {"x": [[0.0, 1.0], [2.0, 3.0]]}),
         ("f = norm(x)", {"x": [0.0, 0.0]}), ("f = norm(x, p=3)", {"x": [0.0, 0.0]}),
         ("f = max(x)", {"x": [3.0, 1.0, 3.0]}), ("f = sum(maximum(x, y))",
                                                  {"x": [1.0, 2.0], "y": [1.0, 3.0]}),
         ("f = sum(abs(x) + relu(x))", {"x": [0.0, -1.0, 2.0]}), ("f = sqrt(x)", {"x": 0.0}),
         ("f = sum(clamp(x, min=0.5, max=1.0))", {"x": [0.5, 1.0, 2.0]}),
         ("f = sum((A - b) * A)", {"A": [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]],
                                   "b": [1.0, 1.0, 1.0]})]


@pytest.mark.parametrize("text, values", EDGES)
def test_every_number_is_the_traces_at_edge_cases(text, values):
    evaluation = evaluate(parse(text), values, "float64")
    _check_numbers(record_steps(evaluation))


@pytest.mark.parametrize("text", PROGRAMS)
def test_every_number_in_the_arithmetic_is_the_traces(text):
    _, trace = _run(text, _mapping(0))
    _check_numbers(trace)


def _check_numbers(trace):
    checked = 0
    for step in trace.steps:
        g = step.grad_in[0]
        for term in step.rule.terms:
            out = step.grad_out[term.input]
            local = term.local
            chain = next(line for line in term.lines if "+=" in line)
            # the line ends with exactly what torch sent, and shows what came in; for an
            # input that was broadcast it ends with the product as it is (true as written)
            # and the line summing it back ends with what torch sent
            summed = next((line for line in term.lines if line.startswith("summed over")),
                          None)
            if summed is None:
                assert chain.endswith("= " + fmt(out)), (step.op, chain)
            else:
                assert summed.endswith(("= " + fmt(out), "so " + fmt(out), "→ " + fmt(out))), \
                    (step.op, summed)
                product = g * torch.as_tensor(local.value, dtype=g.dtype)
                assert chain.endswith("= " + fmt(product)), (step.op, chain)
            if local.apply:
                assert fmt(g) in chain, (step.op, chain)
                assert fmt(local.value) in chain, (step.op, chain)
            value = local.value
            if local.apply == "×":
                value = torch.as_tensor(value, dtype=g.dtype)
                assert torch.allclose(_reduce_to(g * value, out.shape), out,
                                      rtol=1e-6, atol=1e-9, equal_nan=True), (step.op, chain)
            elif local.apply == "right":
                assert torch.allclose(g @ value, out, rtol=1e-6), (step.op, chain)
            elif local.apply == "left":
                assert torch.allclose(value @ g, out, rtol=1e-6), (step.op, chain)
            elif local.apply == "outer":
                assert torch.allclose(torch.outer(g, value), out, rtol=1e-6), (step.op, chain)
            checked += 1
        if step.op == "AccumulateGrad" and step.contributions:
            total = sum(c.value for c in step.contributions)
            assert step.rule.numbers[-1].endswith(fmt(total))
    assert checked or all(s.op == "AccumulateGrad" for s in trace.steps)


def test_every_registered_rule_is_exercised_by_a_program():
    made = set()
    for text in PROGRAMS:
        made |= {s.op for s in _run(text, _mapping(0))[1].steps}
    missing = sorted(set(RULES) - made - NOT_MADE)
    assert not missing, f"rules no program in tests/test_rules.py makes: {missing}"


def test_one_minus_sign():
    _, trace = _run("sum(x - y)", {k: k for k in FREE})
    text = "\n".join(_all_text(s.rule) for s in trace.steps)
    assert "-" not in text.replace("e-", "") and MINUS in text
    assert "+ " + MINUS not in text


CALLS_USED = CALLS  # the programs above come from there: keep the import meaningful


# --------------------------------------------------------------------------- edge cases


def _rule(text: str, values: dict, op: str):
    evaluation = evaluate(parse(text), values, "float64")
    trace = record_steps(evaluation)
    return next(s for s in trace.steps if s.op == op)


def test_prod_with_a_zero_never_divides_by_it():
    step = _rule("f = prod(x)", {"x": [2.0, 0.0, 3.0]}, "ProdBackward0")
    text = step.rule.text
    assert "/" not in text.replace("∂f/∂", "").replace("∂prod", "")
    # torch: [0*3, 2*3, 2*0] = [0, 6, 0]
    assert "[0, 6, 0]" in text and "zero entry" in text
    assert torch.equal(step.rule.terms[0].local.value, torch.tensor([0.0, 6.0, 0.0],
                                                                    dtype=torch.float64))


def test_negative_base_is_put_in_parentheses():
    step = _rule("f = x**3", {"x": -2.0}, "PowBackward0")
    assert "3 × (−2)² = 12" in step.rule.text


def test_x_to_the_y_at_zero_says_what_torch_uses():
    step = _rule("f = x**y", {"x": 0.0, "y": 2.0}, "PowBackward1")
    text = step.rule.text
    to_y = next(t for t in step.rule.terms if t.input == 1)
    assert float(to_y.out) == 0.0 and "torch uses 0 there" in text
    assert "ln(0) = 0" not in text


def test_norm_at_zero_names_torchs_subgradient():
    step = _rule("f = norm(x)", {"x": [0.0, 0.0]}, "LinalgVectorNormBackward0")
    assert "subgradient 0" in step.rule.text and "/ 0 =" not in step.rule.text


def test_norm_of_a_matrix_is_called_frobenius():
    step = _rule("f = norm(W)", {"W": [[1.0, 2.0], [3.0, 4.0]]}, "LinalgVectorNormBackward0")
    assert "Frobenius" in step.rule.text


@pytest.mark.parametrize("text, op", [("f = sum(maximum(x, y))", "MaximumBackward0"),
                                      ("f = sum(minimum(x, y))", "MinimumBackward0")])
def test_elementwise_max_ties_give_half_each_as_torch_does(text, op):
    step = _rule(text, {"x": [1.0, 2.0], "y": [1.0, 3.0]}, op)
    torch_x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    torch_y = torch.tensor([1.0, 3.0], dtype=torch.float64, requires_grad=True)
    fn = torch.maximum if op.startswith("Max") else torch.minimum
    fn(torch_x, torch_y).sum().backward()
    for term, expected in zip(step.rule.terms, (torch_x.grad, torch_y.grad), strict=True):
        assert torch.equal(term.out, expected)
        assert torch.equal(term.local.value, expected)  # G is 1 here
    assert "½ to each" in step.rule.text and "½ where equal" in step.rule.text


def test_max_of_all_entries_splits_ties_evenly_as_torch_does():
    step = _rule("f = max(x)", {"x": [3.0, 1.0, 3.0]}, "MaxBackward1")
    x = torch.tensor([3.0, 1.0, 3.0], requires_grad=True)
    x.max().backward()
    assert torch.equal(step.grad_out[0].float(), x.grad)
    assert "1/2 each" in step.rule.text


@pytest.mark.parametrize("fn", ["abs", "relu"])
def test_kinks_at_zero_are_named_with_torchs_choice(fn):
    op = {"abs": "AbsBackward0", "relu": "ReluBackward0"}[fn]
    step = _rule(f"f = sum({fn}(x))", {"x": [0.0, 1.0]}, op)
    assert "kink" in step.rule.text and "torch uses" in step.rule.text
    assert step.rule.terms[0].out.tolist() == [0.0, 1.0]


def test_broadcast_reduction_is_printed():
    # b (3 entries) is broadcast over the 2 rows of A: its gradient sums over axis 0
    step = _rule("f = sum((A - b) * A)", {"A": [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]],
                                          "b": [1.0, 1.0, 1.0]}, "SubBackward0")
    line = next(line for line in step.rule.numbers if line.startswith("summed over axis 0"))
    assert "(b was broadcast to 2×3)" in line
    assert "−0 − 3 = −3" in line or "0 − 3 = −3" in line


def test_nan_is_flagged_on_the_step_where_it_starts():
    step = _rule("f = sqrt(x)", {"x": 0.0}, "SqrtBackward0")
    assert any("∞" in note or "NaN" in note for note in step.rule.notes)


@pytest.mark.parametrize("text", SAME_TWICE)
def test_a_tensor_in_two_slots_gets_a_term_of_its_own_for_each(text):
    # y * y, W @ W, x ** x: one tensor is both inputs; each slot's term names its slot
    # (y₁, y₂), so no two terms of the step read alike, and both add into ∂f/∂y
    for seed in range(3):
        mapping = _mapping(seed)
        _, trace = _run(text, mapping)
        repeated = [s for s in trace.steps if len(s.rule.terms) > 1
                    and len({t.name for t in s.rule.terms}) < len(s.rule.terms)]
        assert repeated, text
        for step in repeated:
            local_lines = [tuple(line.split(" = ")[0] for line in t.lines) for t in step.rule.terms]
            assert len(set(local_lines)) == len(local_lines), step.rule.text
            name = step.rule.terms[0].name
            assert f"{name}₁" in step.rule.formula and f"{name}₂" in step.rule.formula
            assert step.rule.formula.split("; ")[0] != step.rule.formula.split("; ")[1]
            assert f"{name} is used twice here" in step.rule.pattern
            for term in step.rule.terms:  # every term adds into the one tensor's gradient
                assert any(line.startswith(f"∂f/∂{name} += ") for line in term.lines)


def test_the_same_text_computed_twice_names_two_tensors():
    # exp(x)*exp(x) computes exp(x) twice: two nodes, each with its own gradient
    for text in ("sum(exp(x) * exp(x))", "sum((x * y) * (x * y))"):
        _, trace = _run(text, {k: k for k in FREE})
        step = next(s for s in trace.steps if s.op == "MulBackward0" and len(s.rule.terms) == 2
                    and s.rule.terms[0].local.symbol.rstrip("₁₂")
                    == s.rule.terms[1].local.symbol.rstrip("₁₂"))
        first, second = (t.name for t in step.rule.terms)
        assert first.endswith("₁") and second.endswith("₂")
        assert "computed twice, by separate nodes" in step.rule.pattern
        assert step.rule.terms[0].lines[-1].startswith(f"∂f/∂{first} += ")
