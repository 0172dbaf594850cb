"""Hostile and careless input to the surfaces added with the views (issue 11): the view
commands and their flags, every file flag given a pipe, a device, a link or a folder, the
``autograd_explorer`` API with bad arguments, and session files with a wrong type in every
key. Each ends as one ``error:`` line with exit status 2 in the CLI (a clear
:class:`ExpressionError` in the API), never a traceback, never a hang, never a device or a
pipe replaced by a file."""
from __future__ import annotations

import json
import os
import stat

import pytest
import torch

from core import session
from core.cli import main as cli_main
from core.cli.common import INTERNAL_ERROR
from core.errors import ExpressionError

F = "f = sum(x * x)"
V = "F = x * x"  # a vector output
X = ["--var", "x=[1, 2]"]


def assert_one_error_line(status, out, err):
    assert status == 2, (out, err)
    assert "Traceback" not in err and INTERNAL_ERROR not in err
    lines = [line for line in err.splitlines() if line.strip() and
             not line.startswith(("usage:", " "))]  # argparse's usage lines come first
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert len(lines[0]) > len("error: ") + 10


# the view commands' flags --------------------------------------------------------------

GRAD_OUTPUTS = ["[1", "nan", "[1, 2, 3]", "[[1], [2]]", "__import__('os')", "1e999", "",
                "[" * 200 + "]" * 200, "ones(10**9)", "[1, 'a']", "true", "-inf",
                "full((2,), 1e400)", "[1, 2]" * 10_000, "x", "{1: 2}"]
VIEW_FLAGS = (
    [["jacobian", V, *X, "--grad-output", g] for g in GRAD_OUTPUTS]
    + [[cmd, V, *X, "--grad-output", "[1, 2, 3]"] for cmd in ("compute", "steps", "paths")]
    + [["train", F, *X, "--steps", s] for s in ("0", "-5", "1e3", "10001", "99" * 20, "x", "")]
    + [["train", F, *X, "--lr", lr] for lr in ("nan", "inf", "-1", "0", "1e308", "abc", "")]
    + [["train", F, *X, "--momentum", m] for m in ("1", "-0.1", "nan", "inf", "x")]
    + [["train", "f = sum(x)", "--const", "x=[1, 2]"], ["train", V, *X],
       ["train", F, *X, "--steps", "30", "--lr", "1e6"]]  # diverges: a note, exit 0 below
    + [["hessian", F, *X, "--vector", v] for v in ("y=1", "x=[1]", "x", "x=nan", "=1",
                                                     "x=[1, 2]" + "0" * 200_000)]
    + [["hessian", V, *X], ["hessian", F, *X, "--graph", "g.txt"],
       ["hessian", F, *X, "--graph", "g.svg", "--graph-of", "zz"]]
    + [["modes", F, "--var", "x=" + str([1.0] * 2000)],
       ["modes", F, *X, "--pdf", "m.pdf", "--seed", "x[5]"],
       ["modes", F, *X, "--pdf", "m.pdf", "--seed", "'; rm -rf /"]]
    + [["paths", F, *X, "--pdf", "p.pdf", "--leaf", "zz"]]
    + [[cmd, F, *X, option, ""] for cmd, option in
       (("steps", "--html"), ("steps", "--pdf"), ("steps", "--frames"), ("paths", "--pdf"),
        ("modes", "--pdf"), ("hessian", "--graph"), ("render", "-o"))]
)


@pytest.mark.parametrize("argv", VIEW_FLAGS, ids=[" ".join(a[:1] + a[-2:])[:60]
                                                   for a in VIEW_FLAGS])
def test_view_flags_end_in_one_clear_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status = cli_main(argv)
    out, err = capsys.readouterr()
    if argv[-1] == "1e6":  # a learning rate that makes the loss overflow: a stated stop
        assert status == 0 and "too large" in out
        return
    assert_one_error_line(status, out, err)
    assert not any(p.suffix in (".pdf", ".svg", ".html") for p in tmp_path.iterdir())


# files that are not regular files, for every flag that reads or writes one ---------------

@pytest.fixture
def specials(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "to_zero").symlink_to("/dev/zero")
    (tmp_path / "to_fifo.svg").symlink_to(fifo)
    os.mkfifo(tmp_path / "pipe.svg")
    os.mkfifo(tmp_path / "pipe.pdf")
    os.mkfifo(tmp_path / "pipe.html")
    (tmp_path / "folder.svg").mkdir()
    return {"fifo": str(fifo), "zero": "/dev/zero", "urandom": "/dev/urandom",
            "link to /dev/zero": str(tmp_path / "to_zero"), "folder": str(tmp_path),
            "missing": str(tmp_path / "missing.txt")}


COMMANDS = ["compute", "steps", "check", "render", "paths", "modes", "jacobian", "hessian",
            "train"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["fifo", "zero", "urandom", "link to /dev/zero", "folder",
                                  "missing"])
def test_file_flag_refuses_what_is_not_a_regular_file(command, kind, specials, capsys):
    extra = ["-o", "out.svg"] if command == "render" else []
    status = cli_main([command, "--file", specials[kind], *extra])
    assert_one_error_line(status, *capsys.readouterr())


def _writes(tmp_path):
    return [
        ["render", F, *X, "-o", str(tmp_path / "pipe.svg")],
        ["render", F, *X, "-o", str(tmp_path / "to_fifo.svg")],
        ["render", F, *X, "-o", str(tmp_path / "folder.svg")],
        ["hessian", F, *X, "--graph", str(tmp_path / "pipe.svg")],
        ["hessian", F, *X, "--graph", str(tmp_path / "to_fifo.svg")],
        ["hessian", F, *X, "--graph", str(tmp_path / "nowhere" / "g.svg")],
        ["steps", F, *X, "--html", str(tmp_path / "pipe.html")],
        ["steps", F, *X, "--html", "/dev/null"],
        ["steps", F, *X, "--html", str(tmp_path)],
        ["steps", F, *X, "--pdf", str(tmp_path / "pipe.pdf")],
        ["steps", F, *X, "--frames", str(tmp_path / "fifo")],
        ["paths", F, *X, "--pdf", str(tmp_path / "pipe.pdf")],
        ["paths", F, *X, "--pdf", "/dev/null"],
        ["modes", F, *X, "--pdf", str(tmp_path / "pipe.pdf")],
        ["modes", F, *X, "--pdf", str(tmp_path / "nowhere" / "m.pdf")],
    ]


def test_output_flags_never_replace_a_pipe_or_a_device(specials, tmp_path, capsys):
    from core.drawing import render
    if not render.graphviz_available():
        pytest.fail("Graphviz is needed (scripts/bootstrap.sh installs it)")
    before = {p: os.lstat(p).st_mode for p in tmp_path.iterdir()}
    null_mode = os.stat("/dev/null").st_mode
    for argv in _writes(tmp_path):
        status = cli_main(argv)
        assert_one_error_line(status, *capsys.readouterr())
    assert {p: os.lstat(p).st_mode for p in tmp_path.iterdir()} == before
    assert os.stat("/dev/null").st_mode == null_mode and stat.S_ISCHR(null_mode)


def test_an_output_through_a_link_to_a_file_replaces_the_file_keeps_the_link(tmp_path):
    from core.safe_io import atomic_write
    real = tmp_path / "real.svg"
    real.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(real)
    atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


# the API --------------------------------------------------------------------------------

def _api_cases(tmp_path):
    from autograd_explorer import explore, record
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    ex = explore((w * w).sum(), {"w": w})
    os.mkfifo(tmp_path / "pipe.svg")
    os.mkfifo(tmp_path / "pipe.html")
    return {
        "explore(None)": lambda: explore(None),
        "explore(3)": lambda: explore(3),
        "explore(text)": lambda: explore("f = w"),
        "explore(a leaf vector)": lambda: explore(w),
        "explore(no graph)": lambda: explore(torch.tensor(1.0)),
        "explore(params=5)": lambda: explore((w * w).sum(), 5),
        "explore(params=[w])": lambda: explore((w * w).sum(), [w]),
        "explore(params={1: w})": lambda: explore((w * w).sum(), {1: w}),
        "explore(params={'a': 3})": lambda: explore((w * w).sum(), {"a": 3}),
        "explore(name=5)": lambda: explore((w * w).sum(), name=5),
        "explore(name='')": lambda: explore((w * w).sum(), name=""),
        "explore(name=huge)": lambda: explore((w * w).sum(), name="x" * 10 ** 6),
        "explore(recorder=5)": lambda: explore((w * w).sum(), recorder=5),
        "explore(fn, inputs=5)": lambda: explore(lambda x: x.sum(), 5),
        "explore(fn -> int)": lambda: explore(lambda x: 3, (w,)),
        "explore(fn -> vector)": lambda: explore(lambda x: x * 2, (w,)),
        "record(5)": lambda: record(5),
        "record('model')": lambda: record("model"),
        "render(None)": lambda: ex.render(None),
        "render(5)": lambda: ex.render(5),
        "render('')": lambda: ex.render(""),
        "render(.txt)": lambda: ex.render(tmp_path / "g.txt"),
        "render(pipe)": lambda: ex.render(tmp_path / "pipe.svg"),
        "render(no folder)": lambda: ex.render(tmp_path / "nowhere" / "g.svg"),
        "render(annotate)": lambda: ex.render(tmp_path / "g.svg", annotate="bogus"),
        "render(rankdir)": lambda: ex.render(tmp_path / "g.svg", rankdir=5),
        "render(theme)": lambda: ex.render(tmp_path / "g.svg", theme="x"),
        "render(dpi=-1)": lambda: ex.render(tmp_path / "g.png", dpi=-1),
        "render(dpi=1e9)": lambda: ex.render(tmp_path / "g.png", dpi=10 ** 9),
        "render(dpi='a')": lambda: ex.render(tmp_path / "g.png", dpi="a"),
        "render(dpi=nan)": lambda: ex.render(tmp_path / "g.png", dpi=float("nan")),
        "render(dpi=True)": lambda: ex.render(tmp_path / "g.png", dpi=True),
        "render(folded='x')": lambda: ex.render(tmp_path / "g.svg", folded="x"),
        "save_html(None)": lambda: ex.save_html(None),
        "save_html(5)": lambda: ex.save_html(5),
        "save_html(folder)": lambda: ex.save_html(tmp_path),
        "save_html(pipe)": lambda: ex.save_html(tmp_path / "pipe.html"),
        "save_html(/dev/null)": lambda: ex.save_html("/dev/null"),
        "save_html(no folder)": lambda: ex.save_html(tmp_path / "nowhere" / "s.html"),
    }


#: the keys of _api_cases, listed here so each is a test of its own
API_CASES = [
    "explore(None)", "explore(3)", "explore(text)", "explore(a leaf vector)",
    "explore(no graph)", "explore(params=5)", "explore(params=[w])", "explore(params={1: w})",
    "explore(params={'a': 3})", "explore(name=5)", "explore(name='')", "explore(name=huge)",
    "explore(recorder=5)", "explore(fn, inputs=5)", "explore(fn -> int)",
    "explore(fn -> vector)", "record(5)", "record('model')", "render(None)", "render(5)",
    "render('')", "render(.txt)", "render(pipe)", "render(no folder)", "render(annotate)",
    "render(rankdir)", "render(theme)", "render(dpi=-1)", "render(dpi=1e9)",
    "render(dpi='a')", "render(dpi=nan)", "render(dpi=True)", "render(folded='x')",
    "save_html(None)", "save_html(5)", "save_html(folder)", "save_html(pipe)",
    "save_html(/dev/null)", "save_html(no folder)"]


@pytest.mark.parametrize("case", API_CASES)
def test_api_bad_arguments_are_one_clear_exception(case, tmp_path):
    call = _api_cases(tmp_path)[case]
    with pytest.raises(ExpressionError) as err:
        call()
    assert len(err.value.message) > 15
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe.svg").st_mode)  # never replaced


def test_api_render_writes_a_complete_file_and_steps_stay_torchs(tmp_path):
    from autograd_explorer import explore
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    ex = explore((w * w).sum(), {"w": w})
    target = tmp_path / "g.svg"
    assert ex.render(target) == target and target.read_text().rstrip().endswith("</svg>")
    assert ex.steps()["leaves"]["w"]["total"] == (2 * w).tolist()  # d/dw sum(w²) = 2w


# session files with a wrong type in every key --------------------------------------------

VALID = {"format": session.FORMAT, "version": 1, "expression": "f = w * w",
         "variables": {"w": {"value": "1", "requires_grad": True}}, "dtype": "float32",
         "settings": {"annotate": "all", "rankdir": "LR", "show_saved": False,
                      "example": "Seed 1"}}
WRONG = [None, 0, -1, 1.5, True, "", "x" * 300, [], [1], {}, {"a": 1}, float("inf")]


def _paths(data, prefix=()):
    """Every key path in ``data`` (nested dicts included)."""
    for key, value in data.items():
        yield prefix + (key,)
        if isinstance(value, dict):
            yield from _paths(value, prefix + (key,))


def _with(path, value):
    data = json.loads(json.dumps(VALID))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(data)


SESSION_CASES = [(path, value) for path in _paths(VALID) for value in WRONG]


@pytest.mark.parametrize("path,value", SESSION_CASES,
                         ids=[f"{'.'.join(p)}={v!r:.20}" for p, v in SESSION_CASES])
def test_a_wrong_type_in_any_session_key_is_one_message_or_a_valid_session(path, value):
    try:
        loaded = session.session_from_json(_with(path, value))
    except ExpressionError as err:
        assert err.message and len(err.message) < 400
        return
    # accepted: only where the value is a valid one for that key
    assert isinstance(loaded.expression, str) and loaded.dtype in ("float32", "float64")
    for name, entry in loaded.variables.items():
        assert name.isidentifier() and isinstance(entry.value, str)
        assert isinstance(entry.requires_grad, bool)
    assert set(loaded.settings) <= set(VALID["settings"])
    if path[0] in ("format", "version", "dtype") or (path[0] == "expression"
                                                      and not isinstance(value, str)):
        pytest.fail(f"{path} = {value!r} was accepted")


def test_a_session_with_a_missing_key_is_one_message():
    for key in ("format", "version", "expression"):
        data = dict(VALID)
        del data[key]
        with pytest.raises(ExpressionError):
            session.session_from_json(json.dumps(data))


@pytest.mark.parametrize("kind", ["fifo", "zero", "link to /dev/zero", "folder", "missing"])
def test_session_paths_that_are_not_regular_files_are_refused(kind, specials):
    with pytest.raises(ExpressionError):
        session.load_session(specials[kind])
