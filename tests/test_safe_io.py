"""Files from anywhere are read within bounds, and files written are never lost: reading
refuses devices, pipes and links to them and stops one character past the limit; writing
goes through a temporary file that replaces the target only when complete (a failure
simulated half-way leaves the old file byte for byte)."""
from __future__ import annotations

import io
import os
import threading

import pytest

from core import limits, safe_io
from core.cli import main as cli_main
from core.errors import ExpressionError, LimitError


def _cli(capsys, *argv):
    status = cli_main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _one_error_line(status, err, *words):
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], lines[0]


# ------------------------------------------------------------------------ reading


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_file_option_refuses_devices(device, capsys):
    status, _, err = _cli(capsys, "compute", "--file", device)
    _one_error_line(status, err, "not a regular file", device)


def test_file_option_refuses_a_link_to_a_device(tmp_path, capsys):
    link = tmp_path / "program.py"
    link.symlink_to("/dev/zero")
    status, _, err = _cli(capsys, "compute", "--file", str(link))
    _one_error_line(status, err, "not a regular file")


def test_file_option_does_not_wait_for_a_fifo_writer(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    done = []
    thread = threading.Thread(target=lambda: done.append(
        cli_main(["compute", "--file", str(fifo)])), daemon=True)
    thread.start()
    thread.join(30)  # a generous bound: a hang is the failure, not slowness
    if thread.is_alive():  # unblock the reader so the test process can end
        with open(fifo, "w"):
            pass
    assert done == [2]
    assert "a pipe" in capsys.readouterr().err


def test_file_option_refuses_a_folder(tmp_path, capsys):
    status, _, err = _cli(capsys, "compute", "--file", str(tmp_path))
    _one_error_line(status, err, "folder")


def test_file_option_reads_up_to_the_documented_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 50)
    program = tmp_path / "p.py"
    text = "f = w * 2" + " " * 40 + "\n"  # exactly 50 characters
    program.write_text(text)
    status, out, _ = _cli(capsys, "compute", "--file", str(program), "--var", "w=3")
    assert status == 0 and "6" in out
    program.write_text(text + " ")
    status, _, err = _cli(capsys, "compute", "--file", str(program), "--var", "w=3")
    _one_error_line(status, err, "more than 50 characters")


def test_reading_stops_one_character_past_the_limit(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("x" * 10_000)
    read = []

    class Counting(io.StringIO):
        def read(self, size=-1):
            read.append(size)
            return super().read(size)

    with pytest.raises(LimitError, match="more than 100 characters"):
        safe_io.read_text_stream(Counting("x" * 10_000), 100)
    assert read == [101]
    with pytest.raises(LimitError):
        safe_io.read_text_file(big, 100)
    assert safe_io.read_text_file(big, 10_000) == "x" * 10_000


def test_standard_input_is_bounded(monkeypatch, capsys):
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 20)
    monkeypatch.setattr("sys.stdin", io.StringIO("\0" * 1_000_000))
    status, _, err = _cli(capsys, "compute", "--file", "-")
    _one_error_line(status, err, "more than 20 characters")


def test_non_utf8_file_is_a_message(tmp_path):
    path = tmp_path / "p.py"
    path.write_bytes(b"f = w\xff\n")
    with pytest.raises(ExpressionError, match="not a text file"):
        safe_io.read_text_file(path, 100)


# ------------------------------------------------------------------------ writing


class _DiskFull(Exception):
    pass


def test_atomic_write_replaces_only_when_complete(tmp_path):
    target = tmp_path / "graph.svg"
    target.write_bytes(b"the good old drawing")
    with pytest.raises(_DiskFull):
        with safe_io.atomic_writer(target) as handle:
            handle.write(b"half of a new dra")
            raise _DiskFull()
    assert target.read_bytes() == b"the good old drawing"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]  # no temporary left over
    safe_io.atomic_write(target, b"new")
    assert target.read_bytes() == b"new"


def test_a_failing_file_system_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "graph.svg"
    target.write_bytes(b"old")

    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(ExpressionError, match="No space left on device"):
        safe_io.atomic_write(target, b"new drawing")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]


def test_atomic_write_keeps_permissions(tmp_path):
    target = tmp_path / "s.json"
    target.write_text("{}")
    target.chmod(0o640)
    safe_io.atomic_write(target, "{}\n")
    assert target.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "new.json"
    safe_io.atomic_write(fresh, "{}")
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fail_on_replace(monkeypatch):
    def broken(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", broken)


@pytest.mark.skipif(not __import__("core.drawing.render").drawing.render.graphviz_available(),
                    reason="needs Graphviz's dot")
def test_render_output_survives_a_failed_write(tmp_path, monkeypatch, capsys):
    target = tmp_path / "graph.svg"
    target.write_bytes(b"<svg>the good one</svg>")
    _fail_on_replace(monkeypatch)
    status, _, err = _cli(capsys, "render", "f = w * w", "--var", "w=1", "-o", str(target))
    _one_error_line(status, err, "cannot write", "No space left")
    assert target.read_bytes() == b"<svg>the good one</svg>"


@pytest.mark.skipif(not __import__("core.drawing.render").drawing.render.graphviz_available(),
                    reason="needs Graphviz's dot")
def test_steps_pdf_and_frames_survive_a_failed_write(tmp_path, monkeypatch, capsys):
    pdf = tmp_path / "steps.pdf"
    pdf.write_bytes(b"%PDF old")
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "step-001.png").write_bytes(b"old frame")
    _fail_on_replace(monkeypatch)
    status, _, err = _cli(capsys, "steps", "f = w * w", "--var", "w=1", "--pdf", str(pdf))
    _one_error_line(status, err, "No space left")
    assert pdf.read_bytes() == b"%PDF old"
    status, _, err = _cli(capsys, "steps", "f = w * w", "--var", "w=1", "--frames", str(frames))
    _one_error_line(status, err, "No space left")
    assert (frames / "step-001.png").read_bytes() == b"old frame"
    assert sorted(p.name for p in frames.iterdir()) == ["step-001.png"]


def test_the_window_opens_no_device_or_pipe(tmp_path):
    """main.py FILE and File > Open read program files through the same bounded reader, and
    telling a session from a program never opens a pipe (which would wait forever)."""
    from gui.document import is_session_file, read_program_file

    fifo = tmp_path / "cell.py"
    os.mkfifo(fifo)
    outcome = []

    def probe():
        outcome.append(is_session_file(fifo))
        try:
            read_program_file(fifo)
        except ExpressionError as err:
            outcome.append(err.message)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(30)  # a hang is the failure
    if thread.is_alive():
        with open(fifo, "w"):
            pass
    assert outcome[0] is False and "a pipe" in outcome[1]
    with pytest.raises(ExpressionError, match="not a regular file"):
        read_program_file("/dev/zero")


def test_binary_standard_input_is_a_message(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"f = w\xff\xfe" * 10),
                                                      encoding="utf-8"))
    status, _, err = _cli(capsys, "compute", "-", "--var", "w=1")
    _one_error_line(status, err, "not a text file")
