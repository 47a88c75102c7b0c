"""The ReSocratic pipeline, stage by stage, resumable:

synthesize (LLM) -> validate + truncate + near-duplicates -> prefix expansion -> formal (the `//` lines as a
ModelSpec, solved) -> codegen (LLM) -> execute (sandbox) -> compare -> back-translate (LLM, table and plain)
-> samples, rejections, SFT files, dataset card.

Every LLM call, program run and solve is recorded under `out/stages/` the moment it finishes; a rerun with the
same settings reads those records and does only what is missing.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from optotrace.modeling.resocratic import codegen, stages, templates
from optotrace.modeling.resocratic.assemble import StageRecords, assemble
from optotrace.modeling.resocratic.config import SynthConfig
from optotrace.modeling.resocratic.seeds import SeedPool, default_pool
from optotrace.modeling.resocratic.stage_runner import executors
from optotrace.modeling.resocratic.store import RunStore
from optotrace.modeling.resocratic.synthesize import plan_tasks
from optotrace.runtime import Progress

__all__ = ["RunSummary", "SynthConfig", "run_pipeline", "synthesize_dataset"]

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
class RunSummary:
    out: Path
    counts: dict[str, Any]
    resumed: bool

    @property
    def kept(self) -> int:
        return int(self.counts["samples"]["kept"])


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
        with Progress(config.progress) as progress:
            ctx = stages.RunContext(llm, store, config, executor, solves, progress)
            counts = _run_stages(ctx, pool, tasks)
    finally:
        solves.close()
        executor.close()
    return RunSummary(store.root, counts, resumed)


def _run_stages(ctx: stages.RunContext, pool: SeedPool, tasks: list[Any]) -> dict[str, Any]:
    synth = stages.synthesize(ctx, tasks)
    scenario_rows, scenarios = stages.validate(tasks, synth, pool, ctx.config.dedup_threshold)
    ctx.store.write_jsonl("scenarios.jsonl", scenario_rows)
    problems = stages.expand_scenarios(scenarios)
    formal = stages.solve_formal_models(ctx, problems)
    solvable = [pid for pid in problems if not formal[pid].get("reason")]
    code = stages.generate_code(ctx, problems, solvable, formal)
    runnable = [pid for pid in solvable if code.get(pid, {}).get("program")]
    executed = stages.execute_programs(ctx, runnable, code)
    agreement = stages.compare_answers(ctx.config, runnable, executed, formal)
    verified = [pid for pid, a in agreement.items() if a.agree]
    questions = stages.backtranslate_verified(ctx, problems, verified, formal)
    records = StageRecords(tasks, scenario_rows, problems, formal, code, executed, agreement, questions)
    return assemble(ctx.store, ctx.config, records, getattr(ctx.llm, "spec", str(ctx.llm)))


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
