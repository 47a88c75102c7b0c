"""linear_decay and refined_schedule (Defazio et al. 2023), and their use with LambdaLR."""

from __future__ import annotations

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)

from optotrace.optimizers.numeric import Lion, NumericOptimizerError, linear_decay, refined_schedule
from optotrace.optimizers.numeric.schedules import median_filter


def test_linear_decay_without_and_with_warmup() -> None:
    s = linear_decay(4)
    assert list(s) == [1.0, 0.75, 0.5, 0.25]
    assert s(4) == 0.0 and s(100) == 0.0
    w = linear_decay(6, warmup_steps=2)
    assert list(w) == pytest.approx([0.5, 1.0, 1.0, 0.75, 0.5, 0.25])


def test_linear_decay_drives_lambda_lr() -> None:
    p = torch.zeros(1, requires_grad=True)
    opt = Lion([p], lr=0.2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=linear_decay(5, warmup_steps=1))
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones(1)
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.2, 0.2, 0.15, 0.1, 0.05])
    assert sched.state_dict()["lr_lambdas"][0] is not None  # the Schedule object is saved with its values


def test_refined_schedule_of_constant_norms_is_linear_decay() -> None:
    s = refined_schedule([2.0] * 11)
    expected = [(10 - t) / 10 for t in range(11)]
    assert list(s) == pytest.approx(expected)


def test_refined_schedule_warms_up_after_large_early_gradients_and_anneals() -> None:
    norms = [10.0] * 5 + [1.0] * 95
    s = refined_schedule(norms, smoothing=0.02)
    assert max(s) == pytest.approx(1.0)
    assert s[0] < 0.05  # big early gradients: small early steps (the emergent warm-up)
    assert s[-1] == 0.0 and s[-2] < s[50]
    peak = max(range(100), key=lambda t: s[t])
    assert 5 <= peak < 10


def test_refined_schedule_power_one_for_l1_norms() -> None:
    norms = [4.0, 2.0, 1.0, 1.0]
    s = refined_schedule(norms, smoothing=0.0, power=1.0)
    w = [1 / n for n in norms]
    raw = [w[t] * sum(w[t + 1 :]) for t in range(4)]
    assert list(s) == pytest.approx([r / max(raw) for r in raw])


def test_median_filter_removes_spikes() -> None:
    assert median_filter([1, 1, 50, 1, 1], 3) == [1, 1, 1, 1, 1]
    assert median_filter([3, 1, 2], 1) == [3, 1, 2]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"grad_norms": [1.0]}, "at least 2"),
        ({"grad_norms": [1.0, 0.0]}, "> 0"),
        ({"grad_norms": [1.0, 2.0], "smoothing": 2.0}, "smoothing"),
    ],
)
def test_refined_schedule_rejects_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(NumericOptimizerError, match=match):
        refined_schedule(**kwargs)


def test_linear_decay_rejects_bad_input() -> None:
    with pytest.raises(NumericOptimizerError, match="warmup_steps"):
        linear_decay(3, warmup_steps=3)
    with pytest.raises(NumericOptimizerError, match="total_steps"):
        linear_decay(0)
