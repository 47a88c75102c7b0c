"""NSGA-II on torch tensors: hypervolume against evaluations on ZDT1, ZDT2 and DTLZ2, beside EvoX's NSGA-II (the
tensorized-EMO paper's own library, when installed) and random sampling, with the same population and budget.

    .venv/bin/python perf/emo.py                       # CPU
    .venv/bin/python perf/emo.py --device cuda         # where a GPU exists
    .venv/bin/python perf/emo.py --pop 100 --gens 100 --problems zdt1,dtlz2

Hypervolume is exact (2-D staircase, 3-D slicing) against the reference point 1.1 in every objective; the true
fronts' values are printed beside: ZDT1 0.8767, ZDT2 0.5433, DTLZ2 1.331 - pi/6 = 0.8074. Time per generation is
the algorithm's own work (ask + tell, the problem's evaluation included; it is a few tensor operations).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from typing import Any

import torch

from optotrace.optimizers.evolution import NSGA2, hypervolume, non_dominated_rank


def zdt1(X: torch.Tensor) -> torch.Tensor:
    f1 = X[:, 0]
    g = 1 + 9 * X[:, 1:].mean(1)
    return torch.stack([f1, g * (1 - torch.sqrt(f1 / g))], 1)


def zdt2(X: torch.Tensor) -> torch.Tensor:
    f1 = X[:, 0]
    g = 1 + 9 * X[:, 1:].mean(1)
    return torch.stack([f1, g * (1 - (f1 / g) ** 2)], 1)


def dtlz2(X: torch.Tensor, m: int = 3) -> torch.Tensor:
    g = ((X[:, m - 1 :] - 0.5) ** 2).sum(1)
    c, s = torch.cos(X[:, : m - 1] * math.pi / 2), torch.sin(X[:, : m - 1] * math.pi / 2)
    f = []
    for i in range(m):
        v = (1 + g) * torch.prod(c[:, : m - 1 - i], 1)
        if i > 0:
            v = v * s[:, m - 1 - i]
        f.append(v)
    return torch.stack(f, 1)


PROBLEMS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], int, int, float]] = {
    "zdt1": (zdt1, 30, 2, 1.21 - 1 / 3),
    "zdt2": (zdt2, 30, 2, 0.11 + 0.1 + 1 / 3),
    "dtlz2": (dtlz2, 12, 3, 1.331 - math.pi / 6),
}


def front_hv(F: torch.Tensor, m: int) -> float:
    F = F[torch.isfinite(F).all(1)]
    return hypervolume(F[non_dominated_rank(F) == 0].cpu(), [1.1] * m)


def run_ours(problem: str, pop: int, gens: int, device: str, seed: int, marks: list[int]) -> tuple[dict, float]:
    f, dim, m, _ = PROBLEMS[problem]
    algo = NSGA2(dim, pop, device=device, seed=seed)
    curve, spent = {}, 0.0
    for gen in range(1, gens + 1):
        t0 = time.perf_counter()
        X = algo.ask()
        algo.tell(X, f(X))
        if device == "cuda":
            torch.cuda.synchronize()
        spent += time.perf_counter() - t0
        if gen in marks:
            assert algo.F is not None
            curve[gen * pop] = front_hv(algo.F, m)
    return curve, spent / gens


def run_evox(problem: str, pop: int, gens: int, device: str, seed: int, marks: list[int]) -> tuple[dict, float]:
    from evox.algorithms import NSGA2 as EvoxNSGA2
    from evox.core import Problem
    from evox.workflows import StdWorkflow

    f, dim, m, _ = PROBLEMS[problem]

    class P(Problem):
        def evaluate(self, X: torch.Tensor) -> torch.Tensor:
            return f(X)

    torch.manual_seed(seed)
    dev = torch.device(device)
    algo = EvoxNSGA2(pop, m, torch.zeros(dim, device=dev), torch.ones(dim, device=dev), device=dev)
    wf = StdWorkflow(algo, P())
    curve, spent = {}, 0.0
    for gen in range(1, gens + 1):
        t0 = time.perf_counter()
        wf.init_step() if gen == 1 else wf.step()
        if device == "cuda":
            torch.cuda.synchronize()
        spent += time.perf_counter() - t0
        if gen in marks:
            curve[gen * pop] = front_hv(algo.fit, m)
    return curve, spent / gens


def run_random(problem: str, pop: int, gens: int, seed: int, marks: list[int]) -> dict:
    f, dim, m, _ = PROBLEMS[problem]
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(pop * gens, dim, generator=g, dtype=torch.float64)
    F = f(X)
    return {gen * pop: front_hv(F[: gen * pop], m) for gen in marks}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--pop", type=int, default=100)
    ap.add_argument("--gens", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--problems", default="zdt1,zdt2,dtlz2")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device here (a CPU build of torch, or no GPU)")
    marks = sorted({g for g in (1, 5, 10, 25, 50, 100, 200, 400, args.gens) if g <= args.gens})
    try:
        import evox  # noqa: F401

        have_evox = True
    except ImportError:
        have_evox = False
    report: dict[str, Any] = {"device": args.device, "pop": args.pop, "gens": args.gens}
    for problem in args.problems.split(","):
        true_hv = PROBLEMS[problem][3]
        ours, t_ours = run_ours(problem, args.pop, args.gens, args.device, args.seed, marks)
        rows = {"optotrace NSGA-II": ours, "random sampling": run_random(problem, args.pop, args.gens, args.seed, marks)}
        times = {"optotrace NSGA-II": t_ours}
        if have_evox:
            rows["EvoX NSGA2"], times["EvoX NSGA2"] = run_evox(problem, args.pop, args.gens, args.device, args.seed,
                                                               marks)
        print(f"\n{problem} ({args.device}, pop {args.pop}): hypervolume vs evaluations (true front {true_hv:.4f})")
        print(f"{'evaluations':<20}" + "".join(f"{g * args.pop:>9d}" for g in marks))
        for name, curve in rows.items():
            print(f"{name:<20}" + "".join(f"{curve[g * args.pop]:9.4f}" for g in marks))
        line = "  ".join(f"{k} {v * 1e3:.1f} ms" for k, v in times.items())
        if "EvoX NSGA2" in times:
            line += f"  (ratio EvoX/ours {times['EvoX NSGA2'] / t_ours:.2f})"
        print(f"time per generation: {line}")
        report[problem] = {"true_hv": true_hv, "curves": rows, "seconds_per_generation": times}
    if not have_evox:
        print("\nEvoX is not installed (pip install -e .[emo]); its column is left out")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)


if __name__ == "__main__":
    main()
