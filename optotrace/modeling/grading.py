"""Grading one answer: the paper's all-keys protocol, objective-only accuracy, code pass, and feedback text.

It lives in modeling, not benchmarks, because it is about optimization answers, and both sides need it: the
OptiBench runner grades whatever an agent returned, and the modeler agent's training metric scores its own runs."""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import BaseModel, Field

from optotrace.modeling.printed_values import Found, extract_values
from optotrace.modeling.problem import Problem

ABS_TOL = 1e-4  # OptiBench (Yang et al., ICLR 2025): |pred - gold| < 1e-4 for every key
REL_TOLS = (1e-4, 0.05)  # objective-only conventions of later papers (ORLM, OptMATH, ...)
NOT_OPTIMAL = "The problem could not be solved to optimality"


class KeyGrade(BaseModel):
    key: str
    gold: float
    got: float | None = None
    ok: bool = False
    how: str = ""  # extractor tier (A, B, C), "llm", "given" or "" when not found
    reason: str = ""


class Grade(BaseModel):
    """The verdict for one problem. `correct` is the paper's metric."""

    correct: bool = False
    code_ok: bool = False
    keys: list[KeyGrade] = Field(default_factory=list)
    objective_key: str | None = None
    objective_gold: float | None = None
    objective_got: float | None = None
    objective_ok: dict[str, bool] = Field(default_factory=dict)  # "rel_1e-04", "rel_5e-02"
    failure: str | None = None

    def feedback(self) -> str:
        """What was wrong and why, for a person or an optimizer."""
        if self.correct:
            return "Correct: every requested value matches the gold answer within 1e-4."
        lines = []
        if self.failure:
            lines.append(f"Failed: {self.failure}.")
        wrong = [k for k in self.keys if not k.ok]
        if wrong and (self.code_ok or not self.failure):
            lines.append(f"{len(wrong)} of {len(self.keys)} requested values are wrong:")
            for k in wrong:
                lines.append(f"- {k.key}: {k.reason}")
        return "\n".join(lines) or "Incorrect."


def close_abs(got: float, gold: float, tol: float = ABS_TOL) -> bool:
    return math.isfinite(got) and abs(got - gold) < tol


def close_rel(got: float, gold: float, tol: float) -> bool:
    if not math.isfinite(got):
        return False
    return abs(got - gold) <= tol * abs(gold) if gold != 0 else abs(got) <= tol


def _explain(key: str, gold: float, got: float | None, how: str) -> str:
    if not how:
        return f"no printed line matches the label '{key}' (print it as '{key}: <value>')"
    if got is None:
        return f"printed without a number (None/NaN); the expected value is {gold:g}"
    return f"got {got:g}, expected {gold:g} (difference {got - gold:+.6g})"


def grade(
    problem: Problem,
    output: str | None,
    code_ok: bool = True,
    failure: str | None = None,
    values: Mapping[str, float | None] | None = None,
    found: Mapping[str, Found] | None = None,
) -> Grade:
    """Grade a program's `output` (or already-extracted `values`, e.g. from a solved ModelSpec or the
    LLM extractor). A program that failed (`code_ok=False`) is wrong whatever it printed, as in the paper."""
    keys = list(problem.results)
    if output is not None and NOT_OPTIMAL.lower() in output.lower() and failure is None:
        failure = "the program reported that the problem could not be solved to optimality"
    if found is None:
        found = extract_values(output or "", keys)
    got_map: dict[str, tuple[float | None, str]] = {k: (f.value, f.tier) for k, f in found.items()}
    if values is not None:
        for k, v in values.items():
            if k in problem.results:
                got_map[k] = (v, "given")
    result = Grade(code_ok=code_ok, failure=failure if (failure or not code_ok) else None)
    if not code_ok and result.failure is None:
        result.failure = "the program did not run cleanly"
    for key in keys:
        gold = problem.results[key]
        got, how = got_map.get(key, (None, ""))
        ok = got is not None and close_abs(got, gold)
        result.keys.append(KeyGrade(key=key, gold=gold, got=got, how=how, ok=ok, reason="" if ok else _explain(key, gold, got, how)))
    usable = code_ok and result.failure is None
    result.correct = usable and bool(keys) and all(k.ok for k in result.keys)
    ok_key = problem.objective_key
    result.objective_key = ok_key
    if ok_key is not None and ok_key in problem.results:
        gold = problem.results[ok_key]
        got = got_map.get(ok_key, (None, ""))[0]
        result.objective_gold = gold
        result.objective_got = got
        for tol in REL_TOLS:
            result.objective_ok[f"rel_{tol:.0e}"] = usable and got is not None and close_rel(got, gold, tol)
    return result
