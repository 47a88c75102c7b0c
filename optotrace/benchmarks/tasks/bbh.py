"""BIG-Bench Hard tasks (../shared/data/bbh/<task>.json): loaders and exact-match graders with feedback."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optotrace.benchmarks.errors import DataSourceError
from optotrace.benchmarks.tasks.base import Example, PromptTask, data_dir, seeded_split

START_INSTRUCTION = "Answer the question."
_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen twenty")
NUMBER_WORDS = {w: i for i, w in enumerate(_WORDS.split())}


def load_bbh_examples(task: str, root: str | Path | None = None) -> list[Example]:
    path = data_dir(root) / "bbh" / f"{task}.json"
    if not path.is_file():
        raise DataSourceError(f"BBH task file {path} is missing; see {path.parent / 'SOURCE.md'}")
    try:
        raw = json.loads(path.read_text())["examples"]
        return [{"input": str(e["input"]), "target": str(e["target"]).strip()} for e in raw]
    except (ValueError, KeyError, TypeError) as exc:
        raise DataSourceError(f"{path} is not a BBH file ({{'examples': [{{input, target}}]}}): {exc}") from exc


def _wrong(got: str | None, want: str, what: str) -> tuple[float, str]:
    if got is None:
        return 0.0, (f"The reply gave no final answer in the expected form ({what}). "
                     f"The correct answer was {want}.")
    return 0.0, f"Wrong answer: the reply's final answer was {got}, but the correct answer is {want}."


def _last_match(pattern: str, text: str, flags: int = 0) -> str | None:
    found = re.findall(pattern, text, flags)
    return found[-1] if found else None


def grade_number(example: Example, reply: str) -> tuple[float, str]:
    words = "|".join(NUMBER_WORDS)
    token = _last_match(rf"-?\d+|\b(?:{words})\b", reply.lower())
    got = None if token is None else str(NUMBER_WORDS.get(token, token))
    return (1.0, "Correct.") if got == example["target"] else _wrong(got, example["target"], "a number")


def grade_boolean(example: Example, reply: str) -> tuple[float, str]:
    token = _last_match(r"\b(true|false)\b", reply.lower())
    got = None if token is None else token.capitalize()
    return (1.0, "Correct.") if got == example["target"] else _wrong(got, example["target"], "True or False")


def grade_choice(example: Example, reply: str) -> tuple[float, str]:
    """Multiple choice: the last '(X)' in the reply, else a lone option letter, else an option's text."""
    letter = _last_match(r"\(([A-R])\)", reply) or _last_match(r"(?:^|\s)([A-R])(?:[.):]|\s*$)", reply.strip())
    if letter is None:
        for opt, text in re.findall(r"^\(([A-R])\)\s*(.+)$", example["input"], re.M):
            if text.strip() and text.strip() in reply:
                letter = opt
    got = None if letter is None else f"({letter})"
    return (1.0, "Correct.") if got == example["target"] else _wrong(got, example["target"], "an option like (A)")


def grade_sorted_words(example: Example, reply: str) -> tuple[float, str]:
    """The answer is the input's words in order: taken from the last line holding all of them, else the reply."""
    listed = example["input"].split("List:", 1)[-1].split()
    vocab = set(listed)
    lines = [ln for ln in reply.splitlines() if ln.strip()]
    chosen = next((ln for ln in reversed(lines) if vocab <= set(re.findall(r"[\w'&.-]+", ln))), reply)
    got_words = [w for w in re.findall(r"[\w'&.-]+", chosen) if w in vocab]
    got = " ".join(got_words) if got_words else None
    return (1.0, "Correct.") if got == example["target"] else _wrong(
        got, example["target"], "the words separated by spaces")


#: task name -> (grader, answer format, max tokens of a reply)
BBH_TASKS: dict[str, tuple[Callable[[Example, str], tuple[float, str]], str, int]] = {
    "object_counting": (grade_number, "a single number", 96),
    "boolean_expressions": (grade_boolean, "True or False", 64),
    "word_sorting": (grade_sorted_words, "the sorted words separated by spaces", 128),
    "date_understanding": (grade_choice, "one option letter in parentheses, like (A)", 96),
}


def load_bbh_task(task: str, n_train: int = 20, n_val: int = 40, seed: int = 0,
                  root: str | Path | None = None, **_: Any) -> PromptTask:
    if task not in BBH_TASKS:
        raise DataSourceError(f"unknown BBH task {task!r}; known: {', '.join(BBH_TASKS)}")
    grader, answer_format, max_tokens = BBH_TASKS[task]
    train, val = seeded_split(load_bbh_examples(task, root), n_train, n_val, seed, f"bbh/{task}")
    objective = (f"Rewrite the instruction (the model's system prompt) so that the model answers every question "
                 f"of this kind correctly and ends its reply with the final answer as {answer_format}. "
                 "The instruction must work for all questions: do not answer one question.")
    return PromptTask(task, train, val, START_INSTRUCTION, grader, objective, answer_format, max_tokens, seed,
                      {"source": "bbh"})
