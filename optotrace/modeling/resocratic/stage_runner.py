"""Running one stage's items and recording each the moment it finishes: the executors (threads for LLM calls
and sandbox runs; serial in-process or Ray tasks for the formal solves) and the LLM stage loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optotrace.modeling.resocratic import templates
from optotrace.modeling.resocratic.errors import ResocraticError
from optotrace.modeling.resocratic.store import RunStore
from optotrace.modeling.resocratic.verify import solve_formal_text
from optotrace.runtime import Executor, Progress


def executors(kind: str, concurrency: int, workers: int, ray_address: str | None) -> tuple[Executor, Executor]:
    """Threads for LLM calls and sandbox runs; the solves of the formal models one at a time in-process
    (solvers are not guaranteed thread-safe), or as Ray tasks with `executor="ray"`."""
    if kind not in ("local", "ray"):
        raise ResocraticError(f"unknown executor {kind!r}; use 'local' or 'ray'")
    threads = Executor("threads", workers=max(concurrency, workers), name="optotrace-reso")
    if kind == "local":
        return threads, Executor("serial")
    solves = Executor("ray", workers=workers, address=ray_address,
                      ray_num_cpus=None if ray_address else workers)
    return threads, solves


def solve_formal(item: tuple[str, tuple[Any, ...]]) -> Any:
    """One formal solve (module level, so a Ray worker can import it)."""
    return solve_formal_text(*item[1])


def _llm_record(llm: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    from optotrace.llm import BudgetExceeded

    try:
        reply = llm.complete(**kwargs)
    except BudgetExceeded:
        raise
    except Exception as exc:  # a failed call is a recorded rejection, never the end of the run
        return {"error": f"{type(exc).__name__}: {exc}"[:800]}
    return {"reply": reply.text, "model": reply.model, "cached": bool(reply.cached), "error": None}


def run_llm_stage(
    store: RunStore,
    stage: str,
    items: list[tuple[str, dict[str, Any], dict[str, Any]]],
    llm: Any,
    executor: Executor,
    concurrency: int,
    stages: Progress,
    post: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
    retry: bool = False,
) -> dict[str, dict[str, Any]]:
    """items: (key, complete kwargs, extra fields to record). Returns key -> record for all items."""
    done = store.records(stage)
    if retry:
        done = {k: r for k, r in done.items() if not r.get("error")}
    todo = [it for it in items if it[0] not in done]
    bar = stages.bar(stage, len(items), len(items) - len(todo))

    def work(item: tuple[str, dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
        key, kwargs, extra = item
        rec = {**extra, "prompt_hash": templates.prompt_hash(kwargs["messages"]), **_llm_record(llm, kwargs)}
        return post(key, rec) if post is not None else rec

    for out in executor.map(work, todo, ordered=False, workers=concurrency):
        item, rec, exc = out.item, out.value, out.error
        if exc is not None:
            from optotrace.llm import BudgetExceeded

            if isinstance(exc, BudgetExceeded) or not isinstance(exc, Exception):
                raise exc
            rec = {**item[2], "error": f"{type(exc).__name__}: {exc}"[:800]}
        store.append(stage, item[0], rec)
        done[item[0]] = {"key": item[0], **rec}
        bar(1)
    return done
