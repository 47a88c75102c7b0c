"""BayesOpt's rules by hand: the space's encoding, EI against its formula, the fidelity choice, misuse errors."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("botorch", reason="BayesOpt needs the optotrace[bo] extra (botorch)")

import torch  # noqa: E402

import optotrace as ot  # noqa: E402
from optotrace.optimizers import OptimizerError  # noqa: E402
from optotrace.optimizers.bayes import BayesOpt, Space  # noqa: E402
from optotrace.optimizers.bayes.engine import BOEngine  # noqa: E402
from optotrace.optimizers.bayes.space import bounds_from_text, choices_from_text  # noqa: E402


def test_bounds_and_choices_are_read_from_constraints_and_descriptions() -> None:
    assert bounds_from_text("temperature in [0, 2]") == (0.0, 2.0)
    assert bounds_from_text("a threshold between 0.1 and 0.9") == (0.1, 0.9)
    assert bounds_from_text("1 <= k <= 50") == (1.0, 50.0)
    assert bounds_from_text("a positive number") is None
    assert choices_from_text("one of ['greedy', 'beam']") == ["greedy", "beam"]
    t = ot.node(0.7, name="t", trainable=True, constraint="between 0 and 2")
    k = ot.node(5, name="k", trainable=True, description="top-k, [1, 20]")
    s = ot.node("beam", name="s", trainable=True, constraint="one of ['greedy', 'beam', 'sample']")
    space = Space.from_parameters(["t", "k", "s"], [t, k, s])
    assert [(d.kind, d.low, d.high) for d in space.dims[:2]] == [("float", 0.0, 2.0), ("int", 1.0, 20.0)]
    assert space.dims[2].choices == ["greedy", "beam", "sample"] and space.width == 5


def test_encode_decode_and_snap_round_trip() -> None:
    t = ot.node(1.0, name="lr", trainable=True)
    k = ot.node(3, name="k", trainable=True)
    s = ot.node("b", name="s", trainable=True)
    space = Space.from_parameters(["lr", "k", "s"], [t, k, s], bounds={"lr": (1e-4, 1.0), "k": (1, 9)},
                                  choices={"s": ["a", "b"]}, log_scale=["lr"])
    values = {"lr": 1e-2, "k": 5, "s": "a"}
    coords = space.encode(values)
    assert coords[0] == pytest.approx(0.5) and coords[1] == pytest.approx(0.5) and coords[2:] == [1.0, 0.0]
    back = space.decode(coords)
    assert back["lr"] == pytest.approx(1e-2) and back["k"] == 5 and back["s"] == "a"
    snapped = space.snap(torch.tensor([[0.3, 0.33, 0.2, 0.7]], dtype=torch.float64))[0].tolist()
    assert snapped[1] == pytest.approx(0.375) and snapped[2:] == [0.0, 1.0]  # 1 + 0.33*8 = 3.64 -> 4


def _fitted_engine() -> tuple[BOEngine, object]:
    e = BOEngine(1, lambda r: r, seed=0)
    for x, y in [(0.1, 0.2), (0.4, 0.9), (0.8, 0.1), (0.95, 0.3)]:
        e.tell([x], y)
    return e, e.fit()


def test_log_ei_matches_the_formula_on_the_posterior() -> None:
    e, model = _fitted_engine()
    xs = torch.tensor([[0.05], [0.3], [0.6], [1.0]], dtype=torch.float64)
    got = e.log_ei(model, xs).exp()
    post = model.posterior(xs)
    mu, sigma = post.mean.squeeze(-1).detach(), post.variance.sqrt().squeeze(-1).detach()
    best = max(e.Y)
    for m, s, g in zip(mu.tolist(), sigma.tolist(), got.tolist(), strict=True):
        z = (m - best) / s
        pdf = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
        assert g == pytest.approx((m - best) * cdf + s * pdf, rel=1e-4, abs=1e-9)


def test_fidelity_choice_prefers_cheap_until_the_cheap_score_is_known() -> None:
    e = BOEngine(1, lambda r: r, fidelities=[(0.1, 1.0), (1.0, 10.0)], seed=0)
    for x in (0.1, 0.5, 0.9):
        e.tell([x], math.sin(6 * x), 1.0)
    for x in (0.2, 0.7):
        e.tell([x], math.sin(6 * x) + 0.1, 0.1)
    model = e.fit()
    far = torch.tensor([0.35], dtype=torch.float64)
    assert e.choose_fidelity(model, far) == 0.1  # unexplored: the cheap look is worth more per unit cost
    for _ in range(8):  # many cheap looks at one point: only the expensive one still tells something
        e.tell([0.35], math.sin(2.1) + 0.1, 0.1)
    assert e.choose_fidelity(e.fit(), far) == 1.0


def test_misuse_gets_one_clear_message() -> None:
    prompt = ot.node("be brief", name="prompt", trainable=True)
    with pytest.raises(OptimizerError, match="not a number.*OptoPrime"):
        BayesOpt([prompt])
    x = ot.node(0.5, name="x", trainable=True)
    with pytest.raises(OptimizerError, match="no bounds.*bounds=\\{'x'"):
        BayesOpt([x])
    with pytest.raises(OptimizerError, match="outside its bounds"):
        BayesOpt([x], bounds={"x": (1, 2)})
    with pytest.raises(OptimizerError, match="not parameters of this optimizer"):
        BayesOpt([x], bounds={"x": (0, 1), "y": (0, 1)})
    with pytest.raises(OptimizerError, match="include 1.0"):
        BayesOpt([x], bounds={"x": (0, 1)}, fidelities={0.1: 1, 0.5: 3})
    s = ot.node("c", name="s", trainable=True)
    with pytest.raises(OptimizerError, match="not among its choices"):
        BayesOpt([s], choices={"s": ["a", "b"]})
    bo = BayesOpt([x], bounds={"x": (0, 1)})
    with pytest.raises(OptimizerError, match="observe\\(score\\)"):
        bo.step()
    with pytest.raises(OptimizerError, match="NaN"):
        bo.tell({"x": 0.2}, float("nan"))
