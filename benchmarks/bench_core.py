"""Benchmark: the language's overhead, against the same computation written in torch directly.

    .venv/bin/python benchmarks/bench_core.py [--repeat N]

For each case, "ours" is ``core.language.parser.parse`` + ``core.evaluation.evaluate.evaluate``
(parse, checks
of every bound, forward with records, backward with retained graph and named gradients);
the anchor is the same arithmetic as a plain Python function on torch tensors followed by
``backward()``, measured in the same run. Medians; the ratio is ours / anchor.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.evaluation.evaluate import evaluate  # noqa: E402
from core.language.parser import parse  # noqa: E402

SEED_CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"
SEED_MATRIX = ("G1 = 3*W + torch.cos(Z)\nG2 = torch.matmul(W, W) + torch.sin(2*Z)\n"
               "F = torch.norm(torch.exp(G1) + torch.matmul(G1, G2), p=2)")
M = [[1.0, 0.5], [0.2, 0.1]]


def chain_text(statements: int) -> str:
    """The DESIGN.md chain: ``y = y * 1.0001`` and ``y = sin(y) + x`` alternately."""
    lines = ["y = x"]
    for i in range(statements):
        lines.append("y = y * 1.0001" if i % 2 == 0 else "y = sin(y) + x")
    return "\n".join(lines)


def torch_chain(statements: int):
    """The anchor for the chain: the same operations straight in torch."""
    def run():
        x = torch.tensor(0.5, requires_grad=True)
        y = x
        for i in range(statements):
            y = y * 1.0001 if i % 2 == 0 else torch.sin(y) + x
        y.backward()
    return run


def torch_seed_chain():
    w = torch.tensor(1.0, requires_grad=True)
    z = torch.tensor(1.0, requires_grad=True)
    g1 = 3 * w + torch.cos(z)
    g2 = w ** 2 + torch.sin(2 * z)
    (torch.exp(g1) + 3 * g2).backward()


def torch_seed_matrix():
    W = torch.tensor(M, requires_grad=True)
    Z = torch.tensor(M, requires_grad=True)
    G1 = 3 * W + torch.cos(Z)
    G2 = torch.matmul(W, W) + torch.sin(2 * Z)
    torch.norm(torch.exp(G1) + torch.matmul(G1, G2), p=2).backward()


def ours(text: str, values: dict):
    def run():
        evaluate(parse(text), values)
    return run


def median_seconds(function, repeat: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    cases = [
        ("seed chain rule", ours(SEED_CHAIN, {"w": 1.0, "z": 1.0}), torch_seed_chain, args.repeat),
        ("seed matrix example", ours(SEED_MATRIX, {"W": M, "Z": M}), torch_seed_matrix,
         args.repeat),
        ("chain, 1,000 operations", ours(chain_text(1000), {"x": 0.5}), torch_chain(1000),
         max(3, args.repeat // 4)),
        ("chain, 5,000 operations", ours(chain_text(5000), {"x": 0.5}), torch_chain(5000), 3),
    ]
    print("| case | anchor: plain torch | ours: parse + evaluate | ours/anchor |")
    print("|---|---|---|---|")
    for name, mine, anchor, repeat in cases:
        a = median_seconds(anchor, repeat)
        b = median_seconds(mine, repeat)
        print(f"| {name} | {a * 1000:.2f} ms | {b * 1000:.2f} ms | {b / a:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
