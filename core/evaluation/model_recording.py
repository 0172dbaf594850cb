"""Watch the forward pass of a user's own PyTorch code: every tensor a torch function made,
which module was running, and what the tensor held at that moment.

:class:`Recorder` is a context manager built from torch's own mechanisms, never by patching
torch: ``torch.overrides.TorchFunctionMode`` sees every torch function and tensor method the
code calls (``F.conv2d``, ``x + y``, ``x.view``), and ``nn.Module`` forward pre-hooks and
hooks keep a stack of the modules running, named by their path in the module tree
(``layer1.0.conv1``). A torch function called inside another (``F.linear`` inside
``nn.Linear``) is seen once, at the outermost call, because the mode is switched off while
its handler runs.

An in-place operation (``nn.ReLU(inplace=True)``, ``x.add_(y)``) overwrites a tensor that was
already recorded; the recorder keeps a copy of the value it held before, so the node that
made it still shows its own value (its gradient is then the one the step-through records).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.overrides import TorchFunctionMode

from core.errors import ExpressionError

#: Most tensors one recording keeps (a guard against recording a training loop by mistake).
MAX_RECORDS = 200_000


@dataclass
class ForwardRecord:
    """One tensor the user's code computed: the tensor (or, once an in-place operation
    overwrote it, a copy of its value then), the autograd node that made it, the module
    running at the time (dotted path, "" outside any module) and the torch function."""

    index: int
    tensor: torch.Tensor
    grad_fn: object
    module: str
    function: str


@dataclass
class ModuleCall:
    """One call of a module: its path, the autograd nodes of its outputs, and the ids of
    the nodes of its inputs (where the module's part of the graph ends)."""

    path: str
    outputs: list
    inputs: set


class Recorder(TorchFunctionMode):
    """Records the forward pass while active; use through :func:`record`."""

    def __init__(self, model=None):
        super().__init__()
        self.model = model
        self.records: list[ForwardRecord] = []
        self.parameter_names: dict[int, str] = {}
        self.module_names: dict[int, str] = {}
        self._stack: list[str] = []
        self._inputs: list[set] = []
        #: every module call that returned a tensor with a grad_fn, innermost first
        self.calls: list[ModuleCall] = []
        self._handles = []
        self._by_tensor: dict[int, ForwardRecord] = {}
        self.truncated = False
        for module in _as_modules(model):
            prefix = "" if len(_as_modules(model)) == 1 else f"{type(module).__name__}."
            for name, sub in module.named_modules():
                self.module_names.setdefault(id(sub), (prefix + name).rstrip("."))
            for name, parameter in module.named_parameters():
                self.parameter_names.setdefault(id(parameter), prefix + name)

    # module stack -----------------------------------------------------------------

    def __enter__(self):
        for module in _as_modules(self.model):
            for sub in module.modules():
                self._handles.append(sub.register_forward_pre_hook(self._enter_module,
                                                                   with_kwargs=True))
                self._handles.append(sub.register_forward_hook(self._leave_module,
                                                               with_kwargs=True))
        _latest[:] = [self]
        return super().__enter__()

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        return super().__exit__(*exc)

    def _enter_module(self, module, args, kwargs):
        self._stack.append(self.module_names.get(id(module), type(module).__name__))
        self._inputs.append({id(t.grad_fn) for t in _tensors_in((args, kwargs))
                             if t.grad_fn is not None})

    def _leave_module(self, module, args, kwargs, output):
        if not self._stack:
            return
        path = self._stack.pop()
        inputs = self._inputs.pop()
        outputs = [t.grad_fn for t in _tensors_in(output) if t.grad_fn is not None]
        if path and outputs and len(self.calls) < MAX_RECORDS:
            self.calls.append(ModuleCall(path, outputs, inputs))

    def node_modules(self) -> dict[int, str]:
        """``id(grad_fn) -> module path`` for every node made inside a module call, found
        by walking the graph back from the module's outputs to its inputs (so the nodes a
        torch function made internally belong to the module too). Inner modules, whose
        calls end first, claim their nodes first."""
        owner: dict[int, str] = {}
        for call in self.calls:
            seen = set()
            stack = [fn for fn in call.outputs if id(fn) not in call.inputs]
            while stack:
                fn = stack.pop()
                if id(fn) in seen or hasattr(fn, "variable"):
                    continue
                seen.add(id(fn))
                owner.setdefault(id(fn), call.path)
                for child, _ in fn.next_functions:
                    if child is not None and id(child) not in call.inputs:
                        stack.append(child)
        return owner

    @property
    def current_module(self) -> str:
        """The dotted path of the innermost module running now ("" outside any)."""
        return self._stack[-1] if self._stack else ""

    # torch functions --------------------------------------------------------------

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        before = self._snapshot_inplace_targets(func, args, kwargs)
        result = func(*args, **kwargs)
        for tensor, (record, copy, version) in before.items():
            if tensor._version != version:
                # overwritten in place: the record keeps the value the node made
                record.tensor = copy
                self._by_tensor.pop(id(tensor), None)
        for tensor in _tensors(result):
            if tensor.grad_fn is not None:
                self._add(tensor, func)
        return result

    def _snapshot_inplace_targets(self, func, args, kwargs) -> dict:
        if not _may_write_in_place(func, kwargs):
            return {}
        found = {}
        for value in list(args) + list(kwargs.values()):
            if torch.is_tensor(value) and id(value) in self._by_tensor:
                found[value] = (self._by_tensor[id(value)], value.detach().clone(),
                                value._version)
        return found

    def _add(self, tensor: torch.Tensor, func) -> None:
        known = self._by_tensor.get(id(tensor))
        if known is not None and known.grad_fn is tensor.grad_fn:
            return  # handed back unchanged (dropout with p=0, a no-op view): not new
        if len(self.records) >= MAX_RECORDS:
            self.truncated = True
            return
        record = ForwardRecord(len(self.records), tensor, tensor.grad_fn, self.current_module,
                               function_name(func))
        self.records.append(record)
        self._by_tensor[id(tensor)] = record


#: the most recent recording, so explore() finds it without being told
_latest: list = []


def latest_recorder() -> Recorder | None:
    """The recorder most recently entered (None before any)."""
    return _latest[0] if _latest else None


def record(model=None) -> Recorder:
    """A context manager that records the forward pass run inside it: each tensor computed,
    its value, and (for ``model``, an ``nn.Module`` or a list of them) the module path that
    computed it. Pass the recorder to :func:`autograd_explorer.explore` (it is found
    automatically when the output was computed inside the most recent recording)."""
    modules = model if isinstance(model, (list, tuple)) else [model]
    if model is not None and not all(isinstance(m, torch.nn.Module) for m in modules):
        raise ExpressionError("value", "record() takes an nn.Module or a list of them, not "
                              f"{type(model).__name__}")
    return Recorder(model)


def function_name(func) -> str:
    """A readable name for a torch function or tensor method: ``conv2d``, ``add``, ``view``."""
    name = getattr(func, "__name__", None) or str(func)
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
        if name.startswith(("r", "i")) and name[1:] in _OPERATOR_NAMES:
            name = name[1:]
    return name


_OPERATOR_NAMES = {"add", "sub", "mul", "truediv", "matmul", "pow", "div", "floordiv", "mod"}


def _may_write_in_place(func, kwargs) -> bool:
    name = getattr(func, "__name__", "") or ""
    if kwargs.get("inplace") is True:
        return True
    if name.startswith("__i") and name.endswith("__"):
        return True
    return name.endswith("_") and not name.endswith("__")


def _tensors(result):
    if torch.is_tensor(result):
        yield result
    elif isinstance(result, (tuple, list)):
        for item in result:
            if torch.is_tensor(item):
                yield item


def _tensors_in(value, depth: int = 0):
    """Tensors inside ``value`` (nested tuples, lists and dicts, as modules take and return
    them)."""
    if torch.is_tensor(value):
        yield value
    elif depth < 4 and isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors_in(item, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item, depth + 1)


def _as_modules(model) -> list:
    if model is None:
        return []
    if isinstance(model, torch.nn.Module):
        return [model]
    return [m for m in model if isinstance(m, torch.nn.Module)]
