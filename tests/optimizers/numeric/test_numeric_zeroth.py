"""The zeroth-order optimizers: seeded perturbations, closures required, sparse masks."""

from __future__ import annotations

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)

from optotrace.optimizers.numeric import ZOSGD, DeepZero, NumericOptimizerError


def test_zosgd_restores_point_between_passes_and_needs_closure() -> None:
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = ZOSGD([p], lr=0.0, eps=0.1, seed=0)
    seen = []
    opt.step(lambda: seen.append(p.detach().clone()) or float(p.sum()))
    assert len(seen) == 2  # two forward passes, no more
    torch.testing.assert_close((seen[0] + seen[1]) / 2, torch.tensor([1.0, 2.0]))
    torch.testing.assert_close(p.detach(), torch.tensor([1.0, 2.0]))  # lr 0: back where it started
    with pytest.raises(NumericOptimizerError, match="closure"):
        opt.step()


def test_zosgd_rejects_groups_with_different_eps() -> None:
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = ZOSGD([{"params": [a]}, {"params": [b], "eps": 0.5}], eps=0.1)
    with pytest.raises(NumericOptimizerError, match="eps"):
        opt.step(lambda: 0.0)


def test_zosgd_gradient_estimate_is_unbiased_on_a_linear_function() -> None:
    c = torch.tensor([1.0, -3.0, 0.5], dtype=torch.float64)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = ZOSGD([p], lr=1.0, eps=1e-3, seed=3)
    n = 3000
    for _ in range(n):
        with torch.no_grad():
            p.zero_()
        opt.step(lambda: float(c @ p))
        # p = -lr * (c . z) z, whose mean is -c
        if _ == 0:
            total = p.detach().clone()
        else:
            total += p.detach()
    torch.testing.assert_close(total / n, -c, atol=0.15, rtol=0)


def test_deepzero_leaves_masked_coordinates_alone_and_counts_queries() -> None:
    p = torch.zeros(100, dtype=torch.float64, requires_grad=True)
    opt = DeepZero([p], lr=0.1, mu=1e-3, sparsity=0.9, seed=0)
    calls = []

    def f() -> float:
        calls.append(1)
        return float(((p - 1.0) ** 2).sum())

    opt.step(f)
    assert len(calls) == 1 + 10  # f(p) plus one query per active coordinate
    active = opt.state[p]["active"]
    moved = p.detach().nonzero().view(-1)
    assert torch.equal(moved, active)
    before = active.clone()
    opt.step(f)
    assert torch.equal(opt.state[p]["active"], before)  # fixed mask (DeepZero)


def test_deepzero_user_mask_and_redraw_interval() -> None:
    p = torch.zeros(4, 5, requires_grad=True)
    opt = DeepZero([p], lr=0.1, sparsity=0.5, mask_interval=1, seed=1)
    mask = torch.zeros(4, 5, dtype=torch.bool)
    mask[2, 3] = True
    opt.set_mask(p, mask)
    opt.step(lambda: float((p - 2).pow(2).sum()))
    assert p.detach()[2, 3] > 0 and int((p.detach() != 0).sum()) == 1
    with pytest.raises(NumericOptimizerError, match="bool tensor"):
        opt.set_mask(p, torch.ones(3))
    q = torch.zeros(50, requires_grad=True)
    opt2 = DeepZero([q], lr=0.1, sparsity=0.8, mask_interval=1, seed=1)
    masks = []
    for _ in range(3):
        opt2.step(lambda: float((q - 2).pow(2).sum()))
        masks.append(opt2.state[q]["active"].clone())
    assert not torch.equal(masks[0], masks[1]) or not torch.equal(masks[1], masks[2])


def test_closure_must_return_a_scalar() -> None:
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(NumericOptimizerError, match="scalar"):
        ZOSGD([p]).step(lambda: p * 2)
    with pytest.raises(NumericOptimizerError, match="number"):
        DeepZero([p]).step(lambda: "bad")  # type: ignore[arg-type,return-value]
