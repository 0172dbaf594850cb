"""Menus, toolbar and keyboard shortcuts of the main window, and the Steps/Check panels.

Kept apart from the window's logic: this module only creates actions and connects them to
the window's slots (TagStudio's split of layout and logic).
"""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QMessageBox, QToolBar, QToolButton

from gui import files, help_pages, step_files, web_page
from gui.examples import load_examples
from gui.themes import THEMES


def _action(window, text, slot=None, shortcut=None, tip=None, icon=None, checkable=False,
            checked=False) -> QAction:
    action = QAction(text, window)
    if shortcut:
        action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    if icon:
        action.setIcon(QIcon(files.resource_path(f"icons/{icon}.svg")))
        action.setProperty("iconName", icon)  # gui.appearance draws it in the theme's ink
    if checkable:
        action.setCheckable(True)
        action.setChecked(checked)
    if slot:
        action.triggered.connect(slot)
    return action


def build(w) -> None:
    """Create every menu, the toolbar and the shortcuts of window ``w``."""
    S = QKeySequence.StandardKey
    w.new_action = _action(w, "&New", partial(files.new_session, w), S.New,
                           "Start from an empty expression", "document-new")
    w.open_action = _action(w, "&Open…", partial(files.open_session_dialog, w),
                            S.Open, "Open a saved session (.json) or a program file",
                            "document-open")
    w.save_action = _action(w, "&Save Session", partial(files.save_session_action, w), S.Save,
                            "Save expression, values and settings", "document-save")
    w.save_as_action = _action(w, "Save Session &As…", partial(files.save_session_dialog, w),
                               S.SaveAs)
    w.export_action = _action(w, "&Export Graph…", partial(files.export_dialog, w), "Ctrl+E",
                              "Save the graph as SVG, PNG or PDF", "document-export")
    w.copy_image_action = _action(w, "Copy Graph &Image", partial(files.copy_image, w),
                                  "Ctrl+Shift+C", "Copy the graph to the clipboard as an image",
                                  "edit-copy")
    w.export_steps_pdf_action = _action(
        w, "Export Steps as &PDF…", partial(step_files.export_steps_pdf_dialog, w), None,
        "Every backward step as one page of a PDF (for handouts)")
    w.export_steps_frames_action = _action(
        w, "Export Steps as PNG &Frames…", partial(step_files.export_steps_frames_dialog, w),
        None, "Every backward step as a numbered PNG image (for slides)")
    w.caption_action = _action(w, "Caption Graph Exports with the &Program", None, None,
                               "Write the program under exported graphs (the step decks "
                               "show it on their title page)", checkable=True,
                               checked=w.settings.value("export/caption", False)
                               in (True, "true"))
    w.caption_action.toggled.connect(lambda on: w.settings.setValue("export/caption", on))
    w.export_web_page_action = _action(
        w, "Export &Web Page…", partial(web_page.export_web_page_dialog, w), None,
        "The step-through as one interactive HTML file (no network needed)")
    w.quit_action = _action(w, "&Quit", w.close, S.Quit)
    w.compute_action = _action(w, "&Compute", w.compute_now,
                               [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter"),
                                QKeySequence("F5")],
                               "Compute value and gradients (Ctrl+Enter)", "media-playback-start")
    w.cancel_action = _action(w, "C&ancel", w.cancel, "Esc", "Stop the running computation or "
                              "drawing", "process-stop")
    w.cancel_action.setEnabled(False)
    w.auto_action = _action(w, "&Recompute While Typing", None, None,
                            "Recompute shortly after typing stops", checkable=True, checked=True)
    w.zoom_in_action = _action(w, "Zoom &In", w.graph.zoom_in,
                               [QKeySequence(S.ZoomIn), QKeySequence("Ctrl+=")],
                               "Zoom in (Ctrl++ or the mouse wheel)", "zoom-in")
    w.zoom_out_action = _action(w, "Zoom &Out", w.graph.zoom_out, S.ZoomOut, "Zoom out",
                                "zoom-out")
    w.fit_action = _action(w, "&Fit Graph", w.graph.fit, "Ctrl+0", "Fit the whole graph",
                           "zoom-fit-best")
    w.actual_size_action = _action(w, "Actual &Size", w.graph.reset_zoom, "Ctrl+1")

    menu = w.menuBar().addMenu("&File")
    menu.addActions([w.new_action, w.open_action])
    w.recent_menu = menu.addMenu("Open &Recent")
    menu.addActions([w.save_action, w.save_as_action])
    menu.addSeparator()
    menu.addActions([w.export_action, w.copy_image_action])
    menu.addActions([w.export_steps_pdf_action, w.export_steps_frames_action,
                     w.export_web_page_action])
    menu.addAction(w.caption_action)
    menu.addSeparator()
    menu.addAction(w.quit_action)
    files.update_recent_menu(w)

    menu = w.menuBar().addMenu("&Edit")
    undo = _action(w, "&Undo", w.editor.undo, S.Undo)
    redo = _action(w, "&Redo", w.editor.redo, S.Redo)
    # the editor handles these keys itself while focused; the menu entries are for discovery
    undo.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    redo.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    copy_results = _action(w, "Copy &Results", w.copy_results, None,
                           "Copy value and gradients as tab-separated text")
    menu.addActions([undo, redo])
    menu.addSeparator()
    menu.addAction(copy_results)

    menu = w.menuBar().addMenu("&Compute")
    menu.addActions([w.compute_action, w.cancel_action])
    menu.addSeparator()
    menu.addAction(w.auto_action)

    menu = w.menuBar().addMenu("&View")
    _build_appearance(w, menu)
    menu.addActions([w.zoom_in_action, w.zoom_out_action, w.fit_action, w.actual_size_action])
    menu.addSeparator()
    annotate = menu.addMenu("&Annotate Nodes With")
    group = QActionGroup(w)
    for label, value in (("Values and Gradients", "all"), ("Values", "values"),
                         ("Gradients", "gradients"), ("Nothing (torchviz look)", "none")):
        act = _action(w, label, partial(w.set_graph_option, "annotate", value), checkable=True,
                      checked=value == "all")
        group.addAction(act)
        annotate.addAction(act)
    w.lr_action = _action(w, "&Left to Right", None, None, "Lay the graph out horizontally",
                          checkable=True)
    w.lr_action.toggled.connect(lambda on: w.set_graph_option("rankdir", "LR" if on else "TB"))
    w.saved_action = _action(w, "Show &Saved Tensors", None, None,
                             "Show what each operation saves for the backward pass",
                             checkable=True)
    w.saved_action.toggled.connect(lambda on: w.set_graph_option("show_saved", on))
    menu.addActions([w.lr_action, w.saved_action])
    menu.addSeparator()
    _build_tab_actions(w, menu)
    menu.addSeparator()
    for dock in (w.left_dock, w.details_dock, w.steps_dock, w.check_dock, w.views_dock):
        menu.addAction(dock.toggleViewAction())

    _build_step_menu(w, w.menuBar().addMenu("&Steps"))

    w.examples_menu = w.menuBar().addMenu("E&xamples")
    group_name = None
    for example in load_examples():
        if example.group != group_name:
            group_name = example.group
            w.examples_menu.addSection(group_name)
        act = _action(w, example.title, partial(w.choose_example, example),
                      tip=example.explanation)
        w.examples_menu.addAction(act)

    menu = w.menuBar().addMenu("&Help")
    w.getting_started_action = _action(w, "&Getting Started", partial(help_pages.show_guide, w),
                                       S.HelpContents, "What to type, and how to read the "
                                       "graph: backward nodes, AccumulateGrad, the colours")
    w.functions_action = _action(w, "&Functions", partial(help_pages.show_functions, w),
                                 "Shift+F1", "Every function the language knows (searchable)")
    menu.addActions([w.getting_started_action, w.functions_action])
    menu.addSeparator()
    menu.addAction(_action(w, "&About Autograd Explorer", partial(show_about, w)))

    bar = QToolBar("Main", w)
    bar.setObjectName("mainToolbar")
    bar.setIconSize(QSize(20, 20))
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    bar.addAction(w.compute_action)
    bar.addAction(w.cancel_action)
    bar.addSeparator()
    examples_button = QToolButton()
    examples_button.setText("Examples")
    examples_button.setMenu(w.examples_menu)
    examples_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    bar.addWidget(examples_button)
    # short labels on the toolbar (the menus keep the full ones), so that it fits a
    # 1024-pixel projector without hiding buttons in its overflow menu
    for action, short in ((w.open_action, "Open"), (w.save_action, "Save"),
                          (w.export_action, "Export"), (w.copy_image_action, "Copy Image")):
        action.setIconText(short)
    bar.addActions([w.open_action, w.save_action])
    bar.addSeparator()
    bar.addActions([w.export_action, w.copy_image_action])
    w.addToolBar(bar)
    w.toolbar = bar
    # the zoom buttons sit over the graph, where there is always room for them
    w.graph_bar.add_zoom_actions(w.zoom_out_action, w.zoom_in_action, w.fit_action)


def _build_appearance(w, menu) -> None:
    """View > Presentation, Theme and Text Size (gui.appearance, gui.presentation)."""
    w.presentation_action = _action(w, "&Presentation", None, "F11",
                                    "Full screen with the graph and the Steps only, in larger "
                                    "type (F11 again to leave)", checkable=True)
    w.presentation_action.toggled.connect(w.set_presentation)
    menu.addAction(w.presentation_action)
    themes = menu.addMenu("&Theme")
    group = QActionGroup(w)
    w.theme_actions = {}
    for name, theme in THEMES.items():
        act = _action(w, theme.title, partial(w.set_theme, name), checkable=True)
        group.addAction(act)
        themes.addAction(act)
        w.theme_actions[name] = act
    size = menu.addMenu("Text Si&ze")
    size.addActions([
        _action(w, "&Larger", partial(w.change_text_size, +1), "Ctrl+Alt+=",
                "Larger text everywhere: tables, steps, editor"),
        _action(w, "&Smaller", partial(w.change_text_size, -1), "Ctrl+Alt+-"),
        _action(w, "&Normal", partial(w.change_text_size, 0), "Ctrl+Alt+0")])
    menu.addSeparator()


def _build_tab_actions(w, menu) -> None:
    """Alt+1/2/3/4 bring the Node, Steps, Check and Views tabs up from anywhere."""
    w.tab_actions = []
    for number, (label, dock) in enumerate((("&Node Tab", w.details_dock),
                                            ("S&teps Tab", w.steps_dock),
                                            ("C&heck Tab", w.check_dock),
                                            ("&Views Tab", w.views_dock)), 1):
        act = _action(w, label, partial(w.show_tab, dock), f"Alt+{number}",
                      f"Bring the {dock.windowTitle()} tab up and put the keyboard in it")
        act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        w.tab_actions.append(act)
        menu.addAction(act)


def _build_step_menu(w, menu) -> None:
    """Stepping from anywhere in the window (the editor too): Alt+arrows, and Page Down /
    Page Up, which is what a presenter's remote sends."""
    specs = (("&Next Step", "next", ["Alt+Right", "PgDown"]),
             ("&Previous Step", "back", ["Alt+Left", "PgUp"]),
             ("&First Step", "first", ["Alt+Home"]),
             ("&Last Step", "last", ["Alt+End"]),
             ("Play / &Pause", "toggle_play", ["Alt+P"]))
    w.step_actions = {}
    for label, method, keys in specs:
        act = _action(w, label, partial(w.step_command, method), [QKeySequence(k) for k in keys],
                      f"{label.replace('&', '')} of the backward pass ({keys[0]})")
        act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        w.step_actions[method] = act
        menu.addAction(act)


def attach_panels(w) -> None:
    """Embed the Steps and Check panels once torch is loaded.

    The Steps panel gets each result's steps (recorded and written out as text on the
    compute worker) and its highlight is drawn on the graph while the Steps tab is showing;
    the Check panel is filled by a CheckRunner on a worker while the Check tab is showing.
    """
    from gui.check_panel import CheckPanel
    from gui.check_runner import CheckRunner
    from gui.step_panel import StepPanel

    w.step_panel = StepPanel()
    w.embed_panel(w.steps_dock, w.step_panel)
    w.computed.connect(lambda result: show_steps_of(w, result))
    w.stepsReady.connect(lambda result: show_steps_of(w, result))
    w.step_panel.stepChanged.connect(w.on_step_changed)
    w.step_panel.add_key_target(w.graph)  # arrows step while the graph has focus too
    w.steps_showing = w.steps_dock.isVisible() and not w.steps_dock.visibleRegion().isEmpty()
    w.steps_dock.visibilityChanged.connect(w.on_steps_visibility)

    w.check_panel = CheckPanel()
    w.embed_panel(w.check_dock, w.check_panel)
    w.checker = CheckRunner(w, w.check_panel)
    w.computed.connect(lambda result: w.checker.set_result(result, w.result_reference))
    w.check_dock.visibilityChanged.connect(w.checker.set_showing)
    w.checker.set_showing(not w.check_dock.visibleRegion().isEmpty() and w.check_dock.isVisible())

    from gui.views_panel import attach_views
    attach_views(w)  # Paths, Forward vs reverse, Jacobian, Second derivatives, Train
    w.appearance.panels_attached()  # the new panels in the window's theme and text size


#: what the Steps panel says while the steps of the graph on screen are being written out
PREPARING_STEPS = ("Preparing the steps… The graph is drawn first; the steps of the "
                   "backward pass (recorded by torch's engine, each with its rule) follow "
                   "in a moment.")


def show_steps_of(w, result) -> None:
    """The Steps panel for ``result``: its steps, or that they are being prepared (the
    window draws the graph first), or why there are none."""
    if result.steps_pending:
        w.step_panel.show_waiting(PREPARING_STEPS)
    elif result.steps is None and getattr(result, "steps_error", None):
        w.step_panel.show_waiting(f"No backward steps: {result.steps_error}")
    else:
        w.step_panel.set_trace(result.steps)


def show_about(w) -> None:
    """The About box."""
    QMessageBox.about(w, "About Autograd Explorer",
                      "<h3>Autograd Explorer</h3><p>Type an expression, see its value, every "
                      "gradient and the backward graph torch.autograd builds for it; step "
                      "through the chain rule one node at a time.</p>")
