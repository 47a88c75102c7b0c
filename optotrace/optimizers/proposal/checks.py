"""Is a proposal of the right kind? An instruction parameter (a prompt given to a model with every input) must
get an instruction, not the answer to one example.

A model shown one example's output and its feedback ("expected 7") may answer that example instead of
rewriting the instruction: "7", one of the task's labels, or one example's question copied. Such a value would
be applied to every input and ruin the workflow, so it is refused with the reason, which the model reads in
the retry. The checks apply to parameters DECLARED as instructions (`node(..., role="instruction")`), never to
a parameter guessed from its name, and they know the task's answer space only when the task declares it
(`answers=`: the label strings, or a validator `str -> bool`; see ProposalPolicy). What stays here is generic:
a value that is a line of the program's code, a copy of an example's input or output, or far shorter than the
instruction it replaces.

Each check is a function `(Proposed) -> reason | None`; ProposalPolicy.checks says which run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Answers", "DEFAULT_CHECKS", "Examples", "Proposed", "answer_like_reason", "check_instructions",
           "examples_of", "is_instruction", "matches_answers"]

Answers = Collection[str] | Callable[[str], bool]  # the task's answer space: labels, or a validator

# "Set prompt to '...'": an edit command addressed to the variable itself instead of its new value.
_EDIT_VERBS = r"(?:change|set|update|replace|modify|rewrite)"
# "answer = answer(instruction=instruction, question=question_2)": a line of the prompt's #Code copied back.
_CODE_LINE_RE = re.compile(r"[\w.]+\s*=\s*[\w.]+\((?:[\w.]+\s*=\s*[\w.]+(?:,\s*)?)*\)")
# A value with no words: a number ("7", "-3.5", "40%") or a one-letter option ("b", "(B)").
_BARE_VALUE_RE = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?|\(?[a-z]\)?", re.I)
QUOTED_INPUT_CHARS = 40  # an instruction that holds an example's input this long (or whole) is about that example
_EXAMPLE_CHARS = 2000  # longer values are not one answer; they are only compared for equality
OUTPUT_PART_WORDS = 6  # a value this short found inside an example's output is a piece of that answer
FEEDBACK_ANSWER_WORDS = 2  # a value this short found in the feedback is the answer the feedback asks for
SHORT_ANSWER_WORDS = 8  # a sentence this short that states an example's number is that example's answer
MIN_INSTRUCTION_WORDS = 5  # fewer words cannot replace an instruction of twice as many
_NUMBER_RE = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?!\w|\.\d)")


def is_instruction(param: Any) -> bool:
    """True for a text parameter declared as an instruction (`role="instruction"`)."""
    return getattr(param, "role", None) == "instruction" and isinstance(getattr(param, "data", None), str)


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


@dataclass
class Proposed:
    """One proposed instruction value, with what a check may compare it to."""

    name: str
    value: str
    current: str
    examples: Examples = field(default_factory=lambda: Examples())
    answers: Answers | None = None

    @property
    def norm(self) -> str:
        return _norm(self.value)


def _refused(p: Proposed, why: str) -> str:
    return (f"{_shown(p.value)!r} looks like the answer to one example ({why}), not an instruction: {p.name} is "
            "given to the model with every input, so its new value must be a complete instruction that works for "
            "all of them")


def describes_the_edit(p: Proposed) -> str | None:
    """"Set <name> to ...": an edit command addressed to this variable instead of its new value."""
    name = re.escape(p.name.lower())
    pattern = (rf"{_EDIT_VERBS}\s+(?:the\s+)?(?:value\s+of\s+)?(?:the\s+)?(?:variable\s+)?[`'\"]?{name}[`'\"]?"
               rf"(?:\s+variable)?\s+(?:to|with|into)[\s:]")
    if re.match(pattern, p.norm):
        return (f"{_shown(p.value)!r} describes a change instead of being the new value: write the complete new "
                f"instruction for {p.name} itself, as it will be given to the model with every input")
    return None


def copies_code(p: Proposed) -> str | None:
    """A line of the program's code (an assignment from a call) instead of an instruction."""
    if _CODE_LINE_RE.fullmatch(p.norm):
        return (f"{_shown(p.value)!r} is a line of the program's code copied from the prompt, not an instruction: "
                f"write the new text of {p.name} itself, as it will be given to the model with every input")
    return None


def matches_answers(value: str, answers: Answers | None) -> bool:
    """True when `value` is in the task's answer space: one of the labels (case, spaces and end punctuation
    ignored), or accepted by the validator."""
    if answers is None or not value.strip():
        return False
    if callable(answers):
        try:
            return bool(answers(value.strip()))
        except Exception:  # a validator that cannot read the value does not accept it
            return False
    norm = _norm(value)
    return any(norm == _norm(str(a)) for a in answers)


def _answers_shown(answers: Answers) -> str:
    if callable(answers):
        return "it passes the task's answer check"
    labels = sorted({str(a) for a in answers})
    shown = ", ".join(repr(a) for a in labels[:6]) + (", ..." if len(labels) > 6 else "")
    return f"it is one of the task's answers: {shown}"


def is_a_task_answer(p: Proposed) -> str | None:
    """One of the answers the task declared (`answers=`): a label, or a value the task's validator accepts."""
    if not matches_answers(p.value, p.answers):
        return None
    return (f"{_shown(p.value)!r} is an answer, not an instruction ({_answers_shown(p.answers)}): {p.name} is "
            "given to the model with every input, so write an instruction that tells the model how to choose the "
            "answer for any input (it may list the possible answers), not one answer")


def copies_an_example(p: Proposed) -> str | None:
    """A bare number or option, or a copy of (part of) an example's output, input or expected answer."""
    v, ex = p.norm, p.examples
    why = None
    if _BARE_VALUE_RE.fullmatch(v):
        why = "it is a bare number or option"
    elif any(v == _norm(o) for o in ex.outputs):
        why = "it is the output of one example"
    elif any(v == _norm(i) for i in ex.inputs):
        why = "it copies one example's input"
    elif any(len(n) >= QUOTED_INPUT_CHARS and n in v for i in ex.inputs if (n := _norm(i))):
        why = "it quotes one example's input"
    elif _words(v) <= OUTPUT_PART_WORDS and any(_contains(_norm(o), v) for o in ex.outputs
                                                if len(o) <= _EXAMPLE_CHARS):
        why = "it is part of one example's output"
    elif _words(v) <= FEEDBACK_ANSWER_WORDS and any(_contains(_norm(f), v) for f in ex.feedback):
        why = "it is the answer the feedback expects for one example"
    elif _words(v) <= SHORT_ANSWER_WORDS and _shares_a_number(v, [*ex.outputs, *ex.feedback]):
        why = "it states a number from one example's output or feedback"
    return None if why is None else _refused(p, why)


def too_short(p: Proposed) -> str | None:
    """Far shorter than the instruction it replaces: an answer or a fragment, not a rewrite."""
    n, was = _words(p.norm), _words(p.current)
    if n < MIN_INSTRUCTION_WORDS and was >= 2 * MIN_INSTRUCTION_WORDS:
        return _refused(p, f"it has {n} word(s), too short for an instruction that replaces {was} words")
    return None


Check = Callable[[Proposed], str | None]
DEFAULT_CHECKS: tuple[Check, ...] = (describes_the_edit, copies_code, is_a_task_answer, copies_an_example, too_short)


def answer_like_reason(name: str, value: str, current: str, examples: Examples | None = None,
                       answers: Answers | None = None, checks: Sequence[Check] = DEFAULT_CHECKS) -> str | None:
    """Why `value` is not an instruction for `name` (None when it is one): the first check that refuses it."""
    proposed = Proposed(name, value, current, examples or Examples(), answers)
    if not proposed.norm:
        return None
    for check in checks:
        reason = check(proposed)
        if reason:
            return reason
    return None


def check_instructions(checked: dict[Any, Any], names: dict[int, str], params: Sequence[Any], *,
                       answers: Answers | None = None, checks: Sequence[Check] = DEFAULT_CHECKS) -> dict[str, str]:
    """Remove from `checked` the values of instruction parameters (role "instruction") that are not
    instructions; {name: reason} for each. Other parameters are never looked at."""
    targets = [p for p in checked if is_instruction(p) and isinstance(checked[p], str) and checked[p] != p.data]
    if not targets or not checks:
        return {}
    examples = examples_of(params)
    rejections: dict[str, str] = {}
    for p in targets:
        reason = answer_like_reason(names[id(p)], checked[p], p.data, examples, answers, checks)
        if reason:
            rejections[names[id(p)]] = reason
            del checked[p]
    return rejections
