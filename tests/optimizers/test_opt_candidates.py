"""Candidates are scored before they are kept, through the explicit optimizer contract."""

from __future__ import annotations

import json
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import (
    OPRO,
    CandidateOptimizer,
    OptoPrime,
    TextGrad,
    TrainableOptimizer,
    Trainer,
    TrainerError,
)
from optotrace.optimizers.proposal.policy import ProposalPolicy

SCORES = {"a": 0.5, "b": 1.0, "c": 0.0, "d": 0.25}


def make_task() -> tuple[Any, Any, list[str]]:
    prefix = ot.node("a", name="prefix", trainable=True, description="the first letter of every output")

    @ot.bundle()
    def tag(prefix: str, word: str) -> str:
        return prefix + word

    return (lambda w: tag(prefix, w)), prefix, [f"w{i}" for i in range(4)]


def metric(example: str, output: str) -> tuple[float, str]:
    score = SCORES.get(output[:1], 0.0)
    return score, "correct" if score == 1.0 else f"{output!r} should start with b"


def suggest(value: str) -> str:
    return json.dumps({"reasoning": "r", "suggestion": {"prefix": value}})


def test_a_worse_candidate_is_never_applied_and_its_result_is_fed_back() -> None:
    agent, prefix, words = make_task()
    llm = ScriptedLLM([suggest("c"), suggest("d"), suggest("b")])
    trainer = Trainer(agent, OptoPrime([prefix], llm=llm, policy=ProposalPolicy(retry_unchanged=False)), words, metric=metric,
                      minibatch_size=4, steps=3, progress=False)
    result = trainer.fit()
    assert [h["applied"] for h in result.history] == [0, 0, 1]
    assert [h["kept"] for h in result.history] == [0, 0, 1]
    assert prefix.data == "b"
    second_prompt = llm.requests[1]["messages"][-1]["content"]
    assert "prefix = 'c'" in second_prompt and "not kept" in second_prompt and "should start with b" in second_prompt
    log = trainer.optimizers[0].logs  # type: ignore[attr-defined]
    assert log[0]["candidates"][0]["score"] == 0.0 and log[0]["current_score"] == 0.5
    assert result.spent["by_phase"]["proposal"]["calls"] == 3


def test_the_best_of_several_candidates_is_applied_and_ties_keep_the_current_values() -> None:
    agent, prefix, words = make_task()
    llm = ScriptedLLM([suggest("c"), suggest("b"), suggest("d")])
    opt = OptoPrime([prefix], llm=llm, num_candidates=3)
    result = Trainer(agent, opt, words, metric=metric, minibatch_size=4, steps=1, progress=False).fit()
    assert prefix.data == "b" and result.history[0]["candidates"] == 3
    assert [c["score"] for c in opt.logs[0]["candidates"]] == [0.0, 1.0, 0.25]

    agent, prefix, words = make_task()
    SCORES["e"] = 0.5  # scores exactly like the current "a"
    try:
        llm = ScriptedLLM([suggest("e")])
        result = Trainer(agent, OptoPrime([prefix], llm=llm, policy=ProposalPolicy(retry_unchanged=False)), words, metric=metric,
                         minibatch_size=4, steps=1, progress=False).fit()
    finally:
        del SCORES["e"]
    assert prefix.data == "a" and result.history[0]["applied"] == 0


def test_unscored_mode_applies_the_first_valid_candidate() -> None:
    agent, prefix, words = make_task()
    llm = ScriptedLLM([suggest("c")])
    Trainer(agent, OptoPrime([prefix], llm=llm, policy=ProposalPolicy(retry_unchanged=False)), words, metric=metric, minibatch_size=4,
            steps=1, progress=False, score_candidates=False).fit()
    assert prefix.data == "c"


def test_opro_and_textgrad_candidates_are_scored_too() -> None:
    agent, prefix, words = make_task()
    opro = OPRO([prefix], llm=ScriptedLLM([suggest("c"), suggest("b")]), num_candidates=2)
    result = Trainer(agent, opro, words, metric=metric, minibatch_size=4, steps=1, progress=False).fit()
    assert prefix.data == "b" and result.history[0]["kept"] == 1
    assert opro.history[0]["score"] == 0.5  # the minibatch score of the current values reached OPRO

    agent, prefix, words = make_task()
    tg_llm = ScriptedLLM(rules=[(r"^The operation:", "make it start with b"),
                                (".*", suggest("d"))])
    tg = TextGrad([prefix], llm=tg_llm)
    Trainer(agent, tg, words, metric=metric, minibatch_size=4, steps=1, progress=False).fit()
    assert prefix.data == "a"  # "d" scores 0.25 < 0.5: not kept


def test_the_contract_is_declared_and_checked() -> None:
    agent, prefix, words = make_task()
    opt = OptoPrime([prefix], llm=ScriptedLLM([]))
    assert isinstance(opt, CandidateOptimizer) and isinstance(opt, TrainableOptimizer)
    assert opt.usage is not None and opt.usage.calls == 0

    class NotAnOptimizer:
        params: list[Any] = []

        def step(self) -> dict[Any, Any]:
            return {}

    with pytest.raises(TrainerError, match="contract"):
        Trainer(agent, NotAnOptimizer(), words, metric=metric)  # type: ignore[arg-type]


def test_candidates_are_not_applied_until_the_trainer_chooses() -> None:
    agent, prefix, words = make_task()
    opt = OptoPrime([prefix], llm=ScriptedLLM([suggest("b")]))
    out = agent("x")
    out.backward("should start with b")
    cands = opt.propose_candidates()
    assert prefix.data == "a" and cands[0].update == {prefix: "b"}
    applied = opt.apply(cands[0].update)
    assert applied == {prefix: "b"} and prefix.data == "b"


def test_a_new_optimizer_needs_only_propose() -> None:
    from optotrace.optimizers import Optimizer, Proposal

    class Alphabet(Optimizer):
        """Suggests the next letters of the alphabet, one candidate per variant."""

        num_candidates = 3

        def propose(self, context: Any = None, variant: int = 0, **kwargs: Any) -> Proposal:
            current = self.params[0].data
            return Proposal({"prefix": chr(ord(current) + 1 + variant)}, via="rule")

    agent, prefix, words = make_task()
    opt = Alphabet([prefix])
    result = Trainer(agent, opt, words, metric=metric, minibatch_size=4, steps=1, progress=False).fit()
    assert prefix.data == "b" and result.history[0]["candidates"] == 3  # b, c, d scored; only b beats a
    assert opt.logs[0]["applied"] == {"prefix": "b"}


def test_without_a_run_directory_the_best_values_by_validation_come_back() -> None:
    agent, prefix, words = make_task()
    # "b" is best; "d" then scores better than "b" on the batch only because the batch metric is fooled below.
    llm = ScriptedLLM([suggest("b"), suggest("d")])
    def noisy_metric(example: str, output: str) -> tuple[float, str]:
        score, fb = metric(example, output)
        return (2.0, fb) if output.startswith("d") and example in words[:2] else (score, fb)

    train, val = words[:2], words[2:]
    result = Trainer(agent, OptoPrime([prefix], llm=llm, policy=ProposalPolicy(retry_unchanged=False)), train, val, metric=noisy_metric,
                     minibatch_size=2, steps=2, progress=False).fit()
    assert [h["applied"] for h in result.history] == [1, 1]  # "d" beat "b" on the (fooled) batch
    assert result.best_score == 1.0 and result.best_step == 1 and prefix.data == "b"  # but val restores "b"


def test_the_evaluator_never_pays_twice_for_the_same_values_on_the_same_example() -> None:
    from optotrace.optimizers import Evaluator

    agent, prefix, words = make_task()
    runs: list[str] = []

    def counting(example: str, output: str) -> tuple[float, str]:
        runs.append(output)
        return metric(example, output)

    ev = Evaluator(agent, counting, params=[prefix], concurrency=2)
    assert ev.mean(words) == 0.5 and len(runs) == 4
    assert ev.mean(words, {prefix: "b"}) == 1.0 and len(runs) == 8 and prefix.data == "a"  # update taken back
    assert ev.mean(words) == 0.5 and ev.mean(words, {prefix: "b"}) == 1.0 and len(runs) == 8  # remembered
    assert ev.scores([{"x": 1}, *words[:1]], {prefix: "c"}) == [0.0, 0.0]  # any example, any values
    no_memory = Evaluator(agent, counting, params=[prefix], cache_scores=False)
    no_memory.mean(words)
    no_memory.mean(words)
    assert len(runs) == 9 + 8  # ({"x": 1} crashed the workflow: no metric call, a recorded failure)
