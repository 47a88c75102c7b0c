"""`optimize()`: the strategy "auto" picks and says why, one result type whatever the driver, and a user's
mistakes end in one clear error naming what to fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import OptimizerError, OptimizeResult, optimize
from optotrace.optimizers.strategies import RACE_MAX_CALLS, pick_strategy


def task() -> tuple[Any, Any, list[dict[str, Any]]]:
    prefix = ot.node("", name="prefix", trainable=True, description="text before the word")

    @ot.bundle()
    def wrap(prefix: str, word: str) -> str:
        return prefix + word

    data = [{"input": w} for w in ["a", "bb", "ccc", "dd", "e", "ff"]]
    return (lambda w: wrap(prefix, w)), prefix, data


def metric(example: dict[str, Any], output: str) -> tuple[float, str]:
    ok = output == ">" + example["input"]
    return float(ok), "Correct." if ok else f"the output must start with '>': got {output!r}"


def proposer() -> ScriptedLLM:
    return ScriptedLLM(lambda m: json.dumps({"reasoning": "r", "suggestion": {"prefix": ">"}}))


def test_auto_picks_from_the_parameters_and_the_budget() -> None:
    text = ot.node("x", trainable=True)
    number = ot.node(1.0, trainable=True)
    demos = ot.demos(name="d")
    assert pick_strategy([number], 100, True)[0] == "train"
    assert pick_strategy([text], 100, False)[0] == "train"
    assert pick_strategy([demos], 100, True)[0] == "demos"
    assert pick_strategy([text, demos], RACE_MAX_CALLS, True)[0] == "race"
    assert pick_strategy([text], RACE_MAX_CALLS + 1, True)[0] == "population"
    assert pick_strategy([text], None, True)[0] == "population"


@pytest.mark.parametrize("strategy", ["auto", "train", "population", "race"])
def test_every_strategy_returns_one_result_type_and_keeps_the_best(strategy: str, tmp_path: Path) -> None:
    agent, prefix, data = task()
    result = optimize(agent, data[:3], valset=data[3:], metric=metric, params=[prefix], llm=proposer(),
                      budget=30, strategy=strategy, run_dir=tmp_path / "run", progress=False)
    assert isinstance(result, OptimizeResult)
    assert result.best_values == {"prefix": ">"} and prefix.data == ">"
    assert result.initial_score == 0.0 and result.best_score == 1.0
    assert 0 < result.spent["calls"] <= 30 and result.seconds > 0 and result.run_dir == tmp_path / "run"
    assert result.picked and (strategy == "auto") == ("as asked" not in result.picked)
    assert (tmp_path / "run" / "summary.json").exists() and (tmp_path / "run" / "report.html").exists()
    assert json.loads((tmp_path / "run" / "best_params.json").read_text())["parameters"]["prefix"]["value"] == ">"


def test_mistakes_end_in_one_clear_error(tmp_path: Path) -> None:
    agent, prefix, data = task()
    kw: dict[str, Any] = {"metric": metric, "params": [prefix], "llm": proposer(), "progress": False}
    with pytest.raises(OptimizerError, match="strategy='fast' is not one of auto"):
        optimize(agent, data, strategy="fast", **kw)
    with pytest.raises(OptimizerError, match="training set is empty"):
        optimize(agent, [], **kw)
    with pytest.raises(OptimizerError, match="pass valset="):
        optimize(agent, data, strategy="race", **kw)
    with pytest.raises(OptimizerError, match="resume=True needs the run_dir"):
        optimize(agent, data, resume=True, **kw)
    with pytest.raises(OptimizerError, match="trainable parameters: pass params="):
        optimize(agent, data, metric=metric, llm=proposer())
    with pytest.raises(OptimizerError, match="strategy 'race': .*'stepz'"):
        optimize(agent, data[:3], valset=data[3:], strategy="race", stepz=3, **kw)
    optimize(agent, data[:3], valset=data[3:], run_dir=tmp_path / "r", budget=10, **kw)
    with pytest.raises(OptimizerError, match="already holds a run; pass resume=True"):
        optimize(agent, data[:3], valset=data[3:], run_dir=tmp_path / "r", budget=10, **kw)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OptimizerError, match="is a file"):
        optimize(agent, data, run_dir=tmp_path / "file", **kw)


def test_ot_optimize_is_the_same_verb() -> None:
    assert ot.optimize is optimize
