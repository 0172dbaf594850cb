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


class Recorder(TorchFunctionMode):
    """Records the forward pass while active; use through :func:`record`."""

    def __init__(self, model=None):
        super().__init__()
        self.model = model
        self.records: list[ForwardRecord] = []
        self.parameter_names: dict[int, str] = {}
        self.module_names: dict[int, str] = {}
        self._stack: list[str] = []
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
                self._handles.append(sub.register_forward_pre_hook(self._enter_module))
                self._handles.append(sub.register_forward_hook(self._leave_module))
        _latest[:] = [self]
        return super().__enter__()

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        return super().__exit__(*exc)

    def _enter_module(self, module, args):
        self._stack.append(self.module_names.get(id(module), type(module).__name__))

    def _leave_module(self, module, args, output):
        if self._stack:
            self._stack.pop()

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


def _as_modules(model) -> list:
    if model is None:
        return []
    if isinstance(model, torch.nn.Module):
        return [model]
    return [m for m in model if isinstance(m, torch.nn.Module)]
