"""Any autograd graph, from the user's own code, seen as an
:class:`~core.evaluation.evaluate.Evaluation`.

:func:`from_tensor` wraps an output tensor (a loss from an ``nn.Module``, a notebook
computation) in a :class:`ModelEvaluation`: the same attributes and look-ups that
``core.drawing.graph.build_graph`` and ``core.teaching.trace.record_steps`` read from an
evaluation of a typed
program (``output``, ``inputs``, ``intermediates``, ``records``, ``record_for``,
``leaf_name``), filled from the graph itself and, when the forward pass ran inside
:func:`core.evaluation.model_recording.record`, from what the recorder saw. So the graph, its
values and
gradients, the step-through and the exports work unchanged on any model.

Names: a leaf is named by ``params`` (a dict name -> tensor, or an ``nn.Module`` whose
``named_parameters()`` are used), else by the recorded model's parameters, else
``input``, ``input_2``, ... in the order the graph reaches them. An operation's text is the
module that ran it and the operation, ``layer1.0.conv1 · ConvolutionBackward0``; without a
recording the module is inferred from the parameters the node consumes directly.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.errors import ExpressionError
from core.evaluation.model_recording import ForwardRecord, Recorder
from core.teaching.trace import reachable_nodes

#: the separator between a module path and an operation in node texts
SEPARATOR = " · "


@dataclass(frozen=True)
class _Text:
    """Stands in for a language node: record.node.text / .span, as core.drawing.graph reads them."""

    text: str | None
    span: object | None = None


@dataclass(frozen=True)
class CodeProgram:
    """Stands in for ``core.language.parser.Program`` where the app shows the typed text (deck
    title pages, captions): the graph came from code, so there are no statements."""

    text: str = "# the backward graph of your own PyTorch code (autograd_explorer.explore)"
    statements: tuple = ()
    notes: tuple = ()
    wrt: tuple = ()
    dtype: str | None = None


@dataclass
class ModelRecord:
    """One computed tensor, shaped like ``core.evaluation.evaluate.OpRecord`` (``tensor``,
    ``node.text``,
    ``name``, ``grad_fn``) plus the module that computed it."""

    index: int
    tensor: torch.Tensor
    node: _Text
    grad_fn: object
    module: str = ""
    name: str | None = None
    statement: int = 0


class ModelEvaluation:
    """An evaluation-like view of an arbitrary autograd graph (see the module notes)."""

    def __init__(self, output: torch.Tensor, output_name: str, inputs: dict,
                 records: list[ModelRecord], recorder: Recorder | None = None,
                 function=None, function_inputs=None):
        self.output = output
        self.output_name = output_name
        self.inputs = inputs
        # tensors the user asked to keep a gradient for (retain_grad): the step-through's
        # replay puts their .grad back afterwards, as it does for the leaves'
        self.intermediates: dict[str, torch.Tensor] = {
            f"#{record.index}": record.tensor for record in records
            if record.tensor.grad_fn is not None and record.tensor.retains_grad}
        self.records = records
        self.recorder = recorder
        self.dtype = str(output.dtype).replace("torch.", "")
        self.program = CodeProgram()
        self.grad_output = None  # a single-number output is seeded with 1
        self.specs: dict = {}
        self.warnings: list = []
        self.function = function
        self.function_inputs = function_inputs
        self._leaf_names = {id(t): name for name, t in inputs.items()}
        self._by_grad_fn = {}
        for record in records:
            if record.grad_fn is not None:
                self._by_grad_fn[id(record.grad_fn)] = record
        self.gradients = {}
        self.intermediate_gradients = {}
        self.backward_done = False
        self._nodes = self._texts = self._trace = None
        self._graphs: dict = {}

    def record_for(self, grad_fn) -> ModelRecord | None:
        """The record of the tensor ``grad_fn`` produced, when it is known."""
        return self._by_grad_fn.get(id(grad_fn))

    def leaf_name(self, tensor: torch.Tensor) -> str | None:
        """The name of a leaf tensor (a parameter or an input)."""
        return self._leaf_names.get(id(tensor))

    def module_of(self, grad_fn) -> str:
        """The module path that ran ``grad_fn`` ("" when unknown or outside any module)."""
        record = self.record_for(grad_fn)
        return record.module if record is not None else ""

    @property
    def value(self) -> torch.Tensor:
        """The output's value, detached from the graph."""
        return self.output.detach()

    @property
    def seed(self) -> torch.Tensor:
        """The gradient the backward pass starts from: 1 (the output is a single number)."""
        return torch.ones_like(self.output.detach())

    # the views the app builds, with what a typed program's records would have said ----

    def nodes(self) -> list:
        """Every autograd node reachable from the output."""
        if self._nodes is None:
            fn = self.output.grad_fn
            self._nodes = reachable_nodes(fn) if fn is not None else []
        return self._nodes

    def texts(self) -> dict[int, str]:
        """``id(grad_fn) -> text`` for nodes no record describes (see inferred_texts)."""
        if self._texts is None:
            self._texts = inferred_texts(self.nodes(), self)
        return self._texts

    def record_trace(self):
        """core.teaching.trace's step-through of this graph (cached), with module texts on the steps
        torch made inside a module's functions. Raises ExpressionError when the graph was
        freed by a backward() without retain_graph."""
        if self._trace is None:
            from core.teaching.trace import record_steps

            try:
                trace = record_steps(self)
            except ExpressionError:
                raise ExpressionError(
                    "math", "the backward pass cannot be replayed: a backward() without "
                    "retain_graph=True already freed what the graph saved. Explore before "
                    "calling backward(), or call backward(retain_graph=True)") from None
            texts = self.texts()
            by_id = {str(id(fn)): fn for fn in self.nodes()}
            for step in trace.steps:
                fn = by_id.get(step.node_id)
                if id(fn) in texts and (step.expression is None or step.internal):
                    step.expression, step.internal = texts[id(fn)], False
            self._trace = trace
        return self._trace

    def build_graph(self, *, show_saved: bool = False, show_attrs: bool = False):
        """core.drawing.graph's BackwardGraph of this graph, every operation labelled with its
        module
        and operation, and values and gradients where known: from the recording, from what a
        node saved of its own result, and (the gradient flowing into a node) from the
        engine's replay. The ``.grad`` of tensors that retain_grad() is left as it was."""
        from core.drawing.graph import build_graph

        key = (show_saved, show_attrs)
        if key in self._graphs:  # the window and the API share one (read-only) graph
            return self._graphs[key]
        kept = [(t, t.grad) for t in self.intermediates.values()]
        try:
            graph = build_graph(self, show_saved=show_saved, show_attrs=show_attrs)
        finally:
            # torch.autograd.grad also fills .grad of tensors that retain_grad()
            for tensor, grad in kept:
                tensor.grad = grad
        texts = self.texts()
        try:
            by_node = {step.node_id: step for step in self.record_trace().steps}
        except ExpressionError:
            by_node = {}  # the graph was freed: values only
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
        self._graphs[key] = graph
        return graph


def _saved_result(fn):
    """The tensor a node made, when its backward saved it (exp, sigmoid, tanh, ...)."""
    try:
        value = getattr(fn, "_saved_result", None)
    except RuntimeError:  # freed by a backward without retain_graph
        return None
    return value.detach() if torch.is_tensor(value) else None


def from_tensor(output, params=None, recorder: Recorder | None = None,
                output_name: str = "output", function=None, function_inputs=None
                ) -> ModelEvaluation:
    """Wrap ``output`` and the autograd graph behind it (see the module notes).

    Raises :class:`ExpressionError` when ``output`` is not a tensor with a ``grad_fn`` (or a
    leaf that requires a gradient) or is not a single number.
    """
    if not torch.is_tensor(output):
        raise ExpressionError("value", f"explore() needs a tensor, not {type(output).__name__}")
    if output.grad_fn is None and not output.requires_grad:
        raise ExpressionError("value", "this tensor has no autograd graph (no grad_fn): "
                              "compute it from tensors with requires_grad=True, outside "
                              "torch.no_grad()")
    if output.numel() != 1:
        raise ExpressionError("value", f"the output has shape {tuple(output.shape)}; explore "
                              "needs a single number (a loss): reduce it first, for instance "
                              "with output.sum() or output.mean()")
    names = _parameter_names(params, recorder)
    nodes = reachable_nodes(output.grad_fn) if output.grad_fn is not None else []
    inputs: dict[str, torch.Tensor] = {}
    leaf_names: dict[int, str] = {}
    unnamed = 0
    leaves = [fn.variable for fn in nodes if hasattr(fn, "variable")]
    if output.grad_fn is None:
        leaves = [output]
    for leaf in leaves:
        name = names.get(id(leaf))
        if name is None or name in inputs:
            unnamed += 1
            name = "input" if unnamed == 1 else f"input_{unnamed}"
            while name in inputs:
                unnamed += 1
                name = f"input_{unnamed}"
        inputs[name] = leaf
        leaf_names[id(leaf)] = name
    records = _records(output, nodes, recorder, leaf_names)
    return ModelEvaluation(output, output_name, inputs, records, recorder,
                           function, function_inputs)


def _parameter_names(params, recorder) -> dict[int, str]:
    names: dict[int, str] = {}
    if params is not None:
        if isinstance(params, torch.nn.Module):
            items = params.named_parameters()
        elif isinstance(params, dict):
            items = params.items()
        else:
            raise ExpressionError("value", "params must be a dict name -> tensor or an "
                                  f"nn.Module, not {type(params).__name__}")
        for name, tensor in items:
            if not isinstance(name, str) or not name:
                raise ExpressionError("value", f"params: the name {name!r} is not a text; "
                                      "params maps names (str) to tensors")
            if not torch.is_tensor(tensor):
                raise ExpressionError("value", f"params[{name!r}] is a "
                                      f"{type(tensor).__name__}, not a tensor")
            names.setdefault(id(tensor), name)
    if recorder is not None and not isinstance(recorder, Recorder):
        raise ExpressionError("value", "recorder must be what autograd_explorer.record() "
                              f"returned, not {type(recorder).__name__}")
    if recorder is not None:
        for tensor_id, name in recorder.parameter_names.items():
            names.setdefault(tensor_id, name)
    return names


def _records(output, nodes, recorder, leaf_names) -> list[ModelRecord]:
    """Records of the tensors in the graph: the recorder's (in forward order) for the nodes
    it saw, and for the output; without a recording, texts inferred from parameter names."""
    in_graph = {id(fn) for fn in nodes}
    records: list[ModelRecord] = []
    covered: set[int] = set()
    if recorder is not None:
        for forward in recorder.records:
            fn = forward.grad_fn
            if id(fn) not in in_graph:
                continue  # computed, but the output does not depend on it
            records.append(_from_forward(len(records), forward))
            covered.add(id(fn))
    if output.grad_fn is not None and id(output.grad_fn) not in covered:
        text = _inferred_text(output.grad_fn, leaf_names) or type(output.grad_fn).__name__
        records.append(ModelRecord(len(records), output, _Text(text), output.grad_fn,
                                   text.split(SEPARATOR)[0] if SEPARATOR in text else ""))
    return records


def inferred_texts(nodes, evaluation) -> dict[int, str]:
    """``id(grad_fn) -> "fc1 · AddmmBackward0"`` for nodes no record describes: the module
    whose call made them (from the recording), else the module owning the parameters they
    consume directly (how nodes are labelled without a recording)."""
    leaf_names = {id(t): name for name, t in evaluation.inputs.items()}
    recorder = getattr(evaluation, "recorder", None)
    owners = recorder.node_modules() if recorder is not None else {}
    texts = {}
    for fn in nodes:
        if hasattr(fn, "variable") or evaluation.record_for(fn) is not None:
            continue
        module = owners.get(id(fn), "")
        owner = _module_from_parameters(fn, leaf_names)
        if owner.startswith(module + ".") or not module:
            module = owner  # the module whose weights it uses (out_proj inside self_attn)
        text = f"{module}{SEPARATOR}{type(fn).__name__}" if module else ""
        if text:
            texts[id(fn)] = text
    return texts


def _inferred_text(fn, leaf_names) -> str:
    module = _module_from_parameters(fn, leaf_names)
    return f"{module}{SEPARATOR}{type(fn).__name__}" if module else ""


def _from_forward(index: int, forward: ForwardRecord) -> ModelRecord:
    op = type(forward.grad_fn).__name__
    # outside any module the torch function says enough (the operation is drawn above it)
    text = f"{forward.module}{SEPARATOR}{op}" if forward.module else forward.function
    return ModelRecord(index, forward.tensor, _Text(text), forward.grad_fn, forward.module)


def _module_from_parameters(fn, leaf_names) -> str:
    """The module owning the parameters ``fn`` consumes directly (``fc1`` for fc1.weight)."""
    owners = set()
    for child, _ in fn.next_functions:
        variable = getattr(child, "variable", None)
        name = leaf_names.get(id(variable)) if variable is not None else None
        if name and "." in name:
            owners.add(name.rsplit(".", 1)[0])
    return owners.pop() if len(owners) == 1 else ""

