"""Reading files from anywhere and writing files without ever losing the old one.

Reading: a path given by a user (``--file``, a session file) may name a device
(``/dev/zero`` never ends), a FIFO nobody writes to (``open`` blocks forever), or a link to
either. :func:`read_text_file` opens without blocking, refuses anything that is not a regular
file, and reads at most ``max_chars + 1`` characters (one more than allowed, to tell "exactly
the limit" from "more").

Writing: :func:`atomic_write` (and :func:`atomic_writer` for writers that need a file
object) writes into a temporary file in the target's own folder, flushes it to disk, and
renames it over the target only when everything was written; a full disk, a killed process
or an exception part-way leaves the old file as it was. Every file the app writes (rendered
graphs, step PDFs and frames, sessions) goes through here.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from core.errors import ExpressionError, LimitError

#: characters decoded per read call: one call holds the GIL while it decodes, so a thread
#: reading a 5 MB file beside the window hands the GIL back this often (one 5 MB call held
#: it about 100 ms)
READ_CHUNK_CHARS = 65_536


def _read_in_chunks(handle, limit: int) -> str:
    """At most ``limit`` characters from the text ``handle``, a chunk per call."""
    parts, count = [], 0
    while count < limit:
        part = handle.read(min(READ_CHUNK_CHARS, limit - count))
        if not part:
            break
        parts.append(part)
        count += len(part)
    return "".join(parts)


def read_text_file(path, max_chars: int, what: str = "the file") -> str:
    """The text of the regular file at ``path``, at most ``max_chars`` characters.

    Raises :class:`ExpressionError` (kind ``file``) for a missing, unreadable or non-regular
    file (a device, FIFO, socket or directory, also through a link) and for text that is not
    UTF-8, and :class:`LimitError` when there are more than ``max_chars`` characters. Never
    blocks on a FIFO and never reads more than ``max_chars + 1`` characters.
    """
    path = Path(path)
    name = str(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer forever
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ExpressionError("file", f"no such file: {name}") from None
    except IsADirectoryError:
        raise ExpressionError("file", f"{name} is a folder, not a file") from None
    except OSError as err:
        raise ExpressionError("file", f"cannot read {name}: {err.strerror or err}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ExpressionError("file", f"{name} is not a regular file ({_kind(mode)}); "
                                  f"{what} must be an ordinary file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "r", encoding="utf-8", newline=None) as handle:
            fd = -1  # owned by the handle now
            text = _read_in_chunks(handle, max_chars + 1)
    except UnicodeDecodeError:
        raise ExpressionError("file", f"{name} is not a text file (not UTF-8)") from None
    except OSError as err:
        raise ExpressionError("file", f"cannot read {name}: {err.strerror or err}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(text) > max_chars:
        raise LimitError(f"{name} has more than {max_chars:,} characters; the limit for "
                         f"{what} is {max_chars:,}")
    return text


def read_text_stream(stream, max_chars: int, what: str = "standard input") -> str:
    """At most ``max_chars`` characters from an open text stream (standard input), or a
    :class:`LimitError` if there are more."""
    try:
        text = stream.read(max_chars + 1)
    except UnicodeDecodeError:
        raise ExpressionError("file", f"{what} is not a text file (not UTF-8)") from None
    except OSError as err:
        raise ExpressionError("file", f"cannot read {what}: {err.strerror or err}") from None
    if len(text) > max_chars:
        raise LimitError(f"{what} has more than {max_chars:,} characters; the limit is "
                         f"{max_chars:,}")
    return text


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


@contextlib.contextmanager
def atomic_writer(path, mode: str = "wb", encoding: str | None = None):
    """A file object for ``path`` that replaces ``path`` only if the ``with`` block ends
    without an exception and the data reached the disk; otherwise the old file stays.

    Errors of the file system become :class:`ExpressionError` (kind ``file``) naming the
    target. The temporary file sits in the same folder (a rename across file systems would
    not be atomic) and is removed on failure.
    """
    shown = Path(path)
    # a link is followed: the file it names is replaced and the link stays a link
    target = Path(os.path.realpath(shown))
    folder = target.parent
    try:
        kind = os.stat(target).st_mode
    except OSError:
        kind = None  # a new file
    if kind is not None and stat.S_ISDIR(kind):
        raise ExpressionError("file", f"cannot write {shown}: it is a folder")
    if kind is not None and not stat.S_ISREG(kind):
        # renaming over a device or a FIFO would replace it (as root, /dev/null itself)
        raise ExpressionError("file", f"cannot write {shown}: it is not a regular file "
                              f"({_kind(kind)}); choose an ordinary file name")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                        dir=folder)
    except OSError as err:
        raise ExpressionError("file", f"cannot write {shown}: {err.strerror or err}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _keep_permissions(target, tmp)
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise ExpressionError("file", f"cannot write {shown}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path, data: bytes | str) -> None:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically (see
    :func:`atomic_writer`)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_writer(path) as handle:
        handle.write(data)


def _keep_permissions(target: Path, tmp: Path) -> None:
    """Give the new file the old one's permissions (mkstemp makes it private, 0600), or
    the usual ones for a new file under the user's umask."""
    try:
        os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
