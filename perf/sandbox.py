"""Throughput of the Sandbox pool against a fresh subprocess per program, on OptiBench's 605 reference programs.

    .venv/bin/python perf/sandbox.py [--limit N] [--pool-size 2] [--time-limit 60]

Both run the same programs under the same limits (address space, CPU and wall time, scrubbed environment, a
fresh working directory), with the same parallelism (pool_size programs at a time). Prints programs per second
for each, their ratio (goal: >= 5x), how many ran cleanly (exit 0, no limit hit), whether every program the
baseline runs cleanly also runs cleanly in the pool, and how many printed the gold `results` values.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optotrace.modeling.sandbox import Limits, RunResult, Sandbox  # noqa: E402
from optotrace.modeling.sandbox.limits import scrubbed_env  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "optibench" / "e-opt.json"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def printed_value(stdout: str, label: str, gold: float) -> float | None:
    """The value printed for `label`: the number after the label on a line that names it, else the printed
    number (after the reference programs' '----------' separator) nearest to the gold one."""
    report = stdout.rsplit("----------", 1)[-1]
    for line in reversed(report.splitlines()):
        if label in line:
            match = _NUMBER.search(line.split(label, 1)[1])
            if match:
                return float(match.group())
    numbers = [
        float(m.group())
        for line in report.splitlines()
        if ":" in line
        for m in _NUMBER.finditer(line.split(":", 1)[1])
    ]
    return min(numbers, key=lambda x: abs(x - gold), default=None)


def matches_gold(stdout: str, results: dict[str, str]) -> bool:
    for label, gold in results.items():
        try:
            want = float(gold)
        except ValueError:
            return False
        got = printed_value(stdout, label, want)
        if got is None or abs(got - want) > 1e-2 * max(1.0, abs(want)):
            return False
    return True


def run_fresh(source: str, limits: Limits) -> RunResult:
    """The baseline: `python -c source` in a new process, same limits."""
    workdir = tempfile.mkdtemp(prefix="optotrace-baseline-")

    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_limit, limits.memory_limit))
        cpu = limits.cpu_seconds()
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))

    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", source],
        cwd=workdir,
        env=scrubbed_env(HOME=workdir, TMPDIR=workdir, MPLBACKEND="Agg"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=preexec,
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = proc.communicate(timeout=limits.time_limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    cap = limits.output_limit
    return RunResult(
        stdout=out[:cap].decode("utf-8", "replace"),
        stderr=err[:cap].decode("utf-8", "replace"),
        returncode=proc.returncode,
        timed_out=timed_out,
        memory_exceeded=b"MemoryError" in err[-4000:],
        output_truncated=len(out) + len(err) > cap,
        wall_time=time.monotonic() - start,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N programs")
    parser.add_argument("--pool-size", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is missing: this measurement needs ../shared/data/optibench next to the repository")
    items = json.loads(DATA.read_text())[: args.limit]
    sources = [item["code"] for item in items]
    print(
        f"{len(sources)} OptiBench reference programs, {args.pool_size} at a time, time limit {args.time_limit}s"
    )

    start = time.monotonic()
    with Sandbox(pool_size=args.pool_size, time_limit=args.time_limit) as sb:
        warm = time.monotonic() - start
        t0 = time.monotonic()
        pooled = sb.run_many(sources)
        pool_s = time.monotonic() - t0
        isolation = sb.isolation
    print(
        f"pool      : {len(sources) / pool_s:7.2f} programs/s  ({pool_s:.1f} s, plus {warm:.1f} s to start the workers; "
        f"isolation {isolation['level']}, network {'on' if isolation['network'] else 'off'})"
    )

    limits = Limits(time_limit=args.time_limit)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.pool_size) as ex:
        fresh = list(ex.map(lambda s: run_fresh(s, limits), sources))
    fresh_s = time.monotonic() - t0
    print(
        f"baseline  : {len(sources) / fresh_s:7.2f} programs/s  ({fresh_s:.1f} s; a fresh `python -c` per program)"
    )
    print(f"ratio     : {fresh_s / pool_s:7.2f}x  (goal >= 5x)")

    med_pool = statistics.median(r.wall_time for r in pooled)
    med_fresh = statistics.median(r.wall_time for r in fresh)
    print(
        f"median per program: pool {med_pool * 1000:.0f} ms, baseline {med_fresh * 1000:.0f} ms ({med_fresh / med_pool:.1f}x)"
    )
    slow = sorted(range(len(sources)), key=lambda i: pooled[i].wall_time, reverse=True)[:10]
    share = sum(pooled[i].wall_time for i in slow) / max(sum(r.wall_time for r in pooled), 1e-9)
    print(
        f"the 10 slowest programs (solver-bound, same cost in both) take {share:.0%} of the pool's time: "
        + ", ".join(f"#{i} {pooled[i].wall_time:.1f}s/{fresh[i].wall_time:.1f}s" for i in slow[:5])
    )
    clean_pool = sum(r.ok for r in pooled)
    clean_fresh = sum(r.ok for r in fresh)
    print(f"clean runs: pool {clean_pool}/{len(sources)}, baseline {clean_fresh}/{len(sources)}")
    missing = [i for i, (p, f) in enumerate(zip(pooled, fresh, strict=True)) if f.ok and not p.ok]
    print(
        f"every program the baseline runs also runs in the pool: {not missing}"
        + (f" (not: {missing[:20]})" if missing else "")
    )
    gold_pool = sum(matches_gold(r.stdout, it["results"]) for r, it in zip(pooled, items, strict=True))
    gold_fresh = sum(matches_gold(r.stdout, it["results"]) for r, it in zip(fresh, items, strict=True))
    print(f"printed the gold results: pool {gold_pool}/{len(sources)}, baseline {gold_fresh}/{len(sources)}")
    agree = sum(
        matches_gold(p.stdout, it["results"]) == matches_gold(f.stdout, it["results"])
        for p, f, it in zip(pooled, fresh, items, strict=True)
    )
    print(f"same verdict against gold in pool and baseline: {agree}/{len(sources)}")
    failed = [
        (i, (r.stderr.strip().splitlines() or [r.error or "?"])[-1][:120])
        for i, r in enumerate(pooled)
        if not r.ok
    ]
    for i, why in failed[:10]:
        print(f"  pool failure #{i}: {why}")


if __name__ == "__main__":
    main()
