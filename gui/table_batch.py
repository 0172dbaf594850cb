"""Filling thousands of table rows without a quadratic cost.

A ``QHeaderView`` section in ``ResizeToContents`` mode measures its column again after every
``setItem``; filling N rows then measures N times up to :data:`PRECISION` rows. Inside
:func:`batch_fill` the sections are ``Interactive`` (nothing is measured) and their modes come
back at the end, when each column is measured once.
"""
from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtWidgets import QHeaderView, QTableWidget

#: Rows a resize-to-contents column looks at (Qt's default is 1,000): enough for the rows on
#: screen and well past them.
PRECISION = 200


def limit_measuring(table: QTableWidget) -> None:
    """Let the table's columns measure at most PRECISION rows when fitting their contents."""
    table.horizontalHeader().setResizeContentsPrecision(PRECISION)
    table.verticalHeader().setResizeContentsPrecision(PRECISION)


@contextmanager
def batch_fill(table: QTableWidget):
    """Add or change many items at once: no column is measured until the end."""
    header = table.horizontalHeader()
    modes = [header.sectionResizeMode(c) for c in range(header.count())]
    for column in range(header.count()):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
    table.setUpdatesEnabled(False)
    try:
        yield
    finally:
        table.setUpdatesEnabled(True)
        for column, mode in enumerate(modes):
            header.setSectionResizeMode(column, mode)


#: How much of the GUI thread's CPU time one pass of the event loop may spend adding rows
#: (ms). A fixed 150 rows took 25 ms, and on a busy machine a pass takes several times its CPU
#: time (issue 13: the window must answer within 100 ms with the CPU busy). CPU time, not
#: wall-clock time: on a busy machine the wall-clock time of a pass is mostly waiting, and
#: chunks sized by it shrank to a few rows, each pass one more wait for the GIL.
PASS_BUDGET_MS = 6.0


class RowsPerPass:
    """How many rows to add in the next pass so that it takes about PASS_BUDGET_MS: starts
    at ``first`` and follows the time the last chunk took per row."""

    def __init__(self, first: int = 40, least: int = 5, most: int = 400):
        self.rows, self.least, self.most = first, least, most

    def measured(self, rows: int, seconds: float) -> None:
        """The last chunk of ``rows`` rows took ``seconds`` of the thread's CPU time
        (:func:`time.thread_time`)."""
        if rows <= 0:
            return
        per_row_ms = max(seconds * 1000 / rows, 1e-3)
        self.rows = int(min(self.most, max(self.least, PASS_BUDGET_MS / per_row_ms)))
