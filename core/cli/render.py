"""``main.py render``: draw the backward graph to an SVG, PNG or PDF file."""
from __future__ import annotations

from pathlib import Path

from core.cli.common import UsageError, add_program_arguments, load
from core.safe_io import atomic_write

_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
#: the longest --timeout accepted, in seconds
MAX_TIMEOUT = 86_400


def add_parser(subparsers) -> None:
    """Register ``render``."""
    parser = subparsers.add_parser(
        "render", help="draw the backward graph to an SVG, PNG or PDF file",
        description="Draw the backward graph torch builds for a program, as torchviz does, "
        "with each node's expression, value and gradient. Needs Graphviz's dot.")
    add_program_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the file to write; its suffix (.svg, .png, .pdf) picks the format")
    parser.add_argument("--dpi", type=int, default=96, metavar="N",
                        help="resolution of a PNG in dots per inch (default 96; 200-300 for print)")
    parser.add_argument("--rankdir", choices=("TB", "LR"), default="TB",
                        help="top to bottom (default) or left to right")
    parser.add_argument("--annotate", choices=("none", "values", "gradients", "all"),
                        default="all", help="what each node shows besides its operation "
                        "(default all: expression, value and gradient)")
    parser.add_argument("--plain", action="store_true",
                        help="torchviz's make_dot drawing exactly, without annotations")
    parser.add_argument("--theme", choices=("screen", "print", "dark", "contrast"),
                        default="screen",
                        help="screen: torchviz's colours; print: larger type for slides and "
                        "paper; dark and contrast: the window's dark and high-contrast looks")
    parser.add_argument("--caption", action="store_true",
                        help="write the program under the drawing (for slides and handouts)")
    parser.add_argument("--show-saved", action="store_true",
                        help="also draw the tensors backward functions saved (orange)")
    parser.add_argument("--show-attrs", action="store_true",
                        help="also list backward functions' saved attributes")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="time limit for Graphviz's layout (default 60)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Evaluate the program, draw its graph, write the file."""
    from core.drawing import render
    from core.drawing.graph import build_graph
    from core.evaluation.evaluate import evaluate

    out = Path(args.output)
    fmt = _SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise UsageError(f"cannot tell the format of '{out}': end the name with .svg, .png "
                         "or .pdf")
    # written as a range so that nan fails it too; inf and 1e300 overflow the subprocess call
    if args.timeout is not None and not 0 < args.timeout <= MAX_TIMEOUT:
        raise UsageError(f"--timeout must be a number of seconds above 0 and at most "
                         f"{MAX_TIMEOUT:,} (a day), not {args.timeout:g}")
    # check before computing: a missing program is the most common problem on a new machine
    if not render.graphviz_available():
        raise render.GraphvizMissing()
    program, variables = load(args)
    options = render.RenderOptions(annotate=args.annotate, rankdir=args.rankdir,
                                   theme=args.theme, plain=args.plain,
                                   show_saved=args.show_saved, show_attrs=args.show_attrs,
                                   dpi=args.dpi, caption=render.program_caption(program)
                                   if args.caption else None, constants=not args.plain)
    evaluation = evaluate(program, variables, args.dtype)
    graph = build_graph(evaluation, show_saved=args.show_saved, show_attrs=args.show_attrs)
    timeout = render.DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    data = render.render(graph, options, fmt, timeout=timeout)
    atomic_write(out, data)  # a failed write leaves an existing file as it was
    print(f"wrote {out} ({fmt.upper()}, {len(graph.nodes)} nodes, {len(data):,} bytes)")
    return 0
