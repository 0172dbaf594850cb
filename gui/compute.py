"""The jobs the window runs on worker threads, and the plain data they hand back.

:func:`compute` parses, evaluates and differentiates; it returns a :class:`ComputeResult`
whose numbers are already plain Python data, so the GUI thread never touches torch.
:func:`warm_up` imports torch and the evaluator (about 1.5 s) while the window is already
on screen. Nothing here imports Qt.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.language.parser import parse
from core.language.values import VariableSpec

#: the words the window uses for v, in its field and in its errors
GRAD_OUTPUT_LABEL = "gradient of the output, v (as in y.backward(v))"


@dataclass
class Quantity:
    """One row of the results: a value and (if it has one) its gradient, as plain data."""

    name: str
    role: str  # "output", "input" or "intermediate"
    value: object
    grad: object = None
    shape: tuple = ()
    requires_grad: bool = True


@dataclass
class ComputeResult:
    """What one compute produced: the evaluation (for the graph, steps and checks) and
    its numbers as plain data."""

    text: str
    dtype: str
    evaluation: object
    output_name: str
    quantities: list[Quantity] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    trace: object = None  # core.teaching.trace.Trace of the backward pass, for the step exports
    #: the same steps written out as text (gui.step_view.StepView), for the Steps panel
    steps: object = None
    #: True until the steps are recorded and written out: the window draws the graph first
    #: and prepares them on a worker afterwards (:func:`prepare_steps`); False when they are
    #: ready, or when there are none (nothing needs a gradient)
    steps_pending: bool = False
    #: why the steps could not be prepared (a limit reached while recording), else None
    steps_error: str | None = None
    notes: list[str] = field(default_factory=list)  # Program.notes: what a pasted cell set aside
    #: name -> ((value shown, value full), (gradient shown, gradient full)): the results
    #: table's texts, formatted here on the worker so the GUI thread only places them
    cells: dict = field(default_factory=dict)
    #: the graph node id (str(id(grad_fn))) of each forward record, in order: lets a check
    #: run on its own evaluation point at this evaluation's nodes
    record_node_ids: list = field(default_factory=list)
    #: the values (name -> VariableSpec) it was computed from
    variables: dict = field(default_factory=dict)
    #: the v of ``y.backward(v)`` as plain data, when the output has several entries (the
    #: gradients are then vᵀJ); None for an output of one number (seeded with 1)
    grad_output: object = None
    #: the output's shape (the v field offers ones of it)
    output_shape: tuple = ()

    def quantity(self, name: str) -> Quantity | None:
        """The row called ``name``, if any."""
        return next((q for q in self.quantities if q.name == name), None)

    @property
    def value(self):
        """The output's value as a number or nested list."""
        return self.quantities[0].value


def cell_texts(q: Quantity) -> tuple[tuple[str, str], tuple[str, str]]:
    """The results table's (shown, full) texts of a quantity's value and gradient."""
    from gui.summary import format_cell, format_data

    return ((format_cell(q.value), format_data(q.value)),
            (format_cell(q.grad), format_data(q.grad)))


def warm_up() -> str:
    """Import torch, the evaluator and the graph modules, and run one tiny computation (a
    first torch operation costs about 0.5 s of one-time setup); returns torch's version.
    Runs on a worker thread while the status bar says "Loading torch…"."""
    from gui.torch_preload import preload_torch_libraries

    preload_torch_libraries()  # the heavy part, with the GIL released: the window stays live
    import torch

    from gui import graph_source  # noqa: F401 - imports core.drawing.graph and core.drawing.render now

    result = compute("y = exp(3*x + cos(x)) * x**2 + sin(2*x)", {"x": 1.0}, "float32")
    prepare_steps(result.evaluation)
    return torch.__version__


def compute(text: str, variables: dict[str, VariableSpec], dtype: str,
            program=None, grad_output=None) -> ComputeResult:
    """Parse ``text`` (unless ``program``, its parse, is given: the window has it already,
    and a long text takes a worker hundreds of ms to read again), evaluate it with
    ``variables`` and run backward.

    An output of several entries is differentiated as torch's ``y.backward(v)``: with
    ``grad_output`` (a number, nested list or :class:`core.language.values.Filled`) as v, or
    ones of the output's shape when it is None; every gradient is then vᵀJ.
    Raises :class:`~core.errors.ExpressionError` for anything the user can fix.
    """
    from core.evaluation.evaluate import evaluate
    from gui.summary import display_data as tensor_to_data  # large tensors: corners only
    from gui.summary import format_cell, format_data

    if program is None:
        program = parse(text)
    evaluation = evaluate(program, variables, dtype, grad_output=grad_output,
                          any_output=True, where=GRAD_OUTPUT_LABEL)
    result = ComputeResult(text, dtype, evaluation, evaluation.output_name)
    result.variables = dict(variables)
    result.output_shape = tuple(evaluation.output.shape)
    seed = 1.0
    if evaluation.grad_output is not None:
        seed = result.grad_output = tensor_to_data(evaluation.grad_output)
    result.quantities.append(Quantity(
        evaluation.output_name, "output", tensor_to_data(evaluation.value),
        seed if evaluation.output.requires_grad else None, tuple(evaluation.output.shape)))
    for name, tensor in evaluation.inputs.items():
        result.quantities.append(Quantity(
            name, "input", tensor_to_data(tensor), tensor_to_data(evaluation.gradients.get(name)),
            tuple(tensor.shape), tensor.requires_grad))
    for name, tensor in evaluation.intermediates.items():
        if tensor is evaluation.output:
            continue
        result.quantities.append(Quantity(
            name, "intermediate", tensor_to_data(tensor),
            tensor_to_data(evaluation.intermediate_gradients.get(name)), tuple(tensor.shape),
            tensor.requires_grad))
    # formatted here, not through cell_texts: an import statement run 4,000 times goes
    # through PySide6's import hook each time, Python work that holds the GIL
    result.cells = {q.name: ((format_cell(q.value), format_data(q.value)),
                             (format_cell(q.grad), format_data(q.grad)))
                    for q in result.quantities}
    result.warnings = [str(w) for w in evaluation.warnings]
    if evaluation.grad_output is not None:
        from core.serialize import format_tensor

        y = evaluation.output_name
        result.warnings.insert(0, (
            f"{y} has several entries, so it is differentiated as torch's {y}.backward(v), "
            f"v = {format_tensor(evaluation.grad_output, max_entries=8)}: each gradient is "
            f"vᵀJ, the gradient of the number vᵀ{y} = sum(v * {y}) (change v under the "
            "variables)"))
    result.notes = list(program.notes)
    result.record_node_ids = [str(id(r.tensor.grad_fn)) if r.tensor.grad_fn is not None
                              else None for r in evaluation.records]
    # the steps (a second, hooked backward pass and every step's text: seconds on a graph of
    # thousands of nodes) are prepared after the graph is drawn, by prepare_steps
    result.steps_pending = bool(evaluation.output.requires_grad)
    return result


@dataclass
class PreparedSteps:
    """The recorded backward pass of one result and its text for the Steps panel."""

    trace: object
    steps: object


def prepare_steps(evaluation, trace=None) -> PreparedSteps:
    """Record the engine-order backward steps of ``evaluation`` (unless ``trace`` already
    holds them) and write every step out as text (gui.step_view.StepView). Runs on a
    worker after the graph is on screen: on a graph of thousands of nodes this is most of
    the work, and the first picture does not wait for it."""
    from core.teaching.trace import record_steps
    from gui.step_view import StepView

    if trace is None:
        trace = record_steps(evaluation)
    return PreparedSteps(trace, StepView.from_trace(trace, evaluation))


@dataclass
class CheckOutcome:
    """A gradient check of one computed result: the report, and the forward record where
    NaN/infinity started (None if nowhere or not on a record), to map onto the drawn graph."""

    report: object
    origin_record: int | None = None


def check(program, specs: dict, dtype: str, reference: dict | None,
          cancel_event=None, grad_output=None) -> CheckOutcome:
    """Check the gradients of ``program`` at ``specs`` (core.check) on a fresh evaluation of
    its own: the window's evaluation may be in use by the drawing or an export meanwhile,
    and a check runs extra backward passes with hooks, so it must not share tensors.
    ``grad_output``: the v the result was computed with (an output of several entries),
    whose gradients are those of the number vᵀy, which the check then differentiates."""
    from core.check import check_gradients
    from core.evaluation.evaluate import evaluate

    evaluation = evaluate(program, specs, dtype, grad_output=grad_output, any_output=True,
                          where=GRAD_OUTPUT_LABEL)
    gradients = evaluation.gradients
    if evaluation.grad_output is not None:
        # the number vᵀy (core.check.vjp): its records start with this program's, in order,
        # so a NaN origin's record index below maps onto the drawn graph as well
        from core.check.vjp import scalar_evaluation
        evaluation = scalar_evaluation(evaluation)
    # a cancelled check stops its SymPy process at once (core.sandbox)
    report = check_gradients(evaluation, reference=reference, gradients=gradients,
                             cancel=cancel_event)
    index = None
    origin = report.nonfinite
    if origin is not None and origin.node_id:
        index = next((r.index for r in evaluation.records if r.tensor.grad_fn is not None
                      and str(id(r.tensor.grad_fn)) == origin.node_id), None)
    return CheckOutcome(report, index)
