"""A real Trainer step through llama.cpp's OpenAI-compatible server: the workflow's calls and the optimizer's
proposals both go to the server, candidates are scored before one is kept, and the run budget counts it all."""

from __future__ import annotations

from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import get_llm
from optotrace.optimizers import OptoPrime, Trainer

REVIEWS = [
    {"input": "I love it, works perfectly.", "label": "positive"},
    {"input": "Broke after one day, awful.", "label": "negative"},
]


@pytest.mark.xdist_group("llama_server")
def test_a_real_step_scores_candidates_and_keeps_the_budget(llama_server: str) -> None:
    agent_llm = get_llm("openai:smollm2", base_url=llama_server, cache=False, timeout=600, max_retries=1)
    opt_llm = get_llm("openai:smollm2", base_url=llama_server, cache=False, timeout=600, max_retries=1)
    instruction = ot.node("Read the review.", name="instruction", trainable=True, role="instruction",
                          description="the system prompt of the model that labels each review")

    @ot.bundle()
    def classify(instruction: str, review: str) -> str:
        reply = agent_llm.complete([{"role": "system", "content": instruction},
                                    {"role": "user", "content": review}], max_tokens=8)
        return reply.text.strip().lower()

    def metric(example: dict[str, Any], label: str) -> tuple[float, str]:
        ok = example["label"] in label
        return (1.0, "Correct.") if ok else (0.0, f"The answer was {label!r}; it must be {example['label']}.")

    opt = OptoPrime([instruction], llm=opt_llm, max_tokens=96, num_candidates=2)
    budget = 12
    result = Trainer(lambda text: classify(instruction, text), opt, REVIEWS, metric=metric, minibatch_size=2, steps=1,
                     concurrency=1, budget=budget, progress=False).fit()

    spent = result.spent
    assert spent["calls"] <= budget
    assert spent["by_phase"]["proposal"]["calls"] == opt_llm.usage.requests >= 1
    assert spent["by_phase"]["evaluation"]["calls"] == agent_llm.usage.requests >= 2
    assert spent["tokens"] == opt_llm.usage.total_tokens + agent_llm.usage.total_tokens
    log = opt.logs[-1]
    assert len(log["candidates"]) == 2 and log["current_score"] == result.history[0]["train_score"]
    scored = [c["score"] for c in log["candidates"] if c["score"] is not None]
    if result.history[0]["applied"]:  # kept only because it scored strictly better on the batch
        assert max(scored) > log["current_score"] and instruction.data != "Read the review."
    else:
        assert instruction.data == "Read the review."
        assert all(s <= log["current_score"] for s in scored) or result.stopped == "budget"
