"""``main.py steps``: JSON shape and numbers, errors without tracebacks, PDF and frames."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core.cli import main as cli_main
from core.teaching.step_export import merge_pdfs

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def steps_json(capsys, *argv):
    assert cli_main(["steps", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_is_exactly_steps_and_leaves(capsys):
    data = steps_json(capsys, CHAIN, "--var", "w=1", "--var", "z=1")
    # the two keys, and the forward walk beside them
    assert set(data) == {"steps", "leaves", "forward"}
    assert [s["index"] for s in data["steps"]] == list(range(12))
    for step in data["steps"]:
        assert set(step) == {"index", "node", "op", "expression", "grad_in", "grad_out", "rule"}
        assert isinstance(step["rule"], str) and step["rule"]
    assert data["steps"][2]["op"] == "ExpBackward0"
    assert data["steps"][2]["grad_out"] == [pytest.approx(34.4773, abs=1e-4)]
    assert data["steps"][1]["grad_out"] == [3.0, None]
    w = data["leaves"]["w"]
    assert [c["value"] for c in w["contributions"]] == pytest.approx([6.0, 103.432], abs=1e-3)
    assert w["total"] == pytest.approx(109.43202095367012, rel=1e-6)
    assert set(data["leaves"]) == {"w", "z"}


def test_json_matrices_are_nested_lists(capsys, seed_example):
    argv = [seed_example["expression"], "--dtype", "float64"]
    for name, value in seed_example["vars"].items():
        argv += ["--var", f"{name}={json.dumps(value)}"]
    data = steps_json(capsys, *argv)
    for name, reference in seed_example["reference"]["gradients"].items():
        leaf = data["leaves"][name]
        total = leaf["total"]
        assert _flat(total) == pytest.approx(_flat(reference), rel=1e-5, abs=1e-5)
        # contributions add up to the total, entry by entry
        summed = leaf["contributions"][0]["value"]
        for c in leaf["contributions"][1:]:
            summed = _add(summed, c["value"])
        assert _flat(summed) == pytest.approx(_flat(total), rel=1e-12)


def _add(a, b):
    return [_add(x, y) for x, y in zip(a, b, strict=True)] if isinstance(a, list) else a + b


def _flat(a):
    return [x for row in a for x in _flat(row)] if isinstance(a, list) else [a]


def test_text_output_lists_steps_and_sums(capsys):
    assert cli_main(["steps", CHAIN, "--var", "w=1", "--var", "z=1"]) == 0
    out = capsys.readouterr().out
    assert "3. ExpBackward0  exp(g1)" in out
    assert "∂f/∂g1 += ∂f/∂exp(g1) · ∂exp(g1)/∂g1 = 1 × 34.4773 = 34.4773" in out
    assert "w.grad = 6 + 103.432 = 109.432" in out
    assert "total ∂f/∂w = 109.432" in out


def test_user_errors_are_one_line_without_traceback(capsys):
    assert cli_main(["steps", "f = exp(w", "--var", "w=1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err and len(err.splitlines()) == 1
    assert cli_main(["steps", "f = w * q", "--var", "w=1"]) == 2
    assert "'q' has no value" in capsys.readouterr().err


def test_no_steps_says_why(capsys, tmp_path):
    # f = w depends on w (df/dw = 1) but runs no backward node: not "does not depend"
    assert cli_main(["steps", "f = w", "--var", "w=2"]) == 0
    out = capsys.readouterr().out
    assert "the output f is an input itself" in out and "does not depend" not in out
    assert cli_main(["steps", "f = x * 2", "--const", "x=3"]) == 0
    assert "does not depend on any input that needs a gradient" in capsys.readouterr().out
    assert cli_main(["steps", "f = w", "--var", "w=2", "--pdf", str(tmp_path / "s.pdf")]) == 2
    err = capsys.readouterr().err
    assert err == ("error: there are no backward steps to export: the output f is an input "
                   "itself: its gradient is 1 and no backward node runs\n")
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- exports


def _pdf_pages(path: Path) -> int:
    """The page count as poppler reads it (an independent PDF reader)."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert "Syntax Error" not in info.stderr, info.stderr
    return int(next(line.split()[-1] for line in info.stdout.splitlines()
                    if line.startswith("Pages:")))


needs_poppler = pytest.mark.skipif(shutil.which("pdfinfo") is None or shutil.which("dot") is None,
                                   reason="needs Graphviz dot and poppler's pdfinfo")


@needs_poppler
def test_merge_pdfs_joins_graphviz_pages(tmp_path):
    pages = [subprocess.run(["dot", "-Tpdf"], input=f'digraph {{ a{i} -> b; label="page {i} ⊙ ᵀ" }}'
                            .encode(), capture_output=True, check=True).stdout for i in range(4)]
    out = tmp_path / "joined.pdf"
    out.write_bytes(merge_pdfs(pages))
    assert _pdf_pages(out) == 4
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert [line for line in text.splitlines() if line.startswith("page")] == [
        f"page {i} ⊙ ᵀ" for i in range(4)]


@needs_poppler
def test_pdf_is_the_deck_title_forward_steps_summary(tmp_path, capsys):
    out = tmp_path / "steps.pdf"
    assert cli_main(["steps", CHAIN, "--var", "w=1", "--var", "z=1", "--pdf", str(out)]) == 0
    # a title page, the 10 computed values, the 12 backward steps (w and z are each reached
    # along two paths, so their AccumulateGrad steps keep pages), the summary
    assert f"wrote {out} (24 pages)" in capsys.readouterr().out
    assert _pdf_pages(out) == 24
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True).stdout
    pages = text.split("\f")
    assert "Forward 1 of 10" in pages[1] and "3 × 1 = 3" in pages[1]
    assert "Step 1 of 12" in pages[11] and "Step 12 of 12" in pages[22]
    assert "w.grad = 6 + 103.432 = 109.432" in pages[22]
    assert "Summary" in pages[23] and "agrees with autograd" in pages[23]


@needs_poppler
def test_frames_are_numbered_pngs(tmp_path, capsys):
    folder = tmp_path / "frames"
    argv = ["steps", "f = sin(w) * w", "--var", "w=0.5", "--frames", str(folder), "--dpi", "40"]
    assert cli_main(argv) == 0
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"page-{i:03d}.png" for i in range(1, len(files) + 1)]
    # title, 2 forward values, MulBackward0, SinBackward0, AccumulateGrad (two paths), summary
    assert len(files) == 7
    assert all((folder / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in files)


@needs_poppler
def test_unwritable_targets_and_bad_dpi_are_one_line_errors(tmp_path, capsys):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    for argv, message in [
        (["--pdf", str(blocker / "steps.pdf")], "cannot write"),
        (["--frames", str(blocker / "frames")], "cannot make the folder"),
        (["--frames", str(tmp_path / "f"), "--dpi", "0"], "dpi must be between 10 and 1200"),
    ]:
        assert cli_main(["steps", "f = sin(w)", "--var", "w=1", *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_json_forward_walk_gives_each_value_in_computation_order(capsys):
    import math

    from core.cli import main as cli_main
    status = cli_main(["steps", "g = 3*w\nh = sin(g)\nf = h * w", "--var", "w=0.5",
                       "--dtype", "float64", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    forward = [(v["name"], v["expression"], v["value"]) for v in data["forward"]]
    assert forward == [("g", "3*w", 1.5), ("h", "sin(g)", math.sin(1.5)),
                       ("f", "h * w", math.sin(1.5) * 0.5)]
    # each value's node is the backward node that later carries its gradient
    backward_nodes = {step["node"] for step in data["steps"]}
    assert {v["node"] for v in data["forward"]} <= backward_nodes
