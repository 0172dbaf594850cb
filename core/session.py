"""Sessions: the expression, the variables' values and the settings, saved as JSON.

A session file is data from anywhere (a colleague, a course page), so :func:`session_from_json`
checks every key and value against what the window allows and bounds every count and length
before anything reaches the window; a corrupt, foreign or oversized file raises one
:class:`~core.errors.ExpressionError` (kind ``session``) and the window keeps what it had.
:func:`load_session` reads only regular files, and at most :data:`MAX_SESSION_CHARS`
characters; :func:`save_session` replaces a file only with a complete one.
"""
from __future__ import annotations

import json
import json.decoder
import json.scanner
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core import limits
from core.errors import ExpressionError
from core.safe_io import atomic_write, read_text_file

FORMAT = "autograd-explorer-session"
VERSION = 1

#: Variables in one session (a program has at most 10,000 statements, so at most about as
#: many names worth a value).
MAX_SESSION_VARIABLES = limits.MAX_STATEMENTS
#: Characters of one variable name.
MAX_NAME_CHARS = 1_000
#: Characters of a whole session file: the longest program plus room for its values.
MAX_SESSION_CHARS = 5_000_000
#: Characters of the example title kept in the settings.
MAX_TITLE_CHARS = 200
#: The settings a session may carry, each with its allowed values (a type for free text).
SETTINGS = {
    "annotate": ("none", "values", "gradients", "all"),
    "rankdir": ("TB", "LR"),
    "show_saved": (True, False),
    "example": str,
}
DTYPES = ("float32", "float64")


@dataclass
class VariableEntry:
    """One row of the variables table as the user typed it."""

    value: str
    requires_grad: bool = True


@dataclass
class Session:
    """Everything needed to bring the window back to the same state."""

    expression: str
    variables: dict[str, VariableEntry] = field(default_factory=dict)
    dtype: str = "float32"
    settings: dict = field(default_factory=dict)
    #: the v of ``y.backward(v)`` as typed (an output with several entries), or None: ones
    grad_output: str | None = None

    def to_json(self) -> str:
        """The session as pretty JSON text (``grad_output`` only when a v was typed)."""
        data = {"format": FORMAT, "version": VERSION, "expression": self.expression,
                "variables": {n: asdict(v) for n, v in self.variables.items()},
                "dtype": self.dtype, "settings": self.settings}
        if self.grad_output is not None:
            data["grad_output"] = self.grad_output
        return json.dumps(data, indent=2, ensure_ascii=False)


def _bad(message: str) -> ExpressionError:
    return ExpressionError("session", message)


def _show(value, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: above this many characters a session is decoded by json's pure-Python scanner: slower,
#: but it runs as Python bytecode, so a window reading the file on another thread keeps the
#: GIL turning (json's C scanner holds it for the whole file: 230 ms for 5 MB of numbers, a
#: visible stall)
PURE_PYTHON_JSON_CHARS = 100_000
#: JSON values (strings, numbers, lists, objects) in one session file: a few per variable
#: (its entry, its value) and the settings; a file past it is refused as soon as the
#: decoder reaches it, before it has read the rest
MAX_SESSION_JSON_VALUES = 5 * MAX_SESSION_VARIABLES + 1_000


class _TooManyValues(ValueError):
    """The decoder passed :data:`MAX_SESSION_JSON_VALUES`."""


def _decode_json(text: str):
    """``json.loads(text)``; long texts by the pure-Python scanner, counting values."""
    if len(text) <= PURE_PYTHON_JSON_CHARS:
        return json.loads(text)
    count = [0]

    def counted(parse):
        def parse_counted(*args, **kwargs):
            count[0] += 1
            if count[0] > MAX_SESSION_JSON_VALUES:
                raise _TooManyValues()
            return parse(*args, **kwargs)
        return parse_counted

    decoder = json.JSONDecoder()
    decoder.parse_string = counted(json.decoder.py_scanstring)
    decoder.parse_object = counted(json.decoder.JSONObject)
    decoder.parse_array = counted(json.decoder.JSONArray)
    decoder.parse_int = counted(int)
    decoder.parse_float = counted(float)
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    return decoder.decode(text)


def session_from_json(text: str, where: str = "the session") -> Session:
    """Read a session from JSON text; raise ExpressionError (kind ``session``) if it is not
    a valid session: unknown keys, values outside the allowed options, or counts and lengths
    past the bounds (:data:`MAX_SESSION_VARIABLES` variables, :data:`MAX_SESSION_CHARS`
    characters, a value of at most ``limits.MAX_VALUE_CHARS`` characters)."""
    if not isinstance(text, str):
        raise _bad(f"{where} is not text")
    if len(text) > MAX_SESSION_CHARS:
        raise _bad(f"{where} has {len(text):,} characters; a session has at most "
                   f"{MAX_SESSION_CHARS:,}")
    try:
        data = _decode_json(text)
    except _TooManyValues:
        raise _bad(f"{where} has more than {MAX_SESSION_JSON_VALUES:,} values; a session has "
                   f"at most {MAX_SESSION_VARIABLES:,} variables") from None
    except (ValueError, RecursionError) as err:  # ValueError: also a 5,000-digit number
        line = getattr(err, "lineno", None)
        raise _bad(f"{where} is not valid JSON" + (f" (line {line})" if line else "")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _bad(f"{where} is not an Autograd Explorer session file")
    version = data.get("version")
    if type(version) is not int or version < 1:
        raise _bad(f"{where} has no valid version number")
    if version > VERSION:
        raise _bad(f"{where} was saved by a newer version of Autograd Explorer")
    unknown = sorted(set(data) - {"format", "version", "expression", "variables", "dtype",
                                  "settings", "grad_output"})
    if unknown:
        raise _bad(f"{where} has an unknown entry {_show(unknown[0])}")
    expression = data.get("expression")
    if not isinstance(expression, str):
        raise _bad(f"{where} has no expression")
    if len(expression) > limits.MAX_TEXT_CHARS:
        raise _bad(f"{where}: the expression has {len(expression):,} characters; the limit "
                   f"is {limits.MAX_TEXT_CHARS:,}")
    variables = _variables(data.get("variables", {}), where)
    dtype = data.get("dtype", "float32")
    if dtype not in DTYPES:
        raise _bad(f"{where}: dtype must be float32 or float64, not {_show(dtype)}")
    grad_output = data.get("grad_output")
    if grad_output is not None and (not isinstance(grad_output, str)
                                    or len(grad_output) > limits.MAX_VALUE_CHARS):
        raise _bad(f"{where}: 'grad_output' (the v of y.backward(v)) must be a value written "
                   f"as text of at most {limits.MAX_VALUE_CHARS:,} characters")
    return Session(expression, variables, dtype, _settings(data.get("settings", {}), where),
                   grad_output)


def _variables(raw, where: str) -> dict[str, VariableEntry]:
    if not isinstance(raw, dict):
        raise _bad(f"{where}: 'variables' must map names to values")
    if len(raw) > MAX_SESSION_VARIABLES:
        raise _bad(f"{where} has {len(raw):,} variables; a session has at most "
                   f"{MAX_SESSION_VARIABLES:,}")
    variables = {}
    for name, entry in raw.items():
        if len(name) > MAX_NAME_CHARS or not (name.isidentifier() and name.isascii()):
            raise _bad(f"{where}: {_show(name)} is not a variable name")
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str) \
                or not isinstance(entry.get("requires_grad", True), bool) \
                or set(entry) - {"value", "requires_grad"}:
            raise _bad(f"{where}: the entry for '{name}' needs a text 'value' and a "
                       "true/false 'requires_grad', and nothing else")
        if len(entry["value"]) > limits.MAX_VALUE_CHARS:
            raise _bad(f"{where}: the value of '{name}' has {len(entry['value']):,} "
                       f"characters; the limit is {limits.MAX_VALUE_CHARS:,}")
        variables[name] = VariableEntry(entry["value"], entry.get("requires_grad", True))
    return variables


def _settings(raw, where: str) -> dict:
    if not isinstance(raw, dict):
        raise _bad(f"{where}: 'settings' must be an object")
    settings = {}
    for key, value in raw.items():
        allowed = SETTINGS.get(key)
        if allowed is None:
            raise _bad(f"{where}: unknown setting {_show(key)} (known: "
                       f"{', '.join(SETTINGS)})")
        if allowed is str:
            if not isinstance(value, str) or len(value) > MAX_TITLE_CHARS:
                raise _bad(f"{where}: the setting '{key}' must be a short text")
        elif isinstance(value, (dict, list)) or value not in allowed \
                or type(value) is not type(allowed[0]):
            raise _bad(f"{where}: the setting '{key}' is {_show(value)}; allowed: "
                       f"{', '.join(json.dumps(a) for a in allowed)}")
        settings[key] = value
    return settings


def load_session(path: str | Path) -> Session:
    """Read and validate the session file at ``path``: only a regular file (not a device,
    pipe or a link to one), at most :data:`MAX_SESSION_CHARS` characters."""
    path = Path(path)
    try:
        text = read_text_file(path, MAX_SESSION_CHARS, "a session file")
    except ExpressionError as err:
        raise _bad(err.message) from None
    return session_from_json(text, path.name)


def save_session(session: Session, path: str | Path) -> None:
    """Write ``session`` to ``path``, replacing an existing file only with a complete one."""
    path = Path(path)
    try:
        atomic_write(path, session.to_json())
    except ExpressionError as err:
        raise _bad(f"cannot save {path.name}: {err.message}") from None
