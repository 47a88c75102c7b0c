"""Microsoft Trace (`trace-opt`): its OptoPrime over the task's instruction, as its examples run it.

Each step runs a minibatch of 4 through a bundled call, joins the answers in one node (Trace's feedback must be
one per output) with the examples' feedback joined likewise, and lets OptoPrime step once. Trace keeps the last value (it has no selection step), which is what is returned. The
loop stops before a step that could pass the budget (a step costs the minibatch and one optimizer call).
"""

from __future__ import annotations

import os
import random
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from common import Spec, main  # noqa: E402


def run(spec: Spec) -> dict[str, Any]:
    os.environ["OPENAI_API_BASE"] = spec.base_url
    os.environ["OPENAI_BASE_URL"] = spec.base_url
    os.environ.setdefault("OPENAI_API_KEY", "none")
    from opto import trace
    from opto.optimizers import OptoPrime
    from opto.utils.llm import LiteLLM

    task = spec.task
    instruction = trace.node(task["start_instruction"], trainable=True,
                             description=f"the system prompt of the model that answers each {task['name']} "
                                         f"question; its reply must end with {task['answer_format']}")

    @trace.bundle()
    def answer(instruction: str, question: str) -> str:
        """Ask the model the question with the instruction as its system prompt; its reply."""
        return spec.answer(instruction, question)

    @trace.bundle()
    def minibatch(a1: str, a2: str, a3: str, a4: str) -> str:
        """The model's answers to the minibatch's questions, one per line."""
        return "\n".join(f"{i}. {a}" for i, a in enumerate((a1, a2, a3, a4), 1))

    llm = LiteLLM(model=f"openai/{spec.optimizer_model}", cache=False)
    optimizer = OptoPrime([instruction], llm=llm, memory_size=2, max_tokens=400, objective=task["objective"])
    rng = random.Random(task["seed"])
    order: list[dict[str, Any]] = []
    steps, batch_size = 0, 4
    while spec.left() >= batch_size + 2:
        if len(order) < batch_size:
            order += rng.sample(task["train"], len(task["train"]))
        batch, order = order[:batch_size], order[batch_size:]
        optimizer.zero_feedback()
        outputs, feedback = [], []
        for i, ex in enumerate(batch, 1):
            out = answer(instruction, ex["input"])
            outputs.append(out)
            feedback.append(f"{i}. {spec.grade(ex, str(out.data))[1]}")
        optimizer.backward(minibatch(*outputs), "\n".join(feedback))  # Trace's way to batch: one output
        optimizer.step()
        steps += 1
    return {"instruction": str(instruction.data), "steps": steps, "notes": f"{steps} steps, last value kept"}


if __name__ == "__main__":
    main(run)
