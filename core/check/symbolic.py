"""Symbolic derivatives with SymPy, from the language's own parse tree.

The program is translated node by node (``Number``, ``Name``, ``BinaryOp``, ``UnaryOp``,
``Call``, ``Literal``) into SymPy expressions: never through ``eval``, ``sympify`` or
``parse_expr`` (which evaluate text). Every value is a NumPy array of SymPy expressions
(shape ``()`` for a number), so torch's broadcasting, ``@``, reductions along ``dim`` and
transposes carry over entry by entry; each input entry is one real symbol (``w``,
``W[0,1]``). Numbers become exact rationals (``0.1`` is 1/10), so the derivative's value,
computed to 30 digits, is the exact value the seed checked with Mathematica.

SymPy cannot be interrupted once a call has started, so the work is bounded by size before
it is done: input entries, entries of any tensor, and the number of operations in any
formula (counted over the expression tree) have limits, and a deadline is checked between
steps. Past a bound, or for anything not translated, the result says why instead of
guessing.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sympy

from core.language.parser import BinaryOp, Call, Literal, Name, Number, UnaryOp
from core.language.values import Filled
from core.serialize import entry_label
from core.teaching.math_html import to_html

#: Input entries (symbols) differentiated symbolically.
MAX_INPUT_ENTRIES = 64
#: Entries of any one tensor the translation builds.
MAX_TENSOR_ENTRIES = 256
#: Operations in any one formula (tree size, shared subexpressions counted each time).
MAX_FORMULA_SIZE = 50_000
#: Nesting depth of any one formula: SymPy recurses on it (diff, evalf, printing), and a
#: chain of 120 ``y = sin(y) + x`` lines already exhausts Python's recursion limit.
MAX_FORMULA_DEPTH = 80
#: Operations up to which a formula is printed as text and LaTeX.
MAX_SHOWN_SIZE = 1_000
#: Operations up to which it is also pretty-printed (slow, and unreadable when long:
#: about 0.1 s for 400 operations).
MAX_PRETTY_SIZE = 150
#: Digits the values are computed to.
DIGITS = 30
#: Memory the symbolic work may use beyond what its process starts with (bytes).
MEMORY_LIMIT = 1 << 30
#: Seconds the symbolic process may take to start (the first start imports SymPy).
STARTUP_SECONDS = 30.0
#: Seconds past the time budget before the process is stopped: its own deadline, checked
#: between steps, normally ends it first with the derivatives done so far.
GRACE_SECONDS = 1.0
#: How the Check reports symbolic work stopped by a budget.
SKIPPED = "skipped (too large)"


class SymbolicUnavailable(Exception):
    """SymPy cannot (or may not, within the bounds) do this; the message says why."""


class TooLarge(SymbolicUnavailable):
    """The work passed one of the size or time bounds; reported as "skipped (too large)"."""

    def __str__(self) -> str:
        return f"{SKIPPED}: {super().__str__()}"


@dataclass
class SymbolicDerivative:
    """A formula (a derivative, or the output itself) as text, Unicode and LaTeX, with its
    value at the input values; ``note`` says why a part is missing."""

    name: str
    index: tuple[int, ...]
    value: float | None = None
    text: str | None = None
    pretty: str | None = None
    latex: str | None = None
    size: int = 0
    note: str | None = None
    #: one line of HTML mathematics (core.teaching.math_html), for the window's Check tab
    html: str | None = None
    #: the SymPy expression itself (for programs; not part of any JSON output)
    expr: object = field(default=None, repr=False)


@dataclass
class SymbolicResult:
    """The output's formula, one derivative per input entry, and why anything is missing."""

    output: SymbolicDerivative | None = None
    derivatives: dict[tuple[str, tuple[int, ...]], SymbolicDerivative] = field(
        default_factory=dict)
    reason: str | None = None
    seconds: float = 0.0


# --------------------------------------------------------------------------- entry points


def differentiate(evaluation, names, *, time_limit: float = 5.0,
                  memory_limit: int | None = None, cancel=None) -> SymbolicResult:
    """The derivative of the evaluation's output with respect to every entry of each input
    in ``names``, as formulas and values. Never raises for what SymPy cannot do: the
    result's ``reason`` (or an entry's ``note``) says what was not done and why.

    The work runs in a separate process (:mod:`core.sandbox`): a single SymPy call cannot be
    interrupted, and some (``evalf`` of five nested ``exp``, ``10**10**10**10``) run for
    minutes or fill the memory. Past ``time_limit`` seconds (plus :data:`GRACE_SECONDS`)
    or ``memory_limit`` bytes (default :data:`MEMORY_LIMIT`) the
    result says "skipped (too large)". Setting ``cancel`` (a ``threading.Event``) stops it.
    """
    from core import sandbox

    start = time.monotonic()
    inputs = getattr(evaluation, "inputs", {})
    if sum(inputs[n].numel() for n in names if n in inputs) > MAX_INPUT_ENTRIES:
        # the child would refuse at once: say so without pickling large inputs and
        # starting a process (that held the window's GIL for a visible moment)
        return SymbolicResult(reason=f"{SKIPPED}: the inputs have more than "
                              f"{MAX_INPUT_ENTRIES} entries; symbolic derivatives are "
                              "computed for small inputs only")
    memory = MEMORY_LIMIT if memory_limit is None else memory_limit
    try:
        bounds = {name: globals()[name] for name in _BOUNDS}
        return sandbox.run_bounded(
            _differentiate_within, (bounds, evaluation.program, dict(evaluation.specs),
                                    list(names), time_limit,
                                    dict(getattr(evaluation, "made_leaves", {})),
                                    computed_constants(evaluation)),
            seconds=time_limit + GRACE_SECONDS, memory_bytes=memory, cancel=cancel,
            startup_seconds=STARTUP_SECONDS)
    except sandbox.BudgetExceeded as err:
        budget = (f"did not finish within its {time_limit:g} s budget" if err.budget == "time"
                  else f"needed more than its {memory / 2**20:,.0f} MB memory budget")
        return SymbolicResult(reason=f"{SKIPPED}: SymPy {budget}",
                              seconds=time.monotonic() - start)
    except sandbox.Cancelled:
        return SymbolicResult(reason="cancelled", seconds=time.monotonic() - start)
    except Exception as err:  # noqa: BLE001 - SymPy failing on a formula is not the user's error
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        return SymbolicResult(reason=f"SymPy could not do this ({type(err).__name__}"
                              f"{': ' + first if first else ''})",
                              seconds=time.monotonic() - start)


def warm_up() -> None:
    """Differentiate one small program that touches every printer and evalf once."""
    from core.language.parser import parse
    from core.language.values import VariableSpec

    program = parse("f = sum(softmax(W)) * sin(w) * exp(w) / w + w ** 2 + sqrt(abs(w))")
    specs = {"w": VariableSpec("w", 0.5), "W": VariableSpec("W", [0.1, 0.2])}
    differentiate_program(program, specs, ["w", "W"], time_limit=30.0)


#: the module's bounds, handed to the child process as they are here (tests change them)
_BOUNDS = ("MAX_INPUT_ENTRIES", "MAX_TENSOR_ENTRIES", "MAX_FORMULA_SIZE", "MAX_FORMULA_DEPTH",
           "MAX_SHOWN_SIZE", "MAX_PRETTY_SIZE", "DIGITS")


def _differentiate_within(bounds: dict, *args) -> SymbolicResult:
    """In the child process: take the parent's bounds, then differentiate."""
    globals().update({name: bounds[name] for name in _BOUNDS})
    return differentiate_program(*args)


def computed_constants(evaluation) -> dict:
    """The values of the operations SymPy takes as constants (random numbers, masks,
    positions, values cut off by detach), keyed by the (span, text) of their node."""
    from core.check import symbolic_more
    return {(r.node.span, r.node.text): r.tensor.detach()
            for r in evaluation.records
            if getattr(r.node, "function", None) in symbolic_more.CONSTANT_FUNCTIONS}


def differentiate_program(program, specs: dict, names: list[str],
                          time_limit: float = 5.0, made_leaves=None,
                          computed=None) -> SymbolicResult:
    """:func:`differentiate` in this process, for a program and its input values; the
    deadline is checked between steps only, so call it through :func:`differentiate`.
    ``made_leaves`` names the inputs made in the text (``ones(2, requires_grad=True)``),
    keyed by (span, text) as :attr:`core.evaluation.evaluate.Evaluation.made_leaves` keys them."""
    start = time.monotonic()
    deadline = start + time_limit
    result = SymbolicResult()
    try:
        translator = Translator(specs, set(names), deadline, made_leaves)
        # values the program drew, cut off or read off (masks, positions) are constants
        # here: read from the run, keyed by (span, text) as made_leaves are
        translator.computed = dict(computed or {})
        output = translator.program(program)
    except (SymbolicUnavailable, RecursionError) as err:
        result.reason = (str(err) if isinstance(err, SymbolicUnavailable)
                         else "the program is nested too deeply for SymPy")
        result.seconds = time.monotonic() - start
        return result
    result.output = describe(output, program.output_name or "output", (),
                             translator.substitutions)
    for name in names:
        symbols = translator.symbols.get(name)
        if symbols is None:
            continue
        for index in np.ndindex(symbols.shape):
            entry = SymbolicDerivative(name, tuple(int(i) for i in index))
            result.derivatives[(name, entry.index)] = entry
            if time.monotonic() > deadline:
                entry.note = f"not computed: symbolic work stops after {time_limit:g} s"
                continue
            try:
                derivative = sympy.diff(output, symbols[index])
                check_size(derivative, f"the derivative for {entry_label(name, index)}")
                filled = describe(derivative, name, entry.index, translator.substitutions)
            except SymbolicUnavailable as err:
                entry.note = str(err)
                continue
            except RecursionError:  # a safety net: the depth bound should prevent it
                entry.note = "the formula is nested too deeply for SymPy"
                continue
            filled.note = filled.note or entry.note
            result.derivatives[(name, entry.index)] = filled
    if any(d.note and d.note.startswith("not computed") for d in result.derivatives.values()):
        result.reason = f"some derivatives were not computed within {time_limit:g} s"
    result.seconds = time.monotonic() - start
    return result


def describe(expr, name: str, index: tuple, substitutions: dict) -> SymbolicDerivative:
    """Text, pretty and LaTeX forms of ``expr`` (when short enough) and its value."""
    out = SymbolicDerivative(name, index, expr=expr)
    out.size = tree_size(expr)
    if out.size <= MAX_SHOWN_SIZE:
        try:
            out.text = str(expr)
            if out.size <= MAX_PRETTY_SIZE:
                out.pretty = sympy.pretty(expr, use_unicode=True)
            out.latex = sympy.latex(expr, symbol_names=_latex_names(expr))
            out.html = to_html(expr)
        except ValueError:  # an exact integer of more than 4,300 digits (Python's bound)
            out.text = out.pretty = out.latex = out.html = None
            out.note = "the formula holds a number too long to print (over 4,300 digits)"
    else:
        out.note = (f"the formula has {out.size:,} operations, too long to show "
                    f"(formulas up to {MAX_SHOWN_SIZE} are shown)")
    out.value, problem = value_of(expr, substitutions)
    if problem:
        out.note = problem if out.note is None else f"{out.note}; {problem}"
    return out


def value_of(expr, substitutions: dict) -> tuple[float | None, str | None]:
    """``expr`` at the input values, to :data:`DIGITS` digits, as a float (or why not).

    Evaluated node by node over the shared expression graph, each node once: SymPy's own
    ``evalf`` on the whole formula re-evaluates shared parts with rising precision, which
    took seconds for a chain of a dozen nested sines (and grows threefold per level).
    """
    values: dict[int, object] = {}
    stack = [(expr, False)]
    try:
        while stack:
            node, ready = stack.pop()
            if id(node) in values:
                continue
            if node in substitutions:
                values[id(node)] = sympy.Float(substitutions[node], DIGITS)
            elif not node.args:
                values[id(node)] = node.evalf(DIGITS)
            elif ready:
                values[id(node)] = node.func(*[values[id(a)] for a in node.args]).evalf(DIGITS)
            else:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args if id(a) not in values)
        value = complex(values[id(expr)])
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None, "SymPy cannot give this formula a number at this point"
    if value.imag != 0 and abs(value.imag) > 1e-20 * max(1.0, abs(value.real)):
        return None, "the formula is not a real number at this point"
    return value.real, None


def tree_size(expr) -> int:
    """Operations in ``expr`` counted as a tree, computed over the shared DAG (so a formula
    whose tree is exponentially large is measured without walking it)."""
    return _fold(expr, lambda children: 1 + sum(children))


def tree_depth(expr) -> int:
    """Nesting depth of ``expr`` (a symbol or number is 1), computed without recursion."""
    return _fold(expr, lambda children: 1 + max(children))


def _fold(expr, combine) -> int:
    """A number per node, bottom up over the shared DAG without recursion: 1 for a node
    without arguments, ``combine(its arguments' numbers)`` otherwise; the root's number."""
    results: dict[int, int] = {}
    stack = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in results:
            continue
        if not node.args:
            results[id(node)] = 1
        elif ready:
            results[id(node)] = combine([results[id(a)] for a in node.args])
        else:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if id(a) not in results)
    return results[id(expr)]


def check_size(expr, what: str) -> None:
    """Raise :class:`SymbolicUnavailable` if ``expr`` (or array of them) is too large or
    nested too deeply for SymPy to finish quickly."""
    items = expr.flat if isinstance(expr, np.ndarray) else [expr]
    total = 0
    for item in items:
        if not isinstance(item, sympy.Basic):
            continue
        total += tree_size(item)
        if total > MAX_FORMULA_SIZE:
            raise TooLarge(f"{what} grows past {MAX_FORMULA_SIZE:,} operations; "
                                      "symbolic work stops there")
        depth = tree_depth(item)
        if depth > MAX_FORMULA_DEPTH:
            raise TooLarge(f"{what} is nested {depth} levels deep; symbolic work "
                                      f"stops at {MAX_FORMULA_DEPTH} levels")


def _latex_names(expr) -> dict:
    names = {}
    for sym in expr.free_symbols:
        base, bracket, rest = sym.name.partition("[")
        if bracket:
            names[sym] = f"{sympy.latex(sympy.Symbol(base))}_{{{rest.rstrip(']')}}}"
    return names


def exact(x: float):
    """A float as the exact number its shortest decimal form says (0.1 -> 1/10)."""
    if float(x).is_integer() and abs(x) < 1e15:
        return sympy.Integer(int(x))
    fraction = Fraction(repr(float(x)))
    return sympy.Rational(fraction.numerator, fraction.denominator)


# --------------------------------------------------------------------------- translation


def _array(value) -> np.ndarray:
    """Any result (a SymPy expression, or an array of them) as an object array."""
    if isinstance(value, np.ndarray):
        return value.astype(object, copy=False)
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def _map(function, a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    for index in np.ndindex(a.shape):
        out[index] = function(a[index])
    return out


def _map2(function, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.broadcast_arrays(a, b)
    out = np.empty(a.shape, dtype=object)
    for index in np.ndindex(a.shape):
        out[index] = function(a[index], b[index])
    return out


def _reduce(a: np.ndarray, dim, keepdim: bool, function) -> np.ndarray:
    """Apply ``function(list of entries)`` along ``dim`` (an int, a tuple, or None: all)."""
    if a.ndim == 0:
        return _array(function([a[()]]))
    dims = tuple(range(a.ndim)) if dim is None else (dim if isinstance(dim, tuple) else (dim,))
    dims = tuple(sorted(d % a.ndim for d in dims))
    moved = np.moveaxis(a, dims, tuple(range(a.ndim - len(dims), a.ndim)))
    kept = moved.shape[: a.ndim - len(dims)]
    flat = moved.reshape(kept + (-1,))
    out = np.empty(kept, dtype=object)
    for index in np.ndindex(kept):
        out[index] = function(list(flat[index]))
    return np.expand_dims(out, dims) if keepdim else out


def _sigmoid(x):
    return 1 / (1 + sympy.exp(-x))


_UNARY = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "asin": sympy.asin,
    "acos": sympy.acos, "atan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh,
    "tanh": sympy.tanh, "exp": sympy.exp, "expm1": lambda x: sympy.exp(x) - 1,
    "log": sympy.log, "log2": lambda x: sympy.log(x, 2), "log10": lambda x: sympy.log(x, 10),
    "log1p": lambda x: sympy.log(1 + x), "sqrt": sympy.sqrt,
    "rsqrt": lambda x: 1 / sympy.sqrt(x), "square": lambda x: x**2,
    "reciprocal": lambda x: 1 / x, "abs": sympy.Abs, "neg": lambda x: -x,
    "sigmoid": _sigmoid, "relu": lambda x: sympy.Max(x, 0),
    "softplus": lambda x: sympy.log(1 + sympy.exp(x)), "erf": sympy.erf,
}


def _norm_of(p):
    if p in (None, 2, 2.0, "fro"):
        return lambda xs: sympy.sqrt(sympy.Add(*[x**2 for x in xs]))
    if p in (1, 1.0):
        return lambda xs: sympy.Add(*[sympy.Abs(x) for x in xs])
    if p in (math.inf, -math.inf):  # norm(x, p=math.inf): the largest (smallest) |entry|
        pick = sympy.Max if p > 0 else sympy.Min
        return lambda xs: pick(*[sympy.Abs(x) for x in xs])
    power = exact(float(p))
    return lambda xs: sympy.Add(*[sympy.Abs(x) ** power for x in xs]) ** (1 / power)


class Translator:
    """Walks a program's language nodes and builds SymPy arrays for every value."""

    def __init__(self, specs: dict, wrt: set[str], deadline: float, made_leaves=None):
        self.specs = specs
        self.wrt = wrt
        self.deadline = deadline
        self.env: dict[str, np.ndarray] = {}
        #: id of a node that makes a leaf in the text -> its name, as the evaluator named it
        self.made_leaves: dict = dict(made_leaves or {})
        #: names bound to plain Python numbers in the evaluator (d = 1), not tensors: torch
        #: reads such a number in max(x, d) as a dimension, a tensor as the other operand
        self.numbers: set[str] = set()
        self.symbols: dict[str, np.ndarray] = {}
        self.substitutions: dict = {}
        self.entries = 0
        self.leaf_name: str | None = None   # the target of the statement being translated
        self.statement_expr = None

    def _input(self, name: str, value) -> np.ndarray:
        """Symbols for an input with ``value`` (a number or nested list)."""
        if isinstance(value, Filled):  # ones(...), eye(...): made directly, not via a list
            data = np.eye(*value.shape) if value.kind == "eye" else \
                np.full(value.shape, value.fill)
        else:
            data = np.array(value, dtype=float)
        if name in self.wrt:
            self.entries += data.size
            if self.entries > MAX_INPUT_ENTRIES:
                raise TooLarge(
                    f"the inputs have more than {MAX_INPUT_ENTRIES} entries; symbolic "
                    "derivatives are computed for small inputs only")
        single = data.size == 1
        out = np.empty(data.shape, dtype=object)
        for index in np.ndindex(data.shape):
            symbol = sympy.Symbol(name if single else entry_label(name, index), real=True)
            out[index] = symbol
            self.substitutions[symbol] = exact(float(data[index]))
        self.symbols[name] = out
        return out

    def program(self, program) -> object:
        """The output of ``program`` as one SymPy expression."""
        for name in program.free_names:
            spec = self.specs.get(name)
            if spec is None:
                raise SymbolicUnavailable(f"'{name}' has no value")
            self.env[name] = self._input(name, spec.value)
        result = None
        for statement in program.statements:
            self.leaf_name = statement.target
            self.statement_expr = statement.expr
            result = self.translate(statement.expr)
            if getattr(statement, "no_grad", False):  # with torch.no_grad(): a constant
                from core.check import symbolic_more
                result = symbolic_more.frozen(self, result)
            check_size(result, f"'{statement.text[:40]}'")
            if statement.target:
                self.env[statement.target] = result
                if self._is_number(statement.expr):
                    self.numbers.add(statement.target)
                else:
                    self.numbers.discard(statement.target)
        result = _array(result)
        if result.size != 1:
            raise SymbolicUnavailable("the output is not a single number")
        return result.reshape(())[()]

    def translate(self, node) -> np.ndarray:
        """The SymPy array of one node."""
        if time.monotonic() > self.deadline:
            raise TooLarge("symbolic translation ran out of time")
        if isinstance(node, Number):
            return _array(exact(node.value))
        if isinstance(node, Name):
            if node.name not in self.env:
                raise SymbolicUnavailable(f"'{node.name}' has no value")
            return self.env[node.name]
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, UnaryOp):
            value = self.translate(node.operand)
            return value if node.op == "+" else _map(lambda x: -x, value)
        if isinstance(node, BinaryOp):
            left, right = _array(self.translate(node.left)), _array(self.translate(node.right))
            if node.op == "@":
                return self._checked(node, self._product("matmul", left, right))
            op = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
                  "/": lambda a, b: a / b, "**": lambda a, b: a**b}[node.op]
            return self._checked(node, _map2(op, left, right))
        if isinstance(node, Call):
            return self._checked(node, self._call(node))
        raise SymbolicUnavailable(f"{node.text}: not translated to SymPy")

    def _checked(self, node, value) -> np.ndarray:
        value = _array(value)
        if value.size > MAX_TENSOR_ENTRIES:
            raise TooLarge(f"{node.text[:40]} has {value.size:,} entries; symbolic "
                                      f"work is limited to tensors of {MAX_TENSOR_ENTRIES}")
        return value

    # calls ------------------------------------------------------------------------------

    def _call(self, node: Call) -> np.ndarray:
        from core.check import symbolic_more  # the notebook functions

        name = node.function
        args = [self.translate(a) for a in node.args]
        kwargs = {key: self._kwarg(value) for key, value in node.kwargs}
        if name in ("floor_divide", "remainder") and len(args) == 2 \
                and all(self._is_number(a) for a in node.args):
            # 7 // 2 and 7 % 2 of two numbers: Python's arithmetic, a constant
            a, b = (sympy.sympify(_scalar(v)) for v in args)
            quotient = sympy.floor(a / b)
            return _array(quotient if name == "floor_divide" else a - b * quotient)
        if name in symbolic_more.NAMES:
            return symbolic_more.translate(self, node, name, args, kwargs)
        if name in ("tensor", "ones", "zeros", "full", "eye"):
            return self._constructor(node, name, args, kwargs)
        x = _array(args[0]) if not isinstance(args[0], list) else None
        if x is None:
            raise SymbolicUnavailable(f"{node.text[:40]}: a list is not a tensor here")
        if name in _UNARY:
            return _map(_UNARY[name], x)
        if name == "pow":
            return _map2(lambda a, b: a**b, x, _array(args[1]))
        if name in ("maximum", "minimum"):
            fn = sympy.Max if name == "maximum" else sympy.Min
            return _map2(fn, x, _array(args[1]))
        if name == "clamp":
            lo = kwargs.get("min", args[1] if len(args) > 1 else None)
            hi = kwargs.get("max", args[2] if len(args) > 2 else None)
            if lo is not None:
                x = _map2(sympy.Max, x, _array(_number(lo)))
            if hi is not None:
                x = _map2(sympy.Min, x, _array(_number(hi)))
            return x
        dim = _dims(kwargs.get("dim", None))
        keepdim = bool(kwargs.get("keepdim", False))
        if name == "sum":
            return _reduce(x, _dims(args[1]) if len(args) > 1 else dim, keepdim,
                           lambda xs: sympy.Add(*xs))
        if name == "mean":
            return _reduce(x, _dims(args[1]) if len(args) > 1 else dim, keepdim,
                           lambda xs: sympy.Add(*xs) / len(xs))
        if name == "prod":
            return _reduce(x, _dims(args[1]) if len(args) > 1 else dim, keepdim,
                           lambda xs: sympy.Mul(*xs))
        if name == "logsumexp":
            return _reduce(x, _dims(args[1]) if len(args) > 1 else dim, keepdim,
                           lambda xs: sympy.log(sympy.Add(*[sympy.exp(v) for v in xs])))
        if name == "norm":
            p = kwargs.get("p", _scalar(args[1]) if len(args) > 1 else 2)
            return _reduce(x, _dims(args[2]) if len(args) > 2 else dim, keepdim, _norm_of(p))
        if name in ("max", "min"):
            fn = sympy.Max if name == "max" else sympy.Min
            other_node = node.args[1] if len(node.args) > 1 else node.kwarg("other")
            if other_node is not None and not self._is_number(other_node):
                # a tensor, even a 0-d one: elementwise, as torch.maximum
                return _map2(fn, x, _array(self.translate(other_node)))
            if other_node is not None:
                dim = _dims(args[1])  # max(x, 1) reduces along dim 1, as torch does
            return _reduce(x, dim, keepdim, lambda xs: fn(*xs))
        if name in ("softmax", "log_softmax"):
            axis = _dims(args[1]) if len(args) > 1 else _dims(kwargs.get("dim"))
            if axis is None:  # F.softmax(x): torch's implicit choice, as the evaluator makes
                from core.evaluation.ops import implicit_softmax_dim
                axis = implicit_softmax_dim(name, x.ndim)[0]
            exps = _map(sympy.exp, x)
            total = _reduce(exps, axis, True, lambda xs: sympy.Add(*xs))
            if name == "softmax":
                return _map2(lambda a, b: a / b, exps, total)
            return _map2(lambda a, b: a - sympy.log(b), x, total)
        if name in ("matmul", "mm", "mv", "dot", "outer"):
            return self._product(name, x, _array(args[1]))
        if name == "transpose":
            return np.swapaxes(x, _int(args[1]), _int(args[2]))
        if name == "t":
            return x.T
        if name == "trace":
            return _array(sympy.Add(*np.diagonal(x)))
        if name == "reshape":
            shape = kwargs.get("shape", args[1] if len(args) == 2 else args[1:])
            if isinstance(shape, np.ndarray) or not isinstance(shape, (list, tuple)):
                shape = [shape]
            return x.reshape(tuple(_int(s) for s in shape))
        raise SymbolicUnavailable(f"{name}() has no SymPy translation here")

    def _is_number(self, node) -> bool:
        """True where the evaluator holds a plain Python number, not a tensor: numbers
        written out, arithmetic of them, and names bound to them."""
        if isinstance(node, Number):
            return True
        if isinstance(node, UnaryOp):
            return self._is_number(node.operand)
        if isinstance(node, BinaryOp):
            return node.op != "@" and self._is_number(node.left) and self._is_number(node.right)
        if isinstance(node, Name):
            return node.name in self.numbers
        if isinstance(node, Call) and node.function in ("pow", "floor_divide", "remainder"):
            return all(self._is_number(arg) for arg in node.args)
        return False

    @staticmethod
    def _product(name, a, b):
        if name == "outer":
            return np.multiply.outer(a, b)
        if name == "dot":
            return _array(sympy.Add(*[x * y for x, y in zip(a.flat, b.flat)]))
        result = np.matmul(a, b)
        return _array(result)

    def _kwarg(self, node):
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Number):
            return node.value
        if isinstance(node, UnaryOp) and isinstance(node.operand, Number):
            return -node.operand.value if node.op == "-" else node.operand.value
        return self.translate(node)

    def _constructor(self, node, name, args, kwargs) -> np.ndarray:
        size = kwargs.get("size")
        if name == "tensor":
            data = args[0] if isinstance(args[0], list) else _scalar(args[0])
        elif name == "eye":
            n = _int(args[0])
            m = _int(args[1]) if len(args) > 1 else n
            data = np.eye(n, m).tolist()
        else:
            dims = size if size is not None else (args[0] if len(args) == 1 and
                                                  isinstance(args[0], list) else args)
            if name == "full":
                dims = size if size is not None else args[0]
            dims = [dims] if not isinstance(dims, (list, tuple)) else dims
            shape = tuple(_int(d) for d in dims)
            if math.prod(shape) > MAX_TENSOR_ENTRIES:
                raise TooLarge(f"{node.text[:40]} is too large for symbolic work")
            fill = {"ones": 1.0, "zeros": 0.0}.get(name)
            if name == "full":
                fill = float(_scalar(kwargs.get("fill_value", args[1] if len(args) > 1 else 0)))
            data = np.full(shape, fill).tolist()
        if kwargs.get("requires_grad"):
            # an input made in the text: named as the evaluation names it
            is_statement = node is self.statement_expr and self.leaf_name
            made = self.made_leaves.get((node.span, node.text), node.text)
            leaf = self.leaf_name if is_statement else made
            return self._input(leaf, data)
        return _map(exact, np.array(data, dtype=float).astype(object))


def _scalar(value):
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size == 1 else value
    if isinstance(value, sympy.Basic):
        if not value.is_number:
            raise SymbolicUnavailable("a size or dimension must be a number")
        return float(value)
    return value


def _number(value):
    return exact(float(_scalar(value))) if not isinstance(value, np.ndarray) else value


def _int(value) -> int:
    value = _scalar(value)
    if isinstance(value, (list, tuple)) or value is None:
        raise SymbolicUnavailable("expected a whole number")
    return int(value)


def _dims(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return tuple(_int(v) for v in value)
    return _int(value)
