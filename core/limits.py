"""The bounds that keep any input from hanging or exhausting the machine.

Each is checked before the work it guards is done, and each error names the bound.
They are module constants so tests can check them at N and N+1.
"""

#: Characters in one program (a 5,000-operation chain is about 75,000).
MAX_TEXT_CHARS = 200_000
#: Statements (lines of work) in one program.
MAX_STATEMENTS = 10_000
#: Nesting depth of one expression's syntax tree (parentheses, calls, operators).
MAX_DEPTH = 100
#: Largest magnitude of an exponent applied to a constant (``2**2000`` is refused).
MAX_CONSTANT_EXPONENT = 1_000
#: The largest whole number a constant may reach (``2**1024``, past which a float cannot
#: hold it either): Python's ints have no bound, so ``10**1000**...`` is stopped here.
MAX_CONSTANT_INT = 2 ** 1024
#: Elements in any one tensor (values, intermediates and the output).
MAX_ELEMENTS = 1_000_000
#: Elements over all tensors one program creates.
MAX_TOTAL_ELEMENTS = 20_000_000
#: Dimensions of one tensor.
MAX_DIMS = 8
#: Wall-clock seconds one evaluation may take (checked between operations).
MAX_SECONDS = 10.0
#: Characters in one value field (a nested list typed by the user).
MAX_VALUE_CHARS = 100_000
#: Multiply-adds the backward pass may do, estimated while the forward pass is built
#: (core.evaluation.cost; about 5 s on a 2-core machine, half the measured limit below, so a busy
#: machine still finishes): a program past it is refused before the operation that passes it
#: allocates anything.
MAX_BACKWARD_WORK = 10_000_000_000
#: Wall-clock seconds the backward pass may take (checked between its nodes).
MAX_BACKWARD_SECONDS = 10.0
#: Gradient entries the step-through keeps over all steps (a gradient that is one value
#: repeated, as sum() sends back, counts once): each step keeps the gradient into its node
#: and one per input, so three times the forward pass's entries lets every program within
#: MAX_TOTAL_ELEMENTS be stepped through (240 MB in float32, 480 MB in float64).
MAX_TRACE_ENTRIES = 3 * MAX_TOTAL_ELEMENTS
#: Wall-clock seconds recording the steps may take, the replayed backward pass included.
MAX_TRACE_SECONDS = 30.0
