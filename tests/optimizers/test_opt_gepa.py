"""The GEPA-style search: Pareto front, parent selection, merge, and whole searches over text and code."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import GEPA, OptimizerError, OptoPrime, optimize
from optotrace.optimizers.search.pool import (
    Program,
    choose_parent,
    find_merge,
    merge_values,
    nondominated,
    pareto_front,
)


def test_the_front_keeps_every_per_example_winner() -> None:
    seed = Program(0, {"p": ""}, (), [0.0, 0.0, 0.0, 0.0])
    strong = Program(1, {"p": "s"}, (0,), [1.0, 1.0, 1.0, 0.0])  # the best mean
    niche = Program(2, {"p": "n"}, (0,), [0.0, 0.0, 0.0, 1.0])  # the only one to solve example 3
    dominated = Program(3, {"p": "d"}, (0,), [1.0, 0.5, 0.0, 0.0])
    wins = pareto_front([seed, strong, niche, dominated])
    assert wins == {1: {0, 1, 2}, 2: {3}, 3: {0}}
    assert [p.id for p in nondominated([seed, strong, niche, dominated])] == [1, 2]
    rng = random.Random(0)
    picks = [choose_parent([seed, strong, niche, dominated], rng).id for _ in range(400)]
    assert set(picks) == {1, 2}  # the dominated ones are never parents
    assert 0.6 < picks.count(1) / len(picks) < 0.9  # weighted 3:1 by examples won


def test_merge_takes_each_parameter_from_the_side_that_changed_it() -> None:
    seed = Program(0, {"prefix": "", "suffix": "", "k": 1}, (), [0.0, 0.0, 0.0, 0.0])
    a = Program(1, {"prefix": "P", "suffix": "", "k": 2}, (0,), [1.0, 1.0, 0.0, 0.0])
    b = Program(2, {"prefix": "", "suffix": "S", "k": 3}, (0,), [0.0, 0.0, 1.0, 0.5])
    found = find_merge([seed, a, b], set(), random.Random(0))
    assert found is not None and {found[0].id, found[1].id} == {1, 2} and found[2].id == 0
    merged = merge_values(a, b, seed)
    assert merged == {"prefix": "P", "suffix": "S", "k": 2}  # k changed on both sides: a does better
    assert find_merge([seed, a, b], {(1, 2)}, random.Random(0)) is None  # a pair is tried once


def affix_task() -> tuple[Any, Any, Any, list[dict[str, Any]]]:
    prefix = ot.node("", name="prefix", trainable=True, description="text before the word")
    suffix = ot.node("", name="suffix", trainable=True, description="text after the word")

    @ot.bundle()
    def wrap(prefix: str, suffix: str, word: str) -> str:
        return prefix + word + suffix

    def agent(example_input: str) -> Any:
        return wrap(prefix, suffix, example_input)

    data = [{"input": f"w{i}", "need": "P" if i % 2 == 0 else "S"} for i in range(8)]
    return agent, prefix, suffix, data


def affix_metric(example: dict[str, Any], output: str) -> tuple[float, str]:
    ok = output.startswith("P") if example["need"] == "P" else output.endswith("S")
    return (1.0, "correct") if ok else (0.0, f"{output!r} must {'start' if example['need'] == 'P' else 'end'} "
                                             f"with {example['need']}")


def test_merge_inside_the_search_combines_two_winners() -> None:
    agent, prefix, suffix, data = affix_task()
    llm = ScriptedLLM([])
    gepa = GEPA(agent, [OptoPrime([prefix], llm=llm), OptoPrime([suffix], llm=llm)], data[:4], data[4:],
                metric=affix_metric, max_iterations=1)
    gepa.programs = [
        Program(0, {"prefix": "", "suffix": ""}, (), gepa.evaluator.scores(gepa.valset)),
        Program(1, {"prefix": "P", "suffix": ""}, (0,), [1.0, 0.0, 1.0, 0.0]),
        Program(2, {"prefix": "", "suffix": "S"}, (0,), [0.0, 1.0, 0.0, 1.0]),
    ]
    assert gepa._merge(1)
    merged = gepa.programs[-1]
    assert merged.values == {"prefix": "P", "suffix": "S"} and merged.val_scores == [1.0] * 4
    assert merged.origin == "merge" and merged.parents == (1, 2)
    assert llm.requests == []  # a merge asks no model


def test_search_improves_text_parameters_within_its_budget(tmp_path: Path) -> None:
    agent, prefix, suffix, data = affix_task()

    def policy(messages: list[dict[str, Any]]) -> str:
        variables = messages[-1]["content"].split("\n#Variables\n", 1)[1].split("\n#", 1)[0]
        name = "prefix" if "prefix" in variables else "suffix"
        return json.dumps({"reasoning": "r", "suggestion": {name: "P" if name == "prefix" else "S"}})

    llm = ScriptedLLM(policy)
    gepa = GEPA(agent, [OptoPrime([prefix], llm=llm), OptoPrime([suffix], llm=llm)], data[:4], data[4:],
                metric=affix_metric, budget=60, minibatch_size=4, run_dir=tmp_path / "search")
    result = gepa.fit()
    assert result.initial_score == 0.0 and result.best_score == 1.0 and result.stopped == "perfect"
    assert (prefix.data, suffix.data) == ("P", "S")
    assert result.spent["calls"] == len(llm.requests) <= 60
    assert len(result.details["programs"]) >= 2 and result.details["front"]
    saved = json.loads((tmp_path / "search" / "details.json").read_text())
    assert saved["programs"][saved["best_program"]]["score"] == 1.0
    state = json.loads((tmp_path / "search" / "state.json").read_text())
    assert [h["step"] for h in state["history"]] == list(range(1, saved["iterations"] + 1))
    assert state["best_score"] == 1.0 and (tmp_path / "search" / "summary.json").exists()


def test_search_works_on_code_and_stops_at_the_budget() -> None:
    @ot.bundle(trainable=True)
    def is_even(n: int) -> bool:
        return n % 3 == 0

    fixed = "def is_even(n: int) -> bool:\n    return n % 2 == 0\n"
    calls: list[int] = []

    def policy(messages: list[dict[str, Any]]) -> str:
        calls.append(1)
        return json.dumps({"reasoning": "r", "suggestion": {"__code_is_even": fixed}})

    data = [{"input": n, "want": n % 2 == 0} for n in range(1, 9)]
    metric = lambda ex, out: (1.0, "ok") if out == ex["want"] else (0.0, f"is_even({ex['input']}) gave {out}")  # noqa: E731
    original = is_even.parameter.data
    try:
        result = optimize(lambda n: is_even(n), data[:4], valset=data[4:], metric=metric, llm=ScriptedLLM(policy),
                          params=[is_even.parameter], budget=5, minibatch_size=4, strategy="population", progress=False)
        assert result.best_score == 1.0 and "n % 2" in is_even.parameter.data
        is_even.parameter.set(original)
        stopped = optimize(lambda n: is_even(n), data[:4], valset=data[4:], metric=metric, llm=ScriptedLLM(policy),
                           params=[is_even.parameter], budget=0, strategy="population", progress=False)
        assert stopped.stopped == "budget" and is_even.parameter.data == original
    finally:
        is_even.parameter.set(original)


def test_search_refuses_an_endless_or_empty_setup() -> None:
    agent, prefix, _, data = affix_task()
    with pytest.raises(OptimizerError, match="budget"):
        GEPA(agent, OptoPrime([prefix], llm=ScriptedLLM([])), data, data, metric=affix_metric)
    with pytest.raises(OptimizerError, match="valset"):
        GEPA(agent, OptoPrime([prefix], llm=ScriptedLLM([])), data, [], metric=affix_metric, budget=5)
