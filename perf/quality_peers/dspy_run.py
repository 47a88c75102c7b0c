"""DSPy 3.x: MIPROv2 (auto="light") or GEPA over a one-field program `question -> answer`.

    python dspy_run.py SPEC.json mipro|gepa

The program starts from the task's instruction. MIPROv2 gets no bootstrapped demos (they would spend the
budget on the train set) nor labeled ones (DSPy 3.4 fails to draw labeled-only demo sets: randrange error), so it
searches instructions, zero-shot, like the other systems. DSPy's own cache is off: the
harness's proxy caches every system's answers the same way. The program is scored in DSPy's own format (its
adapter's prompt), on the same validation set, with optotrace's grader; those calls are outside the budget.
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from common import Spec, main  # noqa: E402


def run(spec: Spec, mode: str) -> dict[str, Any]:
    import dspy

    task = spec.task

    def lm(model: str, max_tokens: int, temperature: float = 0.0) -> Any:
        return dspy.LM(f"openai/{model}", api_base=spec.base_url, api_key="none", cache=False,
                       max_tokens=max_tokens, temperature=temperature, num_retries=0)

    dspy.configure(lm=lm(spec.workflow_model, int(task["max_tokens"]) + 48))
    signature = dspy.Signature("question -> answer", task["start_instruction"])
    program = dspy.Predict(signature)

    def as_examples(rows: list[dict[str, Any]]) -> list[Any]:
        return [dspy.Example(question=r["input"], answer=r["target"], raw=r).with_inputs("question") for r in rows]

    train, dev, val = as_examples(task["train"]), as_examples(task["dev"]), as_examples(task["val"])

    def graded(example: Any, pred: Any) -> tuple[float, str]:
        return spec.grade(example.raw, str(getattr(pred, "answer", "") or ""))

    def metric(example: Any, pred: Any, trace: Any = None) -> float:
        return graded(example, pred)[0]

    def feedback_metric(gold: Any, pred: Any, trace: Any = None, pred_name: Any = None, pred_trace: Any = None) -> Any:
        score, feedback = graded(gold, pred)
        return dspy.Prediction(score=score, feedback=feedback)

    optimizer_lm = lm(spec.optimizer_model, 600, temperature=1.0)
    if mode == "mipro":
        optimizer = dspy.MIPROv2(metric=metric, prompt_model=optimizer_lm, auto="light", max_bootstrapped_demos=0,
                                 max_labeled_demos=0, num_threads=1, max_errors=10_000, seed=task["seed"],
                                 log_dir=None)
        compiled = optimizer.compile(program, trainset=train, valset=dev, minibatch_size=len(dev))
    elif mode == "gepa":
        optimizer = dspy.GEPA(metric=feedback_metric, reflection_lm=optimizer_lm,
                              max_metric_calls=max(len(dev) + 4, int(spec.budget * 0.85)), num_threads=1,
                              seed=task["seed"], log_dir=os.path.join(spec.work_dir, "dspy_gepa"))
        compiled = optimizer.compile(program, trainset=train, valset=dev)
    else:
        raise SystemExit(f"unknown mode {mode!r}: use mipro or gepa")
    used = spec.calls_used()
    spec.start_eval_phase(f"{spec.data['system']}:own-eval")
    evaluate = dspy.Evaluate(devset=val, metric=metric, num_threads=1, max_errors=10_000, display_progress=False)

    def score(prog: Any) -> float:
        result = evaluate(prog)
        value = float(getattr(result, "score", result))
        return value / 100.0 if value > 1.0 else value

    predictor = compiled.predictors()[0]
    demos = len(getattr(predictor, "demos", []) or [])
    return {"instruction": predictor.signature.instructions, "before": score(program), "after": score(compiled),
            "steps": 0, "notes": f"DSPy's own prompt format; {demos} demos; {used} optimization calls"}


if __name__ == "__main__":
    mode = sys.argv.pop(2) if len(sys.argv) > 2 else "mipro"
    main(lambda spec: run(spec, mode))
