"""`Demos`: few-shot demonstrations as a trainable parameter, a list of {"input": ..., "output": ...} pairs.

    examples = ot.demos(name="examples", max_demos=4)      # starts empty; BootstrapFewShot fills it

    @ot.bundle()
    def classify(instruction: str, examples: list, review: str) -> str:
        system = instruction + "\\n\\n" + ot.format_demos(examples)
        ...

The workflow passes the node into a traced call like any other parameter, so the graph records where the
demos were used; an optimizer (optotrace.optimizers.BootstrapFewShot) fills it from the workflow's own
successful runs. `set()` takes a list of pairs (dicts with "input" and "output", or 2-tuples) and refuses
anything else with a clear message. Values are plain JSON, so they save and load with the other parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from optotrace.trace.nodes import Node, ParameterNode

__all__ = ["Demos", "demos", "format_demos"]

DEFAULT_TEMPLATE = "Input: {input}\nOutput: {output}"


class Demos(ParameterNode):
    """A trainable list of input/output pairs; `max_demos` bounds how many an optimizer puts in."""

    __slots__ = ("max_demos",)
    default_role = "demos"

    def __init__(self, pairs: Iterable[Any] = (), name: str = "demos", description: str = "",
                 max_demos: int = 4) -> None:
        if int(max_demos) < 1:
            raise ValueError(f"max_demos={max_demos} must be at least 1")
        super().__init__(as_pairs(pairs), name, description or "few-shot input/output demonstrations")
        self.max_demos = int(max_demos)

    def set(self, value: Any) -> None:
        self._data = as_pairs(value.data if isinstance(value, Node) else value)

    def format(self, template: str = DEFAULT_TEMPLATE, separator: str = "\n\n") -> str:
        return format_demos(self._data, template, separator)


def demos(pairs: Iterable[Any] = (), name: str = "demos", description: str | None = None,
          max_demos: int = 4) -> Demos:
    """A Demos parameter (trainable), optionally with starting pairs."""
    return Demos(pairs, name, description or "", max_demos)


def as_pairs(value: Any) -> list[dict[str, Any]]:
    """[{"input": ..., "output": ...}, ...] from such dicts or (input, output) tuples; ValueError otherwise."""
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
        raise ValueError(f"demos must be a list of {{'input': ..., 'output': ...}} pairs, not {type(value).__name__}")
    pairs = []
    for i, item in enumerate(value):
        if isinstance(item, dict) and set(item) >= {"input", "output"}:
            pairs.append({"input": item["input"], "output": item["output"]})
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            pairs.append({"input": item[0], "output": item[1]})
        else:
            raise ValueError(f"demo #{i} is {item!r}; each demo must be {{'input': ..., 'output': ...}} or a pair")
    return pairs


def format_demos(value: Any, template: str = DEFAULT_TEMPLATE, separator: str = "\n\n") -> str:
    """The demos as prompt text: `template` (with {input} and {output}) per pair, joined by `separator`;
    "" when there are none. Takes a Demos node or its value; non-text parts are written as JSON."""
    pairs: Sequence[dict[str, Any]] = as_pairs(value.data if isinstance(value, Node) else value)
    return separator.join(template.format(input=_text(p["input"]), output=_text(p["output"])) for p in pairs)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
