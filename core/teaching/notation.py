"""The notation of the step text, defined once: the Steps panel's help and the deck's
first page show it. No torch here: the panel reads it while the window starts."""
from __future__ import annotations

#: the notation, defined once (the panel's help, the deck's first page)
LEGEND = (
    ("∂f/∂v", "the gradient of the output f with respect to v: how much f changes per unit "
              "change of v"),
    ("gradient in", "∂f/∂(this node): what arrived at the node from the output's side"),
    ("backward node", "the function torch recorded for one operation (MulBackward0 for *); "
                      "it turns the gradient in into a gradient for each input"),
    ("local derivative", "∂(node)/∂(input): how the node's value changes with one input"),
    ("chain rule", "∂f/∂input += ∂f/∂node · ∂node/∂input: gradient out = gradient in × "
                   "local derivative"),
    ("forks sum", "a value used in several places gets the sum of the gradients of every path"),
    ("AccumulateGrad", "the last node of an input: it stores the input's total gradient in "
                       ".grad. The engine sums the paths of one backward pass (at every "
                       "node); only another backward() call (with retain_graph=True) would "
                       "add to .grad again"),
    ("∂f/∂f = 1", "the seed: the backward pass starts from the output with gradient 1"),
    ("(2×3)", "a shape: 2 rows, 3 columns; a number has shape ()"),
    ("× ⊙ ·", "× multiplies numbers, ⊙ multiplies tensors entry by entry, · is a matrix "
              "product"),
)
