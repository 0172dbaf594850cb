"""Sessions: the expression, the variables' values and the settings, saved as JSON.

:func:`load_session` validates everything before returning, so a corrupt or foreign file
raises one :class:`~core.errors.ExpressionError` (kind ``session``) and the window keeps
what it had. Qt-free.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core import limits
from core.errors import ExpressionError

FORMAT = "autograd-explorer-session"
VERSION = 1


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

    def to_json(self) -> str:
        """The session as pretty JSON text."""
        data = {"format": FORMAT, "version": VERSION, "expression": self.expression,
                "variables": {n: asdict(v) for n, v in self.variables.items()},
                "dtype": self.dtype, "settings": self.settings}
        return json.dumps(data, indent=2, ensure_ascii=False)


def _bad(message: str) -> ExpressionError:
    return ExpressionError("session", message)


def session_from_json(text: str, where: str = "the session") -> Session:
    """Read a session from JSON text; raise ExpressionError (kind ``session``) if it is
    not a valid session."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        line = getattr(err, "lineno", None)
        raise _bad(f"{where} is not valid JSON" + (f" (line {line})" if line else "")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _bad(f"{where} is not an Autograd Explorer session file")
    if not isinstance(data.get("version"), int) or data["version"] > VERSION:
        raise _bad(f"{where} was saved by a newer version of Autograd Explorer")
    expression = data.get("expression")
    if not isinstance(expression, str) or len(expression) > limits.MAX_TEXT_CHARS:
        raise _bad(f"{where} has no expression (or one that is too long)")
    raw_vars = data.get("variables", {})
    if not isinstance(raw_vars, dict):
        raise _bad(f"{where}: 'variables' must map names to values")
    variables = {}
    for name, entry in raw_vars.items():
        if not (isinstance(name, str) and name.isidentifier() and name.isascii()):
            raise _bad(f"{where}: '{name}' is not a variable name")
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str) \
                or not isinstance(entry.get("requires_grad", True), bool):
            raise _bad(f"{where}: the entry for '{name}' needs a text 'value' and a "
                       "true/false 'requires_grad'")
        variables[name] = VariableEntry(entry["value"], entry.get("requires_grad", True))
    dtype = data.get("dtype", "float32")
    if dtype not in ("float32", "float64"):
        raise _bad(f"{where}: dtype must be float32 or float64, not {dtype!r}")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise _bad(f"{where}: 'settings' must be an object")
    return Session(expression, variables, dtype, settings)


def load_session(path: str | Path) -> Session:
    """Read and validate the session file at ``path``."""
    path = Path(path)
    try:
        if path.stat().st_size > 64_000_000:  # far beyond any real session
            raise _bad(f"{path.name} is too large to be a session file")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _bad(f"{path.name} is not a text file") from None
    except OSError as err:
        raise _bad(f"cannot read {path.name}: {err.strerror or err}") from None
    return session_from_json(text, path.name)


def save_session(session: Session, path: str | Path) -> None:
    """Write ``session`` to ``path`` (via a temporary file, so a failed write keeps the old)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(session.to_json(), encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        raise ExpressionError("session", f"cannot save {path.name}: {err.strerror or err}") \
            from None
