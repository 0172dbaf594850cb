"""Run a parsed :class:`~core.language.parser.Program` with torch.autograd.

:func:`forward` builds the autograd graph from the user's values and records every tensor
it creates, in order, with the piece of text it came from; :func:`backward` runs
``output.backward()`` and collects the gradients of the inputs and of every named
intermediate; :func:`evaluate` does both. The interpreter walks only the language's own
node types (never Python's AST, never ``eval``), checks the size bounds before each
operation allocates, and stops at the time bound.
"""
from __future__ import annotations

import contextlib
import math
import operator
import time
from dataclasses import dataclass, field

import torch

from core import limits
from core.errors import ExpressionError, LimitError, Span
from core.evaluation import cost, in_place, ops, ops_more
from core.evaluation.deadline import backward_deadline
from core.language import cuts
from core.language.functions import FUNCTIONS
from core.language.parser import BinaryOp, Call, Literal, Name, Node, Number, Program, UnaryOp
from core.language.values import Filled, VariableSpec, check_value, format_shape
from core.serialize import format_inline

_TORCH_OPERATORS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "**": operator.pow, "@": operator.matmul, "//": operator.floordiv, "%": operator.mod,
}
#: ``a // b`` and ``a % b`` are calls of these (core.language.syntax_more)
_PYTHON_ON_NUMBERS = {"floor_divide": "//", "remainder": "%", "pow": "**"}


@dataclass(frozen=True)
class Notice:
    """A warning about a result (NaN, infinity, an unused input) with where it arose."""

    message: str
    span: Span | None = None
    kind: str = "warning"

    def __str__(self) -> str:
        return f"{self.span.describe()}: {self.message}" if self.span else self.message


@dataclass
class OpRecord:
    """One tensor the program computed, in forward order, and the text that made it."""

    index: int
    tensor: torch.Tensor
    node: Node
    statement: int
    name: str | None = None

    @property
    def grad_fn(self):
        """The autograd node that made this tensor (None for leaves and constants)."""
        return self.tensor.grad_fn


@dataclass
class Evaluation:
    """Everything one run produced: inputs, output, named intermediates, the forward
    record of every operation, gradients after :func:`backward`, and warnings."""

    program: Program
    dtype: str
    specs: dict[str, VariableSpec]
    inputs: dict[str, torch.Tensor]
    output: torch.Tensor
    output_name: str
    intermediates: dict[str, torch.Tensor]
    records: list[OpRecord]
    warnings: list[Notice] = field(default_factory=list)
    gradients: dict[str, torch.Tensor] = field(default_factory=dict)
    intermediate_gradients: dict[str, torch.Tensor] = field(default_factory=dict)
    backward_done: bool = False
    #: where the program stops a gradient (core.language.cuts.Cut: detach, no_grad), in order
    cuts: list = field(default_factory=list)
    #: id of a tensor the program computed -> the cuts whose values it used
    cut_uses: dict = field(default_factory=dict)
    #: (span, text) of the language node that made a leaf in the text -> that leaf's input
    #: name (a key that survives pickling, for the symbolic check's separate process)
    made_leaves: dict = field(default_factory=dict)
    #: v of ``backward(gradient=v)`` for an output with several entries (None: a single
    #: number, seeded with 1)
    grad_output: torch.Tensor | None = None
    #: estimated multiply-adds of one forward and one backward pass (core.evaluation.cost):
    #: what the views multiply by their number of passes before running any of them
    forward_work: int = 0
    backward_work: int = 0

    def __post_init__(self):
        self._by_grad_fn = {}
        for record in self.records:
            fn = record.tensor.grad_fn
            # the last record made by a node wins: a name given to the statement's value
            if fn is not None:
                previous = self._by_grad_fn.get(id(fn))
                if previous is None or record.name or not previous.name:
                    self._by_grad_fn[id(fn)] = record
        self._leaf_names = {id(t): name for name, t in self.inputs.items()}

    def record_for(self, grad_fn) -> OpRecord | None:
        """The forward record of the tensor ``grad_fn`` produced, if the program made it."""
        return self._by_grad_fn.get(id(grad_fn))

    def leaf_name(self, tensor: torch.Tensor) -> str | None:
        """The input name of a leaf tensor, if it is one of the program's inputs."""
        return self._leaf_names.get(id(tensor))

    @property
    def seed(self) -> torch.Tensor:
        """The gradient the backward pass starts from: ``grad_output``, else ones."""
        return backward_seed(self)

    @property
    def value(self) -> torch.Tensor:
        """The output's value, detached from the graph."""
        return self.output.detach()


def backward_seed(evaluation) -> torch.Tensor:
    """The gradient a backward pass over ``evaluation`` starts from: its ``grad_output``
    (the v of ``backward(gradient=v)``) when it has one, else ones shaped like the output.
    Works for any object with an ``output`` (the model API's evaluations too)."""
    v = getattr(evaluation, "grad_output", None)
    return v if v is not None else torch.ones_like(evaluation.output.detach())


def evaluate(program: Program, variables, dtype: str = "float32", *,
             grad_output=None, any_output: bool = False,
             where: str = "--grad-output") -> Evaluation:
    """Build the graph for ``program`` with ``variables`` and run the backward pass.

    ``grad_output`` (a number or nested list shaped like the output) lets the output have
    several entries: the backward pass is ``backward(gradient=v)``, which gives every input
    the vector-Jacobian product vᵀJ. With ``any_output`` (the window) an output of several
    entries is accepted even without a v: it is seeded with ``grad_output`` or, when that is
    None, with ones of its shape, as ``y.backward(torch.ones_like(y))``; an output of one
    number is seeded with 1 and ``grad_output`` is not used. ``where`` names the place v
    was typed, for its errors.
    """
    written = getattr(program, "grad_output", None)  # a pasted cell's y.backward(v)
    if grad_output is None and written is not None:
        grad_output = None if written == "ones" else written
        any_output = True
    evaluation = forward(program, variables, dtype,
                         allow_vector_output=grad_output is not None or any_output)
    if any_output and evaluation.output.numel() == 1:
        grad_output = None
    elif any_output or grad_output is not None:
        from core.views.jacobian import grad_output_tensor
        evaluation.grad_output = grad_output_tensor(evaluation, grad_output, where)
    backward(evaluation)
    return evaluation


def forward(program: Program, variables, dtype: str = "float32", *,
            allow_vector_output: bool = False) -> Evaluation:
    """Build the autograd graph; ``variables`` is a dict name -> VariableSpec (or a list).

    Raises :class:`ExpressionError` for missing values, shape mismatches, bounds exceeded,
    and a non-scalar output (unless ``allow_vector_output``: the Jacobian view differentiates
    a vector output itself and never calls :func:`backward` on it).
    """
    if dtype not in ops.DTYPES:
        raise ExpressionError("value", f"unknown dtype '{dtype}'; choose float32 or float64")
    torch_dtype = ops.DTYPES[dtype]
    # inputs a pasted cell defines (w = torch.ones(1, requires_grad=True)) have default
    # values in the program; a value given by the caller replaces them
    specs = {**program.defaults, **_spec_dict(variables)}
    inputs: dict[str, torch.Tensor] = {}
    first_use = _first_uses(program)
    for name in program.free_names:
        spec = specs.get(name)
        if spec is None:
            raise ExpressionError("name", f"'{name}' has no value: give it one in the "
                                  f"variables table (or --var {name}=1)", first_use.get(name))
        value = check_value(spec.value, where=name)
        inputs[name] = value.to_tensor(torch_dtype, spec.requires_grad) \
            if isinstance(value, Filled) else \
            torch.tensor(value, dtype=torch_dtype, requires_grad=spec.requires_grad)
    interpreter = _Interpreter(torch_dtype, dict(inputs))
    changed_in_place = []  # (statement, old, new) of each y += e on a tensor
    with torch.enable_grad():
        for index, statement in enumerate(program.statements):
            interpreter.statement_index = index
            old = interpreter.env.get(statement.target) if statement.augmented else None
            with torch.no_grad() if statement.no_grad else contextlib.nullcontext():
                result = interpreter.value_of(statement.expr)
            if isinstance(old, torch.Tensor):
                in_place.check(statement, old, result, interpreter.env)
                changed_in_place.append((statement, old, result))
            if statement.no_grad:
                interpreter.shadow(statement, result)
                if isinstance(old, torch.Tensor) and old.requires_grad:
                    # torch.no_grad(): y += e changes y's values but keeps y's graph
                    result = interpreter.record_value(statement.expr,
                                                      in_place.keep_graph(old, result))
            if statement.target:
                interpreter.name_result(statement.target, result, statement)
    output = interpreter.last_value
    in_place.check_saved(output, changed_in_place)
    output_name = program.output_name or "output"
    if not isinstance(output, torch.Tensor):
        output = torch.tensor(float(output), dtype=torch_dtype)
    if output.numel() != 1 and not allow_vector_output:
        raise ExpressionError(
            "output", f"the output{' ' + output_name if program.output_name else ''} has shape "
            f"{format_shape(output.shape)}, but "
            "a gradient needs a single number: wrap it in sum(...), mean(...) or norm(...), "
            "or choose the v of backward(gradient=v) (--grad-output, or the Jacobian tab of "
            "the Views dock)",
            program.output.span)
    made = interpreter.leaves_made()
    inputs.update((name, tensor) for name, _node, tensor in made)
    intermediates = {name: value for name, value in interpreter.env.items()
                     if isinstance(value, torch.Tensor) and name not in inputs}
    evaluation = Evaluation(program=program, dtype=dtype, specs=specs, inputs=inputs,
                            output=output, output_name=output_name,
                            intermediates=intermediates, records=interpreter.records,
                            made_leaves={(node.span, node.text): name
                                         for name, node, _tensor in made})
    evaluation.cuts, evaluation.cut_uses = interpreter.cuts, interpreter.cut_uses
    evaluation.forward_work = interpreter.forward_work
    evaluation.backward_work = interpreter.backward_work
    cuts.register_records(evaluation, interpreter.shadow_records)
    evaluation.warnings.extend(interpreter.notices)
    evaluation.warnings.extend(_non_finite_warnings(evaluation))
    if not output.requires_grad:
        evaluation.warnings.append(Notice(
            "the output does not depend on any input that needs a gradient, so there are "
            "no gradients to show", program.output.span, "info"))
    return evaluation


def backward(evaluation: Evaluation) -> None:
    """Run ``output.backward(gradient=seed, retain_graph=True)`` and collect every gradient.

    The graph is retained so saved tensors can still be shown and the step-through can
    replay the pass. Named intermediates keep their gradients (``retain_grad``).
    """
    if evaluation.backward_done:
        return
    output = evaluation.output
    for tensor in evaluation.intermediates.values():
        if tensor.requires_grad and tensor.grad_fn is not None:
            tensor.retain_grad()
    if output.requires_grad:
        for tensor in evaluation.inputs.values():
            tensor.grad = None
        with backward_deadline(output, limits.MAX_BACKWARD_SECONDS):
            output.backward(gradient=evaluation.seed, retain_graph=True)
    for name, tensor in evaluation.inputs.items():
        if not tensor.requires_grad:
            continue
        if tensor.grad is None:
            evaluation.gradients[name] = torch.zeros_like(tensor)
            evaluation.warnings.append(Notice(
                f"{evaluation.output_name} does not depend on {name}: its gradient is 0",
                None, "info"))
        else:
            evaluation.gradients[name] = tensor.grad.detach().clone()
    for name, tensor in evaluation.intermediates.items():
        if tensor.requires_grad:
            grad = tensor.grad if tensor.grad_fn is not None else None
            if tensor is output:
                grad = evaluation.seed
            if grad is not None:
                evaluation.intermediate_gradients[name] = grad.detach().clone()
    if getattr(evaluation.program, "backward_calls", None):
        from core.evaluation.repeated_backward import (
            replay_notes,  # a pasted cell's second backward()
        )
        evaluation.warnings.extend(Notice(note, None, "note") for note in replay_notes(
            evaluation.program, evaluation.specs, evaluation.dtype))
    for name, grad in evaluation.gradients.items():
        if not torch.isfinite(grad).all():
            evaluation.warnings.append(Notice(
                f"the gradient of {name} contains NaN or infinity", None, "nan"))
    evaluation.backward_done = True


def replay(program: Program, inputs: dict, dtype: str = "float32"):
    """Run ``program`` again on tensors the caller made (dual numbers for forward mode,
    tensors a torch.func transform wraps): returns ``(output, records)``.

    The same interpreter, bounds and errors as :func:`forward`; nothing is recorded in an
    Evaluation and the output may have any shape.
    """
    if dtype not in ops.DTYPES:
        raise ExpressionError("value", f"unknown dtype '{dtype}'; choose float32 or float64")
    interpreter = _Interpreter(ops.DTYPES[dtype], dict(inputs))
    with torch.enable_grad():
        for index, statement in enumerate(program.statements):
            interpreter.statement_index = index
            result = interpreter.value_of(statement.expr)
            if statement.target:
                interpreter.name_result(statement.target, result, statement)
    output = interpreter.last_value
    if not isinstance(output, torch.Tensor):
        output = torch.tensor(float(output), dtype=ops.DTYPES[dtype])
    return output, interpreter.records


def _spec_dict(variables) -> dict[str, VariableSpec]:
    if variables is None:
        return {}
    if isinstance(variables, dict):
        out = {}
        for name, spec in variables.items():
            out[name] = spec if isinstance(spec, VariableSpec) else VariableSpec(name, spec)
        return out
    return {spec.name: spec for spec in variables}


def _first_uses(program: Program) -> dict[str, Span]:
    found: dict[str, Span] = {}
    for statement in program.statements:
        stack = [statement.expr]
        while stack:
            node = stack.pop()
            if isinstance(node, Name):
                found.setdefault(node.name, node.span)
            elif isinstance(node, BinaryOp):
                stack.extend((node.right, node.left))
            elif isinstance(node, UnaryOp):
                stack.append(node.operand)
            elif isinstance(node, Call):
                stack.extend(reversed(node.args))
    return found


def _non_finite_warnings(evaluation: Evaluation) -> list[Notice]:
    """Name the first operation whose value is NaN or infinite (inputs are always finite)."""
    for record in evaluation.records:
        values = record.tensor.detach()
        if values.is_floating_point() and not torch.isfinite(values).all():
            what = "NaN" if torch.isnan(values).any() else "infinity"
            return [Notice(f"{what} first appears in {record.node.text}: the operations "
                           "after it carry it on", record.node.span, "nan")]
    return []


class _Interpreter:
    """Evaluates language nodes; the tree depth is bounded by the parser, so recursion
    here stays far below Python's limit."""

    def __init__(self, dtype: torch.dtype, env: dict):
        self.dtype = dtype
        self.env: dict[str, object] = env
        self.records: list[OpRecord] = []
        #: leaves the text makes (torch.ones(2, requires_grad=True)), keyed by the node that
        #: made them (two leaves with the same text are two leaves), or by the name a
        #: statement gave them: (name or None, node, tensor); see leaves_made()
        self._made: dict[object, tuple[str | None, Node, torch.Tensor]] = {}
        #: what torch would warn about while running the program (shown as notes)
        self.notices: list[Notice] = []
        self.statement_index = 0
        self.total_elements = sum(t.numel() for t in env.values())
        self.deadline = time.monotonic() + limits.MAX_SECONDS
        self.last_value: object = None
        # random numbers: torch's own start-up seed until the program calls manual_seed,
        # on a generator of this evaluation's own (the window computes in worker threads)
        self.generator = torch.Generator().manual_seed(ops_more.DEFAULT_SEED)
        self.seeded = False
        #: where the program stops a gradient: core.language.cuts.Cut for each detach / no_grad
        #: value
        self.cuts: list = []
        self.cut_uses: dict[int, list] = {}
        self.shadow_records: list[OpRecord] = []

        #: estimated multiply-adds of the forward and backward passes so far
        #: (core.evaluation.cost)
        self.forward_work = 0
        self.backward_work = 0

    def shadow(self, statement, result) -> None:
        """A statement ran under no_grad: run it once more with gradients on, to draw the
        graph it would have had (greyed). Random numbers are drawn again from the same
        state, so the program's own draws stay as torch makes them."""
        if not isinstance(result, torch.Tensor) or not any(
                isinstance(t, torch.Tensor) and t.requires_grad for t in self.env.values()):
            return
        saved = (self.records, self.last_value, self.generator.get_state(), self.seeded,
                 list(self.notices), list(self.cuts), dict(self._made))
        self.records = self.shadow_records
        try:
            with torch.enable_grad():
                source = self.value_of(statement.expr)
        finally:
            self.records, self.last_value = saved[0], saved[1]
            self.generator.set_state(saved[2])
            self.seeded, self.notices, self.cuts, self._made = saved[3:]
        if isinstance(source, torch.Tensor) and source.grad_fn is not None:
            self.cuts.append(cuts.Cut(statement.expr, source, result, "no_grad",
                                      statement.target))

    def _note_cut_uses(self, args, result) -> None:
        """Remember which cut values an operation used (the steps say the gradient stops)."""
        used = [cut for cut in self.cuts for a in args if a is cut.result]
        if used and isinstance(result, torch.Tensor):
            self.cut_uses[id(result)] = used

    def _charge(self, node: Node, name: str, args, shape) -> None:
        """Add the operation's estimated backward work; refuse the program, before the
        operation allocates anything, once the backward pass would pass its budget."""
        if shape is not None:
            made = math.prod(shape)
        elif name in ops.ELEMENTWISE or name == "neg":
            made = max((a.numel() for a in args if isinstance(a, torch.Tensor)), default=1)
        else:
            made = 0  # a reduction or a view: no larger than its input; counted after
        if self.total_elements + made > limits.MAX_TOTAL_ELEMENTS:
            raise LimitError(f"the program creates more than {limits.MAX_TOTAL_ELEMENTS:,} "
                             "tensor entries in all; that is the limit", node.span)
        work = cost.estimate(name, args, shape)
        self.forward_work += work.forward
        self.backward_work += work.backward
        if self.backward_work > limits.MAX_BACKWARD_WORK:
            raise LimitError(
                f"the backward pass of this program would take more than "
                f"{limits.MAX_BACKWARD_WORK:,.0f} multiply-adds, the limit; this operation "
                f"brings it to {self.backward_work:,.0f}: use smaller matrices or fewer "
                "products",
                node.span)

    # bookkeeping --------------------------------------------------------------

    def name_result(self, name: str, value, statement) -> None:
        """Bind ``name`` and label the record of the value with it."""
        self.env[name] = value
        cut = cuts.find(self.cuts, value)
        if cut is not None and cut.name is None:
            cut.name = name
        if isinstance(value, torch.Tensor):
            for record in reversed(self.records):
                if record.tensor is value:
                    record.name = name
                    break
            if value.is_leaf and value.requires_grad and isinstance(statement.expr, Call):
                # w = torch.ones(1, requires_grad=True): an input defined in the text
                self._made.pop(id(statement.expr), None)
                self._made.pop(name, None)
                self._made[name] = (name, statement.expr, value)

    def leaves_made(self) -> list[tuple[str, Node, torch.Tensor]]:
        """The leaves the text made, in the order they were made, with their names: a
        statement's name (``w = torch.ones(...)``), else the leaf's text, and where two
        unnamed leaves have the same text, the text and its position, so each keeps its own
        gradient."""
        texts = [node.text for name, node, _ in self._made.values() if name is None]
        return [(name or leaf_text_name(node, texts.count(node.text) > 1), node, tensor)
                for name, node, tensor in self._made.values()]

    def record_value(self, node: Node, value):
        """Record ``value`` as made by ``node`` (a value the statement loop made)."""
        return self._record(node, value)

    def _record(self, node: Node, value):
        if isinstance(value, torch.Tensor):
            self.total_elements += value.numel()
            if self.total_elements > limits.MAX_TOTAL_ELEMENTS:
                raise LimitError(f"the program creates more than "
                                 f"{limits.MAX_TOTAL_ELEMENTS:,} tensor entries in all; that "
                                 "is the limit", node.span)
            self.records.append(OpRecord(len(self.records), value, node, self.statement_index))
        if time.monotonic() > self.deadline:
            raise LimitError(f"the computation took longer than {limits.MAX_SECONDS:g} s, the "
                             "time limit", node.span)
        self.last_value = value
        return value

    # evaluation ---------------------------------------------------------------

    def value_of(self, node: Node):
        if isinstance(node, Number):
            self.last_value = node.value
            return node.value
        if isinstance(node, Name):
            if node.name not in self.env:
                raise ExpressionError("name", f"'{node.name}' is used before it has a value",
                                      node.span)
            value = self.env[node.name]
            self.last_value = value
            return value
        if isinstance(node, Literal):
            return node.value
        try:
            if isinstance(node, UnaryOp):
                return self._unary(node)
            if isinstance(node, BinaryOp):
                return self._binary(node)
            if isinstance(node, Call):
                return self._call(node)
        except ExpressionError as err:
            if err.span is None:
                err.span = node.span
            raise
        except ops.ArgumentError as err:
            raise ExpressionError("shape", f"{_short(node.text)}: {err}", node.span) from None
        except (RuntimeError, ValueError, TypeError, IndexError, ZeroDivisionError,
                OverflowError) as err:
            first_line = str(err).strip().split("\n")[0][:300]
            raise ExpressionError("math", f"{_short(node.text)}: cannot compute this "
                                  f"({first_line})", node.span) from None
        raise ExpressionError("unsupported", "this is not part of the language", node.span)

    def _unary(self, node: UnaryOp):
        value = self.value_of(node.operand)
        if node.op == "+":
            return value
        if _is_number(value):
            return -value
        self._charge(node, "neg", [value], None)
        return self._record(node, -value)

    def _binary(self, node: BinaryOp):
        left = self.value_of(node.left)
        right = self.value_of(node.right)
        if _is_number(left) and _is_number(right):
            return self._constant_arithmetic(node, left, right)
        if node.op == "@":
            if not (isinstance(left, torch.Tensor) and isinstance(right, torch.Tensor)):
                raise ops.ArgumentError("@ multiplies matrices or vectors; use * for numbers")
            shape = ops.result_shape("matmul", [left, right])
        else:
            shape = ops.broadcast_shape(node.op, left, right)
        ops.check_size(shape)
        self._charge(node, node.op, [left, right], shape)
        result = _TORCH_OPERATORS[node.op](left, right)
        self._note_cut_uses([left, right], result)
        return self._record(node, result)

    def _constant_arithmetic(self, node: BinaryOp, left, right):
        """Arithmetic on two Python numbers, as Python does it: ``2*3`` is the int 6,
        ``6/3`` the float 2.0 (torch tells ints and floats apart in dims, sizes and
        overloads, so the language keeps them apart too)."""
        if node.op == "@":
            raise ops.ArgumentError("@ multiplies matrices or vectors; use * for numbers")
        if node.op == "**" and abs(right) > limits.MAX_CONSTANT_EXPONENT:
            raise LimitError(f"the exponent {right:g} is too large for a constant; the limit "
                             f"is {limits.MAX_CONSTANT_EXPONENT:,}", node.span)
        try:
            result = _TORCH_OPERATORS[node.op](left, right)
        except ZeroDivisionError:
            raise ExpressionError("math", f"{_short(node.text)}: division by zero",
                                  node.span) from None
        except OverflowError:
            raise LimitError(f"{_short(node.text)} is too large to represent as a float",
                             node.span) from None
        if isinstance(result, complex):
            raise ExpressionError("math", f"{_short(node.text)}: a negative number to a "
                                  "fractional power is not a real number", node.span)
        if isinstance(result, float) and not math.isfinite(result):
            raise LimitError(f"{_short(node.text)} is too large to represent as a float",
                             node.span)
        if isinstance(result, int) and abs(result) > limits.MAX_CONSTANT_INT:
            raise LimitError(f"{_short(node.text)} is too large to represent as a float",
                             node.span)
        self.last_value = result
        return result

    def _call(self, node: Call):
        spec = FUNCTIONS[node.function]
        args = [self.value_of(arg) for arg in node.args]
        kwargs = {key: self.value_of(value) for key, value in node.kwargs}
        for key, value in kwargs.items():
            if key in _BOOL_KWARGS and _is_number(value):
                # torch: "argument 'keepdim' must be bool, not int"
                raise ops.ArgumentError(f"{key}= takes True or False (torch refuses the "
                                        f"number {value!r} there)")
        if node.function in ("max", "min") and len(args) > 2 and _is_number(args[2]):
            raise ops.ArgumentError(f"{node.function}(x, dim, keepdim): keepdim takes True or "
                                    f"False (torch refuses the number {args[2]!r} there)")
        if node.function == "manual_seed":
            self.generator.manual_seed(ops_more.seed_value(args))
            self.seeded = True
            return None
        if node.function in ops_more.RANDOM:
            kwargs["generator"] = self.generator
        if spec.constructor:
            if node.function == "tensor" and not isinstance(node.args[0], (Literal, Number)):
                raise ops.ArgumentError("tensor() takes a number or a nested list of numbers "
                                        "written out; to compute with a tensor, use it directly")
            result = ops.construct(node.function, args, kwargs, self.dtype)
            if node.function in ops_more.RANDOM:
                self._random_notice(node, result)
            if result.requires_grad:
                self._made[id(node)] = (None, node, result)
            return self._record(node, result)
        name = node.function
        if name in _PYTHON_ON_NUMBERS and len(args) == 2 and not kwargs \
                and all(_is_number(a) for a in args):
            # 7 // 2 is the int 3 and 7.5 % 2 the float 1.5, as in Python
            return self._constant_arithmetic(BinaryOp(node.span, node.text,
                                                      _PYTHON_ON_NUMBERS[name],
                                                      node.args[0], node.args[1]), *args)
        if isinstance(args[0], list):
            raise ops.ArgumentError(f"{name}() needs a tensor or a number as its first "
                                    "argument, not a list")
        if name == "remainder" and _is_number(args[0]) and len(args) > 1 \
                and isinstance(args[1], torch.Tensor) and args[1].requires_grad \
                and torch.is_grad_enabled():
            # 5 % x is torch's remainder(Scalar, Tensor), whose backward torch does not have
            # (a 0-d tensor in first place would have one: reading 5 as it would differ)
            raise ops.ArgumentError(
                "torch has no gradient for a number % a tensor that needs one (\"derivative "
                "for aten::remainder is not implemented\"); write torch.tensor(5.0) % x, or "
                "apply it to a value that needs none (.detach())".replace(
                    "5.0", str(float(args[0]))))
        if (name != "pow" or not _is_number(args[0])) and not isinstance(args[0], str):
            args[0] = ops.as_tensor(args[0], self.dtype)  # einsum's formula stays text
        if name in ("maximum", "minimum") or name in ops.PRODUCTS:
            args[1] = ops.as_tensor(args[1], self.dtype)
        if name in ("sum", "mean", "prod", "norm", "logsumexp") and not kwargs.get("keepdim") \
                and isinstance(args[0], torch.Tensor) and args[0].dim() == 0 and "dim" in kwargs:
            pass  # torch handles dim on 0-d tensors itself
        if name in ("max", "min") and len(args) > 1 and isinstance(args[1], float):
            # torch.max(x, 0.0), or c = 0.0; torch.max(x, c): torch refuses a float there
            # (an int is a dim, a tensor the other operand); reading 0.0 as dim 0 would
            # silently reduce instead
            raise ops.ArgumentError(
                f"torch refuses {node.args[1].text} in second place: it is a float "
                f"({args[1]!r}), and there an int is a dimension, a tensor the other operand; "
                f"for the {name}imum with a number entry by entry write torch.clamp(x, "
                f"{'min' if name == 'max' else 'max'}={node.args[1].text})")
        if node.part and name in ("max", "min", "argmax", "argmin") and any(
                isinstance(a, torch.Tensor) for a in args[1:] + [kwargs.get("dim")]):
            # torch.max(x, y).values with a tensor y: torch compares entry by entry and the
            # result (a tensor) has no values/indices parts
            which = name[3:] if name.startswith("arg") else name
            raise ops.ArgumentError(
                f"{which}(x, y) with a tensor y compares entry by entry and gives a tensor, "
                f"which has no .{node.part} (torch refuses this); for a dim give an int")
        if name in ("softmax", "log_softmax") and len(args) == 1 and "dim" not in kwargs:
            kwargs["dim"] = self._implicit_softmax_dim(node, args[0])
        shape = ops.result_shape(name, args)
        if shape is not None:
            ops.check_size(shape)
        self._charge(node, name, args, shape)
        result = ops.IMPLEMENTATIONS[name](*args, **kwargs)
        if name in ops_more.RANDOM:
            self._random_notice(node, result)
        if name == "detach" and args[0].requires_grad:
            self.cuts.append(cuts.Cut(node, args[0], result))
        self._note_cut_uses(args + list(kwargs.values()), result)
        return self._record(node, result)

    def _random_notice(self, node: Call, result) -> None:
        """Random numbers are shown where they are drawn, with the seed that fixes them."""
        seed = "" if self.seeded else (
            " (no torch.manual_seed before it: torch would draw different numbers on every "
            f"run; here the seed is {ops_more.DEFAULT_SEED}, a new torch.Generator's, so the "
            "numbers repeat; add torch.manual_seed(N) to choose them)")
        drawn = format_inline(result.detach().double(), digits=4, max_entries=16)
        self.notices.append(Notice(f"{_short(node.text)} drew {drawn}{seed}", node.span, "info"))

    def _implicit_softmax_dim(self, node: Call, x) -> int:
        """``F.softmax(x)`` without dim: torch's legacy choice, with its deprecation warning
        as a note; ``torch.softmax(x)`` and ``x.softmax()`` are refused, as torch does."""
        name = node.function
        if node.namespace in ("torch", "method"):
            spelled = f"torch.{name}(x)" if node.namespace == "torch" else f"x.{name}()"
            raise ops.ArgumentError(
                f"{spelled} needs dim= (torch refuses it without one); write dim=-1 for the "
                f"last dimension (F.{name}(x) alone picks a dimension by a deprecated rule)")
        dim, warning = ops.implicit_softmax_dim(name, x.dim())
        self.notices.append(Notice(
            f"{_short(node.text)} has no dim: torch picks dim={dim} for a {x.dim()}-d input "
            f"(0 for 0-, 1- and 3-d input, else 1) and warns: \"{warning}\"", node.span, "note"))
        return dim


#: keyword arguments torch takes only as True/False (a number there is refused)
_BOOL_KWARGS = {"keepdim", "unbiased", "descending", "largest", "sorted", "training",
                "requires_grad", "log_target", "inplace", "stable"}


def _is_number(value) -> bool:
    """A Python number (int or float; True/False are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def leaf_text_name(node: Node, repeated: bool) -> str:
    """The name of a leaf the text makes without naming it: its text, and where the same
    text makes another leaf too, its position: ``ones(2, requires_grad=True) (line 1,
    column 9)``."""
    return f"{node.text} ({node.span.describe()})" if repeated else node.text


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
