"""core.drawing.render and ``main.py render``: real files in three formats, labels with the user's
text and values, torchviz's plain output, the large-graph layout, the time limit, and what
happens without Graphviz."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest
from torchviz import make_dot

from core.cli import main as cli_main
from core.drawing import render as R
from core.drawing.graph import build_graph
from core.errors import ExpressionError, LimitError
from core.evaluation.evaluate import evaluate
from core.language.parser import parse

CHAIN_RULE = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"
SVG_NS = "{http://www.w3.org/2000/svg}"

needs_dot = pytest.mark.skipif(not R.graphviz_available(), reason="Graphviz's dot is missing")


def graph_of(text, variables, **kwargs):
    return build_graph(evaluate(parse(text), variables), **kwargs)


def chain_text(statements: int) -> str:
    lines = ["y = x"]
    for i in range(statements):
        lines.append("y = y * 1.0001" if i % 2 == 0 else "y = sin(y) + x")
    return "\n".join(lines)


def svg_texts(svg: bytes) -> list[str]:
    root = ElementTree.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def chain_rule():
    return graph_of(CHAIN_RULE, {"w": 1.0, "z": 1.0})


# --------------------------------------------------------------------------- formats


@needs_dot
def test_svg_is_xml_with_every_node_and_the_users_text(chain_rule):
    svg = R.render(chain_rule, R.RenderOptions(), "svg")
    root = ElementTree.fromstring(svg)
    assert root.tag == SVG_NS + "svg"
    ids = R.svg_node_ids(svg)
    assert set(ids) == set(chain_rule.nodes)
    assert all(re.fullmatch(r"node\d+", v) for v in ids.values())
    texts = svg_texts(svg)
    assert "g1 = 3*w + cos(z)" in texts
    assert "g2 = w**2 + sin(2*z)" in texts
    assert "value 3.5403" in texts            # 3 + cos(1)
    assert "grad 109.432" in texts            # the seed's df/dw (Mathematica 109.43202)
    assert "grad −31.5086" in texts           # df/dz
    assert "MulBackward0" in texts and "AccumulateGrad" in texts


@needs_dot
def test_png_signature_and_size_follow_the_dpi(chain_rule):
    svg = R.render(chain_rule, R.RenderOptions(), "svg")
    width_pt = float(ElementTree.fromstring(svg).get("width").removesuffix("pt"))
    sizes = {}
    for dpi in (72, 144):
        sizes[dpi] = png_size(R.render(chain_rule, R.RenderOptions(dpi=dpi), "png"))
        # the drawing is width_pt points = width_pt / 72 inches wide
        assert sizes[dpi][0] == pytest.approx(width_pt / 72 * dpi, abs=4)
    assert sizes[144][0] == pytest.approx(2 * sizes[72][0], abs=3)
    assert sizes[144][1] == pytest.approx(2 * sizes[72][1], abs=3)


@needs_dot
def test_pdf_opens_as_a_page(chain_rule, tmp_path):
    pdf = R.render(chain_rule, R.RenderOptions(theme="print"), "pdf")
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-64:]
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed to read the PDF back")
    (tmp_path / "g.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-singlefile", str(tmp_path / "g.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    width, height = png_size((tmp_path / "page.png").read_bytes())
    assert width > 50 and height > 50


def test_unknown_format_is_refused(chain_rule):
    with pytest.raises(ExpressionError, match="svg, png or pdf"):
        R.render(chain_rule, R.RenderOptions(), "gif")


# --------------------------------------------------------------------------- labels and options


@pytest.mark.parametrize("annotate, value, grad, expression", [
    ("all", True, True, True), ("values", True, False, True),
    ("gradients", False, True, True), ("none", False, False, False),
])
def test_annotate_switches_values_and_gradients(chain_rule, annotate, value, grad, expression):
    source = R.to_digraph(chain_rule, R.RenderOptions(annotate=annotate)).source
    assert ("value 3.5403" in source) is value
    assert ("grad 109.432" in source) is grad
    assert ("g1 = 3*w + cos(z)" in source) is expression
    assert "AddBackward0" in source


def test_matrix_values_are_shown_in_full_and_large_ones_summarised():
    small = graph_of("F = sum(W * W)", {"W": [[1.0, 0.5], [0.2, 0.1]]})
    source = R.to_digraph(small).source
    assert "value [[1, 0.5]," in source and "[0.2, 0.1]]" in source
    assert "grad [[2, 1]," in source                     # d sum(W*W) / dW = 2W
    big = graph_of("F = sum(W * W)", {"W": [[float(i) for i in range(10)]] * 10})
    source = R.to_digraph(big).source
    assert "10×10 tensor: min 0, max 9, mean 4.5" in source
    assert "10×10 tensor: min 0, max 18, mean 9" in source  # the gradient 2W


def test_user_text_is_escaped_in_labels():
    graph = graph_of("f = w * 2", {"w": 1.0})
    node = next(n for n in graph.op_nodes() if n.op == "MulBackward0")
    node.expression = "a < b & c"  # not reachable from the language; the escaping still holds
    source = R.to_digraph(graph).source
    assert "a &lt; b &amp; c" in source


def test_theme_rankdir_and_torchviz_colours(chain_rule):
    screen = R.to_digraph(chain_rule, R.RenderOptions()).source
    assert "fillcolor=lightblue" in screen and "fillcolor=darkolivegreen1" in screen
    assert "fontname=monospace" in screen and "fontsize=10" in screen
    printed = R.to_digraph(chain_rule, R.RenderOptions(theme="print", rankdir="LR")).source
    assert "fontsize=14" in printed and "rankdir=LR" in printed


def test_highlight_marks_nodes_and_labels_edges(chain_rule):
    g1 = next(n for n in chain_rule.op_nodes() if n.name == "g1")
    w_acc = next(n for n in chain_rule.op_nodes() if n.op == "AccumulateGrad" and n.name == "w")
    edge = next(e for e in chain_rule.edges if e.source == w_acc.id)
    highlight = R.Highlight(current={g1.id}, done={w_acc.id},
                            edge_labels={(edge.source, edge.target, 0): "34.48"})
    options = R.RenderOptions(highlight=highlight)
    dot = R.to_digraph(chain_rule, options)
    current = [line for line in dot.body if line.startswith(f"\t{g1.id} [")]
    assert "penwidth=3" in current[0]
    done = [line for line in dot.body if line.startswith(f"\t{w_acc.id} [")]
    assert "penwidth=2.2" in done[0]
    labelled = [line for line in dot.body if line.startswith(f"\t{edge.source} -> {edge.target}")]
    assert any("34.48" in line for line in labelled)
    plain = R.to_digraph(chain_rule, R.RenderOptions()).source
    assert "penwidth=3" not in plain


def test_bad_options_are_expression_errors():
    for bad in (dict(annotate="some"), dict(rankdir="BT"), dict(theme="neon"), dict(dpi=5)):
        with pytest.raises(ExpressionError):
            R.RenderOptions(**bad)


# --------------------------------------------------------------------------- plain mode


def test_plain_mode_is_make_dot_as_it_is(seed_example):
    evaluation = evaluate(parse(seed_example["expression"]), seed_example["vars"])
    graph = build_graph(evaluation)
    ours = R.to_digraph(graph, R.RenderOptions(plain=True)).source
    params = {k: v for k, v in evaluation.inputs.items() if v.requires_grad}
    assert ours == make_dot(evaluation.output, params=params).source


def test_plain_mode_survives_a_graph_too_deep_for_make_dots_recursion():
    evaluation = evaluate(parse(chain_text(1_000)), {"x": 0.5})
    graph = build_graph(evaluation, gradients=False)
    with pytest.raises(RecursionError):
        make_dot(evaluation.output)          # what torchviz does on its own
    dot = R.to_digraph(graph, R.RenderOptions(plain=True))
    assert dot.source.count("AccumulateGrad") == 1
    assert dot.source.count("SinBackward0") == 500


# --------------------------------------------------------------------------- large graphs


def test_large_high_fanout_graph_draws_copies_of_the_shared_leaf():
    graph = build_graph(evaluate(parse(chain_text(200)), {"x": 0.5}))
    accumulate = next(n for n in graph.op_nodes() if n.op == "AccumulateGrad")
    fanout = graph.out_degree()[accumulate.id]
    assert fanout == 101
    split = R.to_digraph(graph, R.RenderOptions()).source
    copies = set(re.findall(rf"\"?({accumulate.id}_copy\d+)\"? \[", split))
    assert len(copies) == fanout
    # every copy feeds exactly one operation; the original keeps only its leaf's edge
    for copy in copies:
        assert len(re.findall(rf"\"?{copy}\"? ->", split)) == 1
    assert not re.search(rf"\t{accumulate.id} ->", split)
    exact = R.to_digraph(graph, R.RenderOptions(layout="exact")).source
    assert "_copy" not in exact
    assert len(re.findall(rf"\t{accumulate.id} ->", exact)) == fanout
    # small graphs keep the real picture even with fan-out
    small = graph_of("f = x*x + x*3 + sin(x) + exp(x)", {"x": 1.0})
    assert "_copy" not in R.to_digraph(small).source
    assert "_copy" in R.to_digraph(small, R.RenderOptions(layout="split")).source


@needs_dot
def test_large_graph_renders_and_copies_map_back_to_their_node():
    graph = build_graph(evaluate(parse(chain_text(1_000)), {"x": 0.5}))
    svg = R.render(graph, R.RenderOptions(), "svg", timeout=120)
    ids = R.svg_node_ids(svg)
    assert {R.original_id(name) for name in ids} == set(graph.nodes)
    assert sum("_copy" in name for name in ids) == 501


@needs_dot
def test_layout_time_limit_raises_limit_error_naming_it():
    # torchviz's drawing of a shared leaf feeding 50 additions: Graphviz needs seconds
    graph = build_graph(evaluate(parse(chain_text(100)), {"x": 0.5}), gradients=False)
    with pytest.raises(LimitError, match=r"longer than 0.2 s, the layout time limit"):
        R.render(graph, R.RenderOptions(plain=True), "svg", timeout=0.2)


def _child_processes() -> list[str]:
    """This process's children that run Graphviz (the symbolic checks' server process,
    core.sandbox, is a long-lived child too, and not what these tests are about)."""
    import glob
    children = []
    for path in glob.glob("/proc/self/task/*/children"):
        with open(path) as handle:
            children += handle.read().split()
    return [pid for pid in children if _command(pid) in ("dot", "neato")]


def _command(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return ""


@needs_dot
def test_cancel_stops_a_long_layout_and_leaves_no_dot_running():
    import threading
    graph = build_graph(evaluate(parse(chain_text(100)), {"x": 0.5}), gradients=False)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(R.Cancelled):
        R.render(graph, R.RenderOptions(plain=True), "svg", timeout=None, cancel=cancel)
    assert _child_processes() == []
    # with a cancel event that is never set, the time limit still applies
    with pytest.raises(LimitError, match="layout time limit"):
        R.render(graph, R.RenderOptions(plain=True), "svg", timeout=0.2,
                 cancel=threading.Event())
    assert _child_processes() == []


@needs_dot
def test_cancel_event_unset_draws_normally(chain_rule):
    import threading
    svg = R.render(chain_rule, R.RenderOptions(), "svg", cancel=threading.Event())
    assert b"<svg" in svg


# --------------------------------------------------------------------------- without Graphviz


def test_missing_dot_says_how_to_install_it(chain_rule, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not R.graphviz_available()
    with pytest.raises(R.GraphvizMissing, match="apt-get install graphviz"):
        R.render(chain_rule, R.RenderOptions(), "svg")
    # building the Digraph needs no dot: the GUI can still show its source
    assert "AddBackward0" in R.to_digraph(chain_rule).source


def test_cli_without_dot_exits_2_with_the_install_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(R, "graphviz_available", lambda: False)
    status = cli_main(["render", "f = w*2", "--var", "w=1", "-o", str(tmp_path / "g.svg")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert err[0].startswith("error:") and "apt-get install graphviz" in err[0]
    assert not (tmp_path / "g.svg").exists()


# --------------------------------------------------------------------------- the CLI


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"),
                                            (".pdf", b"%PDF")])
def test_cli_writes_each_format(tmp_path, capsys, suffix, magic):
    out = tmp_path / ("graph" + suffix)
    status = cli_main(["render", CHAIN_RULE.replace("\n", ";"), "--var", "w=1", "--var", "z=1",
                       "-o", str(out), "--dpi", "150", "--rankdir", "LR"])
    assert status == 0, capsys.readouterr().err
    assert out.read_bytes().startswith(magic)
    assert "15 nodes" in capsys.readouterr().out


@needs_dot
def test_cli_file_plain_and_annotate(tmp_path, capsys):
    program = tmp_path / "p.txt"
    program.write_text(CHAIN_RULE, encoding="utf-8")
    out = tmp_path / "g.svg"
    assert cli_main(["render", "--file", str(program), "--var", "w=1", "--var", "z=1",
                     "-o", str(out), "--annotate", "values"]) == 0
    texts = svg_texts(out.read_bytes())
    assert "value 3.5403" in texts and not any(t.startswith("grad") for t in texts)
    assert cli_main(["render", "--file", str(program), "--var", "w=1", "--var", "z=1",
                     "-o", str(out), "--plain"]) == 0
    texts = svg_texts(out.read_bytes())
    assert "g1 = 3*w + cos(z)" not in texts and "ExpBackward0" in texts


@pytest.mark.parametrize("argv, message", [
    (["render", "f = w *", "--var", "w=1", "-o", "g.svg"], "line 1"),
    (["render", "f = w", "--var", "w=1", "-o", "g.gif"], ".svg, .png or .pdf"),
    (["render", "f = q", "-o", "g.svg"], "'q' has no value"),
    (["render", "f = w", "--var", "w=1", "-o", "g.svg", "--dpi", "5"], "dpi"),
    # nan passed a "<= 0" check and inf overflowed the subprocess timeout: tracebacks once
    (["render", "f = w", "--var", "w=1", "-o", "g.svg", "--timeout", "nan"], "--timeout"),
    (["render", "f = w", "--var", "w=1", "-o", "g.svg", "--timeout", "inf"], "--timeout"),
    (["render", "f = w", "--var", "w=1", "-o", "g.svg", "--timeout", "1e300"], "--timeout"),
    (["render", "f = w", "--var", "w=1", "-o", "g.svg", "--timeout", "0"], "--timeout"),
])
def test_cli_user_errors_exit_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]
    assert not list(tmp_path.iterdir())


@needs_dot
def test_cli_layout_time_limit_exits_2(tmp_path, capsys):
    status = cli_main(["render", chain_text(100).replace("\n", ";"), "--var", "x=0.5",
                       "--plain", "--timeout", "0.2", "-o", str(tmp_path / "g.svg")])
    err = capsys.readouterr().err
    assert status == 2 and "layout time limit" in err


def test_cli_unwritable_output_exits_2(tmp_path, capsys):
    if not R.graphviz_available():
        pytest.skip("needs dot to get as far as writing")
    status = cli_main(["render", "f = w", "--var", "w=1", "-o",
                       str(tmp_path / "missing" / "g.svg")])
    assert status == 2 and "cannot write" in capsys.readouterr().err


def _const_nodes(svg: bytes) -> dict[str, str]:
    ns = "{http://www.w3.org/2000/svg}"
    root = ElementTree.fromstring(svg)
    return {g.find(ns + "title").text: " ".join(t.text or "" for t in g.iter(ns + "text"))
            for g in root.iter(ns + "g")
            if g.get("class") == "node" and g.find(ns + "title").text.startswith("const_")}


@pytest.mark.parametrize("theme", sorted(R.THEMES))
def test_constants_are_drawn_with_their_values_in_every_theme(theme):
    # one implementation for the window, the exports and the deck: RenderOptions.constants
    from core.language.values import VariableSpec

    values = {"w": ([1.0, -2.0], True), "x": ([0.5, -4.0], False), "A": ([[1.0, 2.0]], True),
              "B": ([[3.0], [4.0]], False)}
    specs = {k: VariableSpec(k, v, grad) for k, (v, grad) in values.items()}
    evaluation = evaluate(parse("f = sum(x * w) + 3 * sum(mm(A, B)) ** 2"), specs)
    graph = build_graph(evaluation)
    svg = R.render(graph, R.RenderOptions(theme=theme, constants=True), "svg")
    texts = _const_nodes(svg)
    # x and B (constant inputs, with their values, one minus sign), the literal 3 and 2
    assert "x" in texts["const_x"] and "[0.5, −4]" in texts["const_x"].replace("  ", " ")
    assert "B" in texts["const_B"] and "3" in texts["const_B"] and "4" in texts["const_B"]
    numbers = sorted(t for n, t in texts.items() if n not in ("const_x", "const_B"))
    assert numbers == ["2", "3"]
    assert not _const_nodes(R.render(graph, R.RenderOptions(theme=theme), "svg"))
    # without values on the nodes, a constant input keeps its name but not its value
    bare = _const_nodes(R.render(graph, R.RenderOptions(theme=theme, annotate="none",
                                                        constants=True), "svg"))
    assert "x" in bare["const_x"] and "0.5" not in bare["const_x"]


def test_cli_render_draws_the_constants_unless_plain(tmp_path):
    out = tmp_path / "g.svg"
    assert cli_main(["render", "f = 2*z + x*z", "--var", "z=1", "--const", "x=3",
                     "-o", str(out)]) == 0
    texts = _const_nodes(out.read_bytes())
    assert "value 3" in texts["const_x"] and "2" in texts.values()


def test_a_long_chain_is_drawn_without_its_constants():
    # y = y * 1.0001 repeated: one constant per operation would double a large graph
    from core.drawing.constants import MAX_GRAPH_NODES

    text = "y = x\n" + "y = y * 1.0001\n" * 400 + "f = y"
    graph = build_graph(evaluate(parse(text), {"x": 1.0}))
    assert len(graph.nodes) > MAX_GRAPH_NODES
    source = R.to_digraph(graph, R.RenderOptions(constants=True)).source
    assert "const_" not in source
    small = build_graph(evaluate(parse("f = x * 1.0001"), {"x": 1.0}))
    assert "const_" in R.to_digraph(small, R.RenderOptions(constants=True)).source


def test_a_negative_number_of_the_program_is_drawn_as_a_constant():
    # -0.5 * x: the step multiplies by −0.5, so −0.5 is on the drawing, with its minus sign
    graph = build_graph(evaluate(parse("f = sum(-0.5 * x)"), {"x": [1.0, 2.0]}))
    texts = _const_nodes(R.render(graph, R.RenderOptions(constants=True), "svg"))
    assert list(texts.values()) == ["\u22120.5"]
