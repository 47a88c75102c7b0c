"""HumanEval with optotrace: each problem's function source is a code parameter, optimized for up to 3 steps.

The workflow is one bundled, non-trainable op that runs the current source against the problem's tests in
optotrace's sandbox; its output is the test report, and the report's text is the feedback. Nothing the model
writes runs in this process. Step 1's proposal is the "first proposal"; a problem counts as solved within 3
steps if the source after any of its first three steps passes.

From step 2 on (the first proposal failed), a step may draw `retry_candidates` rewrites (the optimizer's
multi-candidate mode: each at temperature, with another seed) and keep the first that passes the tests, else
the first valid one: candidates are scored before one is kept, here by the tests, which cost no LLM call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optotrace.benchmarks.tasks import CodeProblem, run_tests

from .proxy import CountingProxy

OBJECTIVE = ("Write the function's body so that it passes all its tests. Keep the function's name, parameters "
             "and docstring; return the complete source of the function (with its imports).")


@dataclass
class ProblemResult:
    task_id: str
    passed_first: bool
    passed_within: bool
    steps: int
    calls: int
    feedback: str
    error: str | None = None


def solve_problem(problem: CodeProblem, make_optimizer: Callable[[list[Any], Any, Any], Any], llm: Any,
                  sandbox: Any, max_steps: int = 3, retry_candidates: int = 1) -> ProblemResult:
    import optotrace as ot
    from optotrace.trace import ParameterNode

    code = ParameterNode(problem.stub, name=problem.entry_point, description=(
        f"the Python source of the function {problem.entry_point}: its imports, signature, docstring and body"),
        code_name=problem.entry_point, code_signature=problem.signature)

    @ot.bundle()
    def run_hidden_tests(source: str) -> str:
        """Run the function's source against the problem's tests (in a sandbox); the test report."""
        report = run_tests(sandbox, problem, source)
        return ("PASSED: " if report.passed else "FAILED: ") + report.feedback

    optimizer = make_optimizer([code], llm, _CodeTask(problem))
    passed_first = passed = False
    feedback, steps = "", 0
    for steps in range(1, max_steps + 1):
        out = run_hidden_tests(code)
        feedback = out.data
        optimizer.zero_feedback()
        out.backward(feedback)
        if steps == 1 or retry_candidates <= 1:
            optimizer.step()
            passed = run_tests(sandbox, problem, code.data).passed
        else:
            passed = _step_with_candidates(optimizer, retry_candidates, lambda src: run_tests(sandbox, problem, src))
        if steps == 1:
            passed_first = passed
        if passed:
            break
    return ProblemResult(problem.task_id, passed_first, passed, steps, 0, feedback[:300])


def _step_with_candidates(optimizer: Any, n: int, test: Callable[[str], Any]) -> bool:
    """Draw `n` candidates, keep the first whose tests pass (else the first valid one); whether it passed."""
    from optotrace.optimizers.contract import StepResult

    optimizer.num_candidates = n
    candidates = optimizer.propose_candidates(None)
    valid = [c for c in candidates if c.update]
    scores: list[float | None] = [None] * len(candidates)
    chosen = None
    for i, c in enumerate(candidates):
        if not c.update:
            continue
        scores[i] = 1.0 if test(next(iter(c.update.values()))).passed else 0.0
        if scores[i]:
            chosen = c
            break
    kept = chosen or (valid[0] if valid else None)
    applied = optimizer.apply(kept.update) if kept is not None else {}
    optimizer.end_step(StepResult(candidates, kept, scores, None, applied))
    return chosen is not None


@dataclass
class _CodeTask:
    """What an optimizer factory reads from a task (its objective), for a code problem."""

    problem: CodeProblem
    objective: str = OBJECTIVE
    name: str = "humaneval"


def run_humaneval(problems: list[CodeProblem], make_optimizer: Callable[[list[Any], Any, Any], Any], llm: Any,
                  proxy: CountingProxy, phase: str, out_dir: Path, max_steps: int = 3,
                  progress: Callable[[str], None] = print, retry_candidates: int = 1) -> dict[str, Any]:
    from optotrace.modeling.sandbox import Sandbox

    t0 = time.perf_counter()
    results: list[ProblemResult] = []
    proxy.start_phase(phase)
    with Sandbox(pool_size=1, time_limit=10) as sandbox:
        for problem in problems:
            before = proxy.tally(phase).calls
            try:
                r = solve_problem(problem, make_optimizer, llm, sandbox, max_steps, retry_candidates)
            except Exception as exc:  # one problem's failure is recorded, the loop goes on
                r = ProblemResult(problem.task_id, False, False, 0, 0, "", f"{type(exc).__name__}: {exc}"[:300])
            r.calls = proxy.tally(phase).calls - before
            results.append(r)
            progress(f"  {r.task_id}: first {'pass' if r.passed_first else 'fail'}, within {max_steps} "
                     f"{'pass' if r.passed_within else 'fail'} ({r.steps} steps, {r.calls} calls)")
    n = len(results)
    tally = proxy.tally(phase).to_dict()
    return {
        "problems": n,
        "pass_first": sum(r.passed_first for r in results) / n if n else 0.0,
        "pass_within": sum(r.passed_within for r in results) / n if n else 0.0,
        "max_steps": max_steps,
        "retry_candidates": retry_candidates,
        "seconds": round(time.perf_counter() - t0, 1),
        **tally,
        "results": [r.__dict__ for r in results],
    }
