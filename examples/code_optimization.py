"""Fix a function from its unit tests: the function's source is the trainable parameter.

`is_leap` starts with a bug (it only checks divisibility by 4). The tests in data/leap_year_tests.json grade
it; a failing test's message is the feedback. OptoPrime rewrites the source, which must keep the function's
name and signature.

    python examples/code_optimization.py --model local --steps 4
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import optotrace as ot
from optotrace.optimizers import Evaluator, OptoPrime

TESTS = json.loads((Path(__file__).parent / "data" / "leap_year_tests.json").read_text())


@ot.bundle(trainable=True)
def is_leap(year: int) -> bool:
    """Return True when `year` is a leap year in the Gregorian calendar."""
    return year % 4 == 0


ORIGINAL = is_leap.parameter.data


def metric(example: dict[str, Any], output: Any) -> tuple[float, str]:
    year, want = example["input"], example["expected"]
    if output is want:
        return 1.0, f"is_leap({year}) returned {output!r}: test passed."
    return 0.0, f"is_leap({year}) returned {output!r}, but the test expects {want!r}: test failed."


def make_optimizer(llm: Any) -> OptoPrime:
    return OptoPrime([is_leap.parameter], llm=llm, memory_size=2, max_tokens=700,
                     objective="Fix the function so that every unit test passes.")


def main(model: str | None = None, steps: int | None = None, run_dir: str | Path | None = None,
         llm: Any = None, progress: bool = True, resume: bool = False) -> dict[str, Any]:
    from optotrace.llm import get_llm

    llm = llm if llm is not None else get_llm(model)
    if not resume:
        is_leap.parameter.set(ORIGINAL)
    before = Evaluator(is_leap, metric, params=[is_leap.parameter]).mean(TESTS)
    result = ot.optimize(is_leap, TESTS, metric=metric, strategy="train", optimizers=[make_optimizer(llm)],
                         budget=None, minibatch_size=len(TESTS), steps=steps or 4, target=1.0, concurrency=2,
                         run_dir=run_dir or "runs/code", resume=resume, overwrite=not resume, progress=progress,
                         report=False)
    after = Evaluator(is_leap, metric, params=[is_leap.parameter]).mean(TESTS)
    return {"example": "code", "before": before, "after": after, "code": is_leap.parameter.data,
            "run_dir": str(result.run_dir), "steps": result.steps, "result": result}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="LLM spec: local (default), openai:MODEL, ...")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--run-dir", default="runs/code")
    args = ap.parse_args()
    out = main(args.model, args.steps, args.run_dir)
    print(f"tests passed before {out['before']:.0%}, after {out['after']:.0%}; run written to {out['run_dir']}")
    print(out["code"])
