"""StepView.highlight steps forward from the last step it assembled; whatever order the
steps are visited in, it gives exactly what assemble_highlight gives from scratch."""
from __future__ import annotations

import random

from core.drawing.step_highlight import assemble_highlight
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.teaching.trace import record_steps
from gui.step_view import StepView


def test_any_order_of_steps_gives_the_assembled_highlight():
    text = "\n".join(["y = x"] + ["y = sin(y * 1.01) + x" if i % 3 else "y = y * y"
                                  for i in range(40)])
    evaluation = evaluate(parse(text), {"x": 0.3})
    view = StepView.from_trace(record_steps(evaluation), evaluation)
    n = len(view.steps)
    rng = random.Random(0)
    order = list(range(n)) + [n - 1, 0, 5, 4, 6, n + 10, -3] + \
        [rng.randrange(n) for _ in range(60)]
    for index in order:
        expected = assemble_highlight(view.steps, index, view.output_id, view.root_id)
        assert view.highlight(index) == expected, index
