"""Headless sub-commands: ``python main.py compute|render|steps|check ...``.

Each sub-command lives in its own module exposing ``add_parser(subparsers)`` and
``run(args) -> int``. Every error a user can cause ends as one ``error: ...`` line on
stderr and exit status 2; nothing prints a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: sub-command name -> module in this package
COMMANDS = {
    "compute": "core.cli.compute",
    "render": "core.cli.render",
    "steps": "core.cli.steps",
    "check": "core.cli.check",
}


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and one ``error:`` line (its own convention)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The parser for every sub-command whose module is present."""
    parser = _Parser(prog="autograd-explorer",
                     description="Autograd Explorer: see how torch.autograd computes "
                     "gradients. Without a sub-command, the desktop application starts.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str]) -> int:
    """Run one sub-command; returns the exit status."""
    from core.cli.common import run_guarded
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    return run_guarded(args.run, args)
