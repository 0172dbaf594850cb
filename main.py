"""Autograd Explorer's entry point.

``python main.py`` starts the desktop application; ``python main.py compute|render|steps|check
...`` runs headless (see ``python main.py --help``). Imports stay lazy so the window can be on
screen before torch has finished loading.
"""
from __future__ import annotations

import sys

SUBCOMMANDS = ("compute", "render", "steps", "check")


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a headless sub-command or start the GUI; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help")):
        from core.cli import main as cli_main
        return cli_main(argv)
    from gui.app import run_app
    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
