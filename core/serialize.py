"""Plain-data views of tensors and evaluations, for JSON output and the GUI."""
from __future__ import annotations

import math
import re

#: The minus sign on screen and on the pages (U+2212, as in the step text and the graph):
#: the ASCII hyphen is shorter and higher, and reads as a dash from the back of a room.
MINUS = "\u2212"
_HYPHEN_MINUS = re.compile(r"(?<![\w.])-(?=[\d.]|inf\b)")


def tensor_to_data(tensor):
    """A 0-d tensor as a plain number, anything else as a nested list of numbers.

    NaN and infinities become the strings "nan", "inf", "-inf" so the result is valid JSON.
    """
    if tensor is None:
        return None
    data = tensor.detach().cpu().tolist()
    return finite_or_text(data)


def finite_or_text(data):
    """A number, or nested list of them, ready for JSON: NaN and infinities become the
    strings "nan", "inf", "-inf"; anything else is returned as it is."""
    if isinstance(data, list):
        return [finite_or_text(item) for item in data]
    if isinstance(data, float) and not math.isfinite(data):
        return "nan" if math.isnan(data) else ("inf" if data > 0 else "-inf")
    return data


def evaluation_to_dict(evaluation) -> dict:
    """The ``compute --json`` object: value, gradients, intermediates, dtype, warnings."""
    intermediates = {}
    for name, tensor in evaluation.intermediates.items():
        if tensor is evaluation.output:
            continue
        entry = {"value": tensor_to_data(tensor)}
        if name in evaluation.intermediate_gradients:
            entry["gradient"] = tensor_to_data(evaluation.intermediate_gradients[name])
        intermediates[name] = entry
    return {
        "output": evaluation.output_name,
        "value": tensor_to_data(evaluation.value),
        "gradients": {name: tensor_to_data(g) for name, g in evaluation.gradients.items()},
        "intermediates": intermediates,
        "dtype": evaluation.dtype,
        "warnings": [str(w) for w in evaluation.warnings],
        "notes": list(evaluation.program.notes),
    }


def shown_minus(text: str) -> str:
    """``text`` with the screen's minus sign for the ASCII minus of every negative number
    (``−0.5``, ``[−1, 2]``, ``−inf``; an exponent's stays, ``1e-05``, and so does a hyphen in a
    word or a formula's ``x - y``): what every panel shows. Copied text keeps the ASCII one,
    which Python and spreadsheets read back."""
    return _HYPHEN_MINUS.sub(MINUS, text)


def format_number(x: float, digits: int = 6) -> str:
    """A number for people: ``6`` significant digits, no trailing noise; an entry of an
    integer tensor in full (``123456789``, not ``1.23457e+08``: it is exact) and of a bool
    tensor as torch prints it (True/False)."""
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "True" if x else "False"
    if isinstance(x, int) and abs(x) < 10 ** 15:
        return str(x)
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return finite_or_text(float(x))
    return f"{x:.{digits}g}"


def entry_label(name: str, index) -> str:
    """``w`` for a number, ``W[0,1]`` for an entry of a tensor."""
    index = tuple(index)
    return name if not index else f"{name}[{','.join(str(int(i)) for i in index)}]"


def format_tensor(tensor, digits: int = 6, max_entries: int = 64) -> str:
    """A short readable rendering: a number, or rows of a matrix, summarised when large."""
    if tensor.dim() == 0:
        return format_number(finite_or_text(tensor.item()), digits)
    if tensor.numel() > max_entries:  # before any list is made: a million entries stay put
        flat = tensor.detach().flatten()
        shape = "×".join(map(str, tensor.shape))
        return (f"{shape} tensor: min {format_number(flat.min().item(), 4)}, "
                f"max {format_number(flat.max().item(), 4)}, "
                f"mean {format_number(flat.mean().item(), 4)}")
    data = tensor_to_data(tensor)

    def render(item):
        if isinstance(item, list):
            return "[" + ", ".join(render(sub) for sub in item) + "]"
        return format_number(item, digits)

    if tensor.dim() == 2:
        return "[" + ",\n ".join(render(row) for row in data) + "]"
    return render(data)


def format_labelled(label: str, tensor, digits: int = 6, max_entries: int = 64) -> str:
    """``label`` then the tensor, a matrix's later rows indented to line up under its first:
    ``W = [[1, 2],`` / ``     [3, 4]]``."""
    text = format_tensor(tensor, digits, max_entries)
    return label + text.replace("\n", "\n" + " " * len(label))


def format_inline(tensor, digits: int = 6, max_entries: int = 64) -> str:
    """The tensor on one line (``[[1, 2], [3, 4]]``), for text that continues after it."""
    return format_tensor(tensor, digits, max_entries).replace("\n", "")


def distinct(tensor):
    """The entries of ``tensor`` that are really stored: along each dimension of stride 0
    (an expanded view, as the step-through keeps a gradient that is one value repeated)
    only the first slice. Its min, max and finiteness are ``tensor``'s, at a fraction of
    the work."""
    stride = tensor.stride() if tensor.dim() else ()
    if 0 not in stride:
        return tensor
    return tensor[tuple(slice(0, 1) if s == 0 else slice(None) for s in stride)]


#: Entries up to which the step-through's JSON writes a tensor in full; a larger one is
#: written as its summary (shape, min, max, mean), as the steps show it: 600 steps of a
#: million-entry gradient were gigabytes of JSON.
JSON_FULL_ENTRIES = 10_000


def tensor_to_json(tensor, max_entries: int | None = None):
    """:func:`tensor_to_data` for tensors of at most ``max_entries`` entries (default
    :data:`JSON_FULL_ENTRIES`); a larger one becomes ``{"shape", "entries", "min", "max",
    "mean"}`` (computed on the entries really stored, see :func:`distinct`)."""
    if tensor is None:
        return None
    limit = JSON_FULL_ENTRIES if max_entries is None else max_entries
    if tensor.numel() <= limit:
        return tensor_to_data(tensor)
    stored = distinct(tensor.detach()).double()
    return {"shape": list(tensor.shape), "entries": tensor.numel(),
            "min": finite_or_text(stored.min().item()),
            "max": finite_or_text(stored.max().item()),
            "mean": finite_or_text(stored.mean().item())}
