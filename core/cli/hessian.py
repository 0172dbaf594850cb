"""``main.py hessian``: second derivatives of a scalar program (double backward), a
Hessian-vector product, and the graph of the gradient drawn like the first graph."""
from __future__ import annotations

from pathlib import Path

from core.cli.common import UsageError, add_program_arguments, load, parse_name_values, print_json

_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf"}


def add_parser(subparsers) -> None:
    """Register ``hessian``."""
    parser = subparsers.add_parser(
        "hessian", help="second derivatives (the Hessian) and Hessian-vector products",
        description="Differentiate the gradient again (torch.autograd.grad with "
        "create_graph=True): the Hessian for small inputs, a Hessian-vector product for any, "
        "and the graph of the gradient itself.")
    add_program_arguments(parser)
    parser.add_argument("--vector", action="append", default=[], metavar="NAME=VALUE",
                        help="v for the Hessian-vector product, per input (default ones)")
    parser.add_argument("--graph", metavar="OUT",
                        help="draw the graph of the gradient (double backward) to .svg/.png/.pdf")
    parser.add_argument("--graph-of", metavar="NAME",
                        help="whose gradient --graph draws (default: the first input)")
    parser.add_argument("--json", action="store_true",
                        help='print {"hessian": {"NAME": {"NAME2": ...}}} as JSON')
    parser.set_defaults(run=run)


def run(args) -> int:
    """Evaluate, differentiate twice, print (and draw)."""
    from core.evaluation.evaluate import forward
    from core.views.hessian import format_hessian, hessian_of

    vector = parse_name_values(args.vector, "w=1", where="--vector {name}")
    out = None
    if args.graph:
        out = Path(args.graph)
        if out.suffix.lower() not in _SUFFIXES:
            raise UsageError(f"cannot tell the format of '{out}': end the name with .svg, "
                             ".png or .pdf")
    program, variables = load(args)
    evaluation = forward(program, variables, args.dtype)
    report = hessian_of(evaluation, vector)
    if out is not None:
        _draw(evaluation, args.graph_of or next(iter(report.gradient), ""), out, args)
    if args.json:
        print_json(report.to_dict())
    else:
        print(format_hessian(report))
    return 0


def _draw(evaluation, name: str, out: Path, args) -> None:
    import sys

    from core.drawing import render
    from core.drawing.graph import build_graph
    from core.views.hessian import gradient_evaluation

    if not render.graphviz_available():
        raise render.GraphvizMissing()
    graph = build_graph(gradient_evaluation(evaluation, name))
    data = render.render(graph, render.RenderOptions(), _SUFFIXES[out.suffix.lower()])
    from core.safe_io import atomic_write
    atomic_write(out, data)  # an existing file is replaced only by a complete one
    print(f"wrote {out} (the graph of d{evaluation.output_name}/d{name}, {len(graph.nodes)} "
          "nodes)", file=sys.stderr if args.json else sys.stdout)
