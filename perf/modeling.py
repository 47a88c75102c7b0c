"""Build + solve time of a 10,000-variable LP: from a ModelSpec (parse, Pyomo, HiGHS) vs highspy directly.

    .venv/bin/python perf/modeling.py [--n 10000] [--repeat 3]

The LP: maximise sum(c[i] x[i]) s.t. sum(x) <= n/2, x[2k] + x[2k+1] <= 1, 0 <= x <= 1. Prints the best time of
each path over `repeat` runs, their ratio, and checks that both reach the same optimum.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import highspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optotrace.modeling import ModelSpec, solve  # noqa: E402


def costs(n: int) -> list[float]:
    return [float(i % 10) for i in range(n)]


def the_spec(n: int) -> ModelSpec:
    return ModelSpec.model_validate(
        {
            "name": "lp10k",
            "sets": [{"name": "I", "elements": list(range(n))}],
            "data": [{"name": "c", "index": "I", "value": costs(n)}],
            "variables": [{"name": "x", "index": "I", "lower": 0, "upper": 1}],
            "objective": {"sense": "maximize", "expression": "sum(c[i] * x[i] for i in I)"},
            "constraints": [
                {"name": "budget", "expression": f"sum(x[i] for i in I) <= {n // 2}"},
                {"name": "pair", "for": "i in I if i % 2 == 0", "expression": "x[i] + x[i + 1] <= 1"},
            ],
        }
    )


def via_spec(n: int) -> float:
    solution = solve(the_spec(n))
    assert solution.status == "optimal", solution
    return float(solution.objective or 0.0)


def via_highspy(n: int) -> float:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    c = np.array(costs(n))
    h.addVars(n, np.zeros(n), np.ones(n))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), c)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addRow(-highspy.kHighsInf, n // 2, n, np.arange(n, dtype=np.int32), np.ones(n))
    pairs = n // 2
    starts = np.arange(0, 2 * pairs, 2, dtype=np.int32)
    index = np.arange(2 * pairs, dtype=np.int32)
    h.addRows(
        pairs,
        np.full(pairs, -highspy.kHighsInf),
        np.ones(pairs),
        2 * pairs,
        starts,
        index,
        np.ones(2 * pairs),
    )
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def best(fn, n: int, repeat: int) -> tuple[float, float]:
    times, value = [], 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn(n)
        times.append(time.perf_counter() - t0)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t_spec, v_spec = best(via_spec, args.n, args.repeat)
    t_direct, v_direct = best(via_highspy, args.n, args.repeat)
    print(f"{args.n}-variable LP, best of {args.repeat}")
    print(f"ModelSpec -> Pyomo -> HiGHS : {t_spec:8.3f} s  (objective {v_spec:.1f})")
    print(f"highspy directly            : {t_direct:8.3f} s  (objective {v_direct:.1f})")
    print(f"ratio (spec / direct)       : {t_spec / t_direct:8.1f}x")
    print(f"same optimum: {abs(v_spec - v_direct) < 1e-6 * max(1.0, abs(v_direct))}")


if __name__ == "__main__":
    main()
