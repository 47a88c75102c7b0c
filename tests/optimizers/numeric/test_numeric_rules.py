"""Each optimizer against its update rule written out by hand, for a few steps with known gradients."""

from __future__ import annotations

import math

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)

from optotrace.optimizers.numeric import MFAC, ZOSGD, AdaHessian, DeepZero, Lion, SophiaG, SophiaH

GRADS = [[0.5, -2.0, 0.0], [1.5, 1.0, -0.25], [-0.75, 0.5, 2.0]]
START = [1.0, -0.5, 0.25]


@pytest.mark.parametrize("foreach", [False, True])
def test_lion_by_hand(foreach: bool) -> None:
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = Lion([p], lr=0.1, betas=(0.9, 0.99), weight_decay=0.5, foreach=foreach)
    x, m = list(START), [0.0] * 3
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        for i in range(3):
            c = 0.9 * m[i] + 0.1 * g[i]
            sign = (c > 0) - (c < 0)
            x[i] = x[i] * (1 - 0.1 * 0.5) - 0.1 * sign
            m[i] = 0.99 * m[i] + 0.01 * g[i]
    assert p.detach().tolist() == pytest.approx(x, abs=1e-12)
    assert set(opt.state[p]) == {"exp_avg"}  # one state buffer


@pytest.mark.parametrize("foreach", [False, True])
def test_adahessian_by_hand(foreach: bool) -> None:
    diags = [[0.2, 1.0, 3.0], [0.5, 0.1, 2.0], [1.0, 1.0, 0.0]]
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = AdaHessian([p], lr=0.1, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1, hessian_power=0.5, foreach=foreach)
    x, m, v = list(START), [0.0] * 3, [0.0] * 3
    for t, (g, d) in enumerate(zip(GRADS, diags, strict=True), start=1):
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step(hessian={p: torch.tensor(d, dtype=torch.float64)})
        for i in range(3):
            m[i] = 0.8 * m[i] + 0.2 * g[i]
            v[i] = 0.9 * v[i] + 0.1 * d[i] ** 2
            denom = math.sqrt(v[i] / (1 - 0.9**t)) ** 0.5 + 1e-3
            x[i] = x[i] * (1 - 0.1 * 0.1) - 0.1 * (m[i] / (1 - 0.8**t)) / denom
    assert p.detach().tolist() == pytest.approx(x, abs=1e-12)


@pytest.mark.parametrize("cls", [SophiaH, SophiaG])
@pytest.mark.parametrize("foreach", [False, True])
def test_sophia_by_hand(cls: type, foreach: bool) -> None:
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = cls([p], lr=0.1, betas=(0.9, 0.5), rho=0.5, weight_decay=0.2, eps=1e-12, foreach=foreach)
    h_hat = [0.4, 0.0, 8.0]
    opt._accumulate_hessian([p], [torch.tensor(h_hat, dtype=torch.float64)])
    x, m = list(START), [0.0] * 3
    h = [0.5 * a for a in h_hat]
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        for i in range(3):
            m[i] = 0.9 * m[i] + 0.1 * g[i]
            ratio = max(-1.0, min(1.0, m[i] / max(0.5 * h[i], 1e-12)))
            x[i] = x[i] * (1 - 0.1 * 0.2) - 0.1 * ratio
    assert p.detach().tolist() == pytest.approx(x, abs=1e-12)


def test_sophia_g_update_hessian_is_batch_times_grad_squared() -> None:
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = SophiaG([p], betas=(0.9, 0.75))
    p.grad = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    opt.update_hessian(batch_size=8)
    expected = [0.25 * 8 * g * g for g in (1.0, -2.0, 0.5)]
    assert opt.state[p]["hessian"].tolist() == pytest.approx(expected)


@pytest.mark.parametrize("foreach", [False, True])
def test_mfac_momentum_and_decay_by_hand(foreach: bool) -> None:
    """With one gradient in the window: F = damp I + g g^T / m, so F^{-1} g = g / (damp + |g|^2 / m)."""
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = MFAC([p], lr=0.1, num_grads=2, damp=0.5, momentum=0.9, weight_decay=0.1, foreach=foreach)
    g = torch.tensor(GRADS[0], dtype=torch.float64)
    p.grad = g
    opt.step()
    u = g / (0.5 + float(g @ g) / 2)
    expected = torch.tensor(START, dtype=torch.float64) * (1 - 0.01) - 0.1 * u
    torch.testing.assert_close(p.detach(), expected)
    p.grad = g
    opt.step()  # same gradient twice: F = damp I + g g^T (two copies / m=2)
    u2 = g / (0.5 + float(g @ g))
    expected = expected * (1 - 0.01) - 0.1 * (0.9 * u + u2)
    torch.testing.assert_close(p.detach(), expected)


@pytest.mark.parametrize("foreach", [False, True])
def test_zosgd_by_hand(foreach: bool) -> None:
    from optotrace.optimizers.numeric.zosgd import step_seed

    a = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = ZOSGD([p], lr=0.05, eps=1e-2, weight_decay=0.1, seed=11, foreach=foreach)
    x = torch.tensor(START, dtype=torch.float64)

    def f(v: torch.Tensor) -> torch.Tensor:
        return ((v - a) ** 2).sum()

    for step in range(3):
        returned = opt.step(lambda: f(p))
        z = torch.randn(3, generator=torch.Generator().manual_seed(step_seed(11, step)), dtype=torch.float64)
        plus, minus = float(f(x + 1e-2 * z)), float(f(x - 1e-2 * z))
        proj = (plus - minus) / 2e-2
        x = x * (1 - 0.05 * 0.1) - 0.05 * proj * z
        assert returned == pytest.approx((plus + minus) / 2)
        torch.testing.assert_close(p.detach(), x)
    head = opt.state[p]
    assert not any(isinstance(v, torch.Tensor) for v in head.values())  # no z or other tensor state


@pytest.mark.parametrize("foreach", [False, True])
def test_deepzero_by_hand(foreach: bool) -> None:
    a = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)
    p = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    opt = DeepZero([p], lr=0.1, mu=1e-4, sparsity=0.5, momentum=0.5, weight_decay=0.2, seed=0, foreach=foreach)

    def f() -> torch.Tensor:
        return ((p - a) ** 2).sum()

    x = torch.zeros(2, 2, dtype=torch.float64)
    buf = torch.zeros(2, 2, dtype=torch.float64)
    for _ in range(3):
        opt.step(f)
        active = opt.state[p]["active"]
        assert active.numel() == 2
        mask = torch.zeros(4, dtype=torch.bool)
        mask[active] = True
        mask = mask.view(2, 2)
        grad = torch.where(mask, 2 * (x - a) + 1e-4, torch.zeros(()).double())  # forward difference of a quadratic
        buf = 0.5 * buf + grad
        x = x * (1 - 0.1 * 0.2) - 0.1 * buf
        torch.testing.assert_close(p.detach(), x, atol=1e-8, rtol=1e-8)
