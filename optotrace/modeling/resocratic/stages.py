"""The stages of one ReSocratic run, one function each, in the order the pipeline calls them. Each reads the
records an earlier run left under `out/stages/` and does only what is missing."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from optotrace.modeling.resocratic import backtranslate, codegen
from optotrace.modeling.resocratic.config import SynthConfig
from optotrace.modeling.resocratic.dedup import near_duplicates
from optotrace.modeling.resocratic.expand import Problem, expand
from optotrace.modeling.resocratic.format import Scenario, parse_scenario
from optotrace.modeling.resocratic.seeds import SeedPool
from optotrace.modeling.resocratic.stage_runner import run_llm_stage, solve_formal
from optotrace.modeling.resocratic.store import RunStore
from optotrace.modeling.resocratic.synthesize import request_of
from optotrace.modeling.resocratic.verify import Agreement, compare
from optotrace.runtime import Executor, Progress


@dataclass
class RunContext:
    """What every stage works with: the model, the record store, the settings, the executors and the bars."""

    llm: Any
    store: RunStore
    config: SynthConfig
    executor: Executor  # LLM calls and sandbox runs
    solves: Executor  # the formal models' solves
    progress: Progress

    def llm_stage(self, stage: str, items: list[tuple[str, dict[str, Any], dict[str, Any]]],
                  post: Any = None) -> dict[str, dict[str, Any]]:
        return run_llm_stage(self.store, stage, items, self.llm, self.executor, self.config.concurrency,
                             self.progress, post=post, retry=self.config.retry_failed)


def synthesize(ctx: RunContext, tasks: list[Any]) -> dict[str, dict[str, Any]]:
    """Stages 1-2: one scenario asked of the model per task."""
    items = [
        (t.id, request_of(t), {"kind": t.kind, "seed_ids": list(t.seed_ids), "background": t.background})
        for t in tasks
    ]
    return ctx.llm_stage("synthesize", items)


def validate(
    tasks: list[Any], synth: dict[str, dict[str, Any]], pool: SeedPool, threshold: float
) -> tuple[list[dict[str, Any]], dict[str, Scenario]]:
    """Stage 3: validation, truncation and near-duplicates. One row per task with its verdict, and the kept
    scenarios by id."""
    rows: list[dict[str, Any]] = []
    candidates: list[tuple[str, str]] = []
    parsed: dict[str, Scenario] = {}
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


def expand_scenarios(scenarios: dict[str, Scenario]) -> dict[str, Problem]:
    """Stage 4: every kept scenario's prefix problems, by problem id."""
    return {problem.id: problem for sid, scenario in scenarios.items() for problem in expand(sid, scenario)}


def solve_formal_models(ctx: RunContext, problems: dict[str, Problem]) -> dict[str, dict[str, Any]]:
    """Stage 7, run first because it is cheap and saves LLM calls: each problem's `//` lines as a ModelSpec,
    solved independently of any generated code."""
    formal = ctx.store.records("formal")
    todo = [(pid, (p.text, pid, ctx.config.solve_time_limit)) for pid, p in problems.items() if pid not in formal]
    bar = ctx.progress.bar("formal", len(problems), len(problems) - len(todo))
    for out in ctx.solves.map(solve_formal, todo, ordered=False):
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
        ctx.store.append("formal", pid, rec)
        formal[pid] = {"key": pid, **rec}
        bar(1)
    return formal


def generate_code(
    ctx: RunContext, problems: dict[str, Problem], solvable: list[str], formal: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Stage 6a: a program asked of the model for each problem whose formal model solved."""
    config = ctx.config
    items = []
    for pid in solvable:
        messages = codegen.messages_for(problems[pid], config.framework, bool(formal[pid].get("linear")))  # type: ignore[arg-type]
        request = {"messages": messages, "temperature": config.codegen_temperature,
                   "max_tokens": config.codegen_max_tokens}
        items.append((pid, request, {}))

    def with_program(_key: str, rec: dict[str, Any]) -> dict[str, Any]:
        rec["program"] = codegen.extract_program(rec["reply"]) if rec.get("reply") else None
        return rec

    return ctx.llm_stage("codegen", items, post=with_program)


def execute_programs(
    ctx: RunContext, runnable: list[str], code: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Stage 6b: each generated program run in the sandbox."""
    config = ctx.config
    executed = ctx.store.records("execute")
    todo = [pid for pid in runnable if pid not in executed]
    bar = ctx.progress.bar("execute", len(runnable), len(runnable) - len(todo))
    if not todo:
        return executed
    from optotrace.modeling.sandbox import Sandbox

    with Sandbox(pool_size=max(1, config.workers), time_limit=config.program_time_limit) as sandbox:

        def run_one(pid: str) -> dict[str, Any]:
            result = sandbox.run(code[pid]["program"])
            outcome = codegen.read_outcome(result)
            return {**asdict(outcome), "wall_time": round(float(result.wall_time), 3)}

        for out in ctx.executor.map(run_one, todo, ordered=False, workers=config.workers):
            pid, rec, exc = out.item, out.value, out.error
            if exc is not None:
                rec = {
                    "ok": False,
                    "reason": "sandbox_error",
                    "status": None,
                    "objective": None,
                    "detail": f"{type(exc).__name__}: {exc}"[:800],
                }
            ctx.store.append("execute", pid, rec)
            executed[pid] = {"key": pid, **rec}
            bar(1)
    return executed


def compare_answers(
    config: SynthConfig, runnable: list[str], executed: dict[str, dict[str, Any]], formal: dict[str, dict[str, Any]]
) -> dict[str, Agreement]:
    """The program's optimum against the formal model's, for every program that ran."""
    agreement = {}
    for pid in runnable:
        run = executed.get(pid, {})
        if run.get("ok"):
            agreement[pid] = compare(run.get("objective"), formal[pid].get("objective"), config.rtol, config.atol)
    return agreement


def backtranslate_verified(
    ctx: RunContext, problems: dict[str, Problem], verified: list[str], formal: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Stage 5: each verified problem written back as a question, in every style, and the question checked."""
    config = ctx.config
    items = []
    for pid in verified:
        for style in backtranslate.STYLES:
            sense = formal[pid].get("sense") or _sense(problems[pid])
            request = {"messages": backtranslate.messages_for(problems[pid], style, sense),
                       "temperature": config.backtranslate_temperature,
                       "max_tokens": config.backtranslate_max_tokens}
            items.append((f"{pid}/{style}", request, {"style": style}))

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

    return ctx.llm_stage("backtranslate", items, post=with_checks)


def _sense(problem: Problem) -> str:
    text = problem.scenario.objective.formal.lower()
    return "minimize" if "minimi" in text and "maximi" not in text else "maximize"
