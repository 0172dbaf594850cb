"""Benchmark: drawing the backward graph, against torchviz + Graphviz measured in the same run.

    .venv/bin/python benchmarks/bench_graph.py [--repeat N] [--anchor-timeout S] [--skip-5000]

For each case the program is parsed and evaluated once (core.language.parser /
core.evaluation.evaluate);
then two pipelines turn the same evaluation into SVG bytes:

* anchor: torchviz's ``make_dot(output)`` and ``dot -Tsvg`` with Graphviz's defaults, in
  the main thread as a torchviz user would call it, with a time limit so this script never
  hangs (a timeout or RecursionError is reported as such);
* ours: ``core.drawing.graph.build_graph`` + ``core.drawing.render.render(..., "svg")``
(annotated, automatic
  layout strategy).

Medians of ``--repeat`` runs (one run where a single one takes seconds). Targets from issue 3:
seed matrix example within 1.5x the anchor; chain of 100 operations <= 0.3 s; 1,000 <= 3 s;
5,000 finishes.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.drawing.graph import build_graph  # noqa: E402
from core.drawing.render import RenderOptions, render  # noqa: E402
from core.evaluation.evaluate import evaluate  # noqa: E402
from core.language.parser import parse  # noqa: E402


def chain_text(statements: int) -> str:
    """``y = x`` then ``y = y * 1.0001`` and ``y = sin(y) + x`` alternately: the leaf x
    feeds every other operation, like a weight reused in every layer."""
    lines = ["y = x"]
    for i in range(statements):
        lines.append("y = y * 1.0001" if i % 2 == 0 else "y = sin(y) + x")
    return "\n".join(lines)


def anchor_once(evaluation, timeout: float):
    """torchviz + Graphviz defaults; returns seconds, or a string saying what went wrong."""
    from torchviz import make_dot
    start = time.perf_counter()
    try:
        source = make_dot(evaluation.output).source
    except RecursionError:
        return "RecursionError in make_dot"
    try:
        subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                       timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return f"dot did not finish in {timeout:g} s"
    return time.perf_counter() - start


def ours_once(evaluation):
    start = time.perf_counter()
    graph = build_graph(evaluation)
    svg = render(graph, RenderOptions(), "svg", timeout=600)
    return time.perf_counter() - start, len(graph.nodes), len(svg)


def median_or_failure(runs):
    failures = [r for r in runs if isinstance(r, str)]
    return failures[0] if failures else statistics.median(runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--anchor-timeout", type=float, default=60.0)
    parser.add_argument("--skip-5000", action="store_true")
    args = parser.parse_args(argv)

    seed = json.loads((ROOT / "tests/data/seed_examples.json").read_text())["examples"][3]
    cases = [("seed matrix example", seed["expression"], seed["vars"], args.repeat,
              lambda ours, anchor: isinstance(anchor, float) and ours <= 1.5 * anchor,
              "<= 1.5x anchor")]
    for n, limit in ((100, 0.3), (1_000, 3.0), (5_000, None)):
        if n == 5_000 and args.skip_5000:
            continue
        target = f"<= {limit:g} s" if limit else "finishes"

        def check(ours, anchor, limit=limit):
            return limit is None or ours <= limit

        repeat = args.repeat if n <= 100 else (3 if n <= 1_000 else 1)
        cases.append((f"chain, {n:,} operations", chain_text(n), {"x": 0.5}, repeat, check,
                      target))

    rows = []
    for title, text, variables, repeat, check, target in cases:
        start = time.perf_counter()
        evaluation = evaluate(parse(text), variables)
        evaluate_s = time.perf_counter() - start
        ours_runs = [ours_once(evaluation) for _ in range(repeat)]
        ours = statistics.median(r[0] for r in ours_runs)
        nodes, svg_bytes = ours_runs[0][1], ours_runs[0][2]
        # the anchor: as many runs as ours, but only one when a run takes seconds or fails
        anchor_runs = [anchor_once(evaluation, args.anchor_timeout)]
        while len(anchor_runs) < repeat and isinstance(anchor_runs[-1], float) \
                and anchor_runs[-1] < 1.0:
            anchor_runs.append(anchor_once(evaluation, args.anchor_timeout))
        anchor = median_or_failure(anchor_runs)
        ratio = f"{ours / anchor:.2f}x" if isinstance(anchor, float) else "-"
        anchor_text = f"{anchor:.3f} s" if isinstance(anchor, float) else anchor
        met = "yes" if check(ours, anchor) else "NO"
        rows.append((title, f"{nodes:,}", f"{evaluate_s:.3f} s", anchor_text,
                     f"{ours:.3f} s", ratio, target, met, f"{svg_bytes:,}"))
        print(f"  measured {title}", file=sys.stderr, flush=True)

    header = ("case", "nodes", "evaluate", "anchor: make_dot + dot", "ours: graph + render",
              "ours/anchor", "target", "met", "SVG bytes")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print("| " + line + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(f"\n(medians of up to {args.repeat} runs; python {sys.version.split()[0]}; "
          f"{time.strftime('%Y-%m-%d')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
