"""Notebook cells pasted as they are: a pass over Python's statements before the language
converts them.

A cell from a Jupyter notebook holds more than the expression language: imports, prints,
``.item()`` reads, ``f.backward()`` or ``[dw, dz] = grad(f, [w, z])``, and tensors made with
``torch.ones(1, requires_grad=True)``. :func:`preprocess` reads those lines from the syntax
tree (``ast.parse`` only reads; nothing here runs any of the user's code) and:

- sets aside, with a note, the lines that change nothing here: imports of torch, numpy and
  math, ``print(...)`` of anything (its arguments are never looked at as code), ``.item()``
  and ``.grad`` reads, bare names shown for display, resets of
  ``.grad``; any other import is an error with its position;
- takes the output the way the cell chooses it: the tensor ``.backward()`` is called on, or
  the first argument of ``grad(outputs, inputs)`` (its inputs become the variables of
  interest); otherwise the language's rule (the last statement) stands;
- turns a plain leaf definition with literal arguments, ``w = torch.ones(1,
  requires_grad=True)``, into a free input ``w`` with a default value, so the variables
  table (and ``--var``) owns it; ``z = torch.ones(1, requires_grad=True)*2`` stays an
  expression, and z is a computed tensor (a non-leaf), which the notes point out.

Everything else is left untouched for :func:`core.language.parser.build_program`, which raises its
usual errors with positions. This module imports neither torch nor Qt.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

from core import limits
from core.errors import ExpressionError, Span
from core.language import grad_blocks
from core.language.astutil import dotted_name
from core.language.functions import DTYPES
from core.language.values import Filled, VariableSpec, check_value

#: ``import X`` lines set aside, with the names they may be bound to (None: no ``as``).
#: The names must be the ones the language knows (torch, nn, F) or that it never uses.
_IMPORTS: dict[str, tuple[str | None, ...]] = {
    "torch": (None, "torch"),
    "torch.nn": (None, "nn"),
    "torch.nn.functional": (None, "F"),
    "torch.autograd": (None, "autograd"),
    "numpy": (None, "np", "numpy"),
    "math": (None, "math"),
    # the seed's first cell prints sys.version_info; the print is set aside, never run
    "sys": (None,),
}
#: ``from X import name`` lines set aside: module -> names allowed (each without ``as``,
#: except where the alias is listed).
_FROM_IMPORTS: dict[str, dict[str, tuple[str | None, ...]]] = {
    "torch": {"nn": (None,), "autograd": (None,)},
    "torch.nn": {"functional": ("F",)},
    "torch.autograd": {"grad": (None,)},
}
#: Constructors whose value the pass can write out from literal arguments.
_CONSTRUCTORS = ("tensor", "ones", "zeros", "full", "eye")
#: Attributes and no-argument methods that only read a tensor for display.
_READ_ATTRIBUTES = frozenset({"grad", "data", "shape", "dtype", "requires_grad", "is_leaf",
                              "grad_fn", "T"})
_READ_METHODS = frozenset({"item", "tolist", "numpy", "size", "dim", "detach", "clone"})
#: Keyword arguments of backward()/grad() that change nothing about the values shown.
_GRAD_OPTIONS = frozenset({"retain_graph", "create_graph", "allow_unused"})

# kinds of set-aside lines, in the order the note lists them
_ASIDE_KINDS = {
    "import": "imports", "print": "print(...)", "read": "reads of values (.item(), .grad, names)",
    "reset": "resets of .grad (each run computes gradients afresh)",
    "flag": "requires_grad settings (now in the variables table)",
}


@dataclass
class Cell:
    """What the pass found: the statements left for the language, notes for the user,
    default values for the inputs the cell defines, and the variables of interest."""

    body: list[ast.stmt]
    notes: list[str] = field(default_factory=list)
    defaults: dict[str, VariableSpec] = field(default_factory=dict)
    wrt: list[str] = field(default_factory=list)
    #: "float64" when the cell's tensors ask for it (dtype=torch.float64), else None
    dtype: str | None = None
    #: the cell's backward() calls and .grad resets in order, when it calls backward()
    #: more than once: ("backward", line, retain_graph) / ("reset", line, False)
    backward_calls: list = field(default_factory=list)
    #: the v of ``y.backward(v)`` (data, or "ones"), or None
    grad_output: object = None


def preprocess(body: list[ast.stmt], text: str) -> Cell:
    """Read a pasted cell's statements; return what the language should convert.

    Raises :class:`ExpressionError` (with the position) for imports of other modules and
    for the notebook forms it recognises but cannot honour (a ``backward(gradient)``,
    two different outputs, a gradient name used in a computation).
    """
    return _Pass(text).run(body)


def _span(node: ast.AST) -> Span:
    line = getattr(node, "lineno", 1) or 1
    col = (getattr(node, "col_offset", 0) or 0) + 1
    end_col = getattr(node, "end_col_offset", None)
    return Span(line, col, getattr(node, "end_lineno", None),
                None if end_col is None else end_col + 1)


def _lines(numbers: list[int]) -> str:
    return ("line " if len(numbers) == 1 else "lines ") + ", ".join(map(str, numbers))


class _Pass:
    """One walk over a cell's statements, in order."""

    def __init__(self, text: str):
        self.text = text
        self.kept: list[ast.stmt] = []
        self.displays: list[ast.stmt] = []   # bare names: shown in a notebook, output here if last
        self.defaults: dict[str, VariableSpec] = {}
        self.default_lines: list[int] = []
        self.known: set[str] = set()         # names read or bound so far
        self.computed: dict[str, int] = {}   # names bound by kept statements -> line
        self.aside: dict[str, list[int]] = {}
        self.notes: list[str] = []
        self.chooser: tuple[ast.expr, ast.stmt] | None = None
        self.output_bound_after = False
        self.wrt: list[str] = []
        self.dtype: str | None = None
        self.gradient_names: dict[str, tuple[str, int]] = {}  # dw -> (w, line)
        self.grad_reads: dict[str, int] = {}                   # X of X.grad -> first line
        self.nonleaf_noted: set[str] = set()  # computed names whose non-leaf note is given
        #: ("backward", line, retain_graph) and ("reset", line, False), in order: what torch
        #: would do with them is found by running them (core.evaluation.repeated_backward)
        self.backward_calls: list[tuple[str, int, bool]] = []
        #: the v of a cell's y.backward(v), as data ("ones" for torch.ones_like(y)), or None
        self.grad_output = None
        self.names: dict[str, ast.expr] = {}  # name -> the value the cell last bound to it

    # driver -------------------------------------------------------------------

    def run(self, body: list[ast.stmt]) -> Cell:
        for stmt in body:
            self.statement(stmt)
        return self.finish(had_statements=bool(body))

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self._import(stmt)
            return self._set_aside("import", stmt)
        if isinstance(stmt, ast.Expr):
            return self._expression_statement(stmt)
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.names[stmt.targets[0].id] = stmt.value  # backward(v) may name it
            return self._assignment(stmt)
        if isinstance(stmt, ast.With) and grad_blocks.grad_mode(stmt) is not None:
            return self._grad_block(stmt)
        self._keep(stmt)

    def _grad_block(self, stmt: ast.With) -> None:
        """``with torch.no_grad():``: its statements pass through this pass one by one
        (prints set aside, inputs found), and the block keeps what is left for the language."""
        before = len(self.kept)
        for inner in stmt.body:
            self.statement(inner)
        inner_kept = self.kept[before:]
        del self.kept[before:]
        for inner in inner_kept:
            if inner in self.displays:  # a bare name inside a block is a display, never output
                self.displays.remove(inner)
                self.aside.setdefault("read", []).append(inner.lineno)
        inner_kept = [inner for inner in inner_kept if not isinstance(inner, ast.Expr)
                      or not isinstance(inner.value, ast.Name)]
        if inner_kept:
            block = ast.copy_location(ast.With(items=stmt.items, body=inner_kept), stmt)
            block.end_lineno, block.end_col_offset = stmt.end_lineno, stmt.end_col_offset
            self.kept.append(block)

    def _keep(self, stmt: ast.stmt) -> None:
        """Leave ``stmt`` to the language; remember what it reads and binds."""
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in self.gradient_names:
                    of, line = self.gradient_names[node.id]
                    raise ExpressionError(
                        "unsupported", f"'{node.id}' is the gradient grad() gave on line {line}; "
                        "the app shows gradients but does not compute further with them",
                        _span(node))
                self.known.add(node.id)
        new_leaf = isinstance(stmt, ast.Assign) and _makes_leaf(stmt.value)
        for target in _targets(stmt):
            self.known.add(target)
            if not new_leaf:  # W = torch.randn(2, 3, requires_grad=True) is a leaf in torch
                self.computed.setdefault(target, stmt.lineno)
            if self.chooser and isinstance(self.chooser[0], ast.Name) \
                    and self.chooser[0].id == target:
                self.output_bound_after = True
        self._note_hidden_leaves(stmt)
        self.kept.append(stmt)

    def _set_aside(self, kind: str, stmt: ast.stmt) -> None:
        self.aside.setdefault(kind, []).append(stmt.lineno)
        if kind == "reset":
            self.backward_calls.append(("reset", stmt.lineno, False))
        # .grad reads are never run, but say what torch would show for a non-leaf
        for node in ast.walk(stmt):
            if isinstance(node, ast.Attribute) and node.attr == "grad" \
                    and isinstance(node.value, ast.Name):
                self.grad_reads.setdefault(node.value.id, stmt.lineno)

    # imports ------------------------------------------------------------------

    def _import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        """Check that an import names only torch, numpy or math (never imported here)."""
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                allowed = _IMPORTS.get(alias.name)
                if allowed is None:
                    # point at the module's name only where one line imports several
                    raise _import_error(f"import {alias.name}",
                                        alias if len(stmt.names) > 1 else stmt)
                if alias.asname not in allowed:
                    raise ExpressionError(
                        "unsupported", f"import {alias.name} as {alias.asname}: the language "
                        f"knows this module only as {_usual_name(alias.name)}; write "
                        f"{_usual_import(alias.name)}", _span(alias))
            return
        module = stmt.module or ""
        names = _FROM_IMPORTS.get(module) if stmt.level == 0 else None
        if names is None:
            raise _import_error(f"from {'.' * stmt.level}{module} import ...", stmt)
        for alias in stmt.names:
            if alias.name not in names or alias.asname not in names[alias.name]:
                what = alias.name + (f" as {alias.asname}" if alias.asname else "")
                raise _import_error(f"from {module} import {what}", alias)

    # expression statements ----------------------------------------------------

    def _expression_statement(self, stmt: ast.Expr) -> None:
        value = stmt.value
        if isinstance(value, ast.Call):
            dotted = dotted_name(value.func)
            if dotted == ("print",):
                return self._set_aside("print", stmt)  # its arguments are never converted
            if dotted == ("torch", "manual_seed"):
                return self._keep(stmt)  # the language seeds the random numbers that follow
            if isinstance(value.func, ast.Attribute) and value.func.attr == "backward":
                return self._backward(value, stmt)
            if _is_grad_call(value):
                return self._grad(value, stmt, targets=None)
            if isinstance(value.func, ast.Attribute) and value.func.attr == "requires_grad_":
                return self._requires_grad(value.func.value, _flag_argument(value), stmt)
            if isinstance(value.func, ast.Attribute) and value.func.attr == "zero_" \
                    and _is_read(value.func.value) and "grad" in _attributes(value.func.value):
                return self._set_aside("reset", stmt)
        if isinstance(value, ast.Name):
            self.displays.append(stmt)  # the output if it ends the cell, a display otherwise
            self.kept.append(stmt)
            self.known.add(value.id)
            return
        if _is_read(value):
            return self._set_aside("read", stmt)
        self._keep(stmt)

    def _backward(self, call: ast.Call, stmt: ast.stmt) -> None:
        """``X.backward()``: X is the output; ``X.backward(v)`` / ``(gradient=v)`` also gives
        the v of an output with several entries (written out: ``torch.tensor([...])``, or
        ``torch.ones_like(X)``)."""
        gradient = [kw.value for kw in call.keywords if kw.arg == "gradient"] + list(call.args)
        keywords = [kw for kw in call.keywords if kw.arg != "gradient"]
        if len(gradient) > 1 or any(kw.arg not in _GRAD_OPTIONS for kw in keywords):
            raise ExpressionError(
                "unsupported", "backward() takes one gradient v (and retain_graph=); inputs= "
                "is not supported", _span(call))
        if gradient:
            self.grad_output = _gradient_value(gradient[0], call.func.value, self.names)
        self._option_notes(call, stmt)
        receiver = call.func.value
        retain = any(kw.arg == "retain_graph" and isinstance(kw.value, ast.Constant)
                     and kw.value.value is True for kw in call.keywords)
        self.backward_calls.append(("backward", stmt.lineno, retain))
        self._choose(receiver, stmt, f"{self._source(receiver)}.backward() on line "
                     f"{stmt.lineno} makes {self._source(receiver)} the output",
                     is_backward=True)

    def _grad(self, call: ast.Call, stmt: ast.stmt, targets, index: int | None = None) -> None:
        """``grad(f, [w, z])``: f is the output, w and z the variables of interest."""
        args = list(call.args)
        keywords = {kw.arg: kw.value for kw in call.keywords}
        for position, key in enumerate(("outputs", "inputs")):
            if key in keywords and len(args) == position:
                args.append(keywords.pop(key))
        if len(args) != 2:
            raise ExpressionError("unsupported", "grad() takes the output and the inputs, "
                                  "as in grad(f, [w, z])", _span(call))
        unknown = [key for key in keywords if key not in _GRAD_OPTIONS]
        if unknown:
            raise ExpressionError(
                "unsupported", f"grad(..., {unknown[0]}=...) is not supported here; the app "
                "computes first derivatives of a single-number output", _span(keywords[unknown[0]]))
        self._option_notes(call, stmt)
        outputs, inputs = args
        if isinstance(outputs, (ast.List, ast.Tuple)):
            if len(outputs.elts) != 1:
                raise ExpressionError("unsupported", "grad() here follows one output, as in "
                                      "grad(f, [w, z])", _span(outputs))
            outputs = outputs.elts[0]
        names = inputs.elts if isinstance(inputs, (ast.List, ast.Tuple)) else [inputs]
        for node in names:
            if not isinstance(node, ast.Name):
                raise ExpressionError("unsupported", "grad() takes its inputs by name, as in "
                                      "grad(f, [w, z])", _span(node))
            if node.id not in self.known and node.id not in self.defaults:
                raise ExpressionError("name", f"'{node.id}' has not been defined before "
                                      "this line", _span(node))
        wrt = [node.id for node in names]
        self.wrt = list(dict.fromkeys(self.wrt + wrt))
        output = self._source(outputs)
        message = f"grad({output}, ...) on line {stmt.lineno} makes {output} the output"
        if targets is not None:
            if index is not None:
                if not 0 <= index < len(wrt):
                    raise ExpressionError("unsupported", f"grad() gives {len(wrt)} gradient"
                                          f"{'s' if len(wrt) != 1 else ''}; there is no [{index}]",
                                          _span(stmt))
                pairs = [(targets[0], wrt[index])]
            elif len(targets) == 1 and not isinstance(stmt.targets[0], (ast.List, ast.Tuple)):
                pairs = [(targets[0], ", ".join(wrt))]
            elif len(targets) != len(wrt):
                raise ExpressionError("unsupported", f"{len(targets)} names for {len(wrt)} "
                                      "gradients", _span(stmt.targets[0]))
            else:
                pairs = list(zip(targets, wrt, strict=True))
            for name, of in pairs:
                self.gradient_names[name] = (of, stmt.lineno)
            message += "; " + ", ".join(f"{name} is d{output}/d{of}" for name, of in pairs)
        for name in wrt:
            if name in self.computed and name not in self.nonleaf_noted:
                self.nonleaf_noted.add(name)
                message += (f"; {name} is computed (line {self.computed[name]}), not a leaf: "
                            f"grad() still gives d{output}/d{name}, shown with the "
                            f"intermediates (in torch {name}.grad stays None)")
        self._choose(outputs, stmt, message)

    def _choose(self, receiver: ast.expr, stmt: ast.stmt, message: str,
                is_backward: bool = False) -> None:
        if isinstance(receiver, ast.Name) and receiver.id not in self.known \
                and receiver.id not in self.defaults:
            raise ExpressionError("name", f"'{receiver.id}' has not been defined before this "
                                  "line", _span(receiver))
        if self.chooser is not None:
            first = self._source(self.chooser[0])
            if first != self._source(receiver) or self.output_bound_after:
                raise ExpressionError(
                    "unsupported", f"the cell already chose {first} as the output on line "
                    f"{self.chooser[1].lineno}; the app follows one output: keep one "
                    "backward()/grad() line", _span(stmt))
            if not is_backward:  # a repeated backward() is run as torch runs it, later
                self.notes.append(
                    f"line {stmt.lineno} repeats grad() of {first}: torch's grad() returns the "
                    "gradient without adding to .grad, and a second call through the same "
                    "graph fails once the first has freed the values it saved (unless the "
                    "first passed retain_graph=True); here it is computed once")
            return
        self.chooser = (receiver, stmt)
        self.notes.append(message)

    def _option_notes(self, call: ast.Call, stmt: ast.stmt) -> None:
        for kw in call.keywords:
            if kw.arg == "create_graph":
                self.notes.append(f"line {stmt.lineno}: create_graph= is for second "
                                  "derivatives; the app shows first derivatives")

    # assignments --------------------------------------------------------------

    def _assignment(self, stmt: ast.Assign) -> None:
        value = stmt.value
        target = stmt.targets[0] if len(stmt.targets) == 1 else None
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            if target.attr == "requires_grad" and isinstance(value, ast.Constant) \
                    and isinstance(value.value, bool):
                return self._requires_grad(target.value, value.value, stmt)
            if target.attr == "grad" and isinstance(value, ast.Constant) and value.value is None:
                return self._set_aside("reset", stmt)
        grad_call, index = value, None
        if isinstance(value, ast.Subscript) and _is_grad_call(value.value) \
                and isinstance(value.slice, ast.Constant) and type(value.slice.value) is int:
            grad_call, index = value.value, value.slice.value
        if isinstance(grad_call, ast.Call) and _is_grad_call(grad_call) and target is not None:
            elts = target.elts if isinstance(target, (ast.List, ast.Tuple)) else [target]
            if all(isinstance(e, ast.Name) for e in elts):
                return self._grad(grad_call, stmt, [e.id for e in elts], index)
        if isinstance(target, ast.Name) and target.id not in self.known \
                and target.id not in self.defaults and not self.chooser:
            leaf = _leaf_definition(value)
            if leaf is not None:
                data, requires_grad, dtype = leaf
                self.defaults[target.id] = VariableSpec(target.id, data, requires_grad)
                self.default_lines.append(stmt.lineno)
                self.known.add(target.id)
                if dtype == "float64" and self.dtype != "float64":
                    # the app computes a cell in one precision: the cell's own choice, unless
                    # the user picks another (--dtype, or the window's dtype box)
                    self.dtype = "float64"
                    self.notes.append(
                        f"line {stmt.lineno} asks for dtype=torch.float64, so the cell is "
                        "computed in float64")
                return
        self._keep(stmt)

    def _requires_grad(self, name_node: ast.expr, flag: bool | None, stmt: ast.stmt) -> None:
        """``w.requires_grad = True`` / ``w.requires_grad_()`` on an input the cell defined."""
        name = name_node.id if isinstance(name_node, ast.Name) else None
        if flag is None or name not in self.defaults:
            raise ExpressionError(
                "unsupported", "requires_grad can be set here only on a tensor this cell made "
                "with torch.tensor/ones/zeros/full/eye; for other inputs use the variables "
                "table (or write requires_grad=True where the tensor is made)", _span(stmt))
        spec = self.defaults[name]
        self.defaults[name] = VariableSpec(name, spec.value, flag)
        self._set_aside("flag", stmt)

    # notes --------------------------------------------------------------------

    def _note_hidden_leaves(self, stmt: ast.stmt) -> None:
        """``z = torch.ones(1, requires_grad=True)*2``: say that z is not a leaf."""
        targets = _targets(stmt)
        if isinstance(stmt, ast.Assign) and _makes_leaf(stmt.value):
            return  # the statement names the leaf it makes
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and _constructor_name(node.func) \
                    and any(kw.arg == "requires_grad" and isinstance(kw.value, ast.Constant)
                            and kw.value.value is True for kw in node.keywords):
                made = self._source(node)
                self.nonleaf_noted.update(targets)
                who = f"{targets[0]} is computed from it, so {targets[0]} is not a leaf " \
                      f"(in torch {targets[0]}.grad stays None; grad() still gives its " \
                      "gradient, shown with the intermediates)" if targets else ""
                self.notes.append(f"line {stmt.lineno}: {made} is a leaf without a name of "
                                  f"its own; its gradient is listed under that text (and its "
                                  "line and column where the same text makes another leaf)"
                                  + (f"; {who}" if who else ""))
                return

    def finish(self, had_statements: bool) -> Cell:
        # bare names: a display in a notebook; the output only if they end the cell
        for stmt in self.displays:
            if self.chooser is not None or stmt is not self.kept[-1]:
                self.kept.remove(stmt)
                self.aside.setdefault("read", []).append(stmt.lineno)
        if self.chooser is not None:
            if self.output_bound_after:
                receiver, stmt = self.chooser
                raise ExpressionError(
                    "unsupported", f"{receiver.id} is assigned again after line {stmt.lineno}, "
                    f"where its gradient was taken; give the new value another name",
                    _span(receiver))
            self.kept.append(self._output_statement(*self.chooser))
        if not self.kept and had_statements:
            if self.defaults:
                names = ", ".join(self.defaults)
                raise ExpressionError("syntax", f"this cell only defines inputs ({names}); add "
                                      "a line that computes with them, e.g. f = w**2 + sin(z)")
            raise ExpressionError("syntax", "everything in this cell was set aside (imports, "
                                  "prints, reads); there is nothing to compute: add a line "
                                  "such as f = w**2 + sin(z)")
        notes = []
        if self.defaults:
            listed = ", ".join(f"{name} = {_short_value(spec.value)}"
                               + ("" if spec.requires_grad else " (constant)")
                               for name, spec in self.defaults.items())
            notes.append(f"the variables table takes {listed} from the cell "
                         f"({_lines(self.default_lines)}); a value there (or --var) replaces it")
        notes.extend(self.notes)
        for name, line in self.grad_reads.items():
            if name in self.computed and name not in self.defaults:
                # said even when the non-leaf note was given: this line would print None
                notes.append(f"line {line} reads {name}.grad: in torch that is None, because "
                             f"{name} is computed (line {self.computed[name]}), not a leaf; "
                             f"the app shows its gradient with the intermediates")
        aside = [f"{label} ({_lines(sorted(set(self.aside[kind])))})"
                 for kind, label in _ASIDE_KINDS.items() if kind in self.aside]
        if aside:
            notes.append("set aside, never run: " + "; ".join(aside))
        return Cell(self.kept, notes, self.defaults, self.wrt, self.dtype,
                    self.backward_calls if sum(kind == "backward" for kind, _, _ in
                                               self.backward_calls) > 1 else [],
                    self.grad_output)

    def _output_statement(self, receiver: ast.expr, stmt: ast.stmt) -> ast.stmt:
        """The statement that makes the chosen tensor the program's last (its output)."""
        last = self.kept[-1] if self.kept else None
        if isinstance(receiver, ast.Name):
            if isinstance(last, ast.Assign) and _targets(last) == [receiver.id]:
                return self.kept.pop()  # already the output: keep it where it is
            target = ast.copy_location(ast.Name(id=receiver.id, ctx=ast.Store()), receiver)
            return ast.copy_location(ast.Assign(targets=[target], value=receiver), receiver)
        return ast.copy_location(ast.Expr(value=receiver), receiver)

    def _source(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or "the output"


# --------------------------------------------------------------------------- helpers


def _import_error(what: str, node: ast.AST) -> ExpressionError:
    return ExpressionError("unsupported", f"{what}: the app imports no modules; only imports "
                           "of torch, numpy and math are accepted (and set aside), so remove "
                           "this line", _span(node))


def _usual_name(module: str) -> str:
    return {"torch.nn": "nn", "torch.nn.functional": "F", "numpy": "np"}.get(module, module)


def _usual_import(module: str) -> str:
    alias = _usual_name(module)
    return f"import {module}" + (f" as {alias}" if alias != module else "")


def _targets(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.Assign):
        return [t.id for t in stmt.targets if isinstance(t, ast.Name)]
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    return []


def _is_grad_call(node: ast.expr) -> bool:
    """``grad(...)``, ``torch.autograd.grad(...)`` or ``autograd.grad(...)``."""
    return isinstance(node, ast.Call) and dotted_name(node.func) in (
        ("grad",), ("torch", "autograd", "grad"), ("autograd", "grad"))


def _flag_argument(call: ast.Call) -> bool | None:
    """The flag of ``requires_grad_()`` / ``requires_grad_(True)``; None if not a plain flag."""
    if call.keywords or len(call.args) > 1:
        return None
    if not call.args:
        return True
    arg = call.args[0]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, bool) else None


def _attributes(node: ast.expr) -> list[str]:
    out = []
    while isinstance(node, (ast.Attribute, ast.Call)):
        if isinstance(node, ast.Call):
            node = node.func
            continue
        out.append(node.attr)
        node = node.value
    return out


def _gradient_value(node: ast.expr, receiver: ast.expr, names: dict):
    """The v of ``y.backward(v)`` as data: ``torch.tensor([...])`` (or a name the cell bound
    to one), a number, or ``torch.ones_like(y)`` (the string "ones"). Anything else is
    refused: its value is known only when the program runs."""
    from core.language.values import check_value

    if isinstance(node, ast.Name) and node.id in names:
        node = names[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "ones_like" and len(node.args) == 1 \
            and ast.dump(node.args[0]) == ast.dump(receiver):
        return "ones"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "tensor" and len(node.args) == 1:
        node = node.args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in ("ones", "zeros", "full", "eye"):
        from core.language.values import parse_value  # torch.ones(2, 3): as a value reads it
        try:
            return parse_value(ast.unparse(node).replace("torch.", "", 1), where="backward(v)")
        except ExpressionError:
            pass
    try:
        return check_value(ast.literal_eval(node), where="backward(v)")
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise ExpressionError(
            "unsupported", "backward(v) needs v written out here: torch.tensor([...]) (or a "
            "name the cell bound to one) or torch.ones_like(y); or give v in the window's "
            "field (the CLI's --grad-output)", _span(node)) from None


def _is_read(node: ast.expr) -> bool:
    """A display of a tensor: ``w.grad``, ``f.item()``, ``w.grad.data.tolist()`` ...

    Only the listed attribute names count, so ``w.grad.__class__`` is not a read and goes on
    to the language, which refuses it with its position.
    """
    saw_read = False
    while True:
        if isinstance(node, ast.Call):
            if node.args or node.keywords or not isinstance(node.func, ast.Attribute) \
                    or node.func.attr not in _READ_METHODS:
                return False
            node, saw_read = node.func.value, True
        elif isinstance(node, ast.Attribute):
            if node.attr not in _READ_ATTRIBUTES:
                return False
            node, saw_read = node.value, True
        else:
            return saw_read and isinstance(node, ast.Name)


#: torch functions that make a new tensor; with requires_grad=True it is a leaf
_TENSOR_MAKERS = frozenset(_CONSTRUCTORS) | {
    "arange", "linspace", "logspace", "randn", "rand", "randint", "empty", "zeros_like",
    "ones_like", "full_like", "rand_like", "randn_like", "empty_like"}


def _makes_leaf(value: ast.expr) -> bool:
    """``torch.randn(2, 3, requires_grad=True)`` or ``torch.zeros(3).requires_grad_()``: the
    value is a new leaf (torch fills its ``.grad``), not a computation from other tensors."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
            and value.func.attr == "requires_grad_":
        return bool(_flag_argument(value)) and _makes_tensor(value.func.value)
    return _makes_tensor(value) and any(
        kw.arg == "requires_grad" and isinstance(kw.value, ast.Constant)
        and kw.value.value is True for kw in value.keywords)


def _makes_tensor(node: ast.expr) -> bool:
    dotted = dotted_name(node.func) if isinstance(node, ast.Call) else None
    return bool(dotted) and dotted[-1] in _TENSOR_MAKERS and dotted[:-1] in ((), ("torch",))


def _constructor_name(func: ast.expr) -> str | None:
    dotted = dotted_name(func)
    if dotted and dotted[-1] in _CONSTRUCTORS and dotted[:-1] in ((), ("torch",)):
        return dotted[-1]
    return None


def _leaf_definition(node: ast.expr):
    """``torch.ones(1, requires_grad=True)`` (literal arguments only) ->
    ``(value, requires_grad, dtype)``; None for anything else, which stays an expression."""
    requires_grad = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "requires_grad_":
        requires_grad = _flag_argument(node)
        if requires_grad is None:
            return None
        node = node.func.value
    if not isinstance(node, ast.Call):
        return None
    name = _constructor_name(node.func)
    if name is None:
        return None
    try:
        args = [_literal(arg) for arg in node.args]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg == "requires_grad":
                if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool)):
                    return None
                kwargs[kw.arg] = kw.value.value
            elif kw.arg == "dtype":
                dotted = dotted_name(kw.value)
                if not (dotted and len(dotted) == 2 and dotted[0] == "torch"
                        and dotted[1] in DTYPES):
                    return None
                kwargs[kw.arg] = DTYPES[dotted[1]]
            elif kw.arg in ("size", "fill_value"):
                kwargs[kw.arg] = _literal(kw.value)
            else:
                return None
        value = _construct(name, args, kwargs)
    except (_NotLiteral, ExpressionError):
        return None  # the language evaluates it (or explains what is wrong) as it stands
    if requires_grad is None:
        requires_grad = bool(kwargs.get("requires_grad", False))
    if name == "tensor" and not requires_grad and kwargs.get("dtype") is None \
            and _whole_numbers(args[0]):
        return None  # torch.tensor([0, 2]) holds integers (class labels): the language makes it
    return value, requires_grad, kwargs.get("dtype")


def _whole_numbers(data) -> bool:
    """True when a literal holds no fraction written with a point: torch makes it int64."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif not isinstance(item, int):
            return False
    return True


class _NotLiteral(Exception):
    """Raised inside the pass when an argument is not written out as a literal."""


def _literal(node: ast.expr, depth: int = 0):
    """A number (with sign) or nested list of numbers written in the text."""
    if depth > limits.MAX_DIMS:
        raise _NotLiteral
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(elt, depth + 1) for elt in node.elts]
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if type(node.value) is float and not math.isfinite(node.value):
            raise _NotLiteral
        return sign * node.value
    raise _NotLiteral


def _size(args: list, kwargs: dict) -> tuple[int, ...]:
    """The size of ``ones(2, 3)``, ``ones((2, 3))`` or ``ones(size=(2, 3))``, as torch reads it."""
    if "size" in kwargs:
        args = [kwargs["size"]]
    if len(args) == 1 and isinstance(args[0], list):
        args = args[0]
    if not all(type(n) is int and n > 0 for n in args) or len(args) > limits.MAX_DIMS:
        raise _NotLiteral  # zero, negative or fractional sizes: the language explains
    if math.prod(args) > limits.MAX_ELEMENTS:
        raise _NotLiteral  # the language names the size bound
    return tuple(args)


def _construct(name: str, args: list, kwargs: dict):
    """The value torch's constructor would make, as a number or nested list (no torch)."""
    if name == "tensor":
        if len(args) != 1:
            raise _NotLiteral
        return check_value(args[0], "tensor()")
    if name == "eye":
        if not 1 <= len(args) <= 2:
            raise _NotLiteral
        n, m = _size([args[0]], {})[0], _size([args[-1]], {})[0]
        if n * m > limits.MAX_ELEMENTS:
            raise _NotLiteral
        return _small_as_list(Filled("eye", (n, m)))
    if name == "full":
        fill = kwargs.get("fill_value", args[1] if len(args) == 2 else None)
        if isinstance(fill, list) or fill is None or len(args) > 2:
            raise _NotLiteral
        shape, fill = _size(args[:1], kwargs), float(fill)
    else:
        if not args and "size" not in kwargs:
            raise _NotLiteral  # torch.ones() needs a size
        shape, fill = _size(args, kwargs), 1.0 if name == "ones" else 0.0
    return _small_as_list(check_value(Filled("full", shape, fill), name))


#: Constructor values up to this many entries are written out as lists in the variables table
#: (a student edits one entry of ``torch.ones(3)``); larger ones stay (shape, fill), so ten
#: ``torch.ones(999999)`` cost nothing until the tensors are made.
LIST_ENTRIES = 100


def _small_as_list(value: Filled):
    return value.to_list() if value.numel <= LIST_ENTRIES else value


def _short_value(value) -> str:
    text = value.text() if isinstance(value, Filled) else repr(value)
    return text if len(text) <= 40 else text[:39] + "…"
