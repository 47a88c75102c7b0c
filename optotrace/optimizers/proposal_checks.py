"""Is a proposal of the right kind? An instruction parameter (a prompt given to a model with every input) must
get an instruction, not the answer to one example.

Small models shown one example's output and its feedback ("expected 7") tend to answer that example instead
of rewriting the instruction: "7", "(B)", "Paris", or one example's question copied. Such a value would be
applied to every input and ruin the workflow, so it is rejected with the reason, which the model reads in
the retry. The role is declared, not guessed from the value: a text parameter whose name or description says
prompt, instruction, system, template... (see `is_instruction`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Examples", "answer_like_reason", "check_instructions", "examples_of", "is_instruction"]

_ROLE_RE = re.compile(r"prompt|instruction|system|template|guideline|directive|persona|rubric|task description",
                      re.I)
_ANSWER_SHAPED_RE = re.compile(
    r"[-+]?\d[\d,]*(?:\.\d+)?%?|\(?[a-z]\)?|yes|no|true|false|valid|invalid|none|positive|negative|neutral", re.I
)
# "Change the instruction to '...'": a description of the edit instead of the new value (seen from 0.5B models).
_EDIT_COMMAND_RE = re.compile(
    r"(?:change|set|update|replace|modify|rewrite)\s+(?:the\s+)?(?:value\s+of\s+)?(?:the\s+)?(?:variable\s+)?"
    r"[`'\"]?[\w.]+[`'\"]?(?:\s+variable)?\s+(?:to|with|into)[\s:]", re.I)
# "answer = answer(instruction=instruction, question=question_2)": a line of the prompt's #Code copied back.
_CODE_LINE_RE = re.compile(r"[\w.]+\s*=\s*[\w.]+\((?:[\w.]+\s*=\s*[\w.]+(?:,\s*)?)*\)")
# "To rewrite the instruction so that ..., follow these steps": talk about the edit, not the text the model reads.
_ABOUT_THE_EDIT_RE = re.compile(
    r"\b(?:rewrit(?:e|ing)|revis(?:e|ing)|improv(?:e|ing)|updat(?:e|ing)|modify(?:ing)?|chang(?:e|ing))\s+"
    r"(?:the\s+|this\s+|an?\s+|your\s+)?(?:original\s+|current\s+|given\s+|new\s+)?"
    r"(?:instruction|system prompt|prompt)\b", re.I)
QUOTED_INPUT_CHARS = 40  # an instruction that holds an example's input this long (or whole) is about that example
_EXAMPLE_CHARS = 2000  # longer values are not one answer; they are only compared for equality
SHORT_ANSWER_WORDS = 8  # a sentence this short that states an example's number is that example's answer
MIN_INSTRUCTION_WORDS = 5  # fewer words cannot replace an instruction of twice as many
_NUMBER_RE = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?!\w|\.\d)")


def is_instruction(param: Any) -> bool:
    """True for a text parameter declared as an instruction by its name or description."""
    if getattr(param, "is_code", False) or not isinstance(getattr(param, "data", None), str):
        return False
    role = f"{getattr(param, 'name', '')} {getattr(param, 'description', '') or ''}"
    return bool(_ROLE_RE.search(role.replace("_", " ")))


@dataclass
class Examples:
    """What the step's examples showed: the outputs, the inputs, and the feedback texts."""

    outputs: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def examples_of(params: Iterable[Any]) -> Examples:
    """The outputs, inputs (nodes with no parents that are not parameters) and feedback of the feedback
    the parameters hold."""
    out = Examples()
    seen: set[int] = set()
    for p in params:
        for item in getattr(p, "feedback", ()):
            if isinstance(item.feedback, str):
                out.feedback.append(item.feedback)
            for node in getattr(item, "outputs", None) or (item.output,):
                if id(node) not in seen and (t := _text(node.data)) is not None:
                    seen.add(id(node))
                    out.outputs.append(t)
            for node in item.subgraph:
                for parent in (node, *node.parents):
                    if id(parent) in seen or parent.parents or getattr(parent, "trainable", False):
                        continue
                    seen.add(id(parent))
                    if (t := _text(parent.data)) is not None:
                        out.inputs.append(t)
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(".!?:;\"'`").strip().lower()


def _contains(haystack: str, needle: str) -> bool:
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


def _shares_a_number(text: str, sources: Iterable[str]) -> bool:
    numbers = set(_NUMBER_RE.findall(text))
    return bool(numbers) and any(numbers & set(_NUMBER_RE.findall(s)) for s in sources if len(s) <= _EXAMPLE_CHARS)


def _shown(value: str) -> str:
    return value if len(value) <= 60 else value[:57] + "..."


def _words(text: str) -> int:
    return len(text.split())


def answer_like_reason(name: str, value: str, current: str, examples: Examples) -> str | None:
    """Why `value` is an answer to an example rather than an instruction for `name` (None when it is not)."""
    p = _norm(value)
    why = None
    if not p:
        return None
    if _EDIT_COMMAND_RE.match(p):
        return (f"{_shown(value)!r} describes a change instead of being the new value: write the complete new "
                f"instruction for {name} itself, as it will be given to the model with every input")
    if _ABOUT_THE_EDIT_RE.search(re.split(r"[.:\n]", value.strip(), maxsplit=1)[0]) and not _ABOUT_THE_EDIT_RE.search(
            current):  # an instruction for a step that itself rewrites prompts may say so
        return (f"{_shown(value)!r} talks about rewriting the instruction instead of being one: write the text "
                f"of {name} itself, addressed to the model that reads it with every input")
    if _CODE_LINE_RE.fullmatch(p):
        return (f"{_shown(value)!r} is a line of the program's code copied from the prompt, not an instruction: "
                f"write the new text of {name} itself, as it will be given to the model with every input")
    if _ANSWER_SHAPED_RE.fullmatch(p):
        why = "it is a bare answer (a number, an option or a label)"
    elif any(p == _norm(o) for o in examples.outputs):
        why = "it is the output of one example"
    elif any(p == _norm(i) for i in examples.inputs):
        why = "it copies one example's input"
    elif any(len(n) >= QUOTED_INPUT_CHARS and n in p for i in examples.inputs if (n := _norm(i))):
        why = "it quotes one example's input"
    elif _words(p) <= 6 and any(_contains(_norm(o), p) for o in examples.outputs if len(o) <= _EXAMPLE_CHARS):
        why = "it is part of one example's output"
    elif _words(p) <= 2 and any(_contains(_norm(f), p) for f in examples.feedback):
        why = "it is the answer the feedback expects for one example"
    elif _words(p) <= SHORT_ANSWER_WORDS and _shares_a_number(p, [*examples.outputs, *examples.feedback]):
        why = "it states a number from one example's output or feedback"
    elif _words(p) < MIN_INSTRUCTION_WORDS and _words(current) >= 2 * MIN_INSTRUCTION_WORDS:
        why = f"it has {_words(p)} word(s), too short for an instruction that replaces {_words(current)} words"
    if why is None:
        return None
    return (f"{_shown(value)!r} looks like the answer to one example ({why}), not an instruction: {name} is given to the "
            "model with every input, so its new value must be a complete instruction that works for all of them")


def check_instructions(checked: dict[Any, Any], names: dict[int, str], params: Sequence[Any]
                       ) -> dict[str, str]:
    """Remove from `checked` the instruction values that answer an example; {name: reason} for each."""
    targets = [p for p in checked if is_instruction(p) and isinstance(checked[p], str) and checked[p] != p.data]
    if not targets:
        return {}
    examples = examples_of(params)
    rejections: dict[str, str] = {}
    for p in targets:
        reason = answer_like_reason(names[id(p)], checked[p], p.data, examples)
        if reason:
            rejections[names[id(p)]] = reason
            del checked[p]
    return rejections
