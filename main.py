"""Autograd Explorer's entry point.

``python main.py`` starts the desktop application (``python main.py FILE`` opens a session or a
program file in it); ``python main.py compute|render|steps|check ...`` runs headless (see
``python main.py --help``). Imports stay lazy so the window can be on
screen before torch has finished loading.
"""
from __future__ import annotations

import sys

from core.cli import COMMANDS  # a light import: names only, each command loads lazily

SUBCOMMANDS = tuple(COMMANDS)


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a headless sub-command or start the GUI; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help")):
        from core.cli import main as cli_main
        return cli_main(argv)
    mistake = _not_a_file_or_command(argv)
    if mistake:
        sys.stderr.write(f"error: {mistake}\n")
        return 2
    problem = _why_no_window()
    if problem:
        sys.stderr.write(f"error: {problem}\n")
        return 2
    try:
        from gui.app import run_app
    except ImportError as err:  # PySide6 missing, or Qt's system libraries (libGL, libEGL)
        sys.stderr.write(
            f"error: the window cannot start: {err}.\nInstall Qt's system libraries with:\n"
            "  sudo apt-get install -y libegl1 libgl1 libxkbcommon0 libfontconfig1 "
            "libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 "
            "libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0\n"
            "or run ./run.sh, which installs them. Headless commands still work: "
            "./run.sh compute --help\n")
        return 2
    return run_app(argv)


def _not_a_file_or_command(argv: list[str]) -> str | None:
    """The window takes at most one file to open; a first word that is neither an existing
    file nor a sub-command is a mistake (``comptue``), said at once instead of opening a
    window that ignores it."""
    import difflib
    import os

    words = [a for a in argv if not a.startswith("-")]
    if not words:
        return None
    first = words[0]
    close = difflib.get_close_matches(first, SUBCOMMANDS, n=1, cutoff=0.6)
    if close and not os.path.exists(first):
        return f"unknown command '{first}'; did you mean '{close[0]}'?"
    if len(words) > 1:
        return (f"the window opens one file, not {len(words)} ({' '.join(words[:3])}"
                f"{' …' if len(words) > 3 else ''}); sub-commands: {', '.join(SUBCOMMANDS)}")
    if os.path.exists(first):
        return None
    return (f"'{first}' is neither a file nor a command (commands: "
            f"{', '.join(SUBCOMMANDS)}; see --help)")


def _why_no_window() -> str | None:
    """On Linux without a display, Qt would abort with a cryptic message; say it plainly."""
    import os

    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display was found (DISPLAY is not set), so the window cannot open. Run it "
            "in a desktop session, or use the headless commands: ./run.sh compute --help")


if __name__ == "__main__":
    sys.exit(main())
