"""What every sub-command shares: reading the program and its values from the command
line, and turning errors into one ``error:`` line with exit status 2."""
from __future__ import annotations

import json
import os
import sys

from core import limits
from core.errors import ExpressionError
from core.language.values import VariableSpec, parse_value
from core.safe_io import read_text_file, read_text_stream


class UsageError(Exception):
    """A problem with the command line itself (a missing file, a malformed --var)."""


def add_program_arguments(parser) -> None:
    """The arguments that name a program and its values, shared by all sub-commands."""
    parser.add_argument("expression", nargs="?",
                        help="the program, e.g. 'f = exp(3*w) + sin(z)' (use \\n or ; between "
                        "statements), or - to read it from standard input")
    parser.add_argument("--file", "-f", metavar="PATH",
                        help="read the program from a file (- for standard input)")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="an input that needs a gradient, e.g. --var w=1 or "
                        "--var 'W=[[1,0.5],[0.2,0.1]]'")
    parser.add_argument("--const", action="append", default=[], metavar="NAME=VALUE",
                        help="an input held constant (no gradient)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=None,
                        help="floating-point precision (default: float32, as torch; float64 "
                        "when a pasted cell asks for dtype=torch.float64)")


def read_text(args) -> str:
    """The program text from the positional argument, --file, or standard input."""
    if args.file and args.expression:
        raise UsageError("give the program either as an argument or with --file, not both")
    if args.file:
        if args.file == "-":
            return read_text_stream(sys.stdin, limits.MAX_TEXT_CHARS)
        return read_text_file(args.file, limits.MAX_TEXT_CHARS, "a program")
    if args.expression == "-":
        return read_text_stream(sys.stdin, limits.MAX_TEXT_CHARS)
    if not args.expression:
        raise UsageError("give a program, e.g. compute 'f = w**2' --var w=3")
    # In a shell, 'g = 3*w\nf = g' arrives with a literal backslash-n; a backslash is never
    # valid there otherwise, so read it as the line break the user meant.
    return args.expression.replace("\\n", "\n")


def parse_name_values(items: list[str], example: str, where: str = "{name}") -> dict:
    """``["w=1", "W=[[1,2],[3,4]]"]`` -> ``{"w": 1.0, "W": [[1.0, 2.0], [3.0, 4.0]]}``.

    The one reader of every NAME=VALUE option (``--var``, ``--const``, ``--reference``):
    values are read without eval; ``example`` shows the form in the error message and
    ``where`` (formatted with the name) says which value a value error is about.
    """
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"'{item}' should look like NAME=VALUE, e.g. {example}")
        if not name.isidentifier() or not name.isascii():
            raise UsageError(f"'{name}' is not a valid variable name")
        values[name] = parse_value(text, where=where.format(name=name))
    return values


def parse_assignments(items: list[str], requires_grad: bool) -> dict[str, VariableSpec]:
    """``["w=1", "W=[[1,2],[3,4]]"]`` -> VariableSpecs (values read without eval)."""
    return {name: VariableSpec(name, value, requires_grad)
            for name, value in parse_name_values(items, "w=1").items()}


def load(args):
    """Parse the program and collect its variables: ``(program, {name: VariableSpec})``."""
    from core.language.parser import parse
    text = read_text(args)
    program = parse(text)
    variables = parse_assignments(args.var, True)
    variables.update(parse_assignments(args.const, False))
    for name, spec in getattr(program, "defaults", {}).items():
        variables.setdefault(name, spec)
    if args.dtype is None:  # a pasted cell's dtype=torch.float64, else torch's float32
        args.dtype = program.dtype or "float32"
    return program, variables


def print_json(data) -> None:
    """Write one JSON object to stdout."""
    json.dump(data, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


#: the sub-commands' options that name a file or folder to write
OUTPUT_OPTIONS = {"output": "-o/--output", "pdf": "--pdf", "html": "--html",
                  "frames": "--frames", "graph": "--graph"}


def check_output_names(args) -> None:
    """An output option given an empty name (``--html ''``) is a mistake, not "no file":
    say so instead of silently writing nothing."""
    for attribute, option in OUTPUT_OPTIONS.items():
        value = getattr(args, attribute, None)
        if isinstance(value, str) and not value.strip():
            raise UsageError(f"{option} needs a file name, not an empty one")


def run_guarded(function, args) -> int:
    """Run a sub-command; user errors become ``error: ...`` on stderr and exit status 2."""
    try:
        check_output_names(args)
        return function(args) or 0
    except ExpressionError as err:
        sys.stderr.write(f"error: {err}\n")
    except UsageError as err:
        sys.stderr.write(f"error: {err}\n")
    except RecursionError:
        sys.stderr.write("error: the program is too deeply nested to process\n")
    except MemoryError:
        sys.stderr.write("error: the program needs more memory than is available\n")
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
    except BrokenPipeError:
        # the reader went away (``compute ... | head``): nothing to report, and Python's
        # own flush at exit must not fail again (as the Python docs recommend)
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except Exception as err:  # noqa: BLE001 - a bug must still end as one line, not a traceback
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
        sys.stderr.write(f"error: {INTERNAL_ERROR} ({type(err).__name__}"
                         f"{': ' + first if first else ''}); please report it\n")
    return 2


#: the words of the last-resort message; the tests' hostile corpus asserts it never appears
INTERNAL_ERROR = "internal error"
