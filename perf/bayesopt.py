"""BayesOpt against random search (and OptoPrime on the same numbers when a model is given).

    .venv/bin/python perf/bayesopt.py                     # Branin, Hartmann-6, the workflow task; 3 seeds
    .venv/bin/python perf/bayesopt.py --evals 30 --seeds 5
    .venv/bin/python perf/bayesopt.py --llm local:/work/models/qwen0.5b.gguf --llm-evals 10

For each problem: the best value found (minimized: lower is better) after n evaluations, the mean over seeds,
for BO and random search with the same evaluation count; and, for the workflow task, multi-fidelity BO (a 20%
minibatch costs 1, the full set 5) against single-fidelity BO at the same total cost. OptoPrime runs only with
`--llm` (a scripted model would measure nothing): it sees the variables and 'f = value, lower is better'
after each evaluation.

Problems: Branin (2-D, minimum 0.397887), Hartmann-6 (6-D, minimum -3.32237), and a workflow with a threshold,
a temperature, a top-k and a strategy (float, float, int, categorical) whose per-example score is synthetic:
1 - its mean accuracy over 50 examples is minimized (best 0).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

import optotrace as ot
from optotrace.optimizers.bayes import BayesOpt

HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
              [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
              [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
STRATEGIES = ["greedy", "vote", "rerank"]


def branin(v: dict[str, float]) -> float:
    x1, x2 = v["x1"], v["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(v: dict[str, float]) -> float:
    x = [v[f"x{i}"] for i in range(6)]
    return -sum(a * math.exp(-sum(A[j] * (x[j] - P[j] * 1e-4) ** 2 for j in range(6)))
                for a, A, P in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P, strict=True))


def workflow_example_score(v: dict[str, Any], i: int) -> float:
    """One example answered right (1) or wrong (0): the chance peaks at threshold 0.62, temperature 0.3,
    top_k 7 and the 'rerank' strategy; each example has its own fixed difficulty."""
    difficulty = random.Random(i).random()
    q = (math.exp(-((v["threshold"] - 0.62) / 0.15) ** 2) * math.exp(-((v["temperature"] - 0.3) / 0.5) ** 2)
         * math.exp(-((v["top_k"] - 7) / 6) ** 2) * {"greedy": 0.8, "vote": 0.9, "rerank": 1.0}[v["strategy"]])
    return 1.0 if q > difficulty * 0.95 else 0.0


def workflow(v: dict[str, Any], fraction: float = 1.0) -> float:
    n = max(1, round(50 * fraction))
    return 1 - sum(workflow_example_score(v, i) for i in range(n)) / n


PROBLEMS: dict[str, tuple[Callable[[dict[str, Any]], float], dict[str, Any], dict[str, Any]]] = {
    "branin": (branin, {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}, {}),
    "hartmann6": (hartmann6, {f"x{i}": (0.0, 1.0) for i in range(6)}, {}),
    "workflow": (workflow, {"threshold": (0.0, 1.0), "temperature": (0.0, 2.0), "top_k": (1, 20)},
                 {"strategy": STRATEGIES}),
}


def _params(bounds: dict[str, Any], choices: dict[str, Any]) -> list[Any]:
    out = []
    for name, (lo, hi) in bounds.items():
        start = int(lo) if isinstance(lo, int) else (lo + hi) / 2
        out.append(ot.node(start, name=name, trainable=True))
    out += [ot.node(c[0], name=n, trainable=True) for n, c in choices.items()]
    return out


def run_bo(problem: str, evals: int, seed: int) -> list[float]:
    f, bounds, choices = PROBLEMS[problem]
    bo = BayesOpt(_params(bounds, choices), bounds=bounds, choices=choices, seed=seed, n_init=5)
    seen: list[float] = []

    def objective(v: dict[str, Any]) -> float:
        seen.append(f(v))
        return -seen[-1]

    bo.optimize(objective, budget=evals)
    return seen


def run_random(problem: str, evals: int, seed: int) -> list[float]:
    f, bounds, choices = PROBLEMS[problem]
    rng = random.Random(seed)
    out = []
    for _ in range(evals):
        v: dict[str, Any] = {n: (rng.randint(lo, hi) if isinstance(lo, int) else rng.uniform(lo, hi))
                             for n, (lo, hi) in bounds.items()}
        v.update({n: rng.choice(c) for n, c in choices.items()})
        out.append(f(v))
    return out


def run_mf(budget: float, seed: int) -> tuple[float, int, int]:
    """Multi-fidelity BO on the workflow: (full-set loss of its best full evaluation, #cheap, #full)."""
    _, bounds, choices = PROBLEMS["workflow"]
    bo = BayesOpt(_params(bounds, choices), bounds=bounds, choices=choices, seed=seed, n_init=6,
                  fidelities={0.2: 1.0, 1.0: 5.0})
    bo.optimize(lambda v, s: -workflow(v, s), budget=budget)
    best = bo.best()
    fids = [h["fidelity"] for h in bo.history]
    return workflow(best.values) if best else 1.0, fids.count(0.2), fids.count(1.0)


def run_optoprime(problem: str, evals: int, spec: str) -> list[float]:
    from optotrace.llm import get_llm
    from optotrace.optimizers import OptoPrime

    f, bounds, choices = PROBLEMS[problem]
    params = _params(bounds, choices)
    for p in params:
        lo_hi = bounds.get(p.name)
        p.description = f"in [{lo_hi[0]}, {lo_hi[1]}]" if lo_hi else f"one of {choices[p.name]}"
    opt = OptoPrime(params, llm=get_llm(spec), memory_size=5)

    @ot.bundle()
    def objective(*xs: Any) -> float:
        return f({p.name: x for p, x in zip(params, xs, strict=True)})

    seen = []
    for _ in range(evals):
        y = objective(*params)
        seen.append(float(y.data))
        print(f"  optoprime eval {len(seen)}: f = {seen[-1]:.4f} (best {min(seen):.4f})", flush=True)
        opt.zero_feedback()
        y.backward(f"f = {y.data:.4f}; lower is better, find the minimum")
        opt.step()
    return seen


def best_so_far(values: list[float], n: int) -> float:
    return min(values[:n])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evals", type=int, default=25)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--problems", default="branin,hartmann6,workflow")
    ap.add_argument("--llm", default=None, help="model spec for OptoPrime (e.g. local:/path/model.gguf)")
    ap.add_argument("--llm-evals", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None, help="write the figures here as JSON")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    marks = [n for n in (5, 10, 15, 20, 25, 30, 40, 50, 75, 100) if n <= args.evals]
    report: dict[str, Any] = {}
    for problem in args.problems.split(","):
        rows: dict[str, list[list[float]]] = {"bo": [], "random": []}
        t0 = time.perf_counter()
        for seed in range(args.seeds):
            rows["bo"].append(run_bo(problem, args.evals, seed))
        bo_s = (time.perf_counter() - t0) / args.seeds
        for seed in range(args.seeds):
            rows["random"].append(run_random(problem, args.evals, seed))
        if args.llm:
            rows["optoprime"] = [run_optoprime(problem, min(args.llm_evals, args.evals), args.llm)]
        print(f"\n{problem}: best value found (mean over {args.seeds} seeds; lower is better); "
              f"BO {bo_s:.1f}s per run of {args.evals} evaluations")
        print("evals  " + "  ".join(f"{n:>8d}" for n in marks))
        report[problem] = {}
        for name, runs in rows.items():
            cells = [statistics.mean(best_so_far(r, n) for r in runs) if n <= len(runs[0]) else None for n in marks]
            report[problem][name] = dict(zip(map(str, marks), cells, strict=True))
            print(f"{name:<7}" + "  ".join(f"{c:8.4f}" if c is not None else f"{'-':>8}" for c in cells))
        if not args.llm:
            print("optoprime: not run (pass --llm SPEC; a scripted model would measure nothing)")
        if problem == "workflow":
            budget = float(args.evals)
            mf = [run_mf(budget, seed) for seed in range(args.seeds)]
            sf = [best_so_far(r, int(budget // 5)) for r in rows["bo"]]
            print(f"multi-fidelity at cost {budget:g} (cheap 20% minibatch = 1, full set = 5): loss of the best "
                  f"full evaluation {statistics.mean(m[0] for m in mf):.4f} with "
                  f"{statistics.mean(m[1] for m in mf):.1f} cheap + {statistics.mean(m[2] for m in mf):.1f} full; "
                  f"single-fidelity BO at the same cost ({int(budget // 5)} full): {statistics.mean(sf):.4f}")
            report[problem]["multi_fidelity"] = {"budget": budget, "mf_loss": [m[0] for m in mf],
                                                 "cheap": [m[1] for m in mf], "full": [m[2] for m in mf],
                                                 "single_fidelity_loss": sf}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)


if __name__ == "__main__":
    main()
