"""Optimize a classifier's prompt: sentiment of short product reviews (data/reviews.jsonl).

The workflow asks a model to label each review; its system prompt is a trainable instruction followed by
trainable few-shot examples. `ot.optimize` improves both with the default strategy for the model and budget
(on the embedded model and 60 calls: proposals and demo subsets raced on the validation set).

    python examples/prompt_optimization.py                       # the embedded model (local)
    python examples/prompt_optimization.py --model openai:gpt-4o-mini --budget 100
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import optotrace as ot

DATA = [json.loads(line) for line in (Path(__file__).parent / "data" / "reviews.jsonl").read_text().splitlines()
        if line.strip()]
ROWS = [{"input": d["text"], "label": d["label"]} for d in DATA]
TRAIN, VAL = ROWS[:56], ROWS[56:]  # 56 to learn from, the last 40 to choose by and to report on
START = "Read the review."
LABELS = ("positive", "negative")
BUDGET = 60


def label_of(reply: str) -> str:
    """The first label word in the model's reply, or the reply itself (shortened) when it has none."""
    m = re.search(r"\b(positive|negative)\b", reply.lower())
    return m.group(1) if m else reply.strip()[:60]


def make_agent(llm: Any, instruction: str = START) -> tuple[Any, Any, Any]:
    prompt = ot.node(instruction, name="instruction", trainable=True, role="instruction",
                     description="the system prompt of the model that labels each review")
    examples = ot.demos(name="examples", max_demos=4)

    @ot.bundle()
    def classify(instruction: str, examples: Any, review: str) -> str:
        """Ask the model to label the review; the system prompt is the instruction and the examples."""
        shown = ot.format_demos(examples)
        system = instruction + (f"\n\nExamples:\n\n{shown}" if shown else "")
        reply = llm.complete([{"role": "system", "content": system}, {"role": "user", "content": review}],
                             max_tokens=16)
        return label_of(reply.text)

    def agent(text: str) -> Any:
        return classify(prompt, examples, ot.node(text, name="review"))

    return agent, prompt, examples


def metric(example: dict[str, Any], label: str) -> tuple[float, str]:
    want = example["label"]
    if label == want:
        return 1.0, "Correct."
    if label not in LABELS:
        return 0.0, (f"The model answered {label!r} instead of a label; it must answer with exactly one word: "
                     f"positive or negative. The correct label was {want}.")
    return 0.0, f"Wrong: the model said {label} but the review is {want}."


def score(agent: Any, params: list[Any], examples: list[dict[str, Any]]) -> float:
    from optotrace.optimizers import Evaluator

    return Evaluator(agent, metric, params=params, concurrency=4).mean(examples)


def main(model: str | None = None, steps: int | None = None, run_dir: str | Path | None = None,
         llm: Any = None, progress: bool = True, resume: bool = False, agent_llm: Any = None,
         budget: int | None = None, strategy: str = "auto") -> dict[str, Any]:
    """`steps` (the command line's --steps) asks for step-by-step training with that many steps."""
    from optotrace.llm import get_llm

    llm = llm if llm is not None else get_llm(model)
    agent, prompt, examples = make_agent(agent_llm if agent_llm is not None else llm)
    params = [prompt, examples]
    before = score(agent, params, VAL)
    if steps is not None and strategy == "auto":
        strategy = "train"
    options = {"steps": steps} if steps is not None and strategy == "train" else {}
    result = ot.optimize(agent, TRAIN, valset=VAL, metric=metric, params=params, llm=llm,
                         budget=budget or BUDGET, strategy=strategy, run_dir=run_dir or "runs/prompt",
                         resume=resume, overwrite=not resume, label=lambda ex: ex["label"], answers=LABELS,
                         objective="Labels every review correctly as positive or negative, answering with the "
                                   "label only.",
                         progress=progress, report=False, **options)
    after = score(agent, params, VAL)
    return {"example": "prompt", "before": before, "after": after, "instruction": prompt.data,
            "demos": len(examples.data), "strategy": result.strategy, "picked": result.picked,
            "spent": result.spent, "run_dir": str(result.run_dir), "steps": result.steps, "result": result}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="LLM spec: local (default), openai:MODEL, ...")
    ap.add_argument("--budget", type=int, default=BUDGET, help="LLM calls for the whole optimization")
    ap.add_argument("--strategy", default="auto")
    ap.add_argument("--run-dir", default="runs/prompt")
    args = ap.parse_args()
    out = main(args.model, run_dir=args.run_dir, budget=args.budget, strategy=args.strategy)
    print(f"validation accuracy before {out['before']:.0%}, after {out['after']:.0%} ({len(VAL)} reviews)")
    print(f"strategy: {out['strategy']} ({out['picked']}); {out['spent']['calls']} calls")
    print(f"instruction: {out['instruction']!r}; {out['demos']} examples")
    print(f"run written to {out['run_dir']}")
