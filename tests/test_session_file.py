"""Session files are data from anywhere: every key and value is checked against the allowed
options, counts and lengths are bounded, only regular files are read, and saving replaces a
file only with a complete one. Qt-free (core.session); the window's side of "never persist
what was refused" is in tests/gui/test_files.py."""
from __future__ import annotations

import json
import os
import threading

import pytest

from core import limits, session
from core.errors import ExpressionError
from core.session import Session, VariableEntry, load_session, save_session, session_from_json


def _text(**changes) -> str:
    data = {"format": session.FORMAT, "version": 1, "expression": "f = w * w",
            "variables": {"w": {"value": "1", "requires_grad": True}}, "dtype": "float32",
            "settings": {"annotate": "all", "rankdir": "LR", "show_saved": False}}
    data.update(changes)
    return json.dumps(data)


def test_a_valid_session_round_trips(tmp_path):
    original = Session("g = 3*w\nf = g", {"w": VariableEntry("[[1, 0.5]]", False)}, "float64",
                       {"annotate": "values", "rankdir": "TB", "show_saved": True,
                        "example": "Seed 1"})
    path = tmp_path / "s.json"
    save_session(original, path)
    assert load_session(path) == original


@pytest.mark.parametrize("changes, words", [
    ({"settings": {"annotate": "bogus"}}, "'annotate' is 'bogus'"),
    ({"settings": {"rankdir": "BT"}}, "'rankdir'"),
    ({"settings": {"show_saved": "yes"}}, "'show_saved'"),
    ({"settings": {"show_saved": 1}}, "'show_saved'"),
    ({"settings": {"annotate": ["all"]}}, "'annotate'"),
    ({"settings": {"theme": "dark"}}, "unknown setting 'theme'"),
    ({"settings": {"example": "x" * 10_000}}, "short text"),
    ({"settings": []}, "'settings' must be an object"),
    ({"dtype": "float16"}, "dtype must be float32 or float64"),
    ({"version": True}, "version"),
    ({"version": 2}, "newer version"),
    ({"version": "1"}, "version"),
    ({"extra": 1}, "unknown entry 'extra'"),
    ({"expression": 5}, "no expression"),
    ({"variables": {"w": {"value": 1}}}, "text 'value'"),
    ({"variables": {"w": {"value": "1", "requires_grad": "yes"}}}, "true/false"),
    ({"variables": {"w": {"value": "1", "colour": "red"}}}, "nothing else"),
    ({"variables": {"__class__ x": {"value": "1"}}}, "not a variable name"),
    ({"variables": {"w" * 2000: {"value": "1"}}}, "not a variable name"),
    ({"variables": ["w"]}, "map names to values"),
])
def test_invalid_entries_are_refused_with_a_clear_message(changes, words):
    with pytest.raises(ExpressionError) as err:
        session_from_json(_text(**changes), "s.json")
    assert err.value.kind == "session" and words in err.value.message, err.value.message


def test_counts_and_lengths_are_bounded():
    many = {f"v{i}": {"value": "1"} for i in range(session.MAX_SESSION_VARIABLES + 1)}
    with pytest.raises(ExpressionError, match="variables; a session has at most"):
        session_from_json(_text(variables=many))
    allowed = dict(list(many.items())[:session.MAX_SESSION_VARIABLES])
    assert len(session_from_json(_text(variables=allowed)).variables) == len(allowed)
    long_value = "1," * (limits.MAX_VALUE_CHARS // 2) + "1"
    with pytest.raises(ExpressionError, match="the value of 'w' has"):
        session_from_json(_text(variables={"w": {"value": f"[{long_value}]"}}))
    with pytest.raises(ExpressionError, match="the expression has"):
        session_from_json(_text(expression="f = w" + " " * limits.MAX_TEXT_CHARS))


def test_the_issue_examples_are_refused():
    hundred_thousand = {f"v{i}": {"value": "1"} for i in range(100_000)}
    # refused while decoding, once the values pass what 10,000 variables can need
    with pytest.raises(ExpressionError, match="at most 10,000 variables"):
        session_from_json(_text(variables=hundred_thousand))
    sixty_mb = {"w": {"value": "[" + "1," * 30_000_000 + "1]"}}
    with pytest.raises(ExpressionError, match="characters; a session has at most"):
        session_from_json(_text(variables=sixty_mb))


def test_long_sessions_decode_exactly_as_json_does():
    """Texts past PURE_PYTHON_JSON_CHARS go through json's pure-Python scanner (it lets a
    window's GUI thread run meanwhile); the result is json.loads's, numbers and escapes
    included."""
    import json
    variables = {f"v{i}": {"value": f"[{i}.5, -1e-3, 2E+2]", "requires_grad": i % 2 == 0}
                 for i in range(5_000)}
    text = _text(variables=variables, expression="f = v0 * 1  # ünïcode \"quoted\"")
    assert len(text) > session.PURE_PYTHON_JSON_CHARS
    assert session._decode_json(text) == json.loads(text)
    loaded = session_from_json(text)
    assert loaded.variables["v3"].value == "[3.5, -1e-3, 2E+2]"
    assert loaded.variables["v3"].requires_grad is False


def test_many_small_json_values_are_refused_while_decoding(monkeypatch):
    """5 MB of tiny values (the slowest text for a JSON decoder) stop at the value budget,
    as soon as the decoder reaches it: the numbers after it are never converted."""
    converted = []
    monkeypatch.setattr(session, "MAX_SESSION_JSON_VALUES", 1_000)
    monkeypatch.setattr(session, "int", lambda text: converted.append(text) or 1,
                        raising=False)
    text = _text()[:-1] + ', "junk": [' + ",".join(["1"] * 2_400_000) + "]}"
    with pytest.raises(ExpressionError, match="more than 1,000 values"):
        session_from_json(text)
    assert len(converted) < 1_000


def test_whole_file_is_bounded_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(session, "MAX_SESSION_CHARS", 1_000)
    path = tmp_path / "s.json"
    path.write_text(_text(expression="f = w" + " " * 2_000))
    with pytest.raises(ExpressionError, match="more than 1,000 characters"):
        load_session(path)


def test_hostile_json_is_a_message():
    for text in ["[" * 100_000, '{"version": ' + "9" * 5000 + "}", "", "null", "\udcff"]:
        with pytest.raises(ExpressionError):
            session_from_json(text)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_not_sessions(device, tmp_path):
    with pytest.raises(ExpressionError, match="not a regular file"):
        load_session(device)
    link = tmp_path / "s.json"
    link.symlink_to(device)
    with pytest.raises(ExpressionError, match="not a regular file"):
        load_session(link)


def test_a_fifo_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "s.json"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            load_session(fifo)
        except ExpressionError as err:
            outcome.append(err.message)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(30)  # a hang is the failure
    if thread.is_alive():
        with open(fifo, "w"):
            pass
    assert outcome and "a pipe" in outcome[0]


def test_saving_over_a_session_never_truncates_it(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    save_session(Session("f = w", {"w": VariableEntry("1")}), path)
    before = path.read_bytes()

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(ExpressionError, match="cannot save s.json"):
        save_session(Session("f = w * 2", {"w": VariableEntry("3")}), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
