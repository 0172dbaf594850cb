"""The built-in examples (``resources/examples.json``) as plain objects.

Each example has a title, a group (the seed notebook's four, then teaching examples), a short
explanation, the expression, values for its variables, which of them are constants
(requires-grad off), the dtype, and reference values worked out independently.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

from core.language.values import VariableSpec


@dataclass(frozen=True)
class Example:
    """One built-in example."""

    title: str
    group: str
    explanation: str
    expression: str
    vars: dict
    constants: tuple = ()
    dtype: str = "float32"
    reference: dict = field(default_factory=dict)
    #: the view of issue 15 the example opens on ("paths", "modes", "jacobian", "hessian",
    #: "train"), or None
    view: str | None = None

    def specs(self) -> dict[str, VariableSpec]:
        """The example's variables as VariableSpecs (constants have requires_grad off)."""
        return {name: VariableSpec(name, value, name not in self.constants)
                for name, value in self.vars.items()}


@lru_cache(maxsize=1)
def load_examples() -> tuple[Example, ...]:
    """All built-in examples, in menu order."""
    data = json.loads((files("resources") / "examples.json").read_text(encoding="utf-8"))
    return tuple(Example(title=e["title"], group=e.get("group", "Examples"),
                         explanation=e.get("explanation", ""), expression=e["expression"],
                         vars=e["vars"], constants=tuple(e.get("constants", ())),
                         dtype=e.get("dtype", "float32"), reference=e.get("reference", {}),
                         view=e.get("view"))
                 for e in data["examples"])


def startup_example() -> Example:
    """The example computed at startup: the seed notebook's chain rule."""
    return next(e for e in load_examples() if e.title.startswith("Chain rule"))
