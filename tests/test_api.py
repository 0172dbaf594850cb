"""The public API on real models: ``autograd_explorer.explore`` and ``record``.

References are torch itself: torchviz's ``make_dot`` on the same tensor for the nodes,
``named_parameters()`` for the names, the tensors' own ``.grad`` (after a real
``backward``), ``retain_grad()`` for intermediate gradients, forward hooks for the values
modules returned, and hooks of our own on every node for the engine's order.
"""
from __future__ import annotations

import json
import re

import pytest
import torch
from torch import nn

from autograd_explorer import explore, record
from core.errors import ExpressionError
from core.teaching.trace import reachable_nodes
from tests.model_zoo import MODELS, mlp, residual_mlp


def _recorded(build):
    model, inputs, loss_fn = build()
    outputs = {}

    def keep(name):
        def hook(module, args, output):
            if torch.is_tensor(output):
                output.retain_grad()
                outputs[name] = output
        return hook

    handles = [module.register_forward_hook(keep(name))
               for name, module in model.named_modules() if name]
    with record(model):
        loss = loss_fn(model, *inputs)
    for handle in handles:
        handle.remove()
    return model, loss, outputs


def _make_dot_names(loss, params) -> set[str]:
    from torchviz import make_dot

    source = make_dot(loss, params=params).source
    return set(re.findall(r"^\s*(\d+) \[", source, re.M))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_nodes_names_values_and_gradients_match_torch(name):
    model, loss, outputs = _recorded(MODELS[name])
    ex = explore(loss)
    graph = ex.graph
    params = dict(model.named_parameters())
    # the same nodes torchviz draws for this tensor
    assert set(graph.nodes) == _make_dot_names(loss, params)
    # every parameter is a leaf under its own name
    leaves = {node.name: node for node in graph.nodes.values() if node.kind == "leaf"}
    assert set(leaves) == set(params)
    # recording changed nothing: no .grad yet
    assert all(p.grad is None for p in params.values())
    loss.backward(retain_graph=True)
    for pname, parameter in params.items():
        torch.testing.assert_close(leaves[pname].grad, parameter.grad)
        torch.testing.assert_close(leaves[pname].value, parameter.detach())
    # values and gradients of what each module returned, on the node that made it
    checked = 0
    for module_name, output in outputs.items():
        if output.grad_fn is None or output.grad is None:
            continue
        node = graph.node_for_grad_fn(output.grad_fn)
        assert node is not None, module_name
        if node.value is not None and node.value.shape == output.shape:
            torch.testing.assert_close(node.value, output.detach())
        torch.testing.assert_close(node.grad, output.grad)
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("name", sorted(MODELS))
def test_steps_follow_the_engine(name):
    model, inputs, loss_fn = MODELS[name]()
    with record(model):
        loss = loss_fn(model, *inputs)
    steps = explore(loss).steps()
    order = []
    handles = [fn.register_hook(lambda gi, go, fn=fn: order.append(str(id(fn))))
               for fn in reachable_nodes(loss.grad_fn)]
    loss.backward(retain_graph=True)
    for handle in handles:
        handle.remove()
    assert [step["node"] for step in steps["steps"]] == order
    json.dumps(steps)  # the steps --json object is plain JSON
    assert set(steps) == {"steps", "leaves", "forward"}
    assert set(steps["leaves"]) == set(dict(model.named_parameters()))


def test_nodes_say_module_and_operation():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 1))
    with record(model):
        loss = model(torch.randn(1, 1, 4, 4)).sum()
    graph = explore(loss).graph
    texts = {node.expression for node in graph.nodes.values() if node.kind == "op"}
    assert "0 · ConvolutionBackward0" in texts
    assert "1 · ReluBackward0" in texts
    assert "3 · AddmmBackward0" in texts


def test_without_recording_names_come_from_params_and_modules_from_weights():
    model, (x, y), loss_fn = mlp()
    loss = loss_fn(model, x, y)
    ex = explore(loss, params=model)
    graph = ex.graph
    assert {n.name for n in graph.nodes.values() if n.kind == "leaf"} == \
        {"0.weight", "0.bias", "2.weight", "2.bias"}
    texts = {n.expression for n in graph.nodes.values() if n.kind == "op"}
    assert {"0 · AddmmBackward0", "2 · AddmmBackward0"} <= texts
    # gradients flowing into the operations still come from the engine
    hidden = model[0](x)
    hidden.retain_grad()
    again = nn.functional.mse_loss(model[2](torch.relu(hidden)), y)
    again.backward()
    relu = next(n for n in graph.nodes.values() if n.op == "ReluBackward0")
    first = graph.node_for_grad_fn(relu.grad_fn.next_functions[0][0])
    torch.testing.assert_close(first.grad, hidden.grad)
    # and a dict of tensors works as torchviz's params= does
    named = explore(loss_fn(model, x, y), params={"W1": model[0].weight}).graph
    assert "W1" in {n.name for n in named.nodes.values() if n.kind == "leaf"}


def test_in_place_operations_keep_the_value_each_node_made():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=True), nn.Linear(4, 1))
    x = torch.randn(5, 3)
    with record(model):
        loss = model(x).sum()
    graph = explore(loss).graph
    before_relu = x @ model[0].weight.detach().T + model[0].bias.detach()
    assert (before_relu < 0).any()  # the test means something only if relu changes it
    addmm = next(n for n in graph.nodes.values()
                 if n.expression == "0 · AddmmBackward0")
    relu = next(n for n in graph.nodes.values() if n.op == "ReluBackward0")
    torch.testing.assert_close(addmm.value, before_relu)
    torch.testing.assert_close(relu.value, before_relu.clamp(min=0))


def test_a_callable_with_inputs_is_recorded_and_called():
    w = torch.tensor([1.5, -2.0], requires_grad=True)

    def f(w):
        return (torch.sin(w) * w).sum()

    ex = explore(f, (w,))
    leaves = [n for n in ex.graph.nodes.values() if n.kind == "leaf"]
    assert [n.name for n in leaves] == ["inputs[0]"]
    torch.testing.assert_close(leaves[0].grad, (torch.cos(w) * w + torch.sin(w)).detach())
    assert ex.evaluation.function is f


def test_errors_are_clear_messages():
    with pytest.raises(ExpressionError, match="single number"):
        explore(torch.ones(3, requires_grad=True) * 2)
    with pytest.raises(ExpressionError, match="no autograd graph"):
        explore(torch.ones(()))
    with pytest.raises(ExpressionError, match="needs a tensor"):
        explore(3.0)
    with pytest.raises(ExpressionError, match="params"):
        explore((torch.ones(2, requires_grad=True) * 2).sum(), params=[1, 2])


def test_a_freed_graph_says_how_to_keep_it():
    w = torch.ones(2, requires_grad=True)
    loss = (w.exp() * w).sum()
    loss.backward()
    ex = explore(loss)
    with pytest.raises(ExpressionError, match="retain_graph=True"):
        ex.steps()
    # the graph itself still draws, with the values and the gradients already in .grad
    node = next(n for n in ex.graph.nodes.values() if n.kind == "leaf")
    torch.testing.assert_close(node.value, w.detach())


def test_a_leaf_output_and_multiple_outputs_and_custom_functions():
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ex = explore(w.sum())
    assert [s["op"] for s in ex.steps()["steps"]] == ["SumBackward0", "AccumulateGrad"]
    leaf = explore(torch.tensor(2.0, requires_grad=True))
    assert leaf.steps()["steps"] == [] and leaf.trace.output_is_input

    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    with record():
        a, b = torch.split(w * 2, [1, 2])
        loss = Square.apply(a).sum() + b.prod()
    ex = explore(loss, params={"w": w})
    graph = ex.graph
    loss.backward(retain_graph=True)
    node = next(n for n in graph.nodes.values() if n.name == "w")
    torch.testing.assert_close(node.grad, w.grad)


def test_render_writes_the_annotated_graph(tmp_path):
    model, inputs, loss_fn = mlp()
    with record(model):
        loss = loss_fn(model, *inputs)
    path = explore(loss).render(tmp_path / "g.svg")
    svg = path.read_text(encoding="utf-8")
    assert "0 · AddmmBackward0" in svg and "0.weight" in svg
    with pytest.raises(ExpressionError, match="svg"):
        explore(loss).render(tmp_path / "g.txt")


def test_twenty_thousand_nodes_open_folded(tmp_path):
    from core.drawing import folding

    model, inputs, loss_fn = residual_mlp(depth=1400)
    with record(model):
        loss = loss_fn(model, *inputs)
    ex = explore(loss)
    assert len(ex.graph.nodes) > 19_000
    folded = folding.auto_fold(ex.graph)
    assert len(folded.graph.nodes) <= folding.TARGET_NODES
    from core.drawing.render import svg_node_ids

    # render() draws it folded: every one of the 20,000 nodes is in the picture, as
    # itself or inside a box
    drawn = svg_node_ids(ex.render(tmp_path / "big.svg").read_bytes())
    assert set(folded.node_map) == set(ex.graph.nodes)
    assert set(folded.node_map.values()) <= set(drawn)


def test_pip_install_ships_the_package():
    """pyproject's package list (what `pip install .` installs) holds autograd_explorer."""
    import tomllib
    from pathlib import Path

    from setuptools import find_packages

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = find_packages(where=str(root), include=include)
    assert "autograd_explorer" in packages and "core" in packages
