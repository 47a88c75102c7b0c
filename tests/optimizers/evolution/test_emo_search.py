"""ParetoSearch and NSGA-II searching: ZDT1 convergence, the Trainer driving it, state round trips, the report,
misuse, and agreement with EvoX's sorting when the [emo] extra is installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import optotrace as ot
from optotrace.optimizers import OptimizerError, Trainer
from optotrace.optimizers.evolution import NSGA2, ParetoSearch, hypervolume, non_dominated_rank


def zdt1(X: torch.Tensor) -> torch.Tensor:
    f1 = X[:, 0]
    g = 1 + 9 * X[:, 1:].mean(1)
    return torch.stack([f1, g * (1 - torch.sqrt(f1 / g))], 1)


def test_nsga2_converges_on_zdt1_better_than_random_sampling() -> None:
    algo = NSGA2(dim=8, pop_size=40, seed=0)
    for _ in range(40):
        X = algo.ask()
        algo.tell(X, zdt1(X))
    _, F = algo.front()
    hv = hypervolume(F, [1.1, 1.1])
    g = torch.Generator().manual_seed(0)
    R = torch.rand(algo.evaluations, 8, generator=g, dtype=torch.float64)
    FR = zdt1(R)
    hv_random = hypervolume(FR[non_dominated_rank(FR) == 0], [1.1, 1.1])
    assert hv > 0.8 > hv_random  # the true front's hypervolume is 1.21 - 1/3 = 0.8767


def test_a_failed_evaluation_never_reaches_the_front() -> None:
    algo = NSGA2(dim=2, pop_size=4, seed=0)
    X = algo.ask()
    F = zdt1(X)
    F[0] = float("nan")
    algo.tell(X, F)
    _, front = algo.front()
    assert torch.isfinite(front).all() and front.shape[0] >= 1


def _workflow_params() -> list:
    return [ot.node(0.5, name="threshold", trainable=True, description="in [0, 1]"),
            ot.node(4, name="top_k", trainable=True, description="[1, 10]"),
            ot.node("short", name="style", trainable=True, constraint="one of ['short', 'long']")]


def test_the_trainer_drives_pareto_search_and_the_report_is_written(tmp_path: Path) -> None:
    threshold, top_k, style = params = _workflow_params()
    spent = {"tokens": 0.0}

    @ot.bundle()
    def answer(threshold: float, top_k: int, style: str, x: int) -> float:
        spent["tokens"] += top_k * (3 if style == "long" else 1)  # cost grows with top_k and the long style
        return min(1.0, 0.2 * top_k * (1.5 if style == "long" else 1.0)) * (1 - abs(threshold - 0.7))

    last = {"tokens": 0.0}

    def tokens() -> float:
        used, last["tokens"] = spent["tokens"] - last["tokens"], spent["tokens"]
        return used

    search = ParetoSearch(params, objectives={"accuracy": "max", "tokens": "min"}, measures={"tokens": tokens},
                          pop_size=8, seed=0)
    trainer = Trainer(lambda x: answer(threshold, top_k, style, x), search, [1, 2], metric=lambda e, o: o,
                      minibatch_size=2, steps=33, run_dir=tmp_path / "run", progress=False, restore_best=False)
    trainer.fit()
    assert len(search.archive) == 33 and search.engine.evaluations == 33  # start point + 4 generations of 8
    front = search.front()
    accs = [p["scores"]["accuracy"] for p in front]
    toks = [p["scores"]["tokens"] for p in front]
    assert len(front) >= 3 and accs == sorted(accs) and toks == sorted(toks)  # a real trade-off
    out = search.report(tmp_path / "front")
    saved = json.loads(out["json"].read_text())
    assert saved["objectives"] == ["accuracy", "tokens"] and len(saved["points"]) == len(front)
    assert set(saved["points"][0]["values"]) == {"threshold", "top_k", "style"}
    assert out["png"].read_bytes()[:4] == b"\x89PNG"

    state = json.loads(json.dumps(search.state_dict()))
    again = ParetoSearch(_workflow_params(), objectives={"accuracy": "max", "tokens": "min"}, pop_size=8, seed=0)
    again.load_state_dict(state)
    assert again.front() == front
    assert again.engine.ask().tolist() == search.engine.ask().tolist()  # the same generator state


def test_optimize_without_the_trainer_and_misuse_messages() -> None:
    params = _workflow_params()
    search = ParetoSearch(params, objectives={"acc": "max", "cost": "min"}, pop_size=6)
    front = search.optimize(lambda v: {"acc": v["threshold"], "cost": v["threshold"] ** 2 + v["top_k"]}, 24)
    assert len(front) >= 2 and len(search.archive) == 24
    for a in front:  # no point of the front is dominated by anything evaluated
        assert not any(b["scores"]["acc"] >= a["scores"]["acc"] and b["scores"]["cost"] <= a["scores"]["cost"]
                       and b["scores"] != a["scores"] for b in search.archive)
    with pytest.raises(OptimizerError, match="no score for objectives \\['cost'\\]"):
        search.optimize(lambda v: {"acc": 1.0}, 1)
    with pytest.raises(OptimizerError, match="two or more objectives"):
        ParetoSearch(_workflow_params(), objectives={"acc": "max"})
    with pytest.raises(OptimizerError, match="'min' or 'max'"):
        ParetoSearch(_workflow_params(), objectives={"acc": "up", "cost": "min"})
    with pytest.raises(OptimizerError, match="observe"):
        ParetoSearch(_workflow_params(), objectives={"acc": "max", "cost": "min"}).step()
    with pytest.raises(OptimizerError, match="not a number"):
        ParetoSearch([ot.node("text", name="p", trainable=True)], objectives={"a": "max", "b": "min"})
    with pytest.raises(OptimizerError, match="nothing has been evaluated"):
        ParetoSearch(_workflow_params(), objectives={"acc": "max", "cost": "min"}).report("unused")


def test_sorting_matches_evox() -> None:
    selection = pytest.importorskip("evox.operators.selection", reason="EvoX (the [emo] extra) is not installed")
    g = torch.Generator().manual_seed(2)
    F = torch.randint(0, 8, (80, 2), generator=g).float()
    ours = non_dominated_rank(F)
    theirs = selection.non_dominate_rank(F)
    assert ours.tolist() == theirs.long().tolist()
    front = ours == 0
    d_ours = __import__("optotrace.optimizers.evolution", fromlist=["crowding_distance"]).crowding_distance(F, ours)
    d_theirs = selection.crowding_distance(F, front)
    finite = front & torch.isfinite(d_theirs)
    assert torch.allclose(d_ours[finite], d_theirs[finite].to(d_ours.dtype))
