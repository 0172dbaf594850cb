"""Sessions as the window uses them; the format, its validation and the safe reading and
writing live in :mod:`core.session` (Qt-free, tested without a window)."""
from __future__ import annotations

from core.session import (  # noqa: F401 - the window's names for them
    FORMAT,
    VERSION,
    Session,
    VariableEntry,
    load_session,
    save_session,
    session_from_json,
)
