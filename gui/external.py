"""The desktop window on a graph from the user's own code: ``Exploration.show()``.

The window is the application's own (graph, Node, Steps, Check panels), given a result made
here from the exploration instead of from typed text: the same plain data gui.compute makes
(values and gradients of the output and every parameter, the recorded steps written out as
text), and a gradient check made before the window opens (core.check.model_check: the
user's code is not run again unless ``explore(fn, inputs)`` allowed it). The window keeps
its settings in a temporary file, so it never touches the app's saved session or layout.

``show_exploration`` blocks until the window is closed, like matplotlib's ``plt.show()``,
with a local event loop: it works from a script (no Qt application yet) and from IPython
(with or without ``%gui qt``).
"""
from __future__ import annotations

import tempfile

from PySide6.QtCore import QEventLoop, QSettings, Qt


def result_for(exploration):
    """A gui.compute.ComputeResult of the exploration (the window's plain data)."""
    from gui.compute import ComputeResult, Quantity, cell_texts
    from gui.summary import display_data

    evaluation = exploration.evaluation
    result = ComputeResult("", evaluation.dtype, evaluation, evaluation.output_name)
    output = evaluation.output
    result.quantities.append(Quantity(evaluation.output_name, "output",
                                      display_data(output.detach()), 1.0,
                                      tuple(output.shape)))
    gradients = {node.name: node.grad for node in exploration.graph.nodes.values()
                 if node.kind == "leaf" and node.name}
    for name, tensor in evaluation.inputs.items():
        grad = gradients.get(name)
        result.quantities.append(Quantity(
            name, "input", display_data(tensor.detach()),
            display_data(grad) if grad is not None else None, tuple(tensor.shape),
            tensor.requires_grad))
    result.cells = {q.name: cell_texts(q) for q in result.quantities}
    # recorded by explore(); written out as text by the window once the graph is drawn
    result.trace = exploration.trace
    result.steps_pending = True
    result.record_node_ids = [str(id(r.grad_fn)) if r.grad_fn is not None else None
                              for r in evaluation.records]
    return result


def open_window(exploration):
    """The window on the exploration, shown and drawing (returns at once)."""
    from core.check.model_check import check_model
    from gui.app import create_application
    from gui.compute import CheckOutcome
    from gui.main_window import MainWindow

    create_application([])
    result = result_for(exploration)
    # checked now, on this thread: a check re-runs the user's callable, which must not
    # race the window's workers reading the same tensors
    result.check_outcome = CheckOutcome(check_model(exploration.evaluation))
    settings_file = tempfile.NamedTemporaryFile(prefix="autograd-explorer-", suffix=".ini",
                                                delete=False)
    settings_file.close()
    window = MainWindow(QSettings(settings_file.name, QSettings.Format.IniFormat),
                        restore=False)
    window.setWindowTitle(f"Autograd Explorer: {exploration.evaluation.output_name} "
                          f"({len(exploration.evaluation.inputs)} parameters)")
    window.editor.setPlaceholderText(
        "This graph comes from your own code (autograd_explorer.explore); type an "
        "expression here to compute it instead.")
    window.hold_compute = True  # nothing typed to compute: show the given result
    import torch

    window._torch_loaded(torch.__version__)
    window.resize(1400, 900)
    window.show()
    window.on_computed(result)
    return window


def show_exploration(exploration, block: bool = True):
    """Open the window on the exploration; with ``block`` wait until it is closed."""
    window = open_window(exploration)
    if not block:
        return window
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    loop = QEventLoop()
    window.destroyed.connect(loop.quit)
    loop.exec()
    return None
