"""TextGrad: textual gradients on the instruction (system prompt), as its prompt-optimization example runs.

Each step runs a minibatch of 4 (the answer is a Variable computed from the system prompt), turns each answer
into a loss with optotrace's grader feedback (StringBasedFunction), sums the losses, backpropagates and takes
one TextualGradientDescent step. TextGrad keeps the last value. Its disk cache is off (the proxy caches).
"""

from __future__ import annotations

import os
import random
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from common import Spec, main  # noqa: E402


def run(spec: Spec) -> dict[str, Any]:
    import textgrad as tg
    from openai import OpenAI
    from textgrad.engine.local_model_openai_api import ChatExternalClient

    class Engine(ChatExternalClient):
        def __init__(self, model: str, max_tokens: int) -> None:
            super().__init__(client=OpenAI(base_url=spec.base_url, api_key="none"), model_string=model)
            self.max_tokens = max_tokens

        def _check_cache(self, prompt: str) -> None:
            return None

        def _save_cache(self, prompt: str, response: str) -> None:
            return None

        def generate(self, content: Any, system_prompt: str | None = None, **kwargs: Any) -> Any:
            kwargs.setdefault("max_tokens", self.max_tokens)
            return super().generate(content, system_prompt=system_prompt, **kwargs)

    task = spec.task
    workflow = Engine(spec.workflow_model, int(task["max_tokens"]))
    backward = Engine(spec.optimizer_model, 400)
    tg.set_backward_engine(backward, override=True)
    system_prompt = tg.Variable(task["start_instruction"], requires_grad=True,
                                role_description=f"system prompt of the model that answers each {task['name']} "
                                                 f"question; its reply must end with {task['answer_format']}")
    model = tg.BlackboxLLM(workflow, system_prompt=system_prompt)
    optimizer = tg.TGD(engine=backward, parameters=[system_prompt])
    examples_by_question = {ex["input"]: ex for ex in task["train"]}

    def feedback_of(prediction: tg.Variable, question: tg.Variable) -> str:
        return spec.grade(examples_by_question[question.value], prediction.value)[1]

    loss_fn = tg.autograd.StringBasedFunction(feedback_of, "the grader: says whether the answer is right and why")
    rng = random.Random(task["seed"])
    order: list[dict[str, Any]] = []
    steps, unparsed, batch_size = 0, 0, 4
    cost = 3 * batch_size + 1  # forward, gradient to the answer, gradient to the prompt, the update
    while spec.left() >= cost:
        if len(order) < batch_size:
            order += rng.sample(task["train"], len(task["train"]))
        batch, order = order[:batch_size], order[batch_size:]
        optimizer.zero_grad()
        losses = []
        for ex in batch:
            question = tg.Variable(ex["input"], requires_grad=False, role_description="question to the model")
            prediction = model(question)
            losses.append(loss_fn(inputs={"prediction": prediction, "question": question},
                                  response_role_description="the grader's verdict on the answer"))
        tg.sum(losses).backward()
        try:
            optimizer.step()
        except IndexError:  # TGD could not find the new value in the reply: the value stays, the run goes on
            unparsed += 1
        steps += 1
    return {"instruction": system_prompt.value, "steps": steps,
            "notes": f"{steps} steps ({unparsed} replies TGD could not parse), last value kept"}


if __name__ == "__main__":
    main(run)
