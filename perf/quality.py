"""Quality benchmark: does optimizing a workflow make it better, side by side with DSPy, GEPA, Trace, TextGrad?

    PYTHONPATH=$PWD .venv/bin/python perf/quality.py --model-path qwen0.5b.gguf \
        --tasks object_counting,boolean_expressions,reviews --budget 60 --humaneval 20

Fixed conditions: one llama.cpp server (the embedded model unless --model-path) on 127.0.0.1 behind a
counting, caching proxy that every system talks to; fixed train/dev/validation splits and seeds; one LLM-call
budget per task that every system gets (the proxy refuses calls past it). `dev` is a part of train that every
system may use to select among candidates; validation is held out and scored by the harness (or, for DSPy, in
its own format) outside the budget. --optimizer-model PATH adds a second column where the optimizer's calls go
to a second server with that model. HumanEval (--humaneval N: problems 0..N-1) runs each problem's function
for up to 3 optimizer steps; its tests run in optotrace's sandbox.

Writes RESULTS/run-<UTC time>/quality.json, tables.md and quality.png; answers are cached in
RESULTS/answers.sqlite, so a rerun with the same settings replays without the model. Prints the goals, met or not.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality_harness import report  # noqa: E402
from quality_harness.context import RunContext, proxy_llm  # noqa: E402
from quality_harness.evaluate import score_instruction  # noqa: E402
from quality_harness.server import SetupError, resolve_model, start_llama_server  # noqa: E402
from quality_harness.systems import SYSTEMS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TASKS = "object_counting,boolean_expressions,word_sorting,date_understanding,reviews"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=DEFAULT_TASKS, help="comma-separated prompt tasks")
    ap.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, from: {', '.join(SYSTEMS)}")
    ap.add_argument("--budget", type=int, default=60, help="LLM calls per system per task (optimization only)")
    ap.add_argument("--train", type=int, default=None, help="train size (default: BBH 20, reviews 12)")
    ap.add_argument("--val", type=int, default=None, help="validation size (default: BBH 40, reviews 12)")
    ap.add_argument("--dev", type=int, default=8, help="train examples every system may use for selection")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--humaneval", type=int, default=100, help="problems 0..N-1 (0: skip HumanEval)")
    ap.add_argument("--humaneval-systems", default="optoprime")
    ap.add_argument("--retry-candidates", type=int, default=3,
                    help="HumanEval: rewrites drawn per step after a failed first proposal, the first that passes kept")
    ap.add_argument("--model-path", default=None, help="the .gguf for every system (default: optotrace's local model)")
    ap.add_argument("--optimizer-model", default=None, help="a .gguf for the optimizer's calls: adds a column")
    ap.add_argument("--results", default=str(ROOT / "runs" / "quality"))
    ap.add_argument("--data-dir", default=None, help="folder with bbh/ and humaneval/ (default ../shared/data)")
    ap.add_argument("--peers-python", default=None, help="interpreter with the peers (default .venv-peers)")
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1: best on a busy machine)")
    ap.add_argument("--summarize", action="store_true",
                    help="run nothing: merge the runs under --results into RESULTS/summary.md, .json and .png")
    return ap.parse_args(argv)


def choose(names: str, known: dict[str, Any] | tuple[str, ...], what: str) -> list[str]:
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise SetupError(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(known)}")
    return chosen


def peers_python(explicit: str | None) -> str | None:
    for candidate in (explicit, ROOT / ".venv-peers" / "bin" / "python"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    if explicit:
        raise SetupError(f"--peers-python {explicit}: no such interpreter")
    return None


def run_prompt_task(task: Any, systems: list[str], column: str, args: argparse.Namespace, proxy: Any,
                    out_dir: Path, split: bool, peers: str | None, save: Any, rows: list[dict[str, Any]]) -> None:
    """Run every system on `task`, appending a row to `rows` (and saving) as each one finishes."""
    dev = task.train[: min(args.dev, len(task.train))]
    probe = RunContext(task, dev, args.budget, proxy, out_dir, split, peers)
    proxy.start_phase(f"{column}/{task.name}/before")
    before, _ = score_instruction(task, task.start_instruction, probe.llm("workflow"))
    print(f"[{task.name}] start instruction {task.start_instruction!r}: {100 * before:.1f}% on {len(task.val)}")
    for name in systems:
        system = SYSTEMS[name]
        ctx = RunContext(task, dev, args.budget, proxy, out_dir / column / task.name / name, split, peers,
                         {"system": name})
        phase = f"{column}/{task.name}/{name}"
        proxy.start_phase(phase, args.budget)
        t0 = time.perf_counter()
        try:
            outcome = system.run(ctx)
        except Exception as exc:  # one system's crash is recorded; the benchmark goes on
            from quality_harness.context import SystemOutcome

            outcome = SystemOutcome(error=f"{type(exc).__name__}: {exc}"[:400])
        wall = time.perf_counter() - t0
        tally = proxy.tally(phase).to_dict()
        row = {"task": task.name, "system": name, "family": system.family, "budget": args.budget,
               "calls": tally["calls"], "refused": tally["refused"], "tokens": tally["tokens"],
               "cached": tally["cached"], "wall_s": round(wall, 1), "steps": outcome.steps,
               "instruction": outcome.instruction, "error": outcome.error, "notes": outcome.notes,
               "before": outcome.before if outcome.before is not None else before, "after": outcome.after}
        if row["after"] is None and outcome.instruction is not None:
            proxy.start_phase(f"{phase}/eval")
            row["after"], _ = score_instruction(task, outcome.instruction, probe.llm("workflow"))
        rows.append(row)
        save()
        print(f"[{task.name}] {name}: {report.pct(row['before'])} -> {report.pct(row['after'])} "
              f"({row['calls']} calls, {row['tokens']} tokens, {row['wall_s']:.0f} s)"
              + (f" ERROR {row['error']}" if row["error"] else ""))


def summarize(results_dir: Path) -> int:
    from quality_harness.merge import merge_runs

    if not any(results_dir.glob("run-*/quality.json")):
        raise SetupError(f"no runs under {results_dir} (run-*/quality.json); run the benchmark first")
    merged = merge_runs(results_dir)
    markdown = report.render_markdown(merged)
    (results_dir / "summary.md").write_text(markdown)
    (results_dir / "summary.json").write_text(json.dumps(merged, indent=1, default=str))
    report.chart(merged, results_dir / "summary.png")
    print(markdown)
    print(f"written: {results_dir}/summary.md, summary.json, summary.png")
    return 0


def main(argv: list[str] | None = None) -> int:
    from optotrace.benchmarks.tasks import PROMPT_TASKS, load_humaneval, load_task

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    args = parse_args(argv)
    if args.summarize:
        return summarize(Path(args.results))
    tasks = choose(args.tasks, PROMPT_TASKS, "task") if args.tasks else []
    systems = choose(args.systems, SYSTEMS, "system")
    code_systems = choose(args.humaneval_systems, SYSTEMS, "system") if args.humaneval else []
    for name in code_systems:
        if SYSTEMS[name].code_optimizer is None:
            raise SetupError(f"{name} has no HumanEval loop (only optotrace's optimizers do)")
    loaded = {t: load_task(t, args.train, args.val, args.seed, args.data_dir) for t in tasks}
    problems = load_humaneval(args.data_dir, range(args.humaneval)) if args.humaneval else []
    model = resolve_model(args.model_path)
    optimizer_model = resolve_model(args.optimizer_model, "optimizer") if args.optimizer_model else None
    peers = peers_python(args.peers_python)
    results_dir = Path(args.results)
    out_dir = results_dir / f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    out_dir.mkdir(parents=True, exist_ok=False)
    columns = [("0.5B", False)] + ([("1.5B", True)] if optimizer_model else [])
    result: dict[str, Any] = {
        "conditions": {"date": datetime.now(UTC).isoformat(timespec="seconds"), "model": str(model),
                       "optimizer_model": str(optimizer_model) if optimizer_model else None,
                       "budget": args.budget, "train": args.train, "val": args.val, "dev": args.dev,
                       "seed": args.seed, "humaneval": args.humaneval, "systems": systems,
                       "peers_python": peers},
        "prompt": {c: {} for c, _ in columns}, "humaneval": {c: [] for c, _ in columns}, "goals": {},
    }

    def save() -> None:
        (out_dir / "quality.json").write_text(json.dumps(result, indent=1, default=str))

    from quality_harness.humaneval_loop import run_humaneval
    from quality_harness.proxy import CountingProxy

    servers = [start_llama_server(model, out_dir / "llama.log", n_threads=args.threads)]
    if optimizer_model:
        servers.append(start_llama_server(optimizer_model, out_dir / "llama-optimizer.log", n_threads=args.threads))
    grade = lambda name, example, reply: loaded[name].score(example, reply)  # noqa: E731
    try:
        with CountingProxy(servers[0].base_url, results_dir / "answers.sqlite",
                           servers[-1].base_url if optimizer_model else None, grade) as proxy:
            for column, split in columns:
                for name in tasks:
                    rows = result["prompt"][column].setdefault(name, [])
                    run_prompt_task(loaded[name], systems, column, args, proxy, out_dir, split, peers, save, rows)
                for name in code_systems:
                    system = SYSTEMS[name]
                    print(f"[humaneval] {name}, {len(problems)} problems, up to 3 steps each")
                    summary = run_humaneval(problems, system.code_optimizer,
                                            proxy_llm(proxy, "optimizer", split), proxy,
                                            f"{column}/humaneval/{name}", out_dir,
                                            retry_candidates=args.retry_candidates)
                    result["humaneval"][column].append({"system": name, "family": system.family, **summary})
                    save()
                prompt_rows = [r for rows in result["prompt"][column].values() for r in rows]
                result["goals"][column] = report.goals(prompt_rows, result["humaneval"][column])
    finally:
        for server in servers:
            server.stop()
        save()
    markdown = report.render_markdown(result)
    (out_dir / "tables.md").write_text(markdown)
    report.chart(result, out_dir / "quality.png")
    print("\n" + markdown)
    print(f"written: {out_dir}/quality.json, tables.md, quality.png")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the llama.cpp servers on the way out
    try:
        sys.exit(main())
    except SetupError as exc:
        print(f"quality: {exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # a data error from the task loaders is the user's to fix, not a traceback
        from optotrace.errors import OptotraceError

        if isinstance(exc, OptotraceError):
            print(f"quality: {exc}", file=sys.stderr)
            sys.exit(2)
        raise
