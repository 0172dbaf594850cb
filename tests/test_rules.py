"""core.teaching.rules: every function and operator of the language has a local rule, and the
rule's numbers are right (derivatives checked against SymPy)."""
from __future__ import annotations

import re

import pytest
import sympy
import torch

from core.evaluation.evaluate import evaluate
from core.language.functions import FUNCTIONS
from core.language.parser import parse
from core.teaching.rules import RULES, fmt, has_rule, rule_for
from core.teaching.trace import record_steps

VALUES = {"x": [[0.5, 0.3], [0.2, 0.8]], "y": [[0.4, 0.1], [0.6, 0.9]], "v": [0.3, 0.7],
          "u": [0.2, 0.5], "a": [[[0.5, 0.3], [0.2, 0.8]], [[0.1, 0.2], [0.3, 0.4]]], "s": 0.7}

#: one program per function of the language (some need arguments beyond a tensor)
CALLS = {
    "pow": "sum(pow(x, 3))", "maximum": "sum(maximum(x, y))", "minimum": "sum(minimum(x, y))",
    "clamp": "sum(clamp(x, min=0.25, max=0.6))", "sum": "sum(x)", "mean": "mean(x)",
    "prod": "prod(x)", "norm": "norm(x)", "max": "max(x)", "min": "min(x)",
    "logsumexp": "logsumexp(x)", "softmax": "sum(softmax(x, dim=1) * y)",
    "log_softmax": "sum(log_softmax(x, dim=1) * y)", "matmul": "sum(matmul(x, y))",
    "mm": "sum(mm(x, y))", "mv": "sum(mv(x, v))", "dot": "dot(v, u)",
    "outer": "sum(outer(v, u) * x)", "transpose": "sum(transpose(x, 0, 1) * y)",
    "t": "sum(t(x) * y)", "trace": "trace(x)", "reshape": "sum(reshape(x, 4) * reshape(y, 4))",
    "tensor": "sum(x * tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True))",
    "ones": "sum(x * ones(2, 2, requires_grad=True))",
    "zeros": "sum(x + zeros(2, 2, requires_grad=True))",
    "full": "sum(x * full((2, 2), 3.0, requires_grad=True))",
    "eye": "sum(x * eye(2, requires_grad=True))",
}
#: the notebook functions (core.language.functions_more)
CALLS.update({
    "getitem": "x[0, 1] + sum(x[:, ::2]) + sum(x[x > 0.4]) + sum(x[[1, 0]]) + sum(x[None, 1])",
    "gt": "sum(where(gt(x, y), x, y))", "lt": "sum(where(lt(x, y), x, y))",
    "ge": "sum(where(x >= y, x, y))", "le": "sum(where(x <= y, x, y))",
    "eq": "sum(where(x == y, x, y * 2))", "ne": "sum(where(x != y, x, y))",
    "where": "sum(where(x > 0.3, x, 0.0))", "stack": "sum(stack([x, y], 1) * 2)",
    "cat": "sum(cat([x, y]) * 2)", "view": "sum(x.view(-1) * v.repeat(2))",
    "squeeze": "sum(squeeze(x.unsqueeze(0)) * y)", "unsqueeze": "sum(unsqueeze(v, 1) * x)",
    "flatten": "sum(flatten(a) * 2)", "permute": "sum(permute(a, 2, 0, 1) * a)",
    "expand": "sum(v.expand(2, 2) * x)", "repeat": "sum(x.repeat(2, 1) * 2)",
    "flip": "sum(flip(x, 0) * y)", "expand_as": "sum(v.expand_as(x) * x)",
    "view_as": "sum(v.repeat(2).view_as(x) * x)", "reshape_as": "sum(x.T.reshape_as(y) * y)",
    "argmax": "sum(x * argmax(y))", "argmin": "sum(x * argmin(y, dim=0))",
    "amax": "sum(amax(x, dim=1))", "amin": "amin(x)", "var": "var(x)",
    "std": "sum(std(x, dim=0, correction=0))", "add": "sum(x.add(y, alpha=2))",
    "sub": "sum(x.sub(y, alpha=3))", "mul": "sum(x.mul(y))", "div": "sum(x.div(y))",
    "mse_loss": "mse_loss(x, y)", "l1_loss": "l1_loss(x, y)",
    "smooth_l1_loss": "smooth_l1_loss(x, y, beta=0.2)", "huber_loss": "huber_loss(x, y)",
    "cross_entropy": "cross_entropy(x, tensor([1, 0]))",
    "nll_loss": "nll_loss(log_softmax(x, dim=1), tensor([1, 0]))",
    "binary_cross_entropy": "binary_cross_entropy(sigmoid(x), y)",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits(x, y)",
    "kl_div": "kl_div(log_softmax(x, dim=1), y, reduction='batchmean')",
    "gelu": "sum(gelu(x) + gelu(y, approximate='tanh'))", "softplus": "sum(softplus(x, beta=2))",
    "leaky_relu": "sum(leaky_relu(x - 0.4))", "elu": "sum(elu(x - 0.4))",
    "celu": "sum(celu(x - 0.4, alpha=0.5))", "hardtanh": "sum(hardtanh(x * 2))",
    "clip": "sum(clip(x, 0.25, 0.6))", "detach": "sum(x.detach() * y)",
    "requires_grad_": "sum(x.detach().requires_grad_() * y)",
    "arange": "sum(x * arange(1.0, 5.0).reshape(2, 2))",
    "linspace": "sum(x * linspace(0, 1, 4).reshape(2, 2))",
    "randn": "sum(x * randn(2, 2))", "rand": "sum(x * rand(2, 2))",
    "randint": "sum(x * randint(0, 5, (2, 2)))", "manual_seed": "sum(x * 2)",
    "zeros_like": "sum(x + zeros_like(y))", "ones_like": "sum(x * ones_like(y))",
    "full_like": "sum(x * full_like(y, 2.0))", "rand_like": "sum(x * rand_like(y))",
    "randn_like": "sum(x * randn_like(y))", "float": "sum(x.double().float() * 2)",
    "double": "sum(x.double() * 2)", "long": "sum(x * y.long())",
    "bool": "sum(where(y.bool(), x, 0.0))",
    # common
    "acosh": "sum(acosh(x + 1.5))", "atanh": "sum(atanh(x * 0.5))",
    "erfinv": "sum(erfinv(x * 0.5))", "lgamma": "sum(lgamma(x + 0.5))",
    "digamma": "sum(digamma(x + 0.5))", "round": "sum(round(x * 3.1) * y + x.round(decimals=1))",
    "atan2": "sum(atan2(x, y))", "hypot": "sum(hypot(x, y))", "xlogy": "sum(xlogy(x, y))",
    "fmod": "sum(fmod(x, 0.35) + fmod(x, y))",
    "remainder": "sum(x % 0.35 + remainder(x, y))",
    "floor_divide": "sum(x * (y.detach() // 0.3))", "cumsum": "sum(cumsum(x, dim=1) * y)",
    "cumprod": "sum(cumprod(x, 1) * y)", "sort": "sum(sort(x, dim=1).values * y)",
    "argsort": "sum(x * argsort(y))", "topk": "sum(topk(x, 1).values * y[:, :1])",
    "median": "median(x) + sum(median(x, dim=1).values * v)",
    "tril": "sum(tril(x) * y)", "triu": "sum(triu(x, 1) * y)",
    "diag": "sum(diag(x) * v) + sum(diag(v) * x)", "diagonal": "sum(diagonal(a, 0, 1, 2) * x)",
    "inverse": "sum(inverse(x) * y)", "det": "det(x)", "logdet": "logdet(x @ x.T + eye(2))",
    "kron": "sum(kron(x, v) ** 2)", "tensordot": "sum(tensordot(x, y, dims=1))",
    "einsum": "sum(einsum('ij,jk->ik', x, y) ** 2)", "linear": "sum(linear(x, y, v) ** 2)",
    "normalize": "sum(normalize(x, p=2.0) * y)", "layer_norm": "sum(layer_norm(x, (2,), v, u) * y)",
    "dropout": "sum(dropout(x, 0.5) * y)",
    "gather": "sum(x.gather(1, tensor([[1], [0]])) * v)",
    "one_hot": "sum(x * one_hot(tensor([1, 0]), 2).float())",
    "index_select": "sum(x.index_select(0, tensor([1, 1, 0])) ** 2)",
    "masked_fill": "sum(x.masked_fill(x > 0.4, 0.0) * y)", "pad": "sum(pad(x, (1, 1)) ** 2)",
    "solve": "sum(solve(x, v))", "linalg_norm": "torch.linalg.norm(x, ord=2)",
    "vector_norm": "torch.linalg.vector_norm(x, ord=3)", "slogdet": "slogdet(x)",
    "conv1d": "sum(conv1d(a, a) ** 2)", "conv2d": "sum(conv2d(a.unsqueeze(0), a.unsqueeze(0)))",
    "max_pool2d": "sum(max_pool2d(a.unsqueeze(0), 2) * s)",
    "avg_pool2d": "sum(avg_pool2d(a.unsqueeze(0), 2) * s)",
    "batch_norm": "sum(batch_norm(a, v, u, v, u, training=True) * a)",
})
OPERATORS = {"+": "sum(x + y)", "-": "sum(x - y)", "*": "sum(x * y)", "/": "sum(x / y)",
             "**": "sum(x ** y)", "@": "sum(x @ y)", "unary -": "sum(-x)"}
#: forms that make other backward nodes: numbers on either side, reductions along a dim,
#: batched and vector products
VARIANTS = ["sum(2 - x)", "sum(x - 2)", "sum(2 / x)", "sum(x / 2)", "sum(2 ** x)",
            "sum(x ** 0.5)", "sum(s ** x)", "sum(sum(x, dim=0))", "sum(mean(x, dim=1))",
            "sum(prod(x, dim=1))", "sum(max(x, dim=1))", "sum(min(x, 0))",
            "sum(norm(x, p=1, dim=0))", "sum(logsumexp(x, dim=1))", "sum(v @ x)",
            "sum(a @ a)", "sum(x @ a)", "sum(matmul(a, v))", "sum(clamp(x, min=0.3))",
            "sum(clamp(x, max=0.3))", "norm(s)", "sum(mean(x, keepdim=True))", "-s",
            "sum(clamp(x, min=y))",
            "sum(selu(x - 0.4))", "sum(F.gelu(x, approximate='tanh'))", "sum(x.max(1)[0])",
            "sum(x.min(dim=0).values)", "sum(torch.max(x, 1, True)[0])", "sum(x.mT * y)",
            "cross_entropy(x, y)", "sum(x.sum(axis=0))", "sum(x.var(1, False))",
            "sum(diag(x))", "sum(fmod(2.0, x + 3))", "sum(remainder(tensor(2.0), x + 3))",
            "logdet(x @ x.T + eye(2)) + slogdet_free(x)" if False else "sum(x.sort(1)[0])",
            "sum(x + 2)", "sum(2 * x)", "sum(x.T)", "sum(transpose(a, 0, 2))",
            "sum(clamp(x, s, v))", "sum(torch.max(x, s))"]  # tensor bounds / other operand


def program_for(name: str) -> str:
    if name in CALLS:
        return CALLS[name]
    return f"sum({name}(x))"  # the one-argument elementwise functions


def ops_made(text: str) -> set[str]:
    program = parse(text)
    evaluation = evaluate(program, {k: VALUES[k] for k in program.free_names})
    return {step.op for step in record_steps(evaluation).steps}


@pytest.mark.parametrize("text", [program_for(n) for n in FUNCTIONS] + list(OPERATORS.values())
                         + VARIANTS)
def test_every_backward_node_of_the_language_has_its_own_rule(text):
    made = ops_made(text)
    assert len(made) >= 2  # the program really built a graph
    missing = sorted(op for op in made if not has_rule(op))
    assert not missing, f"{text} makes {missing}, which fall back to the generic rule"


def test_every_function_name_is_exercised():
    # the coverage list above must grow with the language
    assert set(FUNCTIONS) <= set(CALLS) | {n for n in FUNCTIONS if FUNCTIONS[n].min_args == 1
                                           and FUNCTIONS[n].max_args == 1
                                           and not FUNCTIONS[n].constructor}


def test_unknown_node_gets_the_generic_rule():
    class StrangeBackward0:
        next_functions = ()

    rule = rule_for(StrangeBackward0(), [torch.tensor(2.0)], [torch.tensor(5.0)], ["q"])
    assert rule.generic and "StrangeBackward0" in rule.formula
    assert rule.numbers == ("∂f/∂q += 5",)
    assert not has_rule("StrangeBackward0")


# --------------------------------------------------------------------------- numbers

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def chain_steps():
    return record_steps(evaluate(parse(CHAIN), {"w": 1.0, "z": 1.0})).steps


def test_exp_rule_in_the_programs_names():
    step = next(s for s in chain_steps() if s.op == "ExpBackward0")
    assert step.rule.formula == "∂exp(g1)/∂g1 = exp(g1)"
    assert step.rule.numbers == ("exp(g1) = 34.4773",
                                 "∂f/∂g1 += ∂f/∂exp(g1) · ∂exp(g1)/∂g1 = 1 × 34.4773 = 34.4773")


def test_the_seeds_chain_rule_reads_as_the_issue_writes_it():
    steps = chain_steps()
    three_w = next(s for s in steps if s.expression == "3*w")
    assert "∂f/∂w += ∂f/∂(3w) · ∂(3w)/∂w = 34.4773 × 3 = 103.432" in three_w.rule.numbers
    assert three_w.rule.pattern.startswith("mul swaps")
    two_z = next(s for s in steps if s.expression == "2*z")
    assert "∂f/∂z += ∂f/∂(2z) · ∂(2z)/∂z = −1.24844 × 2 = −2.49688" in two_z.rule.numbers
    cos = next(s for s in steps if s.op == "CosBackward0")
    assert "−sin(z) = −sin(1) = −0.841471" in cos.rule.numbers
    power = next(s for s in steps if s.op == "PowBackward0")
    assert "2·w¹ = 2 × 1¹ = 2" in power.rule.numbers
    add = next(s for s in steps if s.name == "g1")
    assert add.rule.pattern.startswith("add distributes")


def test_sigmoid_local_factor_is_evaluated():
    evaluation = evaluate(parse("f = sigmoid(z)"), {"z": 0.5}, "float64")
    step = record_steps(evaluation).steps[0]
    s = torch.sigmoid(torch.tensor(0.5, dtype=torch.float64)).item()
    assert step.rule.numbers[0] == (f"σ(z)(1 − σ(z)) = {fmt(s)} × {fmt(1 - s)} = "
                                    f"{fmt(s * (1 - s))}")


def test_x_times_x_names_no_letter_of_its_own():
    # the program's y is y = x * x itself: the rule must not speak of another y; the two
    # factors are the same x, named by their place so that the two terms read differently
    evaluation = evaluate(parse("y = x * x"), {"x": 3.0})
    step = record_steps(evaluation).steps[0]
    assert step.rule.formula == "∂y/∂x₁ = x₂; ∂y/∂x₂ = x₁"
    assert "x₁ the first factor and x₂ the second factor" in step.rule.pattern
    assert step.rule.numbers == ("x₂ = 3", "∂y/∂x += ∂y/∂y · ∂y/∂x₁ = 1 × 3 = 3",
                                 "x₁ = 3", "∂y/∂x += ∂y/∂y · ∂y/∂x₂ = 1 × 3 = 3")


def test_vector_times_matrix_names_the_transposes_with_the_programs_names():
    program = parse("f = sum(u @ A)")
    u, a = [1.0, 2.0], [[1.0, 0.0, 2.0], [0.5, 1.0, -1.0]]
    evaluation = evaluate(program, {"u": u, "A": a})
    text = "\n".join(s.rule.text for s in record_steps(evaluation).steps)
    # torch runs u @ A as mm(unsqueeze(u), A): A's gradient is (the row u)ᵀ · G
    assert "unsqueeze(u)ᵀ · ∂f/∂mm(unsqueeze(u), A)" in text
    assert "Aᵀ G" not in text and "ViewBackward0" not in text and "UnsqueezeBackward0" not in text
    assert "shapes: (3×1)·(1×3)" not in text  # sanity of the expected shapes below
    assert "shapes: (2×1)·(1×3) = (2×3), the shape of A" in text


def test_matrix_product_shows_small_matrices_in_full_with_shapes():
    program = parse("f = sum(A @ B)")
    evaluation = evaluate(program, {"A": [[1.0, 2.0], [3.0, 4.0]], "B": [[0.5, 0.0], [1.0, 2.0]]})
    step = next(s for s in record_steps(evaluation).steps if s.op == "MmBackward0")
    assert step.rule.formula == ("∂f/∂A = ∂f/∂(A @ B) · Bᵀ; ∂f/∂B = Aᵀ · ∂f/∂(A @ B)")
    # G is all ones; ∂f/∂A = G Bᵀ = [[0.5, 3], [0.5, 3]], ∂f/∂B = Aᵀ G = [[4, 4], [6, 6]]
    assert ("∂f/∂A += ∂f/∂(A @ B) · Bᵀ = [[1, 1], [1, 1]] · [[0.5, 1], [0, 2]] = "
            "[[0.5, 3], [0.5, 3]]") in step.rule.numbers
    assert ("∂f/∂B += Aᵀ · ∂f/∂(A @ B) = [[1, 3], [2, 4]] · [[1, 1], [1, 1]] = "
            "[[4, 4], [6, 6]]") in step.rule.numbers


def test_large_tensors_are_summarised():
    big = torch.arange(40, dtype=torch.float32).reshape(4, 10)
    assert fmt(big) == "4×10 tensor (min 0, max 39)"
    assert fmt(torch.tensor([[1.0, 0.5]])) == "[[1, 0.5]]"
    assert fmt(torch.tensor(-2.5)) == "−2.5"


X = sympy.Symbol("x", real=True)
#: the language's elementwise functions as SymPy expressions, to differentiate independently
SYMPY = {
    "sin": sympy.sin(X), "cos": sympy.cos(X), "tan": sympy.tan(X), "asin": sympy.asin(X),
    "acos": sympy.acos(X), "atan": sympy.atan(X), "sinh": sympy.sinh(X),
    "cosh": sympy.cosh(X), "tanh": sympy.tanh(X), "exp": sympy.exp(X),
    "expm1": sympy.exp(X) - 1, "log": sympy.log(X), "log2": sympy.log(X, 2),
    "log10": sympy.log(X, 10), "log1p": sympy.log(1 + X), "sqrt": sympy.sqrt(X),
    "rsqrt": 1 / sympy.sqrt(X), "square": X ** 2, "reciprocal": 1 / X, "abs": sympy.Abs(X),
    "neg": -X, "sigmoid": 1 / (1 + sympy.exp(-X)), "relu": sympy.Max(X, 0),
    "softplus": sympy.log(1 + sympy.exp(X)), "erf": sympy.erf(X),
}
NUMBER = r"-?[\d.]+(?:e[-+]?\d+)?"


@pytest.mark.parametrize("name", sorted(SYMPY))
def test_elementwise_rule_numbers_match_sympy(name):
    at = 0.3
    evaluation = evaluate(parse(f"f = 2 * {name}(x)"), {"x": at}, "float64")
    step = next(s for s in record_steps(evaluation).steps if s.expression == f"{name}({'x'})")
    assert not step.rule.generic and step.rule.formula
    line = next(line for line in step.rule.numbers if line.startswith("∂f/∂x"))
    match = re.fullmatch(rf"∂f/∂x \+= ∂f/∂{re.escape(step.rule.formula.split('/')[0][1:])} · "
                         rf"\S+ = ({NUMBER}) × \(?({NUMBER})\)? = ({NUMBER})",
                         line.replace("−", "-"))
    assert match, line
    g, local, out = (float(v) for v in match.groups())
    expected = float(sympy.diff(SYMPY[name], X).subs(X, at))
    assert g == 2.0
    assert local == pytest.approx(expected, rel=1e-5)
    assert out == pytest.approx(2 * expected, rel=1e-5)


def test_rule_table_names_are_torch_node_names():
    # torch names a few nodes with a suffix (torch.diag of a matrix: DiagonalBackward0_copy)
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*Backward\d(_copy)?|AccumulateGrad", op)
               for op in RULES)
