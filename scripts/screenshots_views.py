"""Make the README's screenshots of the Views dock (issue 15) into docs/screenshots/.

    .venv/bin/python scripts/screenshots_views.py

The real window offscreen with throw-away settings; each built-in example made for a view
is loaded, the view computes, and ``QWidget.grab()`` saves the window:
view-paths.png, view-modes.png, view-jacobian.png, view-microscope.png, view-hessian.png,
view-train.png.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZE = (1600, 1000)
#: view -> the example (title prefix) its screenshot shows
SHOTS = {"paths": "Chain rule", "modes": "Many inputs, one output",
         "jacobian": "Jacobian of a matrix-vector product", "microscope": "Matrices",
         "hessian": "Mixed partials",
         "train": "Minimise (w − 3)²"}


def main() -> int:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from gui.app import create_application
    from gui.examples import load_examples
    from gui.main_window import MainWindow

    app = create_application([])  # noqa: F841 - keeps the application alive
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    config = tempfile.mkdtemp()
    window = MainWindow(QSettings(f"{config}/s.ini", QSettings.Format.IniFormat))
    window.resize(*SIZE)
    window.show()

    def wait(signal=None, ms=60_000):
        loop = QEventLoop()
        if signal is not None:
            signal.connect(loop.quit)
        QTimer.singleShot(ms if signal is not None else 400, loop.quit)
        loop.exec()
        if signal is not None:
            signal.disconnect(loop.quit)

    window.start_loading()
    wait(window.torchReady)
    examples = load_examples()
    for key, prefix in SHOTS.items():
        example = next(e for e in examples if e.title.startswith(prefix))
        view = window.views_panel.view(key)
        window.load_example(example)
        window.views_panel.show_view(key)
        wait(view.shown)
        if key == "paths":
            wait(window.drawn, 5000)
            window.views_panel.show_view(key)
            view.select_path(0)
        if key == "hessian":
            view.draw_box.setChecked(True)
            wait(view.shown)
        if key == "train":
            view.run_steps(12)
            wait(view.step_jobs.returned)
            view.backward_again()
            wait(view.again_jobs.returned)
        wait()
        path = out / f"view-{key}.png"
        window.grab().save(str(path))
        print("saved", path.relative_to(ROOT))
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
