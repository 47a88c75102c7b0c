"""The ReSocratic pipeline, stage by stage, resumable:

synthesize (LLM) -> validate + truncate + near-duplicates -> prefix expansion -> formal (the `//` lines as a
ModelSpec, solved) -> codegen (LLM) -> execute (sandbox) -> compare -> back-translate (LLM, table and plain)
-> samples, rejections, SFT files, dataset card.

Every LLM call, program run and solve is recorded under `out/stages/` the moment it finishes; a rerun with the
same settings reads those records and does only what is missing.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from optotrace.modeling.resocratic import backtranslate, codegen, templates
from optotrace.modeling.resocratic.assemble import assemble
from optotrace.modeling.resocratic.dedup import DEFAULT_THRESHOLD, near_duplicates
from optotrace.modeling.resocratic.expand import Problem, expand
from optotrace.modeling.resocratic.format import parse_scenario
from optotrace.modeling.resocratic.seeds import SeedPool, default_pool
from optotrace.modeling.resocratic.stage_runner import executors, run_llm_stage, solve_formal
from optotrace.modeling.resocratic.store import RunStore
from optotrace.modeling.resocratic.synthesize import SynthesisPlan, plan_tasks, request_of
from optotrace.modeling.resocratic.verify import DEFAULT_ATOL, DEFAULT_RTOL
from optotrace.runtime import Executor, Progress

TEMPLATES = (
    "synthesize_system",
    "synthesize_user",
    "backtranslate_table",
    "backtranslate_plain",
    "codegen_system",
    "codegen_pyomo",
    "codegen_pyscipopt",
    "sft_system",
)


@dataclass
class SynthConfig:
    """Everything a run needs besides the model and the seeds."""

    plan: SynthesisPlan = field(default_factory=SynthesisPlan)
    framework: str = "pyomo"
    concurrency: int = 8  # LLM calls in flight
    workers: int = 2  # sandbox processes; Ray CPUs
    executor: str = "local"
    ray_address: str | None = None
    dedup_threshold: float = DEFAULT_THRESHOLD
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    min_number_coverage: float = 0.8
    validation_fraction: float = 0.1
    program_time_limit: float = 60.0
    solve_time_limit: float = 60.0
    codegen_max_tokens: int = 1536
    backtranslate_max_tokens: int = 1024
    backtranslate_temperature: float = 0.0
    codegen_temperature: float = 0.0
    progress: bool = True
    retry_failed: bool = False  # on resume, call the LLM again for items whose call failed (e.g. a timeout)

    def identity(self) -> dict[str, Any]:
        """What must match for a rerun to resume (the rest, like concurrency, may change)."""
        return {"plan": self.plan.to_dict(), "framework": self.framework}


@dataclass
class RunSummary:
    out: Path
    counts: dict[str, Any]
    resumed: bool

    @property
    def kept(self) -> int:
        return int(self.counts["samples"]["kept"])


def _validate(
    tasks: list[Any], synth: dict[str, dict[str, Any]], pool: SeedPool, threshold: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per task with its verdict, and the kept scenarios by id."""
    rows: list[dict[str, Any]] = []
    candidates: list[tuple[str, str]] = []
    parsed: dict[str, Any] = {}
    for task in tasks:
        rec = synth.get(task.id, {})
        row: dict[str, Any] = {
            "id": task.id,
            "kind": task.kind,
            "seed_ids": list(task.seed_ids),
            "background": task.background,
            "prompt_hash": task.prompt_hash,
            "model": rec.get("model"),
            "status": "kept",
            "reason": "",
            "issues": [],
        }
        if rec.get("error") or "reply" not in rec:
            row.update(
                status="rejected", reason="llm_error", issues=[rec.get("error") or "no reply recorded"]
            )
        else:
            res = parse_scenario(rec["reply"])
            row["issues"] = res.issues
            row["truncated_at"] = res.truncated_at
            if not res.ok or res.scenario is None:
                row.update(status="rejected", reason="malformed")
            else:
                parsed[task.id] = res.scenario
                row["text"] = res.scenario.render()
                row["n_constraints"] = res.scenario.n_constraints
                candidates.append((task.id, res.scenario.head_text()))
        rows.append(row)
    used = {sid for t in tasks for sid in t.seed_ids}
    reference = []
    for seed in pool.seeds:
        if seed.id in used and seed.scenario is not None:
            reference.append((f"seed:{seed.id}", seed.scenario.head_text()))
    verdicts = near_duplicates(candidates, reference, threshold)
    by_id = {r["id"]: r for r in rows}
    for (sid, _), verdict in zip(candidates, verdicts, strict=True):
        by_id[sid]["max_similarity"] = verdict.similarity
        if not verdict.kept:
            by_id[sid].update(status="rejected", reason="near_duplicate", duplicate_of=verdict.duplicate_of)
            parsed.pop(sid, None)
    return rows, parsed


def run_pipeline(
    llm: Any,
    out: str | os.PathLike[str],
    config: SynthConfig | None = None,
    pool: SeedPool | None = None,
) -> RunSummary:
    """Run (or resume) a synthesis into `out`; returns the counts that the dataset card shows."""
    config = config or SynthConfig()
    if config.framework not in codegen.FRAMEWORKS:
        raise ValueError(f"framework must be one of {codegen.FRAMEWORKS}, got {config.framework!r}")
    pool = pool or default_pool()
    store = RunStore(out)
    tasks = plan_tasks(config.plan, pool)
    identity = {
        **config.identity(),
        "model": getattr(llm, "spec", str(llm)),
        "seed_ids": sorted({s.id for s in pool.seeds}),
        "templates": {name: templates.template_hash(name) for name in TEMPLATES},
    }
    resumed = store.bind_config({**identity, "settings": asdict(config)}, identity.keys())
    executor, solves = executors(config.executor, config.concurrency, config.workers, config.ray_address)
    try:
        with Progress(config.progress) as stages:
            counts = _stages(llm, store, config, pool, tasks, executor, stages, solves)
    finally:
        solves.close()
        executor.close()
    return RunSummary(store.root, counts, resumed)


def _stages(
    llm: Any,
    store: RunStore,
    config: SynthConfig,
    pool: SeedPool,
    tasks: list[Any],
    executor: Executor,
    stages: Progress,
    solves: Executor,
) -> dict[str, Any]:
    # 1-2. synthesis
    items = [
        (t.id, request_of(t), {"kind": t.kind, "seed_ids": list(t.seed_ids), "background": t.background})
        for t in tasks
    ]
    synth = run_llm_stage(
        store, "synthesize", items, llm, executor, config.concurrency, stages, retry=config.retry_failed
    )
    # 3. validation, truncation, near-duplicates
    scenario_rows, scenarios = _validate(tasks, synth, pool, config.dedup_threshold)
    store.write_jsonl("scenarios.jsonl", scenario_rows)
    # 4. prefix expansion
    problems: dict[str, Problem] = {}
    for sid, scenario in scenarios.items():
        for problem in expand(sid, scenario):
            problems[problem.id] = problem
    # 7 (first, it is cheap and saves LLM calls): the formal lines as a ModelSpec, solved independently
    formal = store.records("formal")
    todo = [(pid, (p.text, pid, config.solve_time_limit)) for pid, p in problems.items() if pid not in formal]
    bar = stages.bar("formal", len(problems), len(problems) - len(todo))
    for out in solves.map(solve_formal, todo, ordered=False):
        pid, result, exc = out.item[0], out.value, out.error
        rec = (
            result
            if exc is None
            else {
                "translated": False,
                "reason": "formal_solve_error",
                "detail": f"{type(exc).__name__}: {exc}"[:800],
            }
        )
        store.append("formal", pid, rec)
        formal[pid] = {"key": pid, **rec}
        bar(1)
    # 6. code generation and execution, for problems whose formal model solved
    solvable = [pid for pid in problems if not formal[pid].get("reason")]
    items = []
    for pid in solvable:
        messages = codegen.messages_for(problems[pid], config.framework, bool(formal[pid].get("linear")))  # type: ignore[arg-type]
        items.append(
            (
                pid,
                {
                    "messages": messages,
                    "temperature": config.codegen_temperature,
                    "max_tokens": config.codegen_max_tokens,
                },
                {},
            )
        )

    def with_program(_key: str, rec: dict[str, Any]) -> dict[str, Any]:
        rec["program"] = codegen.extract_program(rec["reply"]) if rec.get("reply") else None
        return rec

    code = run_llm_stage(
        store,
        "codegen",
        items,
        llm,
        executor,
        config.concurrency,
        stages,
        post=with_program,
        retry=config.retry_failed,
    )
    runnable = [pid for pid in solvable if code.get(pid, {}).get("program")]
    executed = store.records("execute")
    todo_runs = [pid for pid in runnable if pid not in executed]
    bar = stages.bar("execute", len(runnable), len(runnable) - len(todo_runs))
    if todo_runs:
        from optotrace.modeling.sandbox import Sandbox

        with Sandbox(pool_size=max(1, config.workers), time_limit=config.program_time_limit) as sandbox:

            def run_one(pid: str) -> dict[str, Any]:
                result = sandbox.run(code[pid]["program"])
                outcome = codegen.read_outcome(result)
                return {**asdict(outcome), "wall_time": round(float(result.wall_time), 3)}

            for out in executor.map(run_one, todo_runs, ordered=False, workers=config.workers):
                pid, rec, exc = out.item, out.value, out.error
                if exc is not None:
                    rec = {
                        "ok": False,
                        "reason": "sandbox_error",
                        "status": None,
                        "objective": None,
                        "detail": f"{type(exc).__name__}: {exc}"[:800],
                    }
                store.append("execute", pid, rec)
                executed[pid] = {"key": pid, **rec}
                bar(1)
    # compare, then 5. back-translation of the verified problems
    from optotrace.modeling.resocratic.verify import compare

    agreement = {}
    for pid in runnable:
        run = executed.get(pid, {})
        if run.get("ok"):
            agreement[pid] = compare(
                run.get("objective"), formal[pid].get("objective"), config.rtol, config.atol
            )
    verified = [pid for pid, a in agreement.items() if a.agree]
    items = []
    for pid in verified:
        for style in backtranslate.STYLES:
            sense = formal[pid].get("sense") or _sense(problems[pid])
            messages = backtranslate.messages_for(problems[pid], style, sense)
            items.append(
                (
                    f"{pid}/{style}",
                    {
                        "messages": messages,
                        "temperature": config.backtranslate_temperature,
                        "max_tokens": config.backtranslate_max_tokens,
                    },
                    {"style": style},
                )
            )

    def with_checks(key: str, rec: dict[str, Any]) -> dict[str, Any]:
        if rec.get("reply") is None:
            return rec
        pid, style = key.rsplit("/", 1)
        question = backtranslate.clean_question(rec["reply"])
        checks = backtranslate.check_question(question, problems[pid], style, config.min_number_coverage)  # type: ignore[arg-type]
        rec.update(
            question=question, failed_checks=list(checks.failed), number_coverage=checks.number_coverage
        )
        return rec

    questions = run_llm_stage(
        store,
        "backtranslate",
        items,
        llm,
        executor,
        config.concurrency,
        stages,
        post=with_checks,
        retry=config.retry_failed,
    )
    return assemble(
        store,
        config,
        tasks,
        scenario_rows,
        problems,
        formal,
        code,
        executed,
        agreement,
        questions,
        getattr(llm, "spec", str(llm)),
    )


def _sense(problem: Problem) -> str:
    text = problem.scenario.objective.formal.lower()
    return "minimize" if "minimi" in text and "maximi" not in text else "maximize"


def synthesize_dataset(
    model: str | Any = "local",
    out: str | os.PathLike[str] = "runs/resocratic",
    config: SynthConfig | None = None,
    eopt_path: str | os.PathLike[str] | None = None,
    **llm_options: Any,
) -> RunSummary:
    """Convenience entry point: an LLM from a spec (its cache under `out/`), the seed pool, and the run."""
    from optotrace.llm import get_llm

    if isinstance(model, str):
        Path(out).mkdir(parents=True, exist_ok=True)
        llm_options.setdefault("cache", str(Path(out) / "llm_cache.sqlite"))
        llm = get_llm(model, **llm_options)
    else:
        llm = model
    return run_pipeline(llm, out, config, default_pool(eopt_path))
