"""Make the README's screenshots of the real window into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py

Runs the application window offscreen (no display needed) with throw-away settings, loads
examples, and saves ``QWidget.grab()`` images of the whole window:

* ``window.png``: the seed notebook's chain-rule example, computed, graph drawn;
* ``node-details.png``: the same with the exp node clicked (details panel, editor selection);
* ``matrices.png``: the seed's matrix example (matrix results, reference values);
* ``error.png``: an expression with an unknown function, underlined where it is;
* ``steps.png``: the chain rule stepped to the node where w's two paths meet (Steps tab);
* ``check.png``: the matrix example's gradients checked (Check tab);
* ``pasted-cell.png``: a notebook cell pasted verbatim, with what was set aside;
* ``dark.png``: the chain rule in the dark theme, stepping with gradients revealed;
* ``presentation.png``: presentation mode (F11) on a 1920×1080 screen: the graph and the
  Steps only, full screen, in larger type.

The offscreen screen is made 1920×1080 (Qt's offscreen ``configfile``) so that presentation
mode's full screen is a projector's.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if "QT_QPA_PLATFORM" not in os.environ:
    _SCREEN = Path(tempfile.mkdtemp()) / "screen.json"
    _SCREEN.write_text('{"screens": [{"name": "projector", "x": 0, "y": 0, "width": 1920, '
                       '"height": 1080, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}')
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREEN}"

SIZE = (1600, 1000)


def main() -> int:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from gui.app import create_application
    from gui.examples import load_examples
    from gui.main_window import MainWindow

    app = create_application([])
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
        QTimer.singleShot(ms if signal is not None else 300, loop.quit)
        loop.exec()
        if signal is not None:
            signal.disconnect(loop.quit)

    def settle() -> None:
        """Until the drawing, the steps (recorded after the drawing) and any redraw are done."""
        wait()  # a redraw the last change asked for has started
        for _ in range(200):
            busy = (window.compute_jobs.busy or window.render_jobs.busy
                    or window.steps_jobs.busy)
            if not busy and (window.result is None or window.step_panel.step_count() > 0):
                return
            wait()

    def shot(name: str) -> None:
        settle()
        wait()  # let layouts settle and paint
        path = out / name
        window.grab().save(str(path))
        print("saved", path.relative_to(ROOT))

    window.start_loading()
    wait(window.torchReady)
    examples = {e.title.split(":")[0]: e for e in load_examples()}

    window.load_example(examples["Chain rule"])
    wait(window.drawn)
    shot("window.png")

    exp_node = next(k for k, d in window.drawing.details.items() if d["op"] == "ExpBackward0")
    window.graph.click_at(window.graph.node_scene_rect(exp_node).center())
    shot("node-details.png")

    # Steps: stop where w's two contributions are added (the last AccumulateGrad step)
    window.steps_dock.raise_()
    settle()
    trace = window.result.trace
    w_step = max(i for i, s in enumerate(trace.steps) if s.leaf_id)
    window.step_panel.set_step(w_step)
    shot("steps.png")

    window.load_example(examples["Matrices"])
    wait(window.drawn)
    window.details_dock.raise_()
    shot("matrices.png")

    window.check_dock.raise_()
    wait(window.checker.checked)
    window.check_panel.table.selectRow(0)
    shot("check.png")

    window.details_dock.raise_()
    window.editor.setPlainText(
        "import torch\nw = torch.ones(1, requires_grad=True)\n"
        "z = torch.ones(1, requires_grad=True)*2\nf = w + torch.sin(2*z)\n"
        "f.backward()\nprint(w.grad, z.grad)")
    window.on_text_changed()
    window.compute_now()
    wait(window.drawn)
    shot("pasted-cell.png")

    # the error shot: first the expression as it should be, then the typo
    window.editor.setPlainText("g = 3*w + cos(z)\nf = exp(g) * z")
    window.on_text_changed()
    window.compute_now()
    wait(window.drawn)
    window.editor.setPlainText("g = 3*w + cos(z)\nf = expp(g) * z")
    window.on_text_changed()
    shot("error.png")

    # the dark theme, stepping through the chain rule with the gradients revealed
    window.load_example(examples["Chain rule"])
    wait(window.drawn)
    window.set_theme("dark")
    window.steps_dock.raise_()
    settle()
    window.step_panel.set_step(6)
    shot("dark.png")
    window.set_theme("light")
    wait(window.drawn)

    # presentation mode on a 1920x1080 screen, at the step where w's first path arrives
    window.presentation_action.setChecked(True)
    settle()
    window.step_panel.set_step(6)
    shot("presentation.png")
    window.presentation_action.setChecked(False)

    window.close()
    window.wait_for_workers()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
