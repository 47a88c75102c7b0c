"""Optimize a classifier's instruction: sentiment of short product reviews (data/reviews.jsonl).

The agent asks a model to label each review with the trainable instruction as its system prompt. The
metric compares the label with the truth and says what went wrong; OptoPrime rewrites the instruction.

    python examples/prompt_optimization.py                       # the embedded model (local)
    python examples/prompt_optimization.py --model openai:gpt-4o-mini --steps 5
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import optotrace as ot
from optotrace.optimizers import OptoPrime, Trainer

DATA = [json.loads(line) for line in (Path(__file__).parent / "data" / "reviews.jsonl").read_text().splitlines()]
TRAIN = [{"input": d["text"], "label": d["label"]} for d in DATA[:12]]
VAL = [{"input": d["text"], "label": d["label"]} for d in DATA[12:20]]
START = "Read the review."
LABELS = ("positive", "negative")


def label_of(reply: str) -> str:
    """The first label word in the model's reply, or the reply itself (shortened) when it has none."""
    m = re.search(r"\b(positive|negative)\b", reply.lower())
    return m.group(1) if m else reply.strip()[:60]


def make_agent(llm: Any, instruction: str = START) -> tuple[Any, Any]:
    prompt = ot.node(instruction, name="instruction", trainable=True,
                     description="the system prompt of the model that labels each review")

    @ot.bundle()
    def classify(instruction: str, review: str) -> str:
        """Ask the model to label the review with the instruction as system prompt; the label it wrote."""
        reply = llm.complete([{"role": "system", "content": instruction}, {"role": "user", "content": review}],
                             max_tokens=16)
        return label_of(reply.text)

    def agent(text: str) -> Any:
        return classify(prompt, ot.node(text, name="review"))

    return agent, prompt


def metric(example: dict[str, Any], label: str) -> tuple[float, str]:
    want = example["label"]
    if label == want:
        return 1.0, "Correct."
    if label not in LABELS:
        return 0.0, (f"The model answered {label!r} instead of a label; it must answer with exactly one word: "
                     f"positive or negative. The correct label was {want}.")
    return 0.0, f"Wrong: the model said {label} but the review is {want}."


def build(llm: Any, run_dir: str | Path | None = None, steps: int | None = None, progress: bool = True,
          resume: bool = False, agent_llm: Any = None) -> tuple[Trainer, Any]:
    agent, prompt = make_agent(agent_llm if agent_llm is not None else llm)
    opt = OptoPrime([prompt], llm=llm, memory_size=2, max_tokens=160,
                    objective="Rewrite the instruction so that the model labels every review correctly as "
                              "positive or negative, answering with the label only.")
    trainer = Trainer(agent, opt, TRAIN, VAL, metric=metric, batch_size=4, steps=steps or 3, concurrency=2,
                      run_dir=run_dir, progress=progress, resume=resume)
    return trainer, prompt


def main(model: str | None = None, steps: int | None = None, run_dir: str | Path | None = None,
         llm: Any = None, progress: bool = True, resume: bool = False, agent_llm: Any = None) -> dict[str, Any]:
    from optotrace.llm import get_llm

    llm = llm if llm is not None else get_llm(model)
    trainer, prompt = build(llm, run_dir or "runs/prompt", steps, progress, resume, agent_llm)
    result = trainer.fit()
    after = trainer.evaluate(VAL)  # with the best instruction, which fit() restored
    return {"example": "prompt", "before": result.initial_score, "after": after, "instruction": prompt.data,
            "run_dir": str(result.run_dir), "steps": result.steps, "result": result}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="LLM spec: local (default), openai:MODEL, ...")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--run-dir", default="runs/prompt")
    args = ap.parse_args()
    out = main(args.model, args.steps, args.run_dir)
    print(f"validation accuracy before {out['before']:.0%}, after {out['after']:.0%}")
    print(f"instruction: {out['instruction']!r}")
    print(f"run written to {out['run_dir']}")
