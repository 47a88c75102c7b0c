"""Successive halving: the best candidate wins with far fewer runs than scoring every one on everything."""

from __future__ import annotations

from typing import Any

import optotrace as ot
from optotrace.llm.run_budget import RunBudget
from optotrace.optimizers import Evaluator
from optotrace.optimizers.search.racing import affordable, race, rung_sizes

EXAMPLES = [{"x": i} for i in range(16)]


def setup() -> tuple[Any, Any, list[int]]:
    """A 'skill' parameter: value k answers example i right when i % 10 < k (so 10 beats 7 beats 3 ...)."""
    skill = ot.node(3, name="skill", trainable=True)
    runs: list[int] = []

    def agent(example: Any) -> Any:
        runs.append(example["x"])
        return (example["x"] % 10) < skill.data

    evaluator = Evaluator(agent, lambda ex, out: float(out), params=[skill], concurrency=1)
    return skill, evaluator, runs


def test_rungs_double_up_to_all_examples() -> None:
    assert rung_sizes(16) == [4, 8, 16] and rung_sizes(5, first=2) == [2, 4, 5] and rung_sizes(0) == []
    assert affordable(100, 16) > affordable(50, 16) > 0 and affordable(10, 16) == 0


def test_the_best_candidate_wins_and_the_incumbent_is_kept_when_none_beats_it() -> None:
    skill, evaluator, runs = setup()
    candidates = [{skill: k} for k in (1, 10, 2, 7, 0, 5, 4, 6)]
    result = race(evaluator, candidates, EXAMPLES)
    assert result.best == 1 and result.best_score == 1.0 and result.incumbent_score < 1.0
    assert len(runs) == 16 + 8 * 4 + 4 * 4 + 2 * 8  # halving: 80 runs, not 9 * 16 = 144
    assert skill.data == 3  # race only chooses; the values are left as they were
    worse = race(evaluator, [{skill: 0}, {skill: 1}], EXAMPLES)
    assert worse.best is None and worse.best_score == worse.incumbent_score


def test_a_budget_that_runs_out_ends_the_race_with_a_fair_comparison() -> None:
    skill, _, _ = setup()
    candidates = [{skill: k} for k in (10, 1, 2, 0)]

    def agent_with_calls(example: Any) -> Any:
        from optotrace.llm import ScriptedLLM

        ScriptedLLM(["ok"] * 100).complete([{"role": "user", "content": str(example)}])
        return (example["x"] % 10) < skill.data

    ev = Evaluator(agent_with_calls, lambda ex, out: float(out), params=[skill], concurrency=1)
    budget = RunBudget(calls=4 + 4 * 4 + 2)  # the first rung (incumbent and 4 candidates on 4), then 2 more
    with budget.active():
        result = race(ev, candidates, EXAMPLES, min_lead=1)
    # Cut off in the second rung: the winner of the first (scored beside the incumbent on the same 4) stands.
    assert result.stopped == "budget" and result.best == 0 and budget.used_calls <= budget.calls
    assert result.best_score == 1.0 and result.incumbent_score == 0.75


def test_a_lead_of_one_example_is_not_enough_by_default() -> None:
    skill, evaluator, _ = setup()
    eight = EXAMPLES[:8]  # skill 4 answers one more of these than skill 3, skill 5 two more
    assert race(evaluator, [{skill: 4}], eight).best is None
    assert race(evaluator, [{skill: 4}], eight, min_lead=1).best == 0
    assert race(evaluator, [{skill: 5}], eight).best == 0
