"""The public API: :func:`explore` a tensor from your own PyTorch code.

``explore(loss)`` wraps the autograd graph behind ``loss`` (core.model_evaluation) and gives
the app's views of it: :attr:`Exploration.graph` (core.graph's BackwardGraph, every node
labelled with its module and operation, values and gradients where known),
:meth:`Exploration.steps` (the ``steps --json`` object), :meth:`render`, :meth:`save_html`,
inline display in Jupyter, and :meth:`show` (the desktop window).
"""
from __future__ import annotations

from pathlib import Path

import torch

from core import model_evaluation
from core.errors import ExpressionError
from core.model_recording import Recorder, latest_recorder


def explore(output, params=None, *, name: str = "output", recorder: Recorder | None = None
            ) -> Exploration:
    """Explore the backward graph of ``output``.

    ``output`` is a single-number tensor with a ``grad_fn`` (a loss). ``params`` names the
    leaves: a dict name -> tensor (as torchviz's ``make_dot(y, params=...)``) or an
    ``nn.Module`` (its ``named_parameters()``). If the forward pass ran inside
    :func:`autograd_explorer.record`, that recording supplies module names and values (the
    latest recording is used when it saw ``output`` being made, or pass ``recorder``).

    ``explore(fn, inputs)`` with a callable (a function or an ``nn.Module``) and a tuple of
    input tensors runs ``fn(*inputs)`` inside a recording, and also lets the Check tab compare
    with finite differences by calling ``fn`` again.
    """
    if callable(output) and not torch.is_tensor(output):
        return _explore_callable(output, params, name)
    if recorder is None:
        recorder = _recorder_that_saw(output)
    evaluation = model_evaluation.from_tensor(output, params, recorder, output_name=name)
    return Exploration(evaluation)


def _explore_callable(function, inputs, name: str) -> Exploration:
    from core.model_recording import record

    if inputs is None:
        inputs = ()
    elif torch.is_tensor(inputs):
        inputs = (inputs,)
    inputs = tuple(inputs)
    model = function if isinstance(function, torch.nn.Module) else None
    with record(model) as recorder:
        output = function(*inputs)
    params = dict(model.named_parameters()) if model is not None else {}
    for index, tensor in enumerate(inputs):
        if torch.is_tensor(tensor) and tensor.requires_grad:
            params.setdefault(f"inputs[{index}]", tensor)
    evaluation = model_evaluation.from_tensor(output, params, recorder, output_name=name,
                                              function=function, function_inputs=inputs)
    return Exploration(evaluation)


def _recorder_that_saw(output) -> Recorder | None:
    recorder = latest_recorder()
    if recorder is None or output.grad_fn is None:
        return None
    made = {id(r.grad_fn) for r in recorder.records}
    return recorder if id(output.grad_fn) in made else None


class Exploration:
    """One explored graph: the app's graph, steps, drawings and web page for it."""

    def __init__(self, evaluation):
        self.evaluation = evaluation
        self._graph = None
        self._trace = None

    @property
    def output(self) -> torch.Tensor:
        """The explored tensor."""
        return self.evaluation.output

    @property
    def parameters(self) -> dict[str, torch.Tensor]:
        """The graph's leaves (the tensors that get a gradient), by name."""
        return dict(self.evaluation.inputs)

    @property
    def trace(self):
        """The backward pass as torch's engine runs it (core.trace.Trace)."""
        if self._trace is None:
            from core.trace import record_steps

            trace = record_steps(self.evaluation)
            texts = self._texts()
            for step in trace.steps:
                fn = self._fns.get(step.node_id)
                if id(fn) in texts and (step.expression is None or step.internal):
                    step.expression, step.internal = texts[id(fn)], False
            self._trace = trace
        return self._trace

    @property
    def graph(self):
        """The backward graph (core.graph.BackwardGraph), annotated."""
        if self._graph is None:
            from core.graph import build_graph

            graph = build_graph(self.evaluation)
            texts = self._texts()
            by_node = {step.node_id: step for step in self.trace.steps}
            for node in graph.nodes.values():
                if node.kind != "op":
                    continue
                fn = node.grad_fn
                if node.expression is None and id(fn) in texts:
                    node.expression = texts[id(fn)]
                if node.value is None:
                    node.value = _saved_result(fn)
                    if node.value is not None:
                        node.shape = tuple(node.value.shape)
                step = by_node.get(node.id)
                if node.grad is None and step is not None and len(step.grad_in) == 1 \
                        and step.grad_in[0] is not None and node.op != "AccumulateGrad":
                    # what flowed into the node: the gradient of the tensor it produced
                    node.grad = step.grad_in[0]
            self._graph = graph
        return self._graph

    def _texts(self) -> dict[int, str]:
        if not hasattr(self, "_text_cache"):
            from core.trace import reachable_nodes

            output = self.evaluation.output
            nodes = reachable_nodes(output.grad_fn) if output.grad_fn is not None else []
            self._text_cache = model_evaluation.inferred_texts(nodes, self.evaluation)
            self._fns = {str(id(fn)): fn for fn in nodes}
        return self._text_cache

    def steps(self) -> dict:
        """The backward pass as ``main.py steps --json`` prints it:
        ``{"steps": [...], "leaves": {...}, "forward": [...]}``."""
        return self.trace.to_dict()

    def render(self, path, *, annotate: str = "all", rankdir: str = "TB",
               theme: str = "screen", dpi: int = 96) -> Path:
        """Draw the annotated graph to ``path`` (.svg, .png or .pdf, from the suffix)."""
        from core.render import RenderOptions, render

        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("svg", "png", "pdf"):
            raise ExpressionError("value", f"cannot tell the format of '{path.name}': "
                                  "use a name ending in .svg, .png or .pdf")
        data = render(self.graph, RenderOptions(annotate=annotate, rankdir=rankdir,
                                                theme=theme, dpi=dpi), fmt)
        path.write_bytes(data)
        return path

    def save_html(self, path) -> Path:
        """Write the interactive web page (one self-contained HTML file) to ``path``."""
        from core.html_export import export_html

        path = Path(path)
        path.write_text(export_html(self.graph, self.trace), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        from core.html_export import export_html

        return export_html(self.graph, self.trace, embedded=True)

    def show(self) -> None:
        """Open the desktop window on this graph and wait until it is closed (like
        matplotlib's ``plt.show()``)."""
        from gui.external import show_exploration

        show_exploration(self)

    def __repr__(self) -> str:
        graph = self._graph
        size = f"{len(graph.nodes)} nodes" if graph is not None else "graph not built yet"
        return (f"<Exploration of {self.evaluation.output_name} "
                f"({len(self.evaluation.inputs)} leaves, {size})>")


def _saved_result(fn):
    """The tensor a node made, when its backward saved it (exp, sigmoid, tanh, ...)."""
    try:
        value = getattr(fn, "_saved_result", None)
    except RuntimeError:  # freed by a backward without retain_graph
        return None
    return value.detach() if torch.is_tensor(value) else None
