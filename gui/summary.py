"""Large tensors for the results table: their corners, the way torch prints them.

``str(torch.ones(1000, 1000))`` shows three entries at each end of every dimension with
``...`` between; the results table does the same (with "…"), so a million-entry gradient costs
a few dozen numbers on the GUI thread instead of millions. Only the corners are read from the
tensor (slicing, no copy of the whole); the full values stay in the tensor, and
:func:`full_text` writes them out, bounded, on a worker when the user asks for them.
Nothing here imports Qt.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.serialize import finite_or_text, format_number, tensor_to_data

#: Tensors with more entries than this are shown by their corners (torch's own print
#: threshold is 1000 too).
SUMMARY_THRESHOLD = 1000
#: Entries shown at each end of a summarised dimension (torch's edgeitems).
EDGE_ITEMS = 3
#: Marker standing for the entries left out.
ELLIPSIS = "…"
#: Significant digits of a single number, and of each entry of a matrix in a results cell.
DIGITS, MATRIX_DIGITS = 6, 4
#: At most this many entries are written out by "Show Full Values".
FULL_VALUES_LIMIT = 100_000


@dataclass(frozen=True)
class Summary:
    """A large tensor as shown: its shape and its corners (nested lists with ``ELLIPSIS``
    where entries are left out), plus the tensor itself for the full values on demand."""

    shape: tuple
    corners: list
    tensor: object = None

    @property
    def numel(self) -> int:
        """How many entries the whole tensor has."""
        count = 1
        for n in self.shape:
            count *= n
        return count


def display_data(tensor):
    """What the results table holds for ``tensor``: a number or nested list when it is small,
    else a :class:`Summary` (None stays None)."""
    if tensor is None:
        return None
    if tensor.numel() <= SUMMARY_THRESHOLD:
        return tensor_to_data(tensor)
    detached = tensor.detach()
    return Summary(tuple(detached.shape), _corners(detached), detached)


def _corners(tensor) -> list:
    """The first and last EDGE_ITEMS entries along every dimension, ELLIPSIS between."""
    if tensor.dim() == 0:
        return finite_or_text(tensor.item())
    n = tensor.shape[0]
    if n > 2 * EDGE_ITEMS:
        head = [_corners(tensor[i]) for i in range(EDGE_ITEMS)]
        tail = [_corners(tensor[i]) for i in range(n - EDGE_ITEMS, n)]
        return head + [ELLIPSIS] + tail
    return [_corners(tensor[i]) for i in range(n)]


def full_text(tensor, limit: int = FULL_VALUES_LIMIT) -> str:
    """Every entry of ``tensor`` as text, one matrix row per line (at most ``limit`` entries;
    a line says how many were left out). Runs on a worker: a large tensor takes a while."""
    flat = tensor.detach().reshape(-1)
    count = flat.numel()
    shown = min(count, limit)
    width = tensor.shape[-1] if tensor.dim() >= 1 else 1
    values = flat[:shown].tolist()
    lines = []
    for start in range(0, shown, width):
        lines.append("  ".join(f"{v:.6g}" for v in values[start:start + width]))
    shape = "×".join(str(n) for n in tensor.shape) or "scalar"
    header = f"# {shape}, {count:,} entries, one row of the last dimension per line"
    if shown < count:
        header += f"; the first {shown:,} entries (the limit) of {count:,}"
    return header + "\n" + "\n".join(lines) + "\n"


# ------------------------------------------------------------------ text for the table

def format_data(data, digits: int = DIGITS) -> str:
    """A number, a nested list as aligned rows (one matrix row per line), or a
    :class:`Summary` as its corners with "…" for what is left out (and its shape)."""
    if data is None:
        return "—"
    if isinstance(data, Summary):
        shape = "×".join(str(n) for n in data.shape)
        return f"{_format_nested(data.corners, digits)}\n({shape}, {data.numel:,} entries)"
    return _format_nested(data, digits)


def _format_nested(data, digits: int) -> str:
    if not isinstance(data, list):
        return format_number(data, digits)
    if data and all(isinstance(row, list) and row and not isinstance(row[0], list)
                    for row in data if row != ELLIPSIS) and data[0] != ELLIPSIS:
        cells = [[format_number(x, digits) for x in row] if row != ELLIPSIS else None
                 for row in data]
        width = max(len(c) for row in cells if row for c in row)
        lines = []
        for i, row in enumerate(cells):
            left = "[" if i == 0 else " "
            right = "]" if i == len(cells) - 1 else ""
            body = " " + ELLIPSIS.rjust(width) if row is None else \
                "[" + "  ".join(c.rjust(width) for c in row) + "]"
            lines.append(left + body + right)
        return "\n".join(lines)

    def flat(item):
        if isinstance(item, list):
            return "[" + ", ".join(flat(x) for x in item) + "]"
        return format_number(item, digits)
    return flat(data)


def format_cell(data) -> str:
    """What a results cell shows: numbers with DIGITS digits, matrices with MATRIX_DIGITS."""
    return format_data(data, MATRIX_DIGITS if isinstance(data, (list, Summary)) else DIGITS)
