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
