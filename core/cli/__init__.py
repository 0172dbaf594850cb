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
    "paths": "core.cli.paths",
    "modes": "core.cli.modes",
    "jacobian": "core.cli.jacobian",
    "hessian": "core.cli.hessian",
    "train": "core.cli.train",
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
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        module.add_parser(sub)
    return parser


def _expression_first(parser, argv: list[str]) -> list[str]:
    """Let an expression that starts with '-' (``compute '-x**2'``) be read as the expression,
    not as an unknown option: move it after the options, behind ``--``."""
    if len(argv) < 2 or not argv[1].startswith("-") or argv[1] == "-":
        return argv
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    command = sub.choices.get(argv[0]) if sub else None
    if command is None:
        return argv
    option = argv[1].split("=", 1)[0]
    if option in command._option_string_actions or argv[1] == "--":
        return argv
    return [argv[0], *argv[2:], "--", argv[1]]


def main(argv: list[str]) -> int:
    """Run one sub-command; returns the exit status."""
    from core.cli.common import run_guarded
    parser = build_parser()
    try:
        args = parser.parse_args(_expression_first(parser, argv))
    except SystemExit as exit_:  # --help (0) or a usage error (2, already printed)
        return exit_.code if isinstance(exit_.code, int) else 2
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    return run_guarded(args.run, args)
