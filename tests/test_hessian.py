"""Second derivatives (issue 15): the Hessian equals torch.autograd.functional.hessian and
SymPy's second derivatives; H v equals torch.autograd.functional.hvp; the graph of the
gradient is drawn by the ordinary graph builder."""
from __future__ import annotations

import json

import pytest
import sympy
import torch

from core.cli import main as cli_main
from core.drawing.graph import build_graph
from core.errors import ExpressionError
from core.evaluation.evaluate import forward
from core.language.parser import parse
from core.views.hessian import MAX_HESSIAN_ENTRIES, gradient_evaluation, hessian_of

F64 = torch.float64
CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def hessian(text, vector=None, **values):
    return hessian_of(forward(parse(text), values, "float64"), vector)


def test_cube_second_derivative_is_6x_by_sympy():
    x = sympy.Symbol("x")
    second = sympy.diff(x ** 3, x, 2)
    for at in (2.0, -0.5, 3.25):
        report = hessian("f = x**3", x=at)
        assert float(report.hessian["x"]["x"]) == pytest.approx(float(second.subs(x, at)),
                                                                rel=1e-12)
        assert float(report.gradient["x"]) == pytest.approx(3 * at ** 2, rel=1e-12)


def test_seed_chain_hessian_against_sympy_and_torch():
    w, z = sympy.symbols("w z")
    f = sympy.exp(3 * w + sympy.cos(z)) + 3 * (w ** 2 + sympy.sin(2 * z))
    report = hessian(CHAIN, w=1.0, z=1.0)
    at = {w: 1, z: 1}
    for a, sa in (("w", w), ("z", z)):
        for b, sb in (("w", w), ("z", z)):
            expected = float(sympy.diff(f, sa, sb).subs(at).evalf(30))
            assert float(report.hessian[a][b]) == pytest.approx(expected, rel=1e-12)
    direct = torch.autograd.functional.hessian(
        lambda w, z: torch.exp(3 * w + torch.cos(z)) + 3 * (w ** 2 + torch.sin(2 * z)),
        (torch.tensor(1.0, dtype=F64), torch.tensor(1.0, dtype=F64)))
    names = ("w", "z")
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            assert torch.allclose(report.hessian[a][b], direct[i][j], rtol=1e-12)


@pytest.mark.parametrize("text, fn, values", [
    ("f = sum(W @ W)", lambda W: torch.sum(W @ W), {"W": [[1.0, 2.0], [3.0, 4.0]]}),
    ("f = norm(exp(A) + A @ B, p=2)", lambda A, B: torch.norm(torch.exp(A) + A @ B, p=2),
     {"A": [[1.0, 0.5], [0.2, 0.1]], "B": [[0.3, -1.0], [2.0, 0.5]]}),
    ("f = logsumexp(x * s, dim=0) + sum(tanh(x)**2)", lambda x, s: torch.logsumexp(
        x * s, dim=0) + torch.sum(torch.tanh(x) ** 2), {"x": [0.1, -0.3, 1.2], "s": 1.7}),
])
def test_tensor_hessians_and_hvp_equal_torch(text, fn, values):
    tensors = tuple(torch.tensor(v, dtype=F64) for v in values.values())
    generator = torch.Generator().manual_seed(7)
    v = tuple(torch.randn(t.shape, dtype=F64, generator=generator) for t in tensors)
    report = hessian(text, {n: t.tolist() for n, t in zip(values, v, strict=True)}, **values)
    direct = torch.autograd.functional.hessian(fn, tensors)
    _, hvp = torch.autograd.functional.hvp(fn, tensors, v)
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            assert torch.allclose(report.hessian[a][b], direct[i][j], rtol=1e-10, atol=1e-12)
        assert torch.allclose(report.hvp[a], hvp[i], rtol=1e-10, atol=1e-12)


def test_large_input_gets_hvp_without_the_matrix():
    n = 101
    assert n * n > MAX_HESSIAN_ENTRIES
    report = hessian("f = sum(x**3)", x=[0.5] * n)
    assert report.hessian is None and "10,201" in report.reason
    # H = diag(6x): H·ones = 6·0.5 everywhere
    assert torch.allclose(report.hvp["x"], torch.full((n,), 3.0, dtype=F64))


def test_graph_of_the_gradient_differentiates_again():
    evaluation = forward(parse(CHAIN), {"w": 1.0, "z": 1.0}, "float64")
    graph = build_graph(gradient_evaluation(evaluation, "w"))
    leaves = {n.name: n for n in graph.nodes.values() if n.kind == "leaf"}
    out = graph.nodes[graph.output_id]
    report = hessian(CHAIN, w=1.0, z=1.0)
    assert float(out.value) == pytest.approx(float(report.gradient["w"]))
    # the leaves' gradients in the graph of df/dw are the row of the Hessian
    assert float(leaves["w"].grad) == pytest.approx(float(report.hessian["w"]["w"]))
    assert float(leaves["z"].grad) == pytest.approx(float(report.hessian["w"]["z"]))
    assert any(n.expression == "exp(g1)" for n in graph.nodes.values())


def test_errors():
    with pytest.raises(ExpressionError, match="single number"):
        hessian("f = x * 2", x=[1.0, 2.0])
    with pytest.raises(ExpressionError, match="not an input"):
        hessian("f = x * 2", {"y": 1.0}, x=1.0)
    with pytest.raises(ExpressionError, match="shape"):
        hessian("f = sum(x * 2)", {"x": [1.0]}, x=[1.0, 2.0])


def test_cli(capsys, tmp_path):
    assert cli_main(["hessian", "f = x**3", "--var", "x=2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hessian"] == {"x": {"x": 12.0}}
    assert cli_main(["hessian", "f = x**3", "--var", "x=2", "--graph",
                     str(tmp_path / "g.svg")]) == 0
    assert (tmp_path / "g.svg").read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    capsys.readouterr()
    assert cli_main(["hessian", "f = x*[1]", "--var", "x=2"]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_text_lines_a_matrix_up_under_its_label(capsys):
    # f = x0² x1: H = [[2 x1, 2 x0], [2 x0, 0]] = [[4, 2], [2, 0]] at x = (1, 2), by hand
    assert cli_main(["hessian", "f = x[0]**2 * x[1]", "--var", "x=[1.0, 2.0]"]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = lines.index("∂²f/∂x² = [[4, 2],")
    assert lines[first + 1] == " " * len("∂²f/∂x² = [") + "[2, 0]]"
    assert "  (H v)[x] = [6, 2]" in lines  # H · (1, 1)
