"""Back-translation: a word problem with a table and one without, from each problem, and the checks that keep
the formulation out of the question while keeping the data in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from optotrace.llm.replies import without_fence_lines
from optotrace.modeling.resocratic import templates
from optotrace.modeling.resocratic.expand import Problem

Style = Literal["table", "plain"]
STYLES: tuple[Style, ...] = ("table", "plain")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)
_PREAMBLE = re.compile(r"^\s*(sure|here is|here's|certainly|below is)[^\n]*:\s*\n", re.I)


@dataclass(frozen=True)
class QuestionChecks:
    """Which checks a question failed (empty: it passed) and the share of the data's numbers it kept."""

    failed: tuple[str, ...]
    number_coverage: float

    @property
    def ok(self) -> bool:
        return not self.failed


def messages_for(problem: Problem, style: Style, sense: str) -> list[dict[str, str]]:
    sense_phrase = "maximize the objective" if sense == "maximize" else "minimize the objective"
    content = templates.render(
        f"backtranslate_{style}", scenario=problem.text.strip(), sense_phrase=sense_phrase
    )
    return [{"role": "user", "content": content}]


def clean_question(reply: str) -> str:
    """Drop a chatty first line ("Here is the word problem:") and code fences."""
    text = _PREAMBLE.sub("", reply.strip(), count=1)
    text = without_fence_lines(text)
    return text.strip()


def has_table(text: str) -> bool:
    """A Markdown table: a separator row (`|---|---|`) under a header row with as many cells."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if i > 0 and _TABLE_SEPARATOR.match(line) and "|" in lines[i - 1]:
            header_cells = [c for c in lines[i - 1].strip().strip("|").split("|")]
            sep_cells = [c for c in line.strip().strip("|").split("|")]
            if len(header_cells) == len(sep_cells) >= 2:
                return True
    return False


def numbers_in(text: str) -> set[float]:
    out: set[float] = set()
    for m in _NUMBER.finditer(text):
        try:
            out.add(float(m.group(0).replace(",", "")))
        except ValueError:
            continue
    return out


def check_question(
    question: str, problem: Problem, style: Style, min_number_coverage: float = 0.8
) -> QuestionChecks:
    """The checks: long enough; no formal line, `//` or section header; no variable symbol that the prose does
    not use itself; a table exactly when asked for; and most numbers of the prose kept."""
    failed: list[str] = []
    scenario = problem.scenario
    if len(question.strip()) < 40:
        failed.append("too_short")
    prose = "\n".join(s.text for s in scenario.sections)
    formal = [f for s in scenario.sections for f in s.formal_lines]
    squashed = re.sub(r"\s+", "", question)
    if (
        "//" in question
        or re.search(r"^\s*#{1,3}\s*(define|generate)\b", question, re.I | re.M)
        or any(len(f) >= 8 and re.sub(r"\s+", "", f) in squashed for f in formal)
    ):
        failed.append("formal_leak")
    prose_lower = prose.lower()
    leaked = [
        sym
        for sym in scenario.symbols().values()
        if len(sym) >= 2
        and sym.lower() not in prose_lower
        and re.search(rf"(?<![\w]){re.escape(sym)}(?![\w])", question)
    ]
    if leaked:
        failed.append("symbol_leak")
    table = has_table(question)
    if style == "table" and not table:
        failed.append("table_missing")
    if style == "plain" and table:
        failed.append("unexpected_table")
    wanted = numbers_in(prose)
    coverage = len(wanted & numbers_in(question)) / len(wanted) if wanted else 1.0
    if coverage < min_number_coverage:
        failed.append("numbers_missing")
    return QuestionChecks(tuple(failed), round(coverage, 4))
