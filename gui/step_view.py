"""What the Steps panel shows, prepared on the compute worker as plain data.

A :class:`core.teaching.trace.Trace` holds tensors, and turning them into text
(``core.teaching.rules.fmt``,
``core.teaching.trace.edge_text``) is torch work, which never runs on the GUI thread. So the worker
that records the trace also writes every step's list entry, title and arithmetic as text
(:meth:`StepView.from_trace`); the edge labels were written as text when the trace was
recorded. The panel then only looks strings up, and :meth:`StepView.highlight` assembles a
step's highlight with :func:`core.drawing.step_highlight.assemble_highlight`, the same rule
``Trace.highlight`` and the exported pages use.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from core.drawing.step_highlight import StepHighlight, assemble_highlight


@dataclass(frozen=True)
class StepText:
    """One step as text: the list entry, the title line (HTML), the arithmetic (HTML), its
    node ids, and the (edge, gradient text) pairs it sends."""

    entry: str
    title: str
    body: str
    node_id: str
    leaf_id: str | None
    edge_labels: tuple


@dataclass
class StepView:
    """Every step of a recorded backward pass as text. ``trace`` is the recorded
    :class:`core.teaching.trace.Trace` itself, kept for the step exports (which run on workers)."""

    steps: list[StepText] = field(default_factory=list)
    output_id: str | None = None
    root_id: str | None = None
    trace: object = None
    #: the forward pass: each input, then each value in the order it was computed
    forward: list[StepText] = field(default_factory=list)
    #: (index, done, edge labels) of the last step highlighted, before that step's own
    #: labels: the next step forward starts from there
    _running: tuple | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_trace(cls, trace, evaluation=None) -> StepView:
        """Format ``trace`` (on a worker: this reads tensors); with ``evaluation``, the
        forward walk starts with the inputs' values."""
        steps = [StepText(step.title, title_html(trace, index), step_html(trace, index),
                          step.node_id, step.leaf_id, step.edge_labels)
                 for index, step in enumerate(trace.steps)]
        return cls(steps, trace.output_id, trace.root_id, trace,
                   forward_steps(trace, evaluation))

    def forward_highlight(self, index: int) -> StepHighlight:
        """The forward walk at ``index``: that value is current, the earlier ones done."""
        if not self.forward:
            return StepHighlight(frozenset(), frozenset(), {})
        index = max(0, min(index, len(self.forward) - 1))
        done = frozenset(step.node_id for step in self.forward[:index])
        return StepHighlight(frozenset({self.forward[index].node_id}), done, {})

    def highlight(self, index: int) -> StepHighlight:
        """The highlight of step ``index`` (text only: safe on the GUI thread), as
        :func:`assemble_highlight` gives it. Stepping forward one at a time adds one step
        to the last one's sets instead of assembling them again from the first step: on a
        graph of 20,000 nodes that is the difference between a few and tens of ms."""
        if not self.steps:
            return assemble_highlight(self.steps, index, self.output_id, self.root_id)
        index = max(0, min(index, len(self.steps) - 1))
        last = self._running
        if last is None or index < last[0]:
            first = assemble_highlight(self.steps, 0, self.output_id, self.root_id)
            last = (0, set(first.done), dict(first.edge_labels))
        at, done, labels = last
        for earlier in self.steps[at:index]:  # what index's assembly adds to at's
            done.add(earlier.node_id)
            if earlier.leaf_id:
                done.add(earlier.leaf_id)
            labels.update(earlier.edge_labels)
        self._running = (index, done, labels)
        step = self.steps[index]
        current = {step.node_id} | ({step.leaf_id} if step.leaf_id else set())
        shown = dict(labels)
        shown.update(step.edge_labels)
        recent = {key for key, _ in step.edge_labels}
        if index == 0 and self.output_id and self.root_id:
            recent.add((self.root_id, self.output_id, 0))  # the seed arrives with step 1
        return StepHighlight(frozenset(current), frozenset(done), shown, frozenset(recent))


def forward_steps(trace, evaluation=None) -> list[StepText]:
    """The forward walk as text: the inputs (with ``evaluation``), then every value the
    program computed, in order, with the backward node that will carry its gradient."""
    from core.teaching.rules import fmt

    esc = html.escape
    rows = []  # (node id, what, value, how)
    if evaluation is not None:
        for name, tensor in evaluation.inputs.items():
            how = "an input" + ("" if tensor.requires_grad else " held constant")
            rows.append((str(id(tensor)), name, fmt(tensor.detach()), how))
    for step in trace.forward:
        what = f"{step.name} = {step.expression}" if step.name else step.expression
        how = (f"computed by torch; its gradient will pass through {step.op}" if step.op
               else "a constant (no gradient flows through it)")
        rows.append((step.node_id, what, fmt(step.value), how))
    out = []
    for index, (node_id, what, value, how) in enumerate(rows):
        title = (f'<span style="font-size: {TITLE_SIZE}; font-weight: bold;">Forward '
                 f'{index + 1} of {len(rows)}: {esc(what)}</span>')
        body = (f'<p><span class="head">Value</span><br><span class="num">{esc(value)}</span>'
                f'</p><p>{esc(how)}.</p>')
        out.append(StepText(f"{index + 1}. {what} = {value}", title, body, node_id, None, ()))
    return out


#: the title's size relative to the panel's text (a fixed 12 pt stayed smaller than the body
#: in presentation mode's large text) and its operation's colour, which the panel replaces
#: with its theme's muted colour (grey on white vanished on the dark background)
TITLE_SIZE = "large"
TITLE_MUTED = "#555555"


def title_html(trace, index: int) -> str:
    """The step's title as in the exported pages, "Step 3 of 12: exp(g1)", large and bold,
    with the operation torch ran in small muted text after it."""
    from core.teaching.step_export import step_title

    title, _, op = step_title(trace, index).rpartition("   ")
    return (f'<span style="font-size: {TITLE_SIZE}; font-weight: bold;">'
            f'{html.escape(title)}</span> <span style="color: {TITLE_MUTED};">'
            f'{html.escape(op)}</span>')


#: how the panel styles each kind of line of core.teaching.step_text
_STYLE = {"in": "num", "paths": "num", "pattern": "pattern", "rule": "rule", "math": "num",
          "note": "note", "result": "result", "text": "text"}


def step_html(trace, index: int) -> str:
    """The arithmetic of one step for the panel, wrapped to its width: the lines
    :func:`core.teaching.step_text.step_lines` writes (the same words as the CLI and the deck),
    matrices as grids in a fixed-width block that never wraps mid-row."""
    from core.teaching.rules import fmt
    from core.teaching.step_text import step_lines

    esc = html.escape
    parts = []
    step = trace.steps[index]
    for line in step_lines(trace, index, width=44):
        if line.kind == "paths" and len(step.contributions) > 1:
            # the paths' terms in a table, values right-aligned, so they line up
            rows = "".join(
                f'<tr><td align="right" class="num">{esc(fmt(c.value))}</td>'
                f'<td class="via">via {esc(c.via)}</td>'
                f'<td align="right" class="num">{esc(fmt(c.running_total))}</td></tr>'
                for c in step.contributions)
            parts.append(f'<p class="paths">{esc(line.text.split(":")[0])}:</p>'
                         '<table cellspacing="0" cellpadding="2" width="100%">'
                         '<tr><th align="right">term</th><th align="left">path</th>'
                         f'<th align="right">sum so far</th></tr>{rows}</table>')
        elif line.kind == "grid":
            parts.append(f'<pre class="grid">{esc(line.text)}</pre>')
        elif line.kind == "note":
            parts.append(f'<p class="note">⚠ {esc(line.text)}</p>')
        else:
            parts.append(f'<p class="{_STYLE.get(line.kind, "text")}">{esc(line.text)}</p>')
    return "".join(parts)
