"""Few-shot demonstrations as a trainable parameter: bootstrapped from successful runs, chosen by validation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import BootstrapFewShot, DemoSearch, OptoPrime, Trainer, optimize
from optotrace.optimizers.proposal.policy import ProposalPolicy

TRAIN = [{"input": x} for x in ("a1!", "b1!", "c1", "d1!")]  # "!": easy, answered without demos
VAL = [{"input": x} for x in ("a2", "b2", "d2", "a3")]


def truth(x: str) -> str:
    return x[0].upper()


def agent_model(messages: list[dict[str, Any]]) -> str:
    """Answers only when told to give the label; easy inputs right away, others by copying a demo that starts
    with the same letter."""
    system, question = messages[0]["content"], messages[-1]["content"]
    if "Give the label" not in system:
        return "?"
    if question.endswith("!"):
        return truth(question)
    m = re.search(rf"Input: {question[0]}\S*\nOutput: (\S+)", system)
    return m.group(1) if m else "?"


def make_agent(instruction_text: str = "Give the label.") -> tuple[Any, Any, Any, ScriptedLLM]:
    llm = ScriptedLLM(agent_model)
    instruction = ot.node(instruction_text, name="instruction", trainable=True, description="the system prompt",
                          role="instruction")
    examples = ot.demos(name="examples", max_demos=2)

    @ot.bundle()
    def label(instruction: str, examples: list, word: str) -> str:
        system = instruction + "\n\n" + ot.format_demos(examples)
        return llm.complete([{"role": "system", "content": system}, {"role": "user", "content": word}]).text

    return (lambda w: label(instruction, examples, w)), instruction, examples, llm


def metric(example: dict[str, Any], output: str) -> tuple[float, str]:
    want = truth(example["input"])
    return (1.0, "correct") if output == want else (0.0, f"answered {output!r}, the label is {want}")


def test_demos_parameter_holds_pairs_and_formats_them() -> None:
    d = ot.demos([("x", 1), {"input": "y", "output": "z"}], name="shots")
    assert d.data == [{"input": "x", "output": 1}, {"input": "y", "output": "z"}] and d.trainable
    assert ot.format_demos(d) == "Input: x\nOutput: 1\n\nInput: y\nOutput: z"
    assert ot.format_demos([]) == ""
    with pytest.raises(ValueError, match="each demo must be"):
        d.set(["just text"])
    with pytest.raises(ValueError, match="list of"):
        d.set("not a list")
    assert len(d.data) == 2  # a refused value changes nothing


def test_bootstrap_keeps_only_successful_runs_and_races_the_subsets() -> None:
    agent, _, examples, _ = make_agent()
    result = DemoSearch(agent, examples, TRAIN, VAL, metric=metric, num_subsets=8, seed=1).fit()
    opt_pool = {d["input"] for d in examples.data}
    assert result.details["pool"] == 3  # c1 failed: never a demo
    assert "c1" not in opt_pool and all(d["output"] == truth(d["input"]) for d in examples.data)
    # All 6 subsets of at most 2 of the 3 demos start the race on 2 examples; the better half go on to all 4.
    assert sorted(t["examples"] for t in result.details["tried"]) == [2] * 6 + [4] * 3
    finalists = [t for t in result.details["tried"] if t["examples"] == 4]
    assert result.initial_score == 0.0 and result.best_score == max(t["score"] for t in finalists) > 0
    chosen = {d["input"][0] for d in examples.data}
    assert result.best_score == sum(v["input"][0] in chosen for v in VAL) / len(VAL)


def test_labeled_pairs_fill_the_pool_without_model_calls() -> None:
    agent, _, examples, llm = make_agent()
    result = DemoSearch(agent, examples, TRAIN, VAL, metric=metric, label=lambda e: truth(e["input"]),
                               max_bootstrap=0, num_subsets=6, seed=0, budget=40).fit()
    assert result.details["pool"] == 0 and result.details["labeled"] == 4  # c1's known answer is a demo too: no run needed
    assert result.best_score > result.initial_score == 0.0
    assert all(d["output"] == truth(d["input"]) for d in examples.data)
    assert result.spent["calls"] <= 40 and result.spent["calls"] < 4 + 6 * 4  # raced, not all scored on all


def test_bootstrap_optimizer_harvests_from_the_graph() -> None:
    agent, _, examples, _ = make_agent()
    opt = BootstrapFewShot(examples, num_candidates=2)
    from optotrace.optimizers import Evaluator

    ev = Evaluator(agent, metric, params=[examples])
    outcomes = ev.run_batch(TRAIN)
    assert opt.harvest(outcomes, [e["input"] for e in TRAIN]) == 3
    assert opt.pool[0] == {"input": "a1!", "output": "A"}  # the traced call's own input and output
    assert opt.harvest(outcomes, [e["input"] for e in TRAIN]) == 0  # no duplicates
    state = opt.state_dict()
    other = BootstrapFewShot(examples)
    other.load_state_dict(json.loads(json.dumps(state)))
    assert other.pool == opt.pool


def test_one_trainer_run_optimizes_an_instruction_and_demos_together(tmp_path: Path) -> None:
    agent, instruction, examples, agent_llm = make_agent("Hi.")
    opt_llm = ScriptedLLM(lambda m: json.dumps({"reasoning": "r", "suggestion": {"instruction": "Give the label."}}))
    trainer = Trainer(agent, [OptoPrime([instruction], llm=opt_llm, policy=ProposalPolicy(retry_unchanged=False)),
                              BootstrapFewShot(examples, num_candidates=4)],
                      TRAIN, VAL, metric=metric, minibatch_size=4, steps=3, progress=False, run_dir=tmp_path / "run")
    result = trainer.fit()
    assert instruction.data == "Give the label." and examples.data
    assert result.initial_score == 0.0 and result.best_score == 0.75
    assert all(d["input"] != "c1" for d in examples.data)
    saved = json.loads((tmp_path / "run" / "best_params.json").read_text())["parameters"]
    assert saved["examples"]["value"] == examples.data
    assert result.spent["by_phase"]["evaluation"]["calls"] == len(agent_llm.requests)


def test_search_optimizes_an_instruction_and_demos_of_a_module_together() -> None:
    agent, instruction, examples, agent_llm = make_agent("Hi.")

    class Labeler(ot.Module):
        def __init__(self) -> None:
            self.instruction = instruction
            self.examples = examples

        def __call__(self, word: str) -> Any:
            return agent(word)

    opt_llm = ScriptedLLM(lambda m: json.dumps({"reasoning": "r", "suggestion": {"instruction": "Give the label."}}))
    train = [*TRAIN, {"input": "c2!"}]  # c1 fails on its own; a demo of c2! fixes it (minibatch gating sees that)
    result = optimize(Labeler(), train, valset=VAL, metric=metric, llm=opt_llm, budget=200, max_iterations=16,
                      minibatch_size=2, strategy="population", progress=False)
    assert result.initial_score == 0.0 and result.best_score > 0.0  # only the two together score at all
    assert instruction.data == "Give the label." and examples.data
    assert all(d["output"] == truth(d["input"]) for d in examples.data)
    assert {p["origin"] for p in result.details["programs"]} >= {"seed", "mutation"}
    assert result.spent["calls"] == len(agent_llm.requests) + len(opt_llm.requests) <= 200


def test_a_training_example_that_is_also_validated_on_never_becomes_a_demo() -> None:
    agent, _, examples, _ = make_agent()
    shared = [{"input": "a2"}, {"input": "b2"}]
    result = DemoSearch(agent, examples, TRAIN + shared, VAL, metric=metric, label=lambda e: truth(e["input"]),
                               max_bootstrap=0, num_subsets=4, seed=0).fit()
    assert result.details["labeled"] == 4  # a2 and b2 are in VAL: a demo of them would answer its own example
    assert not {d["input"] for d in examples.data} & {"a2", "b2"}
