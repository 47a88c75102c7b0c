"""The Ray executor: each problem is a Ray task (local instance or a cluster address); the driver writes
the records as tasks finish, exactly as the local executor does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from optotrace.benchmarks.errors import BenchmarkError
from optotrace.benchmarks.problem import Problem
from optotrace.benchmarks.runner.pipeline import Extractor
from optotrace.benchmarks.runner.record import ProblemRecord
from optotrace.benchmarks.runner.settings import EvalSettings


def _task(agent: Any, problem_json: str, settings: EvalSettings, extractor: Any) -> str:
    from optotrace.benchmarks.problem import Problem
    from optotrace.benchmarks.runner.pipeline import run_problem
    from optotrace.benchmarks.runner.sandboxes import process_sandbox

    problem = Problem.model_validate_json(problem_json)
    record = run_problem(agent, problem, process_sandbox(settings), settings, extractor)
    return record.model_dump_json()


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a dependency
        raise BenchmarkError("executor='ray' needs the ray package: pip install ray") from exc
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            kwargs["address"] = address
        elif num_cpus:
            kwargs["num_cpus"] = num_cpus
        ray.init(**kwargs)
    return ray


def run_ray(
    agent: Callable[[Problem], Any],
    problems: list[Problem],
    concurrency: int,
    settings: EvalSettings,
    extractor: Extractor | None,
    address: str | None = None,
    cpus_per_task: float = 0.5,
) -> Iterator[ProblemRecord]:
    """Yield records as Ray tasks finish; at most `concurrency` tasks in flight."""
    ray = ensure_ray(address)
    remote = ray.remote(num_cpus=cpus_per_task, max_retries=1)(_task)
    agent_ref = ray.put(agent)
    extractor_ref = ray.put(extractor)
    queue = iter(problems)
    in_flight: dict[Any, Problem] = {}

    def submit() -> bool:
        problem = next(queue, None)
        if problem is None:
            return False
        in_flight[remote.remote(agent_ref, problem.model_dump_json(), settings, extractor_ref)] = problem
        return True

    while len(in_flight) < max(1, concurrency) and submit():
        pass
    while in_flight:
        done, _ = ray.wait(list(in_flight), num_returns=1)
        for ref in done:
            problem = in_flight.pop(ref)
            try:
                yield ProblemRecord.model_validate_json(ray.get(ref))
            except Exception as exc:  # a task that died (worker crash, unpicklable agent) is a recorded failure
                yield _failed(problem, exc)
            submit()


def _failed(problem: Problem, exc: BaseException) -> ProblemRecord:
    from optotrace.benchmarks.grading.grade import grade

    record = ProblemRecord(index=problem.index, type=problem.type, benchmark=problem.benchmark)
    record.errors.append(f"ray task failed: {type(exc).__name__}: {exc}"[:4000])
    record.grade = grade(problem, None, code_ok=False, failure=f"the Ray task failed: {type(exc).__name__}")
    return record
