"""The public API: :func:`explore` a tensor from your own PyTorch code.

``explore(loss)`` wraps the autograd graph behind ``loss`` (core.evaluation.model_evaluation) and
gives
the app's views of it: :attr:`Exploration.graph` (core.drawing.graph's BackwardGraph, every node
labelled with its module and operation, values and gradients where known),
:meth:`Exploration.steps` (the ``steps --json`` object), :meth:`render`, :meth:`save_html`,
inline display in Jupyter, and :meth:`show` (the desktop window).
"""
from __future__ import annotations

from pathlib import Path

import torch

from core.errors import ExpressionError
from core.evaluation import model_evaluation
from core.evaluation.model_recording import Recorder, latest_recorder


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
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise ExpressionError("value", f"name must be a short text (at most {MAX_NAME_CHARS} "
                              f"characters), not {_describe(name)}")
    if callable(output) and not torch.is_tensor(output):
        return _explore_callable(output, params, name)
    if recorder is None:
        recorder = _recorder_that_saw(output)
    evaluation = model_evaluation.from_tensor(output, params, recorder, output_name=name)
    return Exploration(evaluation)


def _explore_callable(function, inputs, name: str) -> Exploration:
    from core.evaluation.model_recording import record

    if inputs is None:
        inputs = ()
    elif torch.is_tensor(inputs):
        inputs = (inputs,)
    if not isinstance(inputs, (tuple, list)):
        raise ExpressionError("value", "explore(fn, inputs): inputs must be a tensor or a "
                              f"tuple of them, not {type(inputs).__name__}")
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


#: characters of an explored output's name (it labels the graph and the steps)
MAX_NAME_CHARS = 200


def _describe(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"


def _file_path(path, what: str) -> Path:
    """``path`` as a Path, or one clear error for anything that is not a file name."""
    if isinstance(path, (str, Path)) and str(path).strip():
        return Path(path)
    raise ExpressionError("value", f"{what} needs a file name (a str or Path), not "
                          f"{_describe(path)}")


def _recorder_that_saw(output) -> Recorder | None:
    recorder = latest_recorder()
    if recorder is None or not torch.is_tensor(output) or output.grad_fn is None:
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
        """The backward pass as torch's engine runs it (core.teaching.trace.Trace)."""
        if self._trace is None:
            self._trace = self.evaluation.record_trace()
        return self._trace

    @property
    def graph(self):
        """The backward graph (core.drawing.graph.BackwardGraph), annotated."""
        if self._graph is None:
            self._graph = self.evaluation.build_graph()
        return self._graph

    def steps(self) -> dict:
        """The backward pass as ``main.py steps --json`` prints it:
        ``{"steps": [...], "leaves": {...}, "forward": [...]}``."""
        return self.trace.to_dict()

    def render(self, path, *, annotate: str = "all", rankdir: str = "TB",
               theme: str = "screen", dpi: int = 96, folded: bool | None = None) -> Path:
        """Draw the annotated graph to ``path`` (.svg, .png or .pdf, from the suffix);
        graphs above a few hundred nodes are drawn folded by module unless ``folded`` is
        False (the whole graph: Graphviz may take minutes)."""
        from core.drawing import folding
        from core.drawing.render import RenderOptions, render

        path = _file_path(path, "render()")
        if folded is not None and not isinstance(folded, bool):
            raise ExpressionError("value", f"folded must be True, False or None, not "
                                  f"{_describe(folded)}")
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("svg", "png", "pdf"):
            raise ExpressionError("value", f"cannot tell the format of '{path.name}': "
                                  "use a name ending in .svg, .png or .pdf")
        graph = self.graph
        if folded is not False:
            fold = folding.auto_fold(graph, target=folding.TARGET_NODES) if folded is None \
                else folding.auto_fold(graph, target=folding.TARGET_NODES, force=True)
            graph = fold.graph if fold is not None else graph
        data = render(graph, RenderOptions(annotate=annotate, rankdir=rankdir,
                                           theme=theme, dpi=dpi), fmt)
        from core.safe_io import atomic_write
        atomic_write(path, data)  # never half a file, never into a pipe or a device
        return path

    def save_html(self, path) -> Path:
        """Write the interactive web page (one self-contained HTML file) to ``path``."""
        from core.teaching.html_export import write_html

        path = _file_path(path, "save_html()")
        write_html(path, self.graph, self.trace)
        return path

    def _repr_html_(self) -> str:
        import html

        from core.teaching.html_export import export_html

        try:
            return export_html(self.graph, self.trace, embedded=True)
        except ExpressionError as err:  # no Graphviz, a freed graph: say so, inline
            return f"<p><b>Autograd Explorer:</b> {html.escape(err.message)}</p>"

    def show(self, block: bool = True):
        """Open the desktop window on this graph (graph, Node, Steps and Check panels) and
        wait until it is closed, like matplotlib's ``plt.show()``; with ``block=False``
        return the window at once (for a running Qt event loop)."""
        from gui.external import show_exploration

        return show_exploration(self, block=block)

    def __repr__(self) -> str:
        graph = self._graph
        size = f"{len(graph.nodes)} nodes" if graph is not None else "graph not built yet"
        return (f"<Exploration of {self.evaluation.output_name} "
                f"({len(self.evaluation.inputs)} leaves, {size})>")
