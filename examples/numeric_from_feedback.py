"""Find a number from textual feedback only (as in the Trace paper's numerical example).

The program computes `y = x * k + 5` for a few inputs k. The feedback never says the right x; it only says
whether each output is too small or too large. OptoPrime changes x from that text alone.

    python examples/numeric_from_feedback.py --model local --steps 6
    python examples/numeric_from_feedback.py --model openai:gpt-4o-mini
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import optotrace as ot
from optotrace.optimizers import Evaluator, OptoPrime, Trainer

HIDDEN_X = 8.0  # what the optimizer should find; it never sees this number
TRAIN = [{"input": k} for k in (1, 2, 3, 4)]


def make_agent(start: float = 0.0) -> tuple[Any, Any]:
    x = ot.node(start, name="x", trainable=True, description="the unknown number")

    def agent(k: int) -> Any:
        return x * ot.node(k, name="k") + 5

    return agent, x


def metric(example: dict[str, Any], y: float) -> tuple[float, str]:
    want = HIDDEN_X * example["input"] + 5
    if abs(y - want) < 1e-6:
        return 1.0, f"y = {y:g} is correct."
    direction = "too small: it should be larger" if y < want else "too large: it should be smaller"
    return 1.0 / (1.0 + abs(y - want)), f"y = {y:g} is {direction}."


def make_optimizer(x: Any, llm: Any) -> OptoPrime:
    return OptoPrime([x], llm=llm, memory_size=3, max_tokens=512,
                     objective="Find the value of x that makes every output y correct.")


def build(llm: Any, run_dir: str | Path | None = None, steps: int | None = None, progress: bool = True,
          resume: bool = False) -> tuple[Trainer, Any]:
    """The Trainer itself (the step-level API), for a caller that drives it directly."""
    agent, x = make_agent()
    opt = make_optimizer(x, llm)
    trainer = Trainer(agent, opt, TRAIN, metric=metric, minibatch_size=2, steps=steps or 6, concurrency=2,
                      run_dir=run_dir, target=1.0, progress=progress, resume=resume)
    return trainer, x


def main(model: str | None = None, steps: int | None = None, run_dir: str | Path | None = None,
         llm: Any = None, progress: bool = True, resume: bool = False) -> dict[str, Any]:
    from optotrace.llm import get_llm

    llm = llm if llm is not None else get_llm(model)
    agent, x = make_agent()
    before = Evaluator(agent, metric, params=[x]).mean(TRAIN)
    result = ot.optimize(agent, TRAIN, metric=metric, strategy="train", optimizers=[make_optimizer(x, llm)],
                         budget=None, minibatch_size=2, steps=steps or 6, target=1.0, concurrency=2,
                         run_dir=run_dir or "runs/numeric", resume=resume, overwrite=not resume, progress=progress,
                         report=False)
    after = Evaluator(agent, metric, params=[x]).mean(TRAIN)
    return {"example": "numeric", "before": before, "after": after, "x": x.data, "run_dir": str(result.run_dir),
            "steps": result.steps, "result": result}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="LLM spec: local (default), openai:MODEL, ...")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--run-dir", default="runs/numeric")
    args = ap.parse_args()
    out = main(args.model, args.steps, args.run_dir)
    print(f"score before {out['before']:.3f}, after {out['after']:.3f}; x = {out['x']}; run written to {out['run_dir']}")
