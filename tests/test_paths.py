"""Paths view (issue 15): every path's product against hand-worked chain-rule numbers, the
sum against torch's gradient computed directly, and path counts against hand counts."""
from __future__ import annotations

import json
import math

import pytest
import torch

from core.cli import main as cli_main
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.language.values import VariableSpec
from core.views.paths import MAX_PATHS_LISTED, find_paths

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def paths_of(text, dtype="float64", **values):
    return find_paths(evaluate(parse(text), values, dtype))


def torch_grads(fn, **values):
    """torch's gradient of fn(**tensors), computed directly (not through the app)."""
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in values.items()}
    fn(**tensors).backward()
    return {k: t.grad for k, t in tensors.items()}


def test_seed_chain_rule_paths_worked_by_hand():
    report = paths_of(CHAIN, w=1.0, z=1.0)
    w = report.leaves["w"]
    assert w.count == 2 and len(w.paths) == 2
    by_first_op = {p.nodes[1]: p for p in w.paths}
    through_exp = by_first_op["3*w"]
    through_square = by_first_op["w**2"]
    e4 = math.exp(3 + math.cos(1))  # d exp(g1)/d g1 at w = z = 1: 34.4773
    # w -> 3*w -> g1 -> exp(g1) -> f: factors 3, 1, e^{g1}, 1
    assert [float(f) for f in through_exp.factors] == pytest.approx([3, 1, e4, 1])
    assert float(through_exp.product) == pytest.approx(3 * e4) == pytest.approx(103.432, abs=1e-3)
    # w -> w**2 -> g2 -> 3*g2 -> f: factors 2w = 2, 1, 3, 1
    assert [float(f) for f in through_square.factors] == pytest.approx([2, 1, 3, 1])
    assert float(through_square.product) == pytest.approx(6.0)
    assert through_exp.nodes[0] == "w" and through_exp.nodes[-1].startswith("f =")
    assert float(w.path_sum) == pytest.approx(109.43202095367012, rel=1e-12)
    z = report.leaves["z"]
    # z -> cos(z) -> g1 -> exp -> f : -sin(1) e^{g1};  z -> 2z -> sin -> g2 -> 3g2 -> f: 2cos(2)·3
    products = sorted(float(p.product) for p in z.paths)
    assert products == pytest.approx(sorted([-math.sin(1) * e4, 6 * math.cos(2)]))
    assert float(z.path_sum) == pytest.approx(-31.508562530134782, rel=1e-12)


@pytest.mark.parametrize("text, fn, values", [
    ("f = x*x", lambda x: x * x, {"x": 3.0}),
    ("y = sin(x)*x\nf = y*exp(y) + x/y", lambda x: (lambda y: y * torch.exp(y) + x / y)(
        torch.sin(x) * x), {"x": 0.7}),
    ("h = tanh(a*b + b)\nf = h*h*a - log(b)", lambda a, b: torch.tanh(a * b + b)
     * torch.tanh(a * b + b) * a - torch.log(b), {"a": 0.3, "b": 1.7}),
    ("f = sum(W @ x * x)", lambda W, x: torch.sum(W @ x * x),
     {"W": [[1.0, 2.0], [3.0, -4.0]], "x": [0.5, -1.5]}),
    ("f = norm(exp(A) + A @ A, p=2)", lambda A: torch.norm(torch.exp(A) + A @ A, p=2),
     {"A": [[1.0, 0.5], [0.2, 0.1]]}),
    # broadcasts: the engine sums a scalar's and a row's gradient down to their shapes
    ("f = sum(a * x + r * exp(M))", lambda a, x, r, M: torch.sum(a * x + r * torch.exp(M)),
     {"a": 1.5, "x": [0.5, -1.5], "r": [[2.0, 3.0]], "M": [[0.1, 0.2], [0.3, 0.4]]}),
])
def test_path_products_sum_to_torch_gradient(text, fn, values):
    report = paths_of(text, **values)
    expected = torch_grads(fn, **values)
    for name, grad in expected.items():
        leaf = report.leaves[name]
        assert leaf.count == len(leaf.paths)
        assert torch.allclose(leaf.path_sum, grad, rtol=1e-10, atol=1e-12), name
        assert torch.allclose(leaf.total, grad, rtol=1e-10, atol=1e-12), name


def test_doubling_chain_is_counted_not_listed():
    steps = 100
    text = "y = x\n" + "y = (y + y)*0.5\n" * steps + "f = y"
    report = paths_of(text, x=2.0)
    x = report.leaves["x"]
    assert x.count == 2 ** steps  # each y + y doubles the paths: counted exactly
    assert x.paths is None and str(MAX_PATHS_LISTED) in x.reason
    assert float(x.total) == pytest.approx(1.0)
    # the factored sums are the gradient at each node: every (y + y)*0.5 has gradient 1
    named = [n for n in x.factored if n.label.endswith("(y + y)*0.5")]
    assert len(named) == steps
    assert all(float(n.gradient) == pytest.approx(1.0) for n in named)
    assert all(sum(float(t.value) for t in n.terms) == pytest.approx(float(n.gradient))
               for n in x.factored if n.terms)
    assert x.factored[-1].paths_to_output == 2 ** steps


def test_count_at_the_limit_is_listed_and_one_more_is_not():
    # y = y*1 + y*1 ... gives 2^k paths; with a third input branch choose a count: 2^7 = 128
    # listed; three-way fan-outs: 3^5 = 243 > 200 not listed
    listed = paths_of("y = x\n" + "y = y + y\n" * 7 + "f = y", x=1.0).leaves["x"]
    assert listed.count == 128 and len(listed.paths) == 128
    assert float(listed.path_sum) == pytest.approx(128.0)
    over = paths_of("y = x\n" + "y = y + y + y\n" * 5 + "f = y", x=1.0).leaves["x"]
    assert over.count == 3 ** 5 and over.paths is None


def test_constant_input_and_unused_input():
    values = {"w": 2.0, "u": 1.0, "c": VariableSpec("c", 5.0, requires_grad=False)}
    report = find_paths(evaluate(parse("f = w*c + 0*u"), values))
    assert set(report.leaves) == {"w", "u"}
    assert [float(f) for f in report.leaves["w"].paths[0].factors] == [5.0, 1.0]
    # u reaches f through 0*u: one path with product 0, still a path
    assert report.leaves["u"].count == 1 and float(report.leaves["u"].path_sum) == 0.0


def test_cli_json_shape(capsys):
    assert cli_main(["paths", CHAIN, "--var", "w=1", "--var", "z=1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    w = data["leaves"]["w"]
    assert {"paths", "total"} <= set(w)
    for path in w["paths"]:
        assert set(path) >= {"nodes", "factors", "product"}
        assert math.prod(path["factors"]) == pytest.approx(path["product"])
    assert sum(p["product"] for p in w["paths"]) == pytest.approx(w["total"], rel=1e-6)
    assert w["total"] == pytest.approx(109.432, abs=1e-3)


def test_cli_text_and_errors(capsys):
    assert cli_main(["paths", CHAIN, "--var", "w=1", "--var", "z=1"]) == 0
    out = capsys.readouterr().out
    assert "103.432 + 6 = 109.432" in out
    assert cli_main(["paths", "f = 3"]) == 0
    assert "no paths" in capsys.readouterr().out
    assert cli_main(["paths", "f = w +", "--var", "w=1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "column" in err and "Traceback" not in err


def test_parallel_edges_are_numbered_like_the_graph():
    # x*x: two edges from x's node into the product, k = 0 and k = 1 (core.drawing.graph.edge_keys)
    report = paths_of("f = x*x", x=3.0)
    assert sorted(p.edge_ks[0] for p in report.leaves["x"].paths) == [0, 1]


def test_text_writes_negative_factors_as_the_pages_do(capsys):
    # d/dz of the seed: cos'(1) = −sin(1) and sin'(2) · 2 = 2·cos(2), both negative here;
    # the sum is written with one minus sign, never "a + -b", factors in parentheses
    status = cli_main(["paths", "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2",
                       "--var", "w=1", "--var", "z=1"])
    out = capsys.readouterr().out
    assert status == 0
    p1 = -math.sin(1) * math.exp(3 + math.cos(1))
    p2 = 2 * math.cos(2) * 3
    assert f"(−{math.sin(1):.6f}) · 1 · " in out
    assert f"2 · (−{-math.cos(2):.6f}) · 1 · 3 · 1 = −{-p2:.5f}" in out
    assert f"sum: −{-p1:.4f} − {-p2:.5f} = −{-(p1 + p2):.4f}" in out
    assert "+ -" not in out and "+ −" not in out
