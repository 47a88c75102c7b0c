"""One problem, start to finish: ask the agent, run or solve its answer, grade it, build the record.
Nothing here raises for a bad answer or a crashing agent: those become recorded failures."""

from __future__ import annotations

import socket
import time
import traceback
from collections.abc import Callable
from typing import Any

from optotrace.benchmarks.answer import AgentResult, as_result
from optotrace.benchmarks.runner.record import ProblemRecord
from optotrace.benchmarks.runner.settings import EvalSettings
from optotrace.modeling.grading import grade
from optotrace.modeling.printed_values import Found
from optotrace.modeling.problem import Problem

SandboxProvider = Callable[[], Any]  # returns an object with .run(source, time_limit=) -> RunResult
OUTPUT_TAIL = 16000  # characters of a program's output kept in its record (grading sees all of it)
Extractor = Callable[..., "dict[str, Found]"]  # (problem, output, program) -> {key: Found}


def _short_traceback(exc: BaseException, limit: int = 4000) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-limit:]


def run_problem(
    agent: Callable[[Problem], Any],
    problem: Problem,
    sandbox: SandboxProvider,
    settings: EvalSettings,
    extractor: Extractor | None = None,
) -> ProblemRecord:
    """The finished record for `problem` (a crash anywhere is recorded, never raised)."""
    record = ProblemRecord(index=problem.index, type=problem.type, benchmark=problem.benchmark, worker=socket.gethostname())
    start = time.monotonic()
    try:
        answer = as_result(agent(problem))
    except Exception as exc:
        record.latency_s = time.monotonic() - start
        record.errors.append(f"agent raised {type(exc).__name__}: {exc}\n{_short_traceback(exc)}")
        record.grade = grade(problem, None, code_ok=False, failure=f"the agent raised {type(exc).__name__}: {exc}")
        return record
    record.latency_s = time.monotonic() - start
    _copy_answer(record, answer)
    try:
        _grade_answer(record, problem, answer, sandbox, settings, extractor)
    except Exception as exc:
        record.errors.append(f"grading raised {type(exc).__name__}: {exc}\n{_short_traceback(exc)}")
        record.grade = grade(problem, record.output, code_ok=False, failure=f"grading failed: {type(exc).__name__}: {exc}")
    return record


def _runner(sandbox: SandboxProvider, settings: EvalSettings) -> Any:
    from optotrace.modeling.sandbox import CachedSandbox, RunCache  # modeling (pyomo) loads on first use

    return CachedSandbox(sandbox, RunCache.shared(settings.exec_cache) if settings.exec_cache else None)


def _copy_answer(record: ProblemRecord, answer: AgentResult) -> None:
    record.prompt = answer.prompt
    record.reply = answer.reply
    record.program = answer.program
    if answer.spec is not None:
        record.spec = answer.spec.model_dump(mode="json") if hasattr(answer.spec, "model_dump") else answer.spec
    record.prompt_tokens = answer.prompt_tokens
    record.completion_tokens = answer.completion_tokens
    record.cost_usd = answer.cost_usd
    record.attempts = answer.attempts
    record.errors.extend(answer.errors)


def _grade_answer(
    record: ProblemRecord,
    problem: Problem,
    answer: AgentResult,
    sandbox: SandboxProvider,
    settings: EvalSettings,
    extractor: Extractor | None,
) -> None:
    failure = answer.failure
    code_ok = answer.code_ok if answer.code_ok is not None else failure is None
    output = answer.output
    if failure is None and output is None:
        if answer.program is not None:
            result = _runner(sandbox, settings).run(answer.program, time_limit=settings.time_limit)
            output, record.stderr, record.run_s = result.stdout, result.stderr[-8000:], result.wall_time
            code_ok, failure = result.ok, result.failure
        elif answer.spec is not None:
            from optotrace.modeling.spec_run import solve_spec

            run = solve_spec(answer.spec, settings.time_limit)
            output, code_ok, failure, record.run_s = run.output, run.ok, run.failure, run.seconds
            if run.ok and problem.objective_key and answer.values is None and run.solution is not None:
                answer.values = {problem.objective_key: run.solution.objective}
        elif answer.values is None:
            failure, code_ok = "the agent gave neither a program, a ModelSpec, an output nor values", False
    record.output = output[-OUTPUT_TAIL:] if output else output
    found = extractor(problem, output, record.program) if (extractor is not None and output and code_ok) else None
    record.grade = grade(problem, output, code_ok=code_ok, failure=failure, values=answer.values, found=found)
