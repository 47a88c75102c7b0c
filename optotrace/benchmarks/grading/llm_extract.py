"""The paper's LLM-based extraction: for each result key, ask a model to read the program's output and
answer in `\\boxed{}` (prompt text from ReSocratic's gpt_baseline.py, kept verbatim, typo included).

The model sees the question, the program and its output (after the last `----------` line, as the paper
does), then one query per key; the last number inside `\\boxed{}` is the value."""

from __future__ import annotations

import re
from typing import Any

from optotrace.benchmarks.prompts import load
from optotrace.modeling.printed_values import Found, parse_number
from optotrace.modeling.problem import Problem

_BOXED = re.compile(r"boxed\{(.*?)\}", re.DOTALL)
_NUMBER = re.compile(r"-?\d+/?\.?\d*")  # the paper's pattern (after removing "$" and ",")
SYSTEM = "Please use python code to solve the given question."


def boxed_value(reply: str) -> float | None:
    m = _BOXED.search(reply)
    text = (m.group(1) if m else reply).replace("$", "").replace(",", "")
    nums = _NUMBER.findall(text)
    if not nums:
        return None
    raw = nums[-1]
    if "/" in raw:
        num, _, den = raw.partition("/")
        try:
            return float(num) / float(den)
        except (ValueError, ZeroDivisionError):
            return None
    return parse_number(raw)


def output_tail(output: str, limit: int = 6000) -> str:
    tail = output.strip().split("-" * 10)[-1]
    return tail[-limit:]


class LLMExtractor:
    """Callable (problem, output) -> {key: Found}. Holds an LLM spec, not a client, so it pickles (Ray)."""

    def __init__(self, model: str | None = None, llm: Any = None, **options: Any) -> None:
        self.model = model
        self.options = options
        self._llm = llm
        self.program_of: dict[int, str] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_llm"] = None
        return state

    @property
    def llm(self) -> Any:
        if self._llm is None:
            from optotrace.llm import get_llm

            self._llm = get_llm(self.model, **self.options)
        return self._llm

    def __call__(self, problem: Problem, output: str, program: str | None = None) -> dict[str, Found]:
        context = load("extract_context.txt").format(program=program or "", output=output_tail(output))
        base = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": problem.question},
            {"role": "assistant", "content": context},
        ]
        template = load("extract_value.txt")
        requests = [base + [{"role": "user", "content": template.replace("{key}", key)}] for key in problem.results]
        replies = self.llm.complete_many(requests, concurrency=4)
        found: dict[str, Found] = {}
        for key, reply in zip(problem.results, replies, strict=True):
            text = getattr(reply, "text", str(reply))
            found[key] = Found(boxed_value(text), "llm", text.strip()[-200:])
        return found
