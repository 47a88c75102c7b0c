"""BayesOpt searching: Branin against random search, state round trips, multi-fidelity, and the Trainer driving
it beside OptoPrime (text by a scripted LLM, numbers by BO)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

pytest.importorskip("botorch", reason="BayesOpt needs the optotrace[bo] extra (botorch)")

import optotrace as ot  # noqa: E402
from optotrace.llm import ScriptedLLM  # noqa: E402
from optotrace.optimizers import OptoPrime, Trainer  # noqa: E402
from optotrace.optimizers.bayes import BayesOpt  # noqa: E402

BRANIN_MIN = 0.397887


def branin(x1: float, x2: float) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def _branin_bo(evals: int, seed: int = 0) -> tuple[BayesOpt, list[float]]:
    x1, x2 = ot.node(0.0, name="x1", trainable=True), ot.node(5.0, name="x2", trainable=True)
    bo = BayesOpt([x1, x2], bounds={"x1": (-5, 10), "x2": (0, 15)}, n_candidates=512, seed=seed)
    seen: list[float] = []

    def objective(v: dict[str, float]) -> float:
        seen.append(branin(v["x1"], v["x2"]))
        return -seen[-1]

    bo.optimize(objective, budget=evals)
    return bo, seen


def test_bo_finds_branins_minimum_region_better_than_random_search() -> None:
    bo, seen = _branin_bo(20)
    rng = random.Random(0)
    rand = [branin(rng.uniform(-5, 10), rng.uniform(0, 15)) for _ in range(20)]
    assert min(seen) < 1.5 < min(rand) + 1.0  # within ~1 of the minimum 0.398
    assert min(seen) < min(rand)
    best = bo.best()
    assert best is not None and branin(best.values["x1"], best.values["x2"]) == pytest.approx(min(seen))
    assert (bo.by_name["x1"].data, bo.by_name["x2"].data) == (best.values["x1"], best.values["x2"])


def test_state_dict_round_trip_gives_the_same_next_point() -> None:
    bo, _ = _branin_bo(7, seed=3)
    state = json.loads(json.dumps(bo.state_dict()))
    fresh = BayesOpt([ot.node(0.0, name="x1", trainable=True), ot.node(5.0, name="x2", trainable=True)],
                     bounds={"x1": (-5, 10), "x2": (0, 15)}, n_candidates=512, seed=3)
    fresh.load_state_dict(state)
    assert fresh.history == bo.history
    assert fresh.ask().values == bo.ask().values
    other = BayesOpt([ot.node(0.0, name="x1", trainable=True), ot.node(5.0, name="x2", trainable=True)],
                     bounds={"x1": (-5, 11), "x2": (0, 15)})
    with pytest.raises(Exception, match="different search space"):
        other.load_state_dict(state)


def test_multi_fidelity_spends_mostly_cheap_evaluations_and_still_finds_the_optimum() -> None:
    x = ot.node(0.5, name="x", trainable=True)
    bo = BayesOpt([x], bounds={"x": (0, 1)}, fidelities={0.2: 1.0, 1.0: 5.0}, n_init=4, n_candidates=256)

    def objective(v: dict[str, float], fidelity: float) -> float:
        true = -((v["x"] - 0.3) ** 2)
        return true + (1 - fidelity) * 0.05 * math.sin(20 * v["x"])  # cheap scores: biased, same shape

    bo.optimize(objective, budget=30)
    fids = [h["fidelity"] for h in bo.history]
    assert fids.count(0.2) > fids.count(1.0) >= 1
    best = bo.best()
    assert best is not None and best.fidelity == 1.0 and abs(best.values["x"] - 0.3) < 0.1


def test_the_trainer_drives_bo_beside_optoprime(tmp_path: Path) -> None:
    """Text by the (scripted) LLM, a threshold and a mode by BO, in one run with checkpoints and resume."""
    prefix = ot.node("lbl:", name="prefix", trainable=True, description="the label's prefix")
    threshold = ot.node(0.0, name="threshold", trainable=True, description="decision threshold in [0, 10]")
    mode = ot.node("strict", name="mode", trainable=True, constraint="one of ['strict', 'loose']")

    @ot.bundle()
    def classify(prefix: str, threshold: float, mode: str, x: float) -> str:
        high = x > threshold if mode == "strict" else x >= threshold - 3
        return prefix + ("high" if high else "low")

    data = [{"input": x, "label": "high" if x > 6.5 else "low"} for x in range(11)]

    def metric(example: dict, output: str) -> tuple[float, str]:
        ok_prefix = output.startswith("label:")
        ok = output.endswith(example["label"])
        fb = "correct" if ok else f"expected {example['label']}"
        return 0.5 * ok + 0.5 * ok_prefix, fb + ("" if ok_prefix else "; the prefix must be 'label:'")

    llm = ScriptedLLM(lambda m: '{"reasoning": "", "suggestion": {"prefix": "label:"}}')

    def build(steps: int, resume: bool) -> tuple[Trainer, BayesOpt]:
        bo = BayesOpt([threshold, mode], bounds={"threshold": (0, 10)}, n_init=3, n_candidates=256)
        agent = lambda x: classify(prefix, threshold, mode, x)  # noqa: E731
        trainer = Trainer(agent, [OptoPrime([prefix], llm=llm), bo], data, data, metric=metric,
                          minibatch_size=len(data), steps=steps, run_dir=tmp_path / "run", resume=resume,
                          progress=False)
        return trainer, bo

    trainer, bo = build(6, False)
    first = trainer.fit()
    assert prefix.data == "label:" and len(bo.history) == 6
    assert all(0 <= h["values"]["threshold"] <= 10 and h["values"]["mode"] in ("strict", "loose")
               for h in bo.history)
    trainer, bo = build(14, True)
    result = trainer.fit()
    assert len(bo.history) == 14 and result.best_score >= first.best_score
    assert result.best_score == 1.0  # every example right: a threshold in [6, 7) with 'strict', or [9, 10) loose


def test_multi_fidelity_in_the_trainer_mixes_minibatch_and_full_evaluations() -> None:
    threshold = ot.node(1.0, name="threshold", trainable=True, description="in [0, 10]")

    @ot.bundle()
    def classify(threshold: float, x: float) -> str:
        return "high" if x > threshold else "low"

    data = [{"input": x / 2, "label": "high" if x / 2 > 6.2 else "low"} for x in range(21)]
    full_calls = []

    def evaluate_full() -> float:
        full_calls.append(threshold.data)
        return trainer.evaluate(data)

    bo = BayesOpt([threshold], fidelities={0.25: 1.0, 1.0: 4.0}, evaluate_full=evaluate_full, n_init=3,
                  n_candidates=256)
    trainer = Trainer(lambda x: classify(threshold, x), bo, data, metric=lambda e, o: float(o == e["label"]),
                      minibatch_size=5, steps=10, progress=False)
    trainer.fit()
    fids = [h["fidelity"] for h in bo.history]
    assert fids.count(0.25) == 10 and fids.count(1.0) == len(full_calls) >= 1
    best = bo.best()
    assert best is not None and best.fidelity == 1.0
    assert abs(best.values["threshold"] - 6.25) < 1.0
    with pytest.raises(Exception, match="evaluate_full"):
        lone = BayesOpt([ot.node(1.0, name="t", trainable=True)], bounds={"t": (0, 2)}, fidelities={0.5: 1, 1.0: 2})
        lone.observe(0.5)
        lone.step()
