"""The `gepa` package directly: its reflective, Pareto-front search over the task's instruction.

The adapter runs the task's workflow (instruction as system prompt) and grades with the harness's grader;
GEPA's reflection calls use the optimizer's model. `max_metric_calls` leaves room for the reflection calls
inside the budget; the proxy refuses anything past it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from common import Spec, main  # noqa: E402


def run(spec: Spec) -> dict[str, Any]:
    import gepa
    from gepa.core.adapter import EvaluationBatch

    class InstructionAdapter:
        propose_new_texts = None

        def evaluate(self, batch: list[dict[str, Any]], candidate: dict[str, str],
                     capture_traces: bool = False) -> EvaluationBatch:
            outputs, scores, traces = [], [], []
            for ex in batch:
                reply = spec.answer(candidate["instruction"], ex["input"])
                score, feedback = spec.grade(ex, reply)
                outputs.append(reply)
                scores.append(score)
                traces.append({"input": ex["input"], "reply": reply, "feedback": feedback})
            return EvaluationBatch(outputs=outputs, scores=scores, trajectories=traces if capture_traces else None)

        def make_reflective_dataset(self, candidate: dict[str, str], eval_batch: EvaluationBatch,
                                    components_to_update: list[str]) -> dict[str, list[dict[str, Any]]]:
            rows = [{"Inputs": t["input"], "Generated Outputs": t["reply"], "Feedback": t["feedback"]}
                    for t in eval_batch.trajectories or []]
            return {name: rows for name in components_to_update}

    def reflection_lm(prompt: str | list[dict[str, Any]]) -> str:
        messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
        return spec.chat(messages, model=spec.optimizer_model, max_tokens=400, temperature=0.7)

    task = spec.task
    # each iteration: a reflection minibatch (3) + 1 reflection call + the new candidate on the minibatch (3),
    # and the dev set for accepted ones; metric calls are the workflow's calls, reflections come on top.
    metric_calls = max(len(task["dev"]) + 4, int(spec.budget * 0.85))
    result = gepa.optimize(
        seed_candidate={"instruction": task["start_instruction"]},
        trainset=task["train"], valset=task["dev"], adapter=InstructionAdapter(),
        reflection_lm=reflection_lm, reflection_minibatch_size=3, max_metric_calls=metric_calls,
        run_dir=os.path.join(spec.work_dir, "gepa"), seed=task["seed"], raise_on_exception=False,
        display_progress_bar=False,
    )
    best = result.best_candidate
    instruction = best["instruction"] if isinstance(best, dict) else str(best)
    return {"instruction": instruction, "steps": len(result.val_aggregate_scores) - 1,
            "notes": f"{len(result.val_aggregate_scores)} candidates, max_metric_calls={metric_calls}"}


if __name__ == "__main__":
    main(run)
