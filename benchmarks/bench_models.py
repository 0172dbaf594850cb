"""Drawing real models' graphs: autograd_explorer against torchviz, torchview and TorchLens.

    .venv/bin/python benchmarks/bench_models.py [--repeat N] [--out benchmarks/RESULTS_models.md]

Each tool draws the same model (tests/model_zoo.py: an MLP, a small CNN with batch norm and
pooling, nn.TransformerEncoderLayer, a 20-layer residual MLP; random weights, fixed seed) from
a forward pass to an SVG file, in a process of its own (TorchLens wraps torch's functions for
the rest of the process it runs in), after one warm-up run; medians of ``--repeat`` runs:

* torchviz (the anchor): ``make_dot(loss, params=dict(model.named_parameters()))`` + ``dot``;
* torchview: ``draw_graph(model, input_data=...)`` + ``dot`` (the forward graph of modules);
* TorchLens: ``trace(model, inputs)`` + ``draw(vis_fileformat="svg")``;
* ours: ``record`` + ``explore`` + ``render`` (values and gradients on every node, folded
  above a few hundred nodes), and separately the whole web page (``save_html``: graph, every
  backward step recorded by the engine, contributions).

Also the chain of 5,000 typed operations (7,503 nodes) in the app's own pipeline: evaluate,
build the graph, fold it and draw the first picture (the issue's target: 3 s).

torchview and TorchLens are installed into .venv for this benchmark only
(``.venv/bin/pip install torchview torchlens``); they are not dependencies of the app.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("torchviz", "torchview", "torchlens", "ours", "ours_html")
MODELS = ("mlp", "cnn", "transformer", "residual_mlp")


def _one(tool: str, model_name: str, repeat: int) -> dict:
    """Time ``tool`` on ``model_name`` in this process (called in a fresh subprocess)."""
    sys.path.insert(0, str(ROOT))
    import torch

    from tests.model_zoo import MODELS as BUILDERS

    model, inputs, loss_fn = BUILDERS[model_name]()
    out = Path(tempfile.mkdtemp(prefix="bench-models-"))
    nodes = None

    def run(i: int):
        nonlocal nodes
        if tool == "torchviz":
            from torchviz import make_dot

            loss = loss_fn(model, *inputs)
            dot = make_dot(loss, params=dict(model.named_parameters()))
            dot.render(str(out / f"tv{i}"), format="svg", cleanup=True)
            nodes = dot.source.count("\n\t") - dot.source.count("->")
        elif tool == "torchview":
            from torchview import draw_graph

            graph = draw_graph(model, input_data=list(inputs[:1]) if model_name != "mlp"
                               else [inputs[0]], depth=3)
            graph.visual_graph.render(str(out / f"tw{i}"), format="svg", cleanup=True)
            nodes = graph.visual_graph.source.count("\n\t") - \
                graph.visual_graph.source.count("->")
        elif tool == "torchlens":
            import torchlens as tl

            log = tl.trace(model, list(inputs[:1]))
            log.draw(vis_outpath=str(out / f"tl{i}"), vis_fileformat="svg", vis_save_only=True)
            nodes = len(log.layer_labels) if hasattr(log, "layer_labels") else None
        else:
            from autograd_explorer import explore, record

            with record(model):
                loss = loss_fn(model, *inputs)
            ex = explore(loss)
            if tool == "ours":
                ex.render(out / f"ours{i}.svg")
            else:
                ex.save_html(out / f"ours{i}.html")
            nodes = len(ex.graph.nodes)

    torch.manual_seed(0)
    try:
        run(0)  # warm-up: imports, first kernels
    except Exception as err:  # noqa: BLE001 - a tool that cannot draw the model is a result
        return {"error": f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"}
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        run(i + 1)
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "nodes": nodes}


def _chain_first_picture() -> dict:
    """The 5,000-operation typed chain: evaluate, graph, fold, first SVG (the window's
    path), in seconds, with the time to lay out the whole graph for comparison."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_graph import chain_text

    from core.drawing import folding
    from core.drawing.graph import build_graph
    from core.drawing.render import RenderOptions, render
    from core.evaluation.evaluate import evaluate
    from core.language.parser import parse

    start = time.perf_counter()
    evaluation = evaluate(parse(chain_text(5000)), {"x": 0.5})
    evaluated = time.perf_counter()
    graph = build_graph(evaluation)
    fold = folding.auto_fold(graph)
    render(fold.graph, RenderOptions(), "svg")
    drawn = time.perf_counter()
    return {"nodes": len(graph.nodes), "drawn": len(fold.graph.nodes),
            "evaluate": evaluated - start, "graph_fold_draw": drawn - evaluated,
            "total": drawn - start}


def _chain_in_window() -> dict:
    """The same chain typed into the real window (offscreen): seconds from Compute to the
    computed result (evaluation, recorded steps and their text) and to the first picture."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_graph import chain_text
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from gui.app import create_application

    create_application([])
    from gui.main_window import MainWindow

    settings = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, restore=False)
    window.quiet_dialogs = True  # closing must not ask to save the typed chain
    window.show()

    def wait(signal, ms=120_000):
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    window.start_loading()
    wait(window.torchReady)
    window.auto_action.setChecked(False)
    window.editor.set_text(chain_text(5000))
    window.on_text_changed()
    computed = []
    window.computed.connect(lambda _result: computed.append(time.perf_counter()))
    start = time.perf_counter()
    window.compute_now()
    wait(window.drawn)
    drawn = time.perf_counter()
    folded = window.drawing is not None and window.drawing.folding is not None
    window.close()
    return {"computed": computed[0] - start if computed else None,
            "drawn": drawn - start, "folded": folded}


def _spawn(args: list[str], timeout: float) -> dict:
    try:
        result = subprocess.run([sys.executable, __file__, *args], capture_output=True,
                                text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"no result in {timeout:g} s"}
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail[:160]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    """Run every tool on every model and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS_models.md"))
    parser.add_argument("--one", nargs=2, metavar=("TOOL", "MODEL"), help=argparse.SUPPRESS)
    parser.add_argument("--chain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--window", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], args.one[1], args.repeat)))
        return 0
    if args.chain:
        print(json.dumps(_chain_first_picture()))
        return 0
    if args.window:
        print(json.dumps(_chain_in_window()))
        return 0
    results = {}
    for model in MODELS:
        for tool in TOOLS:
            results[model, tool] = _spawn(["--one", tool, model, "--repeat",
                                           str(args.repeat)], args.timeout)
            print(model, tool, results[model, tool], flush=True)
    chain = _spawn(["--chain"], args.timeout)
    print("chain", chain, flush=True)
    chain["window"] = _spawn(["--window"], args.timeout)
    print("window", chain["window"], flush=True)
    Path(args.out).write_text(_table(results, chain, args.repeat), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def _load() -> str:
    import os

    try:
        return f"{os.getloadavg()[1]:.1f}"
    except OSError:
        return "unknown"


def _cell(result: dict, anchor: dict | None = None) -> str:
    if "error" in result:
        return "fails: " + result["error"]
    text = f"{result['seconds']:.2f} s"
    if anchor and "seconds" in anchor:
        text += f" ({result['seconds'] / anchor['seconds']:.2f}x)"
    return text


def _table(results: dict, chain: dict, repeat: int) -> str:
    lines = ["# Drawing real models: autograd_explorer against torchviz, torchview, TorchLens",
             "", f"`benchmarks/bench_models.py`, medians of {repeat} runs after a warm-up, "
             "each tool in a process of its own; from the forward pass to an SVG file. "
             "Ratios are against torchviz's make_dot + dot (the anchor). Load average "
             f"during the run: {_load()} on 2 cores (other work shared the machine: "
             "differences under about 1.5x are noise).", "",
             "| model | nodes (ours) | torchviz | torchview | TorchLens | ours: graph SVG | "
             "ours: web page |", "|---|---|---|---|---|---|---|"]
    for model in MODELS:
        anchor = results[model, "torchviz"]
        ours = results[model, "ours"]
        lines.append(f"| {model} | {ours.get('nodes', '-')} | {_cell(anchor)} | "
                     + " | ".join(_cell(results[model, t], anchor)
                                  for t in ("torchview", "torchlens", "ours", "ours_html"))
                     + " |")
    if "error" not in chain:
        lines += ["", f"Chain of 5,000 typed operations ({chain['nodes']:,} nodes): evaluated "
                  f"in {chain['evaluate']:.2f} s; graph built, folded to {chain['drawn']} "
                  f"boxes and nodes and drawn in {chain['graph_fold_draw']:.2f} s (first "
                  f"picture {chain['total']:.2f} s after the text; the target is 3 s)."]
    else:
        lines += ["", f"Chain of 5,000 typed operations: {chain['error']}"]
    window = chain.get("window", {})
    if window.get("drawn") is not None:
        lines += ["", f"The same chain typed into the window (offscreen): computed "
                  f"{window['computed']:.2f} s after Compute; first picture (folded: "
                  f"{window['folded']}) at {window['drawn']:.2f} s; its {7501:,} steps are "
                  "recorded and written out after the picture (benchmarks/"
                  "bench_first_picture.py)."]
    lines += ["", "What each draws: torchviz the backward graph with no values; torchview the "
              "forward graph of modules and tensors (shapes); TorchLens every forward "
              "operation; ours the backward graph with values and gradients on each node "
              "(the web page adds every engine step, its rule and the contributions).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
