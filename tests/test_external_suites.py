"""Other projects' gradient test suites, translated into the language and run as a user would.

Each case is a program in the language with values, taken from a well-known autograd test
suite (the provenance comment above each group names the project, the file and the test).
Every case runs through the headless commands in this process, as ``main.py`` runs them:

- ``compute --json --dtype float64``: the output (or, for a tensor-valued case, the tensor
  ``out`` it weighs) and the gradient of every input, compared with torch called directly
  on the same computation in float64 by the lambda beside the text (independent code: the
  app's evaluator is not used for the reference);
- ``steps --json``: at every leaf the contributions sum to torch's gradient; every chain-rule
  line's result (``∂f/∂x += ... = 40``) is the number torch's engine sent along that edge, and
  the local factor times the incoming gradient gives it (the rule's arithmetic is right);
- ``check --json``: the verdict is "agree" (a case sitting on a kink on purpose may be
  "non-smooth" there, never "disagree");
- ``paths --json``: the products of the paths add up to each gradient.

Tensor-valued cases (tinygrad's ``helper_test_op`` sums the output before differentiating)
are written ``out = EXPR; f = sum(out * wout)`` with ``wout`` a constant of seeded random
weights, so every entry of ``out`` gets a gradient of its own. Random inputs are drawn from a
generator seeded by the case's name over the suite's own ranges (``low``/``high``); shapes
are the suite's, scaled down where they were large (45×65 becomes 3×4) to keep the finite
differences and SymPy quick.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import re
import zlib
from dataclasses import dataclass, field

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the name every notebook uses

from core.cli import main as cli_main

DTYPE = torch.float64


@dataclass(frozen=True)
class Case:
    """One translated case: ``program`` (the language's text), ``inputs`` (name -> value,
    needing a gradient), ``consts`` (name -> value, constants), ``reference`` (torch on
    float64 leaves, by name, returning the program's output or, when ``weighted``, the
    tensor ``out``), ``kink``: the case sits on a point without a derivative on purpose."""

    id: str
    program: str
    inputs: dict
    reference: object
    consts: dict = field(default_factory=dict)
    weighted: bool = False
    kink: bool = False
    #: torch's gradient is NaN on purpose: the check must say so ("not checked", with the
    #: operation where NaN first appears) instead of agreeing or disagreeing
    nan: bool = False


CASES: list[Case] = []


def _seeded(name: str, shape, low: float, high: float) -> list | float:
    gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    values = torch.rand(shape, generator=gen, dtype=DTYPE) * (high - low) + low
    values = torch.round(values * 1000) / 1000  # short texts, exact in float64
    return values.tolist()


def _case_id(suite: str, test: str, text: str) -> str:
    """``suite:test:text`` (the text's first line, shortened), unique."""
    base = f"{suite}:{test}:{text.splitlines()[0][:50]}"
    n = sum(c.id == base or c.id.startswith(base + "#") for c in CASES)
    return base if n == 0 else f"{base}#{n + 1}"


def program(suite: str, test: str, text: str, reference, inputs: dict, consts=None,
            kink=False) -> None:
    """A whole program whose last statement is a single number (micrograd, CS231n)."""
    CASES.append(Case(_case_id(suite, test, text), text, inputs, reference, consts or {},
                      kink=kink))


def op(suite: str, test: str, text: str, reference, *shapes, vals=None, low=-2.0,
       high=2.0, names="xyz", kink=False, consts=None, nan=False) -> None:
    """A tensor-valued expression of inputs named x, y, z (tinygrad's ``helper_test_op``):
    ``shapes`` give random inputs over [low, high], ``vals`` explicit ones."""
    case_id = _case_id(suite, test, text)
    if vals is None:
        vals = [_seeded(f"{case_id}:{i}", shape, low, high) for i, shape in enumerate(shapes)]
    inputs = dict(zip(names, vals))
    leaves = {k: torch.tensor(v, dtype=DTYPE) for k, v in inputs.items()}
    consts = dict(consts or {})
    out = reference(*leaves.values(), *(torch.tensor(v, dtype=DTYPE) for v in consts.values()))
    consts["wout"] = _seeded(f"{case_id}:w", tuple(out.shape), 0.5, 1.5)
    text = f"out = {text}\nf = sum(out * wout)"
    CASES.append(Case(case_id, text, inputs, reference, consts, weighted=True, kink=kink,
                      nan=nan))


# --------------------------------------------------------------------------- micrograd
# karpathy/micrograd, test/test_engine.py::test_sanity_check
program("micrograd", "test_sanity_check",
        "z = 2 * x + 2 + x\nq = z.relu() + z * x\nh = (z * z).relu()\ny = h + q + q * x",
        lambda x: (lambda z: (lambda q, h: h + q + q * x)(z.relu() + z * x, (z * z).relu()))(
            2 * x + 2 + x),
        {"x": -4.0})
# karpathy/micrograd, test/test_engine.py::test_more_ops (c += ... written c = c + ...)


def _more_ops(a, b):
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    return g + 10.0 / f


program("micrograd", "test_more_ops",
        "c = a + b\nd = a * b + b**3\nc = c + c + 1\nc = c + 1 + c + (-a)\n"
        "d = d + d * 2 + (b + a).relu()\nd = d + 3 * d + (b - a).relu()\ne = c - d\n"
        "f = e**2\ng = f / 2.0\ng = g + 10.0 / f", _more_ops, {"a": -4.0, "b": 2.0})
# karpathy/micrograd, test/test_engine.py::test_unary_tensor_fns (tanh and exp at each x)
for _x in (-1.0, 0.123, 2.0):
    program("micrograd", "test_unary_tensor_fns", "y = x.tanh()", torch.tanh, {"x": _x})
    program("micrograd", "test_unary_tensor_fns", "y = x.exp()", torch.exp, {"x": _x})
# karpathy/micrograd, the README's example (the same ops as test_more_ops, as printed there)
program("micrograd", "README", "c = a + b\nd = a * b + b**3\nc = c + c + 1\n"
        "c = c + 1 + c + (-a)\nd = d + d * 2 + (b + a).relu()\nd = d + 3 * d + (b - a).relu()\n"
        "e = c - d\nf = e**2\ng = f / 2.0\ng = g + 10.0 / f", _more_ops, {"a": -4.0, "b": 2.0})

# --------------------------------------------------------------------------- CS231n
# cs231n.github.io, "Backpropagation, Intuitions": the simple expression f = (x + y) z
program("cs231n", "backprop-simple", "q = x + y\nf = q * z", lambda x, y, z: (x + y) * z,
        {"x": -2.0, "y": 5.0, "z": -4.0})
# the same notes: the 2-D neuron with a sigmoid, f = σ(w0 x0 + w1 x1 + w2)
program("cs231n", "backprop-sigmoid-neuron",
        "dot = w0*x0 + w1*x1 + w2\nf = 1.0 / (1 + exp(-dot))",
        lambda w0, x0, w1, x1, w2: 1.0 / (1 + torch.exp(-(w0 * x0 + w1 * x1 + w2))),
        {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0})
# the same neuron with the sigmoid gate as one function
program("cs231n", "backprop-sigmoid-gate", "f = sigmoid(w0*x0 + w1*x1 + w2)",
        lambda w0, x0, w1, x1, w2: torch.sigmoid(w0 * x0 + w1 * x1 + w2),
        {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0})
# the same notes, "Backprop in practice: Staged computation":
# f = (x + σ(y)) / (σ(x) + (x + y)²), staged as the notes write it


def _staged(x, y):
    sigy = 1.0 / (1 + torch.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + torch.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    return num * invden


program("cs231n", "backprop-staged",
        "sigy = 1.0 / (1 + exp(-y))\nnum = x + sigy\nsigx = 1.0 / (1 + exp(-x))\nxpy = x + y\n"
        "xpysqr = xpy**2\nden = sigx + xpysqr\ninvden = 1.0 / den\nf = num * invden",
        _staged, {"x": 3.0, "y": -4.0})
# the same notes, "Gradients for vectorized operations": D = W.dot(X), with an upstream
# gradient (here the weights of wout)
op("cs231n", "backprop-matrix-matrix", "W.mm(X)", lambda W, X: W.mm(X), (5, 4), (4, 3),
   names=("W", "X"))
# CS231n assignment 1, two_layer_net: the forward pass relu(X W1 + b1) W2 + b2, softmax loss


def _two_layer(W1, b1, W2, b2, X, y):
    h = torch.relu(X @ W1 + b1)
    return F.cross_entropy(h @ W2 + b2, y.long())


program("cs231n", "two_layer_net",
        "h = relu(X @ W1 + b1)\nscores = h @ W2 + b2\nloss = F.cross_entropy(scores, y.long())",
        _two_layer,
        {"W1": _seeded("cs231n-W1", (4, 5), -0.5, 0.5), "b1": _seeded("cs231n-b1", (5,), -.1, .1),
         "W2": _seeded("cs231n-W2", (5, 3), -0.5, 0.5), "b2": _seeded("cs231n-b2", (3,), -.1, .1)},
        consts={"X": _seeded("cs231n-X", (5, 4), -2, 2), "y": [0, 1, 2, 2, 1]})
# CS231n assignment 1, softmax.py (softmax_loss_vectorized), with L2 regularisation


def _softmax_loss(W, X, y):
    scores = X @ W
    return F.cross_entropy(scores, y.long()) + 0.5 * (W * W).sum()


program("cs231n", "softmax_loss_vectorized",
        "scores = X @ W\nloss = F.cross_entropy(scores, y.long()) + 0.5 * sum(W * W)",
        _softmax_loss, {"W": _seeded("cs231n-softmax-W", (4, 3), -0.1, 0.1)},
        consts={"X": _seeded("cs231n-softmax-X", (6, 4), -1, 1), "y": [0, 2, 1, 1, 0, 2]})
# CS231n assignment 1, svm.py (svm_loss_vectorized): multiclass hinge loss


def _svm_loss(W, X, y):
    scores = X @ W
    correct = scores.gather(1, y.long().unsqueeze(1))
    margins = torch.clamp(scores - correct + 1, min=0)
    return margins.sum() / 6 - 6 / 6


program("cs231n", "svm_loss_vectorized",
        "scores = X @ W\ncorrect = scores.gather(1, y.long().unsqueeze(1))\n"
        "margins = clamp(scores - correct + 1, min=0)\nloss = sum(margins) / 6 - 6 / 6",
        _svm_loss, {"W": _seeded("cs231n-svm-W", (4, 3), -0.1, 0.1)},
        consts={"X": _seeded("cs231n-svm-X", (6, 4), -1, 1), "y": [0, 2, 1, 1, 0, 2]})

# karpathy/nn-zero-to-hero, lectures/makemore/makemore_part1_bigrams.ipynb: the bigram
# network, one-hot inputs times W, softmax by hand, the mean negative log-likelihood


def _bigram(W, xs, ys):
    xenc = F.one_hot(xs.long(), num_classes=5).to(DTYPE)
    counts = (xenc @ W).exp()
    probs = counts / counts.sum(1, keepdims=True)
    return -probs[torch.arange(4), ys.long()].log().mean() + 0.01 * (W**2).mean()


program("makemore", "part1_bigrams",
        "xenc = F.one_hot(xs.long(), num_classes=5).double()\nlogits = xenc @ W\n"
        "counts = logits.exp()\nprobs = counts / counts.sum(1, keepdim=True)\n"
        "loss = -probs[torch.arange(4), ys.long()].log().mean() + 0.01 * (W**2).mean()",
        _bigram, {"W": _seeded("makemore-W", (5, 5), -1, 1)},
        consts={"xs": [0, 3, 1, 4], "ys": [3, 1, 4, 0]})

# --------------------------------------------------------------------------- PyTorch
# pytorch/pytorch, test/test_autograd.py::test_grad and ::test_hessian_vector
# (z = x**2 + y*x + y**2, backward(ones): dz/dx = 2x + y, dz/dy = x + 2y)
op("pytorch", "test_grad", "x ** 2 + y * x + y ** 2", lambda x, y: x**2 + y * x + y**2,
   (2, 2), (2, 2))
# test_autograd.py::test_grad_nonleaf (fn(x) = x**2 + y*x + y**2 with one step x + 0.05 g)
program("pytorch", "test_grad_nonleaf", "z = sum(x ** 2 + y * x + y ** 2)",
        lambda x, y: (x**2 + y * x + y**2).sum(),
        {"x": _seeded("pt-nonleaf-x", (2, 2), -2, 2), "y": _seeded("pt-nonleaf-y", (2, 2), -2, 2)})
# test_autograd.py::test_legacy_function_none_grad: v[0, 0].expand(3, 5).t().sum()
program("pytorch", "test_legacy_function_none_grad", "y = v[0, 0].expand(3, 5).t().sum()",
        lambda v: v[0, 0].expand(3, 5).t().sum(), {"v": [[1.0] * 3] * 2})
# test_autograd.py::test_grad_nonleaf_many_outputs: a, b = x.chunk(2); a + 2*b (as slices)
op("pytorch", "test_grad_nonleaf_many_outputs", "x[:2] + 2 * x[2:]",
   lambda x: x[:2] + 2 * x[2:], (4, 2))
# test_autograd.py::test_norm_subgradient: the norm's gradient at 0 is 0
for _p in (2, 3, 1, 1.5):
    program("pytorch", "test_norm_subgradient", f"n = x.norm({_p})",
            lambda x, _p=_p: x.norm(_p), {"x": [0.0] * 10}, kink=True)
program("pytorch", "test_norm_subgradient", "n = x.norm(2)", lambda x: x.norm(2),
        {"x": [[0.0] * 3] * 3}, kink=True)
# test_autograd.py::test_pow_zero_tensor_gradient: 0 ** 0 has gradient 0
program("pytorch", "test_pow_zero_tensor_gradient", "s = x.pow(e).sum()",
        lambda x, e: x.pow(e).sum(), {"x": [0.0] * 10}, consts={"e": [0.0] * 10}, kink=True)
program("pytorch", "test_pow_zero_tensor_gradient", "s = x.pow(0).sum()",
        lambda x: x.pow(0).sum(), {"x": [[0.0] * 3] * 3}, kink=True)
# test_autograd.py::test_pow_scalar_base: torch.pow(2, a), a = arange(1, 13).view(3, 4)
op("pytorch", "test_pow_scalar_base", "torch.pow(2, x)", lambda x: torch.pow(2, x),
   vals=[torch.arange(1, 13, dtype=DTYPE).view(3, 4).tolist()])
# test_autograd.py::test_sum_to_with_empty_dim_grad: (4, 0) + (4, 1), summed
program("pytorch", "test_sum_to_with_empty_dim_grad", "c = a + b\ns = c.sum()",
        lambda a, b: (a + b).sum(), {"a": torch.zeros(4, 0), "b": [[0.5]] * 4})
# tools/autograd/derivatives.yaml: one case per formula the language reaches (name: formula)
_YAML = [  # (text, reference, low, high)
    ("x.abs()", torch.abs, -2, 2),            # abs: grad * self.sgn()
    ("x.acos()", torch.acos, -0.9, 0.9),      # acos: grad * -((-self * self + 1).rsqrt())
    ("x.asin()", torch.asin, -0.9, 0.9),      # asin: grad * (-self * self + 1).rsqrt()
    ("x.atan()", torch.atan, -2, 2),          # atan: grad / (self * self + 1)
    ("x.cos()", torch.cos, -2, 2),            # cos: grad * -self.sin()
    ("x.cosh()", torch.cosh, -2, 2),          # cosh: grad * self.sinh()
    ("x.sinh()", torch.sinh, -2, 2),          # sinh: grad * self.cosh()
    ("x.tan()", torch.tan, -1.2, 1.2),        # tan: grad * (1 + result.pow(2))
    ("x.tanh()", torch.tanh, -2, 2),          # tanh: tanh_backward(grad, result)
    ("x.exp()", torch.exp, -2, 2),            # exp: grad * result
    ("x.expm1()", torch.expm1, -2, 2),        # expm1: grad * (result + 1)
    ("x.log()", torch.log, 0.1, 3),           # log: grad.div(self)
    ("x.log10()", torch.log10, 0.1, 3),       # log10: grad / (self * 2.3025850929940456)
    ("x.log1p()", torch.log1p, -0.5, 3),      # log1p: log1p_backward(grad, self)
    ("x.log2()", torch.log2, 0.1, 3),         # log2: grad / (self * 0.6931471805599453)
    ("x.reciprocal()", torch.reciprocal, 0.5, 3),  # reciprocal: -grad * (result * result)
    ("x.rsqrt()", torch.rsqrt, 0.1, 3),       # rsqrt: -0.5 * grad * result.pow(3)
    ("x.sigmoid()", torch.sigmoid, -3, 3),    # sigmoid: sigmoid_backward(grad, result)
    ("x.sqrt()", torch.sqrt, 0.1, 3),         # sqrt: grad / (2 * result)
    ("x.sin()", torch.sin, -2, 2),            # sin: grad * self.cos()
    ("x.erf()", torch.erf, -2, 2),            # erf: 2.0 / sqrt(M_PI) * exp(-(self.pow(2))) * grad
    ("x.erfc()", torch.erfc, -2, 2),          # erfc: -2.0 / sqrt(M_PI) * exp(-(self.pow(2))) * grad
    ("x.erfinv()", torch.erfinv, -0.9, 0.9),  # erfinv: 0.5 sqrt(pi) exp(erfinv(self)^2) grad
    ("x.lgamma()", torch.lgamma, 0.5, 3),     # lgamma: grad * digamma(self)
    ("x.digamma()", torch.digamma, 0.5, 3),   # digamma: grad * polygamma(1, self)
    ("x.asinh()", torch.asinh, -2, 2),        # asinh: grad * (self.pow(2) + 1).rsqrt()
    ("x.acosh()", torch.acosh, 1.1, 3),       # acosh: grad * (self.pow(2) - 1).rsqrt()
    ("x.atanh()", torch.atanh, -0.9, 0.9),    # atanh: grad * 1 / (1 - self.pow(2))
    ("x.sinc()", torch.sinc, -2, 2),          # sinc: sinc_backward(grad, self)
    ("x.frac()", torch.frac, -2, 2),          # frac: grad
    ("x.neg()", torch.neg, -2, 2),            # neg: grad.neg()
    ("x.square()", torch.square, -2, 2),      # square: 2 * self * grad (via pow)
    ("x.relu()", torch.relu, -2, 2),          # relu: threshold_backward(grad, result, 0)
    ("x.cumsum(0)", lambda x: x.cumsum(0), -2, 2),   # cumsum: cumsum_backward(grad, dim)
    ("x.cumprod(0)", lambda x: x.cumprod(0), 0.5, 2),  # cumprod: cumprod_backward(...)
    ("x.prod()", lambda x: x.prod(), 0.5, 2),  # prod: prod_backward(grad, self, result)
    ("x.logsumexp(0)", lambda x: x.logsumexp(0), -2, 2),  # logsumexp: logsumexp_backward
    ("x.trace()", lambda x: x.trace(), -2, 2),  # trace: trace_backward(grad, self.sizes())
    ("x.var()", lambda x: x.var(), -2, 2),      # var: var_backward(...)
    ("x.std()", lambda x: x.std(), -2, 2),      # std: std_backward(result, grad, self, ...)
    ("x.det()", lambda x: x.det(), -2, 2),      # linalg_det: linalg_det_backward
    ("x.inverse()", lambda x: x.inverse(), -2, 2),  # linalg_inv_ex: -at::matmul(...)
    ("x.norm()", lambda x: x.norm(), -2, 2),    # norm: norm_backward(grad, self, p, result)
    ("x.triu()", lambda x: x.triu(), -2, 2),    # triu: grad.triu(diagonal)
    ("x.tril()", lambda x: x.tril(), -2, 2),    # tril: grad.tril(diagonal)
]
for _text, _fn, _low, _high in _YAML:
    _shape = (3, 3) if _text in ("x.trace()", "x.det()", "x.inverse()", "x.triu()",
                                 "x.tril()") else (4,)
    op("pytorch", "derivatives.yaml", _text, (lambda f: lambda x: f(x))(_fn), _shape,
       low=_low, high=_high)
_YAML2 = [  # binary formulas
    ("x.atan2(y)", torch.atan2),       # atan2: atan2_backward(grad, self, other, ...)
    ("x.hypot(y)", torch.hypot),       # hypot: grad * self / result, grad * other / result
    ("x.pow(y)", torch.pow),           # pow.Tensor_Tensor: pow_backward_self/exponent
    ("x.maximum(y)", torch.maximum),   # maximum: at::where(self == other, grad / 2, ...)
    ("x.minimum(y)", torch.minimum),   # minimum
    ("x.xlogy(y)", torch.xlogy),       # xlogy.Tensor: grad * at::xlogy((self != 0), other)
    ("x.fmod(y)", torch.fmod),         # fmod.Tensor: grad, -grad * self.div(other, "trunc")
    ("x.remainder(y)", torch.remainder),  # remainder.Tensor: grad, -grad * self.div(other, "floor")
    ("x.div(y)", torch.div),           # div.Tensor: div_tensor_self_backward(...)
    ("x.mul(y)", torch.mul),           # mul.Tensor: mul_tensor_backward(grad, other, ...)
    ("x.sub(y, alpha=2)", lambda x, y: torch.sub(x, y, alpha=2)),  # sub.Tensor: -grad * alpha
    ("x.add(y, alpha=2)", lambda x, y: torch.add(x, y, alpha=2)),  # add.Tensor: grad * alpha
]
for _text, _fn in _YAML2:
    op("pytorch", "derivatives.yaml", _text, (lambda f: lambda x, y: f(x, y))(_fn), (4,), (4,),
       low=0.5, high=2.5)
# binary_cross_entropy: binary_cross_entropy_backward(grad, self, target, weight, reduction)
# and binary_cross_entropy_with_logits(..., weight, pos_weight, reduction)
_BCE_W, _BCE_P = [0.5, 2.0, 1.0, 1.5], [1.0, 2.0, 3.0, 0.5]
op("pytorch", "derivatives.yaml",
   f"F.binary_cross_entropy(torch.sigmoid(x), y, weight=torch.tensor({_BCE_W}))",
   lambda x, y: F.binary_cross_entropy(torch.sigmoid(x), y, weight=torch.tensor(_BCE_W,
                                                                                dtype=DTYPE)),
   (3, 4), (3, 4), low=0.1, high=0.9)
op("pytorch", "derivatives.yaml",
   f"F.binary_cross_entropy_with_logits(x, y, weight=torch.tensor({_BCE_W}), "
   f"pos_weight=torch.tensor({_BCE_P}), reduction='sum')",
   lambda x, y: F.binary_cross_entropy_with_logits(
       x, y, weight=torch.tensor(_BCE_W, dtype=DTYPE), pos_weight=torch.tensor(_BCE_P,
                                                                               dtype=DTYPE),
       reduction="sum"), (3, 4), (3, 4), low=0.1, high=0.9)
# the activations' and normalize's positional arguments, as torch takes them
op("pytorch", "derivatives.yaml", "F.leaky_relu(x, 0.2)", lambda x: F.leaky_relu(x, 0.2),
   (3, 4))
op("pytorch", "derivatives.yaml", "F.elu(x, 0.3)", lambda x: F.elu(x, 0.3), (3, 4))
op("pytorch", "derivatives.yaml", "F.softplus(x, 2, 1)", lambda x: F.softplus(x, 2, 1), (3, 4))
op("pytorch", "derivatives.yaml", "F.normalize(x, 1, 0)", lambda x: F.normalize(x, 1, 0),
   (3, 4))
op("pytorch", "derivatives.yaml", "torch.kron(x, y)", torch.kron, (2, 2), (2, 3))
op("pytorch", "derivatives.yaml", "x.outer(y)", torch.outer, (3,), (4,))
op("pytorch", "derivatives.yaml", "x.dot(y)", torch.dot, (4,), (4,))
op("pytorch", "derivatives.yaml", "x.mv(y)", torch.mv, (3, 4), (4,))
op("pytorch", "derivatives.yaml", "torch.linalg.solve(x, y)", torch.linalg.solve, (3, 3),
   (3, 2))
op("pytorch", "derivatives.yaml", "x.logdet()", torch.logdet,
   vals=[[[2.0, 0.5, 0.1], [0.3, 1.5, 0.2], [0.1, 0.4, 3.0]]])

# --------------------------------------------------------------------------- tinygrad
# tinygrad/tinygrad, test/backend/test_ops.py::TestOps (helper_test_op: the output summed
# before differentiating; here weighted). 45x65 shapes are scaled down to 3x4.
T = "tinygrad"
S = (3, 4)
op(T, "test_where", "torch.where(x > 0.5, x, y)", lambda x, y: torch.where(x > 0.5, x, y), S, S)
op(T, "test_cmp_lt_backwards", "(x < y).float() * x", lambda x, y: (x < y).float() * x, S, S)
op(T, "test_trunc", "x.trunc()", torch.trunc, S, low=-3, high=3)
op(T, "test_floor", "x.floor()", torch.floor, S, low=-3, high=3)
op(T, "test_ceil", "x.ceil()", torch.ceil, S, low=-3, high=3)
op(T, "test_round", "x.round()", torch.round, S, low=-3, high=3)
for _k in (0, 1, 2, -1, -2):
    op(T, "test_tril", f"x.tril({_k})", (lambda k: lambda x: x.tril(k))(_k), (3, 3))
    op(T, "test_triu", f"x.triu({_k})", (lambda k: lambda x: x.triu(k))(_k), (3, 3))
for _k in (4, -4, 6):
    op(T, "test_tril", f"x.tril({_k})", (lambda k: lambda x: x.tril(k))(_k), (4, 5))
    op(T, "test_triu", f"x.triu({_k})", (lambda k: lambda x: x.triu(k))(_k), (4, 5))
op(T, "test_tril", "x.tril(1)", lambda x: x.tril(1), (2, 3, 3))
op(T, "test_maximum", "torch.maximum(x, y)", torch.maximum, S, S)
op(T, "test_maximum", "torch.maximum(x, y)", torch.maximum, (), ())
op(T, "test_maximum", "torch.maximum(x, y)", torch.maximum,
   vals=[[1., 0., 3., -4.], [-1., -2., 3., 0.]], kink=True)
op(T, "test_minimum", "torch.minimum(x, y)", torch.minimum, S, S)
op(T, "test_minimum", "torch.minimum(x, y)", torch.minimum,
   vals=[[1., 0., 3., -4.], [-1., -2., 3., 0.]], kink=True)
op(T, "test_add", "x + y", lambda x, y: x + y, S, S)
op(T, "test_add", "x + y", lambda x, y: x + y, (), ())
op(T, "test_add3", "x + y + z", lambda x, y, z: x + y + z, S, S, S)
op(T, "test_broadcasted_add", "x + y", lambda x, y: x + y, (3, 4), (3, 1))
op(T, "test_broadcasted_add", "x + y", lambda x, y: x + y, (3, 4), ())
op(T, "test_broadcasted_add_2", "x + y", lambda x, y: x + y, (3, 4), (4,))
op(T, "test_sub", "x - y", lambda x, y: x - y, S, S)
op(T, "test_scalar_sub", "x - 2", lambda x: x - 2, S)
op(T, "test_scalar_rsub", "2 - x", lambda x: 2 - x, S)
op(T, "test_neg", "-x", lambda x: -x, S)
op(T, "test_neg", "x.neg()", lambda x: x.neg(), ())
op(T, "test_mul", "x * y", lambda x, y: x * y, S, S)
op(T, "test_mul", "x * y", lambda x, y: x * y, (), ())
for _t, _f in (("x * 2", lambda x: x * 2), ("x * -1", lambda x: x * -1),
               ("255 * x", lambda x: 255 * x), ("2 * x", lambda x: 2 * x)):
    op(T, "test_scalar_mul", _t, _f, S)
op(T, "test_div", "x / y", lambda x, y: x / y, S, S)
op(T, "test_div", "x / y", lambda x, y: x / y, (), ())
for _t, _f in (("x / 255", lambda x: x / 255), ("x / 1", lambda x: x / 1),
               ("1 / x", lambda x: 1 / x), ("x / 2", lambda x: x / 2),
               ("2 / x", lambda x: 2 / x)):
    op(T, "test_scalar_div", _t, _f, S)
op(T, "test_mod", "x % y", lambda x, y: x % y, S, S, low=0.5, high=3)
op(T, "test_fmod", "torch.fmod(x, y)", torch.fmod, S, S, low=-3, high=3)
op(T, "test_pow_full", "x ** y", lambda x, y: x**y, S, S, low=0.5, high=2)
op(T, "test_pow_full", "x.pow(y)", lambda x, y: x.pow(y), S, S, low=0.5, high=2)
for _e in ("0", "1", "2", "3", "-2"):
    op(T, "test_pow", f"x ** {_e}", (lambda e: lambda x: x ** e)(int(_e)), S)
op(T, "test_pow", "x ** 3", lambda x: x**3, S, low=-30, high=-27)
op(T, "test_pow", "x ** 1.2", lambda x: x**1.2, S, low=0.5, high=3)
for _e in ("0.0", "1.0", "-1.0", "8.0", "5.5", "-5.5", "2.0"):
    op(T, "test_pow_const", f"x ** {_e}", (lambda e: lambda x: x ** e)(float(_e)), S,
       low=0.5, high=2)
for _b in ("1.0", "5.5", "8.0", "2.0"):
    op(T, "test_pow_const", f"{_b} ** x", (lambda b: lambda x: b ** x)(float(_b)), S)
op(T, "test_pow_const", "0.7 ** x", lambda x: 0.7**x, vals=[[-2., -1, 0, 1, 2, 3]])
op(T, "test_pow_const", "(-2) ** x", lambda x: (-2) ** x, vals=[[-2., -1, 0, 1, 2, 3]],
   nan=True)
op(T, "test_sqrt", "x.sqrt()", torch.sqrt, S, low=0.1, high=2)
op(T, "test_rsqrt", "x.rsqrt()", torch.rsqrt, S, low=0.1, high=2)
for _name, _low, _high in (("sin", -2, 2), ("cos", -2, 2), ("tan", -1.5, 1.5),
                           ("asin", -1, 1), ("acos", -1, 1), ("atan", -2, 2),
                           ("sinh", -2, 2), ("cosh", -2, 2), ("tanh", -2, 2),
                           ("asinh", -2, 2), ("acosh", 1.05, 3), ("atanh", -0.95, 0.95),
                           ("relu", -2, 2), ("abs", -2, 2), ("log", 0.1, 2),
                           ("log10", 0.1, 2), ("log2", 0.1, 2), ("exp", -2, 2),
                           ("sign", -2, 2), ("sigmoid", -2, 2), ("erf", -2, 2)):
    op(T, f"test_{_name}", f"x.{_name}()", (lambda n: lambda x: getattr(torch, n)(x))(_name),
       S, low=_low, high=_high)
op(T, "test_sin", "x.sin()", torch.sin, ())
op(T, "test_sin", "x.sin()", torch.sin, vals=[[1e1, 1e2, 1e3, -1e1, -1e2, -1e3]])
op(T, "test_cos", "x.cos()", torch.cos, vals=[[1e1, 1e2, 1e3, -1e1, -1e2, -1e3]])
op(T, "test_asin", "x.asin()", torch.asin, S, low=-0.9, high=0.9)
op(T, "test_atan", "x.atan()", torch.atan, S, low=300, high=303)
op(T, "test_tanh_extreme", "x.tanh()", torch.tanh, S, low=-30, high=-27)
op(T, "test_sigmoid_extreme", "torch.sigmoid(x)", torch.sigmoid, S, low=300, high=400)
op(T, "test_sigmoid_extreme", "torch.sigmoid(x)", torch.sigmoid, S, low=-400, high=-300)
op(T, "test_relu_exact", "x.relu()", torch.relu, vals=[[-1.0, 0.0, 1.0]], kink=True)
op(T, "test_abs_exact", "torch.abs(x)", torch.abs, vals=[[-1.0, 0.0, 1.0]], kink=True)
op(T, "test_sign_exact", "torch.sign(x)", torch.sign, vals=[[-1.0, 0.0, 1.0]], kink=True)
op(T, "test_leaky_relu", "torch.nn.functional.leaky_relu(x, 0.01)",
   lambda x: F.leaky_relu(x, 0.01), S)
for _v in (1.0, 0.5, 2.0):
    op(T, "test_celu", f"torch.nn.functional.celu(x, {_v})",
       (lambda v: lambda x: F.celu(x, v))(_v), S)
for _name in ("selu", "silu", "softsign", "logsigmoid", "hardsigmoid", "relu6", "hardswish",
              "mish", "elu", "softplus", "tanhshrink"):
    op(T, f"test_{_name}", f"torch.nn.functional.{_name}(x)",
       (lambda n: lambda x: getattr(F, n)(x))(_name), S, low=-4, high=4)
op(T, "test_softplus", "torch.nn.functional.softplus(x, beta=3)",
   lambda x: F.softplus(x, beta=3), S)
op(T, "test_softplus", "torch.nn.functional.softplus(x, beta=1/3)",
   lambda x: F.softplus(x, beta=1 / 3), S)
op(T, "test_softplus", "torch.nn.functional.softplus(x)", F.softplus, S, low=30, high=40)
op(T, "test_gelu", 'torch.nn.functional.gelu(x, approximate="tanh")',
   lambda x: F.gelu(x, approximate="tanh"), S)
op(T, "test_gelu", 'torch.nn.functional.gelu(x, approximate="none")',
   lambda x: F.gelu(x, approximate="none"), S)
op(T, "test_elu", "torch.nn.functional.elu(x, alpha=0.1)", lambda x: F.elu(x, alpha=0.1), S)
for _v in (1.0, 0.5):
    op(T, "test_hardtanh", f"torch.nn.functional.hardtanh(x, -{_v}, {_v})",
       (lambda v: lambda x: F.hardtanh(x, -v, v))(_v), S)
op(T, "test_small_cumsum", "torch.cumsum(x, dim=0)", lambda x: torch.cumsum(x, dim=0), (10,))
op(T, "test_cumsum", "torch.cumsum(x, dim=0)", lambda x: torch.cumsum(x, dim=0), ())
op(T, "test_cumsum", "torch.cumsum(x, dim=1)", lambda x: torch.cumsum(x, dim=1), (4, 5))
op(T, "test_cumsum", "torch.cumsum(x, dim=-1)", lambda x: torch.cumsum(x, dim=-1), (2, 3, 4))
op(T, "test_small_cumprod", "torch.cumprod(x, dim=0)", lambda x: torch.cumprod(x, dim=0),
   (10,))
op(T, "test_cumprod", "torch.cumprod(x, dim=1)", lambda x: torch.cumprod(x, dim=1), (4, 5))
op(T, "test_cumprod", "torch.cumprod(x, dim=0)", lambda x: torch.cumprod(x, dim=0), ())
op(T, "test_sort", "x.sort(descending=True).values", lambda x: x.sort(descending=True).values,
   (5, 4))
op(T, "test_sort", "x.sort(1).values", lambda x: x.sort(1).values, (3, 4))
op(T, "test_topk", "x.topk(3, dim=1).values", lambda x: x.topk(3, dim=1).values, (4, 5))
op(T, "test_topk", "x.topk(2, dim=0, largest=False).values",
   lambda x: x.topk(2, dim=0, largest=False).values, (4, 5))
for _eq, _shapes in (("ij->ji", [(4, 4)]), ("ij,jk", [(4, 6), (6, 3)]),
                     ("ijk->", [(2, 3, 4)]), ("ij->j", [(5, 5)]), ("ij->i", [(5, 5)]),
                     ("ik,k->i", [(3, 4), (4,)]), ("ik,kj->ij", [(3, 4), (4, 5)]),
                     ("jk,ki->ji", [(3, 4), (4, 5)]), ("i,i->i", [(5,), (5,)]),
                     ("ij,ij->ij", [(5, 6), (5, 6)]), ("i,j->ij", [(5,), (5,)]),
                     ("ijk,ikl->ijl", [(2, 4, 6), (2, 6, 3)]),
                     ("ijk,ikl->jil", [(2, 4, 5), (2, 5, 3)]), ("ii->", [(4, 4)]),
                     ("ik,jkl,il->ij", [(2, 3), (5, 3, 7), (2, 7)])):
    _names = "abc"[:len(_shapes)]
    op(T, "test_einsum", f"torch.einsum('{_eq}', {', '.join(_names)})",
       (lambda e: lambda *a: torch.einsum(e, *a))(_eq), *_shapes, names=_names)
op(T, "test_dot_1d", "x.matmul(y)", torch.matmul, (6,), (6,))
op(T, "test_dot_1d", "x.matmul(y)", torch.matmul, (6,), (6, 4))
op(T, "test_dot_1d", "x.matmul(y)", torch.matmul, (4, 6), (6,))
op(T, "test_dot_1d", "x.matmul(y)", torch.matmul, (2, 4, 6), (6,))
op(T, "test_dot_1d", "x.matmul(y)", torch.matmul, (6,), (2, 6, 4))
op(T, "test_dot", "x.matmul(y)", torch.matmul, (4, 6), (6, 5))
op(T, "test_dot", "x.matmul(y)", torch.matmul, (2, 4, 6), (2, 6, 5))
op(T, "test_matmul_simple", "x.matmul(y)", torch.matmul, (4,), (4, 4))
op(T, "test_matmul_batched", "x.matmul(y)", torch.matmul, (3,), (1, 3, 3, 5))
op(T, "test_small_gemm", "x @ y", lambda x, y: x @ y, (4, 4), (4, 4))
op(T, "test_broadcastdot", "x @ y", lambda x, y: x @ y, (3, 4, 5), (5, 4))
op(T, "test_multidot", "x @ y", lambda x, y: x @ y, (2, 2, 2, 3), (2, 2, 3, 2))
op(T, "test_sum_simple", "x.sum()", lambda x: x.sum(), vals=[[1., 1.]])
op(T, "test_sum_relu", "x.relu().sum().relu()", lambda x: x.relu().sum().relu(), (2, 3, 4))
op(T, "test_sum", "x.sum()", lambda x: x.sum(), (5, 3))
for _axis in (3, (1, 3), (0, 2), (1, 2), 1):
    op(T, "test_sum", f"x.sum(dim={_axis})", (lambda a: lambda x: x.sum(dim=a))(_axis),
       (2, 3, 2, 3))
op(T, "test_sum", "x.sum(dim=1, keepdim=True)", lambda x: x.sum(dim=1, keepdim=True),
   (2, 3, 2, 3))
op(T, "test_sum", "x.sum()", lambda x: x.sum(), ())
op(T, "test_sum", "x.sum(0)", lambda x: x.sum(0), ())
op(T, "test_sum", "x.sum(-1)", lambda x: x.sum(-1), ())
op(T, "test_prod", "x.prod()", lambda x: x.prod(), vals=[[1.0, 2.0, 3.0]])
op(T, "test_prod", "x.prod()", lambda x: x.prod(), vals=[[0.0, 2.0, 3.0]])
op(T, "test_prod", "x.prod()", lambda x: x.prod(), vals=[[0.0, 0.0, 3.0]])
op(T, "test_prod", "x.prod(dim=3)", lambda x: x.prod(dim=3), (2, 3, 2, 3))
op(T, "test_prod", "x.prod(dim=1, keepdim=True)", lambda x: x.prod(dim=1, keepdim=True),
   (2, 3, 2, 3))
op(T, "test_prod", "x.prod()", lambda x: x.prod(), ())
op(T, "test_min", "x.min()", lambda x: x.min(), (3, 3))
op(T, "test_min", "x.min().mul(0.5)", lambda x: x.min().mul(0.5), (5, 3))
op(T, "test_max", "x.max()", lambda x: x.max(), (5, 3))
op(T, "test_max", "x.max().mul(0.5)", lambda x: x.max().mul(0.5),
   vals=[[[1.0, 1.0, 0.0, 1.0]]], kink=True)
op(T, "test_max", "x.max(dim=1)[0]",
   lambda x: x.max(dim=1)[0], (2, 3, 2, 3))
op(T, "test_max", "x.max()", lambda x: x.max(), ())
op(T, "test_mean", "x.mean()", lambda x: x.mean(), (2, 3, 2, 3))
op(T, "test_mean", "x.mean()", lambda x: x.mean(), ())
op(T, "test_mean_axis", "x.mean(dim=(1,2))", lambda x: x.mean(dim=(1, 2)), (2, 3, 2, 3))
for _t, _f in (("x.var()", lambda x: x.var()), ("x.var(correction=0)", lambda x: x.var(
        correction=0)), ("x.var(correction=5)", lambda x: x.var(correction=5)),
        ("x.var(0)", lambda x: x.var(0)), ("x.var(2)", lambda x: x.var(2)),
        ("x.var([1, 2])", lambda x: x.var([1, 2])),
        ("x.var(0, correction=0)", lambda x: x.var(0, correction=0)),
        ("x.var(keepdim=True)", lambda x: x.var(keepdim=True)),
        ("x.var(0, keepdim=True, correction=0)", lambda x: x.var(0, keepdim=True,
                                                                 correction=0))):
    op(T, "test_var", _t, _f, (2, 3, 4))
    op(T, "test_std", _t.replace("var", "std"),
       {"x.var()": lambda x: x.std(), "x.var(correction=0)": lambda x: x.std(correction=0),
        "x.var(correction=5)": lambda x: x.std(correction=5), "x.var(0)": lambda x: x.std(0),
        "x.var(2)": lambda x: x.std(2), "x.var([1, 2])": lambda x: x.std([1, 2]),
        "x.var(0, correction=0)": lambda x: x.std(0, correction=0),
        "x.var(keepdim=True)": lambda x: x.std(keepdim=True),
        "x.var(0, keepdim=True, correction=0)": lambda x: x.std(0, keepdim=True,
                                                                correction=0)}[_t],
       (2, 3, 4))
op(T, "test_softmax", "torch.nn.functional.softmax(x, dim=1)", lambda x: F.softmax(x, dim=1),
   S)
op(T, "test_softmax", "torch.nn.functional.softmax(x, dim=0)", lambda x: F.softmax(x, dim=0),
   (6,))
op(T, "test_softmax", "torch.nn.functional.softmax(x, dim=0)", lambda x: F.softmax(x, dim=0),
   ())
op(T, "test_softmax", "torch.nn.functional.softmax(x, dim=-1)",
   lambda x: F.softmax(x, dim=-1), ())
for _d in (0, 1, 2):
    op(T, "test_softmax_other_axis", f"x.softmax({_d})",
       (lambda d: lambda x: x.softmax(d))(_d), (3, 3, 3))
    op(T, "test_log_softmax_other_axis", f"x.log_softmax({_d})",
       (lambda d: lambda x: x.log_softmax(d))(_d), (3, 3, 3))
op(T, "test_log_softmax", "torch.nn.functional.log_softmax(x, dim=1)",
   lambda x: F.log_softmax(x, dim=1), S)
op(T, "test_log_softmax", "torch.nn.functional.log_softmax(x, dim=0)",
   lambda x: F.log_softmax(x, dim=0), ())
for _t, _f in (("torch.nn.functional.normalize(x)", lambda x: F.normalize(x)),
               ("torch.nn.functional.normalize(x, dim=0)", lambda x: F.normalize(x, dim=0)),
               ("torch.nn.functional.normalize(x, p=1)", lambda x: F.normalize(x, p=1)),
               ("torch.nn.functional.normalize(x, p=3, dim=0)",
                lambda x: F.normalize(x, p=3, dim=0)),
               ("torch.nn.functional.normalize(x, p=-1)", lambda x: F.normalize(x, p=-1))):
    op(T, "test_normalize", _t, _f, S)
for _t, _f, _s in (("torch.logsumexp(x, dim=0)", lambda x: torch.logsumexp(x, dim=0), S),
                   ("torch.logsumexp(x, dim=0, keepdim=True)",
                    lambda x: torch.logsumexp(x, dim=0, keepdim=True), S),
                   ("torch.logsumexp(x, dim=1)", lambda x: torch.logsumexp(x, dim=1), S),
                   ("torch.logsumexp(x, dim=2)", lambda x: torch.logsumexp(x, dim=2),
                    (3, 3, 3)),
                   ("torch.logsumexp(x, dim=0)", lambda x: torch.logsumexp(x, dim=0), ()),
                   ("torch.logsumexp(x, dim=-1)", lambda x: torch.logsumexp(x, dim=-1), ())):
    op(T, "test_logsumexp", _t, _f, _s)
op(T, "test_broadcast_simple", "x / y", lambda x, y: x / y, (3, 4), (3, 1), low=0.5, high=2)
op(T, "test_broadcast_simple", "x / y", lambda x, y: x / y, (3, 4), (), low=0.5, high=2)
for _t, _f in (("x * y", lambda x, y: x * y), ("x - y", lambda x, y: x - y),
               ("x ** y", lambda x, y: x ** y), ("torch.maximum(x, y)", torch.maximum)):
    for _sa, _sb in (((4, 1), (4, 5)), ((1, 5), (4, 5)), ((4, 5), (1, 1)), ((1, 1), (1, 1))):
        op(T, "test_broadcast_full", _t, _f, _sa, _sb, low=0.5, high=2)
for _t, _f, _s in (("x[1:3]", lambda x: x[1:3], (3,)), ("x[0:2]", lambda x: x[0:2], (3,)),
                   ("x[-2:2]", lambda x: x[-2:2], (3,)), ("x[0]", lambda x: x[0], (3,)),
                   ("x[-1]", lambda x: x[-1], (3,)), ("x[1]", lambda x: x[1], (4, 4)),
                   ("x[1,1,1]", lambda x: x[1, 1, 1], (3, 3, 3)),
                   ("x[1:2, 2]", lambda x: x[1:2, 2], (3, 3, 3)),
                   ("x[1:2, 1:2, 0:-1]", lambda x: x[1:2, 1:2, 0:-1], (3, 3, 3)),
                   ("x[None]", lambda x: x[None], (3, 3, 3)),
                   ("x[1:2, None, 1:2]", lambda x: x[1:2, None, 1:2], (3, 3, 3)),
                   ("x[None, None, 1, None, 2, 0:2]", lambda x: x[None, None, 1, None, 2, 0:2],
                    (3, 3, 3)),
                   ("x[::2, ::3, ::4]", lambda x: x[::2, ::3, ::4], (5, 4, 5)),
                   ("x[1:5:2, 3, ::4]", lambda x: x[1:5:2, 3, ::4], (5, 4, 5)),
                   ("x[1:5:2, None, None, 3, None, ::4]",
                    lambda x: x[1:5:2, None, None, 3, None, ::4], (5, 4, 5)),
                   ("x[..., 0]", lambda x: x[..., 0], (3, 3, 3, 3)),
                   ("x[0, ..., 0]", lambda x: x[0, ..., 0], (3, 3, 3, 3)),
                   ("x[None, 0:3, ..., 0, None]", lambda x: x[None, 0:3, ..., 0, None],
                    (3, 3, 3, 3)),
                   ("x[:, 1:2][1:2]", lambda x: x[:, 1:2][1:2], (4, 4)),
                   ("x[1:3][1:2]", lambda x: x[1:3][1:2], (4, 4)),
                   ("x[:, 1:2][:, 0:1]", lambda x: x[:, 1:2][:, 0:1], (4, 4))):
    op(T, "test_slice", _t, _f, _s)
for _t, _f in (("torch.nn.functional.pad(x, (1,2,3,4))", lambda x: F.pad(x, (1, 2, 3, 4))),
               ("torch.nn.functional.pad(x, (-1,2,-3,4))", lambda x: F.pad(x, (-1, 2, -3, 4))),
               ("torch.nn.functional.pad(x, (1,2,3,4), value=5)",
                lambda x: F.pad(x, (1, 2, 3, 4), value=5)),
               ("torch.nn.functional.pad(x, (0,0,3,4), value=1)",
                lambda x: F.pad(x, (0, 0, 3, 4), value=1))):
    op(T, "test_pad", _t, _f, (3, 3))
op(T, "test_pad", "torch.nn.functional.pad(x, (1,2,3,4))", lambda x: F.pad(x, (1, 2, 3, 4)),
   (2, 2, 3, 3))
for _t, _f, _s in (("x.T", lambda x: x.T, (3, 3)),
                   ("x.transpose(1,2)", lambda x: x.transpose(1, 2), (3, 3, 3)),
                   ("x.transpose(0,2)", lambda x: x.transpose(0, 2), (3, 3, 3)),
                   ("x.permute((3,0,2,1))", lambda x: x.permute((3, 0, 2, 1)), (1, 2, 3, 4)),
                   ("x.permute((-2,-1,1,0))", lambda x: x.permute((-2, -1, 1, 0)), (2, 3, 4, 2)),
                   ("x.permute(())", lambda x: x.permute(()), ()),
                   ("x.reshape((6,2,2))", lambda x: x.reshape((6, 2, 2)), (2, 3, 2, 2)),
                   ("x.reshape((-1,3,2,2))", lambda x: x.reshape((-1, 3, 2, 2)), (2, 3, 2, 2)),
                   ("x.reshape(())", lambda x: x.reshape(()), ()),
                   ("x.reshape(())", lambda x: x.reshape(()), (1,)),
                   ("x.reshape((1,1,1))", lambda x: x.reshape((1, 1, 1)), ()),
                   ("x.view((6,2,2))", lambda x: x.view((6, 2, 2)), (2, 3, 2, 2)),
                   ("x.view(2, 3)", lambda x: x.view(2, 3), (6,)),
                   ("x.view([2, 3])", lambda x: x.view([2, 3]), (6, 1)),
                   ("x.view(6)", lambda x: x.view(6), (3, 2)),
                   ("x.flip((0,))", lambda x: x.flip((0,)), (2, 3, 2, 2)),
                   ("x.flip((0,1,3))", lambda x: x.flip((0, 1, 3)), (2, 3, 2, 2)),
                   ("x.flip((0,1,3)).flip(0)", lambda x: x.flip((0, 1, 3)).flip(0),
                    (2, 3, 2, 2)),
                   ("x.flip((-1,))", lambda x: x.flip((-1,)), (2, 3, 2, 2)),
                   ("x.flip(())", lambda x: x.flip(()), ()),
                   ("x.flip(())", lambda x: x.flip(()), (4, 3)),
                   ("x.squeeze(0)", lambda x: x.squeeze(0), (1, 3, 2, 2)),
                   ("x.squeeze(3)", lambda x: x.squeeze(3), (2, 3, 2, 2)),
                   ("x.squeeze(-1)", lambda x: x.squeeze(-1), (4, 3, 2, 1)),
                   ("x.squeeze()", lambda x: x.squeeze(), (2, 3, 1)),
                   ("x.squeeze(-1)", lambda x: x.squeeze(-1), ()),
                   ("x.squeeze()", lambda x: x.squeeze(), ()),
                   ("x.unsqueeze(0)", lambda x: x.unsqueeze(0), (2, 3, 2, 2)),
                   ("x.unsqueeze(-3)", lambda x: x.unsqueeze(-3), (2, 3, 2, 2)),
                   ("x.unsqueeze(0)", lambda x: x.unsqueeze(0), ()),
                   ("x.flatten(start_dim=1)", lambda x: x.flatten(start_dim=1), (2, 3, 2, 2)),
                   ("x.flatten(end_dim=2)", lambda x: x.flatten(end_dim=2), (2, 3, 2, 2)),
                   ("x.flatten(start_dim=1, end_dim=3)",
                    lambda x: x.flatten(start_dim=1, end_dim=3), (2, 3, 2, 2)),
                   ("x.flatten()", lambda x: x.flatten(), ()),
                   ("x.diag()", lambda x: x.diag(), (5,)),
                   ("x.diagonal()", lambda x: x.diagonal(), (5, 5)),
                   ("x.diagonal()", lambda x: x.diagonal(), (3, 4)),
                   ("x.diagonal(dim1=-2, dim2=-1)", lambda x: x.diagonal(dim1=-2, dim2=-1),
                    (3, 3, 3)),
                   ("x.diagonal(offset=1)", lambda x: x.diagonal(offset=1), (5, 5)),
                   ("x.diagonal(offset=-1)", lambda x: x.diagonal(offset=-1), (5, 5)),
                   ("x.expand((2,3,2,2))", lambda x: x.expand((2, 3, 2, 2)), (2, 3, 1, 2)),
                   ("x.expand((2,3,2,2))", lambda x: x.expand((2, 3, 2, 2)), (1, 1, 1, 1)),
                   ("x.expand((2,1,2,3,2,2))", lambda x: x.expand((2, 1, 2, 3, 2, 2)),
                    (2, 3, 1, 2)),
                   ("x.expand((2,3,2,2))", lambda x: x.expand((2, 3, 2, 2)), ()),
                   ("x.repeat(2, 1, 3)", lambda x: x.repeat(2, 1, 3), (2, 3, 2)),
                   ("x.repeat(2, 2)", lambda x: x.repeat(2, 2), ()),
                   ("x.clip(-2.3, 1.2)", lambda x: x.clip(-2.3, 1.2), S),
                   ("x.clip(0, 0.1)", lambda x: x.clip(0, 0.1), S),
                   ("x.clip(-0.3, -0.2)", lambda x: x.clip(-0.3, -0.2), S),
                   ("x.clip(3, 0)", lambda x: x.clip(3, 0), S),
                   ("x.clip(None, 0)", lambda x: x.clip(None, 0), S),
                   ("x.clip(0, None)", lambda x: x.clip(0, None), S)):
    op(T, "test_movement", _t, _f, _s)
op(T, "test_clip", "x.clip(-2.5, 1.5)", lambda x: x.clip(-2.5, 1.5),
   vals=[[-3.0, -2.5, 0, 1.5, 2]], kink=True)
for _d in (0, 1, 2, -1):
    op(T, "test_cat", f"torch.cat((x, y, z), {_d})",
       (lambda d: lambda x, y, z: torch.cat((x, y, z), d))(_d), (2, 3, 2), (2, 3, 2), (2, 3, 2))
    op(T, "test_stack", f"torch.stack((x, y, z), {_d})",
       (lambda d: lambda x, y, z: torch.stack((x, y, z), d))(_d), (2, 3, 2), (2, 3, 2),
       (2, 3, 2))
op(T, "test_cat", "torch.cat((x, y, z), 1)", lambda x, y, z: torch.cat((x, y, z), 1),
   (2, 1, 3), (2, 1, 3), (2, 2, 3))
op(T, "test_matvecmat", "(x @ y).relu() @ z", lambda x, y, z: (x @ y).relu() @ z,
   (1, 8), (8, 8), (8, 8))
op(T, "test_matvec", "(x @ y).relu()", lambda x, y: (x @ y).relu(), (1, 8), (8, 8))
_IDX = [[[0, 1, 2]], [[2, 0, 1]]]
for _d in (0, 1, 2, -1):
    op(T, "test_gather", f"x.gather(dim={_d}, index=torch.tensor({_IDX}))",
       (lambda d: lambda x: x.gather(dim=d, index=torch.tensor(_IDX)))(_d), (3, 4, 3))
op(T, "test_gather", "x.gather(dim=0, index=torch.tensor([2, 1, 0, 1, 2]))",
   lambda x: x.gather(dim=0, index=torch.tensor([2, 1, 0, 1, 2])), vals=[[1., 2., 3.]])
op(T, "test_binary_crossentropy",
   "torch.nn.functional.binary_cross_entropy(x.sigmoid(), y.clip(0, 1))",
   lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.clip(0, 1)), (6, 4), (6, 4))
op(T, "test_binary_crossentropy",
   "torch.nn.functional.binary_cross_entropy_with_logits(x, y.clip(0, 1))",
   lambda x, y: F.binary_cross_entropy_with_logits(x, y.clip(0, 1)), (6, 4), (6, 4))
for _red in ("mean", "sum", "none"):
    op(T, "test_binary_crossentropy_reductions",
       f"torch.nn.functional.binary_cross_entropy(x.sigmoid(), y.clip(0, 1), "
       f"reduction='{_red}')",
       (lambda r: lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.clip(0, 1),
                                                      reduction=r))(_red), (6, 4), (6, 4))
    op(T, "test_binary_crossentropy_reductions",
       f"torch.nn.functional.binary_cross_entropy_with_logits(x, y.clip(0, 1), "
       f"reduction='{_red}')",
       (lambda r: lambda x, y: F.binary_cross_entropy_with_logits(x, y.clip(0, 1),
                                                                  reduction=r))(_red),
       (6, 4), (6, 4))
_POS = [1.0, 2.0, 0.5, 3.0]
op(T, "test_binary_crossentropy_logits_pos_weights",
   f"torch.nn.functional.binary_cross_entropy_with_logits(x, y.clip(0, 1), "
   f"pos_weight=torch.tensor({_POS}))",
   lambda x, y: F.binary_cross_entropy_with_logits(x, y.clip(0, 1),
                                                   pos_weight=torch.tensor(_POS, dtype=DTYPE)),
   (6, 4), (6, 4))
op(T, "test_cross_entropy_class_probabilities", "torch.nn.functional.cross_entropy(x, y)",
   F.cross_entropy, (8,), (8,))
op(T, "test_cross_entropy_class_probabilities", "torch.nn.functional.cross_entropy(x, y)",
   F.cross_entropy, (6, 4), (6, 4))
_CLS = [0, 3, 1, 2, 1, 0]
op(T, "test_cross_entropy_class_indices",
   f"torch.nn.functional.cross_entropy(x, torch.tensor({_CLS}))",
   lambda x: F.cross_entropy(x, torch.tensor(_CLS)), (6, 4))
for _red in ("mean", "sum", "none"):
    op(T, "test_cross_entropy_reductions",
       f"torch.nn.functional.cross_entropy(x, y, reduction='{_red}')",
       (lambda r: lambda x, y: F.cross_entropy(x, y, reduction=r))(_red), (6, 4), (6, 4))
for _ls in (0.0, 0.3, 0.9):
    op(T, "test_cross_entropy_smoothing",
       f"torch.nn.functional.cross_entropy(x, y, label_smoothing={_ls})",
       (lambda s: lambda x, y: F.cross_entropy(x, y, label_smoothing=s))(_ls), (6, 4), (6, 4))
    op(T, "test_cross_entropy_smoothing",
       f"torch.nn.functional.cross_entropy(x, torch.tensor({_CLS}), label_smoothing={_ls})",
       (lambda s: lambda x: F.cross_entropy(x, torch.tensor(_CLS), label_smoothing=s))(_ls),
       (6, 4))
op(T, "test_sparse_categorical_crossentropy_ignore_index",
   f"torch.nn.functional.cross_entropy(x, torch.tensor({_CLS}), ignore_index=1)",
   lambda x: F.cross_entropy(x, torch.tensor(_CLS), ignore_index=1), (6, 4))
op(T, "test_nll_loss",
   f"torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, dim=1), "
   f"torch.tensor({_CLS}))",
   lambda x: F.nll_loss(F.log_softmax(x, dim=1), torch.tensor(_CLS)), (6, 4))
_W = [1.0, 2.0, 0.5, 1.5]
op(T, "test_nll_loss_weight",
   f"torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, dim=1), "
   f"torch.tensor({_CLS}), weight=torch.tensor({_W}))",
   lambda x: F.nll_loss(F.log_softmax(x, dim=1), torch.tensor(_CLS),
                        weight=torch.tensor(_W, dtype=DTYPE)), (6, 4))
for _red in ("mean", "sum", "none"):
    op(T, "test_nll_loss_reductions",
       f"torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, dim=1), "
       f"torch.tensor({_CLS}), reduction='{_red}')",
       (lambda r: lambda x: F.nll_loss(F.log_softmax(x, dim=1), torch.tensor(_CLS),
                                       reduction=r))(_red), (6, 4))
op(T, "test_masked_fill", "x.masked_fill((x > 0.1).detach(), -5.0)",
   lambda x: x.masked_fill((x > 0.1).detach(), -5.0), (6, 4))
op(T, "test_detach", "x.detach() * x", lambda x: x.detach() * x, S)
op(T, "test_conv1d", "torch.nn.functional.conv1d(x, y)", F.conv1d, (2, 3, 7), (4, 3, 3))
op(T, "test_conv1d", "torch.nn.functional.conv1d(x, y, stride=2, padding=1)",
   lambda x, y: F.conv1d(x, y, stride=2, padding=1), (2, 3, 7), (4, 3, 3))
op(T, "test_simple_conv2d", "torch.nn.functional.conv2d(x, y)", F.conv2d, (1, 2, 5, 5),
   (2, 2, 3, 3))
op(T, "test_simple_conv2d_bias", "torch.nn.functional.conv2d(x, y, z)", F.conv2d,
   (1, 2, 5, 5), (3, 2, 3, 3), (3,))
op(T, "test_strided_conv2d", "torch.nn.functional.conv2d(x, y, stride=2, padding=1)",
   lambda x, y: F.conv2d(x, y, stride=2, padding=1), (1, 2, 6, 6), (2, 2, 3, 3))
op(T, "test_max_pool2d_simple", "torch.nn.functional.max_pool2d(x, 2)",
   lambda x: F.max_pool2d(x, 2), (1, 1, 4, 6))
op(T, "test_max_pool2d", "torch.nn.functional.max_pool2d(x, (2, 3), stride=1)",
   lambda x: F.max_pool2d(x, (2, 3), stride=1), (1, 2, 5, 5))
op(T, "test_avg_pool2d", "torch.nn.functional.avg_pool2d(x, 2)", lambda x: F.avg_pool2d(x, 2),
   (1, 2, 4, 6))
op(T, "test_avg_pool2d_padding", "torch.nn.functional.avg_pool2d(x, 3, stride=2, padding=1)",
   lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), (1, 1, 5, 5))

# --------------------------------------------------------------------------- HIPS/autograd
# HIPS/autograd, tests/test_scalar_ops.py (fun = lambda x: 3.0 * np.NAME(x), check_grads)
A = "autograd"
for _name, _torch, _x in (("abs", "abs", 1.1), ("abs", "abs", -1.1), ("sin", "sin", 0.3),
                          ("sign", "sign", 1.1), ("exp", "exp", 0.3), ("log", "log", 0.7),
                          ("log2", "log2", 0.7), ("log10", "log10", 0.7),
                          ("log1p", "log1p", 0.7), ("expm1", "expm1", 0.7),
                          ("cos", "cos", 0.3), ("tan", "tan", 0.3), ("cosh", "cosh", 0.3),
                          ("sinh", "sinh", 0.3), ("tanh", "tanh", 0.3),
                          ("arccos", "acos", 0.1), ("arcsin", "asin", 0.1),
                          ("arctan", "atan", 0.2), ("arccosh", "acosh", 2.2),
                          ("arcsinh", "asinh", 0.3), ("arctanh", "atanh", 0.2),
                          ("sqrt", "sqrt", 4.5)):
    program(A, f"test_scalar_ops.test_{_name}", f"f = 3.0 * torch.{_torch}(x)",
            (lambda n: lambda x: 3.0 * getattr(torch, n)(x))(_torch), {"x": _x})
program(A, "test_scalar_ops.test_neg", "f = 3.0 * -x", lambda x: 3.0 * -x, {"x": 0.4})
program(A, "test_scalar_ops.test_power_arg0", "f = torch.pow(x, 1.7)",
        lambda x: torch.pow(x, 1.7), {"x": 1.3})
program(A, "test_scalar_ops.test_power_arg1", "f = torch.pow(2.1, y)",
        lambda y: torch.pow(2.1, y), {"y": 0.4})
program(A, "test_scalar_ops.test_power_arg1_zero", "f = torch.pow(0.0, y)",
        lambda y: torch.pow(0.0, y), {"y": 0.4})
program(A, "test_scalar_ops.test_mod", "f = torch.remainder(x, y)",
        lambda x, y: torch.remainder(x, y), {"x": 0.7, "y": 0.3})
program(A, "test_scalar_ops.test_divide", "f = torch.div(x, y)", torch.div,
        {"x": 0.7, "y": 0.3})
program(A, "test_scalar_ops.test_multiply", "f = torch.mul(x, y)", torch.mul,
        {"x": 0.7, "y": 0.3})
program(A, "test_scalar_ops.test_reciprocal", "f = torch.reciprocal(x)", torch.reciprocal,
        {"x": 0.7})
program(A, "test_scalar_ops.test_rad2deg", "f = 3.0 * x * 180 / math.pi",
        lambda x: 3.0 * x * 180 / math.pi, {"x": 0.7})
program(A, "test_scalar_ops.test_hypot", "f = torch.hypot(x, y)", torch.hypot,
        {"x": 0.7, "y": 0.3})
program(A, "test_scalar_ops.test_arctan2", "f = torch.atan2(x, y)", torch.atan2,
        {"x": 0.7, "y": -0.3})
# HIPS/autograd, tests/test_numpy.py (check_grads on each function of random arrays)
op(A, "test_numpy.test_dot", "torch.matmul(x, y)", torch.matmul, (4, 5), (5,))
op(A, "test_numpy.test_dot", "torch.matmul(x, y)", torch.matmul, (4, 5), (5, 4))
op(A, "test_numpy.test_dot", "torch.matmul(x, y)", torch.matmul, (4,), (4, 5))
op(A, "test_numpy.test_dot_with_floats", "x * y", lambda x, y: x * y, (4, 5), ())
op(A, "test_numpy.test_outer", "torch.outer(x, y)", torch.outer, (4,), (5,))
op(A, "test_numpy.test_max", "x.max()", lambda x: x.max(), (4, 5))
op(A, "test_numpy.test_max_axis", "x.amax(dim=1)", lambda x: x.amax(dim=1), (2, 3, 4))
op(A, "test_numpy.test_max_axis_keepdims", "x.amax(dim=1, keepdim=True)",
   lambda x: x.amax(dim=1, keepdim=True), (2, 3, 4))
op(A, "test_numpy.test_min_axis", "x.amin(dim=1)", lambda x: x.amin(dim=1), (2, 3, 4))
op(A, "test_numpy.test_sum_with_axis_tuple", "x.sum(dim=(0, 2))",
   lambda x: x.sum(dim=(0, 2)), (2, 3, 4))
op(A, "test_numpy.test_flipud", "x.flip(0)", lambda x: x.flip(0), (4, 5))
op(A, "test_numpy.test_fliplr", "x.flip(1)", lambda x: x.flip(1), (4, 5))
op(A, "test_numpy.test_cumsum_axis0", "x.cumsum(0)", lambda x: x.cumsum(0), (4, 5))
op(A, "test_numpy.test_cumsum_no_axis", "x.flatten().cumsum(0)",
   lambda x: x.flatten().cumsum(0), (4, 5))
op(A, "test_numpy.test_mean_2", "x.mean(dim=0)", lambda x: x.mean(dim=0), (4, 5))
op(A, "test_numpy.test_index_ints", "x[2, 0, 1]", lambda x: x[2, 0, 1], (3, 4, 3))
op(A, "test_numpy.test_index_slice", "x.flip(0)[:, 2:4, :]",
   lambda x: x.flip(0)[:, 2:4, :], (3, 4, 3))
op(A, "test_numpy.test_index_lists", "x[[0, 1, 2], :]", lambda x: x[[0, 1, 2], :],
   (3, 4, 3))
op(A, "test_numpy.test_index_slice_fanout", "x[1:3] + x[2:4] * x[1:3]",
   lambda x: x[1:3] + x[2:4] * x[1:3], (5, 4))
op(A, "test_numpy.test_index_multiple_slices", "x[2:, 1:3][1:]",
   lambda x: x[2:, 1:3][1:], (5, 4))
op(A, "test_numpy.test_reshape_method", "x.reshape((2 * 4, 3))",
   lambda x: x.reshape((2 * 4, 3)), (2, 4, 3))
op(A, "test_numpy.test_concatenate_axis_1", "torch.cat([x, x * y, y], dim=1)",
   lambda x, y: torch.cat([x, x * y, y], dim=1), (5, 2), (5, 2))
op(A, "test_numpy.test_trace", "torch.trace(x)", torch.trace, (4, 4))
op(A, "test_numpy.test_trace2", "torch.trace(x)", torch.trace, (4, 3))
op(A, "test_numpy.test_trace_extradims", "torch.diagonal(x, 0, 0, 1).sum(-1)",
   lambda x: torch.diagonal(x, 0, 0, 1).sum(-1), (3, 4, 3))
op(A, "test_numpy.test_diag", "torch.diag(x)", torch.diag, (5, 5))
op(A, "test_numpy.test_transpose", "x.permute(1, 0, 2)", lambda x: x.permute(1, 0, 2),
   (2, 3, 4))
op(A, "test_numpy.test_triu", "torch.triu(x, diagonal=2)", lambda x: torch.triu(x, diagonal=2),
   (5, 5))
op(A, "test_numpy.test_tril", "torch.tril(x, diagonal=-1)",
   lambda x: torch.tril(x, diagonal=-1), (5, 5))
op(A, "test_numpy.test_clip", "torch.clamp(x, -0.1, 0.1)", lambda x: torch.clamp(x, -0.1, 0.1),
   (4, 5), low=-0.5, high=0.5)
op(A, "test_numpy.test_prod_1", "x.prod()", lambda x: x.prod(), (2, 3, 4), low=0.5, high=1.5)
op(A, "test_numpy.test_prod_2", "x.prod(dim=0)", lambda x: x.prod(dim=0), (2, 3, 4))
op(A, "test_numpy.test_prod_4", "x.prod()", lambda x: x.prod(), vals=[[1.2, 0.0, 3.0, 0.0]])
op(A, "test_numpy.test_1d_array", "torch.stack([x, x * x, x * 5.0])",
   lambda x: torch.stack([x, x * x, x * 5.0]), ())
op(A, "test_numpy.test_2d_array", "torch.stack([torch.stack([x, x * x]), "
   "torch.stack([x * 3, x + x])])",
   lambda x: torch.stack([torch.stack([x, x * x]), torch.stack([x * 3, x + x])]), ())
op(A, "test_numpy.test_var_ddof", "x.var(dim=1, correction=2)",
   lambda x: x.var(dim=1, correction=2), (2, 4, 3))
op(A, "test_numpy.test_std_ddof", "x.std(dim=1, correction=2)",
   lambda x: x.std(dim=1, correction=2), (2, 4, 3))
op(A, "test_numpy.test_where", "torch.where(c > 0, x, y)", lambda x, y, c: torch.where(c > 0, x, y),
   (4, 5), (4, 5), consts={"c": [[1.0, 0.0, 1.0, 0.0, 1.0]] * 4})
op(A, "test_numpy.test_squeeze_func", "torch.squeeze(x)", torch.squeeze, (5, 1, 3, 1))
op(A, "test_numpy.test_repeat", "x.repeat(2, 1)", lambda x: x.repeat(2, 1), (3, 4))
op(A, "test_numpy.test_expand_dims", "x.unsqueeze(1)", lambda x: x.unsqueeze(1), (5, 3))
op(A, "test_numpy.test_tensordot_kwargs_by_position", "torch.tensordot(x, y, dims=2)",
   lambda x, y: torch.tensordot(x, y, dims=2), (2, 3, 4), (3, 4, 5))
op(A, "test_numpy.test_make_diagonal", "torch.diag(x)", torch.diag, (4,))
op(A, "test_numpy.test_diagonal", "torch.diagonal(x, offset=1)",
   lambda x: torch.diagonal(x, offset=1), (4, 5))
op(A, "test_numpy.test_max_equal_values", "x.max()", lambda x: x.max(), vals=[[1.0, 1.0]],
   kink=True)
op(A, "test_numpy.test_max_equal_values_2d", "x.amax(dim=1)", lambda x: x.amax(dim=1),
   vals=[[[1.0, 1.0], [2.0, 3.0]]], kink=True)
op(A, "test_numpy.test_maximum_equal_values", "torch.maximum(x, y)", torch.maximum,
   vals=[[1.0, 2.0], [1.0, 3.0]], kink=True)
# HIPS/autograd, tests/test_linalg.py
op(A, "test_linalg.test_inv", "torch.inverse(x)", torch.inverse,
   vals=[[[2.0, 0.5, 0.1], [0.3, 1.5, 0.2], [0.1, 0.4, 3.0]]])
op(A, "test_linalg.test_det", "torch.det(x)", torch.det, (3, 3))
op(A, "test_linalg.test_slogdet", "torch.linalg.slogdet(x)[1]",
   lambda x: torch.linalg.slogdet(x)[1], vals=[[[2.0, 0.5, 0.1], [0.3, 1.5, 0.2],
                                              [0.1, 0.4, 3.0]]])
op(A, "test_linalg.test_solve_arg1", "torch.linalg.solve(x, y)", torch.linalg.solve,
   vals=[[[2.0, 0.5, 0.1], [0.3, 1.5, 0.2], [0.1, 0.4, 3.0]], [1.0, -2.0, 0.5]])
op(A, "test_linalg.test_norm_vector", "torch.linalg.norm(x, ord=3)",
   lambda x: torch.linalg.norm(x, ord=3), (6,))
op(A, "test_linalg.test_frobenius_norm", "torch.linalg.norm(x, ord='fro')",
   lambda x: torch.linalg.norm(x, ord="fro"), (3, 4))
op(A, "test_linalg.test_norm_nuclear", "torch.linalg.norm(x, ord='nuc')",
   lambda x: torch.linalg.norm(x, ord="nuc"), (3, 4))
op(A, "test_linalg.test_vector_2norm", "torch.linalg.vector_norm(x)",
   lambda x: torch.linalg.vector_norm(x), (6,))


# --------------------------------------------------------------------------- the harness

def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli_main(argv)
    return status, out.getvalue(), err.getvalue()


def _value_text(value) -> str:
    """A value as typed after ``--var NAME=``: a nested list, or ``zeros(4, 0)`` for an
    empty tensor (which no nested list can spell)."""
    if isinstance(value, torch.Tensor):
        return f"zeros({', '.join(map(str, value.shape))})"
    return json.dumps(value)


def _tensor(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.to(DTYPE)
    return torch.tensor(value, dtype=DTYPE)


def _argv(command: str, case: Case, *extra: str) -> list[str]:
    argv = [command, case.program, "--dtype", "float64"]
    for name, value in case.inputs.items():
        argv += ["--var", f"{name}={_value_text(value)}"]
    for name, value in case.consts.items():
        argv += ["--const", f"{name}={_value_text(value)}"]
    return argv + list(extra)


def _torch_reference(case: Case):
    """(output value, the tensor out or None, {name: gradient}) by torch directly; the
    reference takes the inputs, then the constants, in their order."""
    leaves = {k: _tensor(v).requires_grad_() for k, v in case.inputs.items()}
    consts = {k: _tensor(v) for k, v in case.consts.items() if k != "wout"}
    result = case.reference(*leaves.values(), *consts.values())
    out = None
    if case.weighted:
        out = result
        result = (result * torch.tensor(case.consts["wout"], dtype=DTYPE)).sum()
    grads = torch.autograd.grad(result, list(leaves.values()), allow_unused=True)
    gradients = {name: torch.zeros_like(leaf) if g is None else g
                 for (name, leaf), g in zip(leaves.items(), grads)}
    return result.detach(), None if out is None else out.detach(), gradients


def _from_json(value):
    """JSON's stand-ins for what it cannot write ("NaN", "Infinity") back as floats."""
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, str):
        return float(value.replace("Infinity", "inf"))
    return value


def _close(actual, expected, what: str) -> None:
    actual = torch.tensor(_from_json(actual), dtype=DTYPE)
    expected = expected.to(DTYPE)
    assert tuple(actual.shape) == tuple(expected.shape), f"{what}: shape {tuple(actual.shape)} " \
        f"!= torch's {tuple(expected.shape)}"
    torch.testing.assert_close(actual, expected, rtol=1e-7, atol=1e-9, equal_nan=True,
                               msg=lambda m: f"{what}: {m}")


def _json(status: int, out: str, err: str, command: str):
    assert status in (0, 1), f"{command}: exit {status}: {err}"
    assert "internal error" not in err and "Traceback" not in err, err
    return json.loads(out)


_NUMBER = re.compile(r"(−|-)?(\d+(?:\.\d*)?(?:e[+\-−]?\d+)?|∞|NaN)$")


def _last_number(line: str) -> float | None:
    match = _NUMBER.search(line.strip())
    if not match:
        return None
    text = match.group(0).replace("−", "-")
    if text.endswith("∞"):
        return -math.inf if text.startswith("-") else math.inf
    return float(text)


def _assert_chain_lines(step: dict) -> None:
    """Every chain-rule line ``∂f/∂x += ... = N`` of a step with number gradients ends in
    the number torch's engine sent to that input (to the six digits shown)."""
    outs = [g for g in step["grad_out"] if g is not None]
    if not outs or not all(isinstance(g, (int, float)) for g in outs):
        return
    rule = step["rule"].splitlines()
    # a broadcast input's chain line shows the unreduced product (true as written); the
    # "summed over ..." line after it ends with what torch sent
    lines = [rule[k + 1] if k + 1 < len(rule) and rule[k + 1].strip().startswith("summed over")
             else line for k, line in enumerate(rule)
             if " += " in line and "=" in line.split(" += ", 1)[1]]
    if not lines or step["op"] == "AccumulateGrad":
        return
    shown = [_last_number(line) for line in lines]
    assert len(shown) == len(outs), f"step {step['index'] + 1} ({step['op']}): " \
        f"{len(shown)} chain lines for {len(outs)} gradients:\n{step['rule']}"
    for number, out in zip(shown, outs):
        assert number is not None, step["rule"]
        assert math.isclose(number, out, rel_tol=2e-5, abs_tol=1e-12) or (
            math.isnan(number) and math.isnan(out)), \
            f"step {step['index'] + 1} ({step['op']}) shows {number}, torch sent {out}:\n" \
            f"{step['rule']}"


def _assert_rule_arithmetic(case: Case) -> None:
    """In the trace itself: every term's local factor times the incoming gradient is what
    torch sent along that edge (entry by entry, broadcasting summed back)."""
    from core.cli.common import parse_assignments
    from core.evaluation.evaluate import evaluate
    from core.language.parser import parse
    from core.teaching.trace import record_steps

    variables = parse_assignments(
        [f"{k}={_value_text(v)}" for k, v in case.inputs.items()], True)
    variables.update(parse_assignments(
        [f"{k}={_value_text(v)}" for k, v in case.consts.items()], False))
    trace = record_steps(evaluate(parse(case.program), variables, "float64"))
    for step in trace.steps:
        for term in step.rule.terms:
            local = term.local
            if local.apply != "×" or not isinstance(local.value, (torch.Tensor, int, float)):
                continue
            g, out = term.g, step.grad_out[term.input]
            if g is None or out is None:
                continue
            value = torch.as_tensor(local.value, dtype=DTYPE)
            if g.numel() != 1 and value.numel() != 1 and g.shape != value.shape:
                continue  # a reduction's G meets the value along kept dims: not plain ×
            product = g.double() * value
            if product.shape != out.shape:
                if product.numel() < out.numel():
                    continue
                product = product.sum_to_size(out.shape)
            torch.testing.assert_close(
                product, out.double(), rtol=1e-6, atol=1e-9, equal_nan=True,
                msg=lambda m, s=step, sym=local.symbol: f"step {s.index + 1} ({s.op}): the "
                f"rule's factor {sym} times the incoming gradient is not what torch sent: {m}")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_external_case(case: Case):
    value, out, gradients = _torch_reference(case)

    computed = _json(*_run(_argv("compute", case, "--json")), "compute")
    _close(computed["value"], value, "value")
    if out is not None:
        _close(computed["intermediates"]["out"]["value"], out, "out")
        _close(computed["intermediates"]["out"]["gradient"],
               torch.tensor(case.consts["wout"], dtype=DTYPE), "d/dout")
    for name, gradient in gradients.items():
        _close(computed["gradients"][name], gradient, f"d/d{name}")

    steps = _json(*_run(_argv("steps", case, "--json")), "steps")
    for name, gradient in gradients.items():
        leaf = steps["leaves"].get(name)
        if leaf is None:  # no gradient reached it (torch: zeros)
            assert not gradient.any(), f"{name}: steps say no gradient, torch {gradient}"
            continue
        _close(leaf["total"], gradient, f"steps' total at {name}")
        total = sum(torch.tensor(_from_json(c["value"]), dtype=DTYPE)
                    for c in leaf["contributions"])
        _close(torch.as_tensor(total).expand_as(gradient).tolist(), gradient,
               f"contributions at {name}")
    for step in steps["steps"]:
        _assert_chain_lines(step)
        if not case.kink:  # a kink is named only where an input sits on one
            assert "kink:" not in step["rule"], step["rule"]
    _assert_rule_arithmetic(case)

    paths = _json(*_run(_argv("paths", case, "--json")), "paths")
    for name, gradient in gradients.items():
        leaf = paths["leaves"].get(name)
        if leaf is None or not leaf.get("listed") or not leaf["paths"]:
            continue
        total = sum(torch.tensor(_from_json(p["product"]), dtype=DTYPE) for p in leaf["paths"])
        _close(torch.as_tensor(total).expand_as(gradient).tolist(), gradient,
               f"the paths' products to {name}")

    report = _json(*_run(_argv("check", case, "--json")), "check")
    allowed = {"agree", "non-smooth"} if case.kink else {"agree"}
    bad = [(row["entry"], row["verdict"], row["reasons"]) for row in report["rows"]
           if row["verdict"] not in allowed and not (
               case.nan and row["verdict"] == "not checked"
               and any("NaN first appears" in reason for reason in row["reasons"]))]
    assert not bad, f"check: {bad[:4]}"


def test_every_case_has_a_distinct_id():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) > 300
