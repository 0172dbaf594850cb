"""The Qt binding itself must not corrupt the interpreter: PySide6 6.12.0 on Python 3.11
dropped a reference to None on every Qt call returning nothing, so the app aborted
("deallocating None") after a few thousand calls. scripts/constraints.txt pins a good one."""
from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel


def test_qt_calls_keep_nones_reference_count(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        label.setEnabled(True)
        timer.stop()
    # other threads may touch None meanwhile; a leak would be about -6,000
    assert sys.getrefcount(None) - before > -100
