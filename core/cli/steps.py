"""``main.py steps``: the backward pass step by step, as text, JSON, a PDF or PNG frames."""
from __future__ import annotations

from core.cli.common import add_program_arguments, load, print_json
from core.cli.jacobian import add_grad_output_argument, grad_output_value


def add_parser(subparsers) -> None:
    """Register ``steps``."""
    parser = subparsers.add_parser(
        "steps", help="step through the backward pass (the chain rule, node by node)",
        description="Replay the backward pass as torch's engine runs it: for each node the "
        "gradient flowing in, the gradient sent to each input, and the local rule; for each "
        "input the contribution of every path and their sum.")
    add_program_arguments(parser)
    add_grad_output_argument(parser)  # a vector output: backward(gradient=v)
    parser.add_argument("--json", action="store_true",
                        help='print {"steps": [...], "leaves": {...}} as JSON')
    parser.add_argument("--pdf", metavar="FILE",
                        help="write the step deck as a PDF: a title page, each forward value, "
                        "one page per backward step, a summary")
    parser.add_argument("--frames", metavar="DIR",
                        help="write the same pages as PNG frames (page-001.png, ...) into DIR")
    parser.add_argument("--layout", choices=("slides", "handout"), default="slides",
                        help="slides: 16:9 pages for a projector, the step zoomed beside a map "
                        "of the graph (default); handout: portrait pages for print")
    parser.add_argument("--quiz", action="store_true",
                        help="predict, then reveal: each step first with the gradients it "
                        "sends hidden, revealed on the next page")
    parser.add_argument("--title", help="the deck's title (a built-in example's own title "
                        "and explanation are used when the program is one of them)")
    parser.add_argument("--dpi", type=int, default=144,
                        help="resolution of the PNG frames (144: slides at 1920×1080)")
    parser.add_argument("--html", metavar="FILE",
                        help="write one self-contained interactive web page (graph, step "
                        "controls, contributions, forward walk)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Record the steps and print or export them."""
    from core.evaluation.evaluate import evaluate
    from core.teaching.trace import record_steps

    program, variables = load(args)
    evaluation = evaluate(program, variables, args.dtype, grad_output=grad_output_value(args))
    trace = record_steps(evaluation)
    if args.pdf or args.frames:
        from core.drawing.graph import build_graph
        from core.teaching import deck
        graph = build_graph(evaluation)
        options = deck.deck_options(program.text)
        options.update(layout=args.layout, quiz=args.quiz, title=args.title or options["title"])
        if args.pdf:
            pages = deck.export_pdf(evaluation, graph, trace, args.pdf, **options)
            _note(args, f"wrote {args.pdf} ({pages} page{'s' if pages != 1 else ''})")
        if args.frames:
            frames = deck.export_frames(evaluation, graph, trace, args.frames, dpi=args.dpi,
                                        **options)
            _note(args, f"wrote {len(frames)} frame{'s' if len(frames) != 1 else ''} "
                  f"to {args.frames}")
    if args.html:
        from core.drawing.graph import build_graph
        from core.teaching.html_export import write_html
        write_html(args.html, build_graph(evaluation), trace)
        _note(args, f"wrote {args.html}")
    if args.json:
        print_json(trace.to_dict())
        return 0
    print(format_trace(trace))
    return 0


def _note(args, text: str) -> None:
    # with --json stdout is exactly one JSON object, so notes go to stderr
    import sys
    print(text, file=sys.stderr if args.json else sys.stdout)


def format_trace(trace) -> str:
    """The steps and the leaves' contributions as readable text."""
    from core.teaching.rules import fmt, pretty
    from core.teaching.step_text import derivative_of, plain_text, step_lines

    if not trace.steps:
        return "no backward steps: " + trace.no_steps_reason
    lines = ["forward pass (each value in the order it was computed):"]
    for value in trace.forward:
        # as the pages write it: w², 2z, one minus sign
        what = pretty(f"{value.name} = {value.expression}" if value.name else value.expression)
        lines.append(f"  {value.index + 1}. {what} = {fmt(value.value)}")
    lines += ["", "backward pass (as torch's engine ran it):"]
    for index, step in enumerate(trace.steps):
        lines.append(step.title)
        lines.extend(plain_text(step_lines(trace, index, width=96), "    "))
    lines.append("")
    lines.append("leaves (each path's contribution, then the sum):")
    for name, leaf in trace.leaves.items():
        lines.append(f"  {name}:")
        for c in leaf.contributions:
            lines.append(f"    {fmt(c.value)}  via {c.via}   (running sum {fmt(c.running_total)})")
        lines.append(f"    total ∂{derivative_of(trace)}/∂{name} = {fmt(leaf.total)}")
    return "\n".join(lines)
