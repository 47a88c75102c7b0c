"""Hessian-diagonal estimators against exact diagonals; the Rademacher draw; the GNB estimator of SophiaG."""

from __future__ import annotations

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)

from optotrace.optimizers.numeric import AdaHessian, SophiaG, SophiaH
from optotrace.optimizers.numeric._hessian import hutchinson_diagonal, rademacher_like


def test_rademacher_draw_is_plus_minus_one_and_balanced() -> None:
    g = torch.Generator().manual_seed(0)
    z = rademacher_like(torch.empty(200_000), g)
    assert set(z.unique().tolist()) == {-1.0, 1.0}
    # mean of n fair signs has sd 1/sqrt(n) ~ 0.0022; 5 sd
    assert abs(float(z.mean())) < 0.012
    # no correlation between neighbours (a broken draw that repeats or alternates fails this)
    assert abs(float((z[1:] * z[:-1]).mean())) < 0.012


def _quadratic(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A symmetric H with large off-diagonal entries (row sums far from the diagonal), and b."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    h = a @ a.T + torch.diag(torch.linspace(0.5, 3.0, n, dtype=torch.float64))
    return h, torch.randn(n, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("distribution", ["rademacher", "gaussian"])
def test_hutchinson_mean_matches_diag_not_row_sums(distribution: str) -> None:
    n = 6
    h = torch.diag(torch.arange(1.0, n + 1, dtype=torch.float64)) + 2.0 * (torch.ones(n, n) - torch.eye(n)).double()
    b = torch.linspace(-1, 1, n, dtype=torch.float64)
    x = torch.randn(n, dtype=torch.float64, requires_grad=True)
    gen = torch.Generator().manual_seed(2)
    samples = []
    for _ in range(2000):
        loss = 0.5 * x @ h @ x + b @ x
        (grad,) = torch.autograd.grad(loss, [x], create_graph=True)
        samples.append(hutchinson_diagonal([x], [grad], distribution=distribution, generator=gen)[0])
    mean = torch.stack(samples).mean(0)
    diag, rowsum = torch.diagonal(h), h.sum(1)  # row sums are diag + 10
    assert torch.allclose(mean, diag, atol=1.0), (mean, diag)
    assert bool(((mean - rowsum).abs() > 5.0).all())  # an estimator of row sums would fail the line above


def test_adahessian_estimate_is_abs_and_averaged_over_conv_kernels() -> None:
    w = torch.randn(2, 3, 2, 2, requires_grad=True)
    v = torch.randn(5, requires_grad=True)
    opt = AdaHessian([w, v], seed=0)
    loss = -((w**3).sum() + (v**2).sum() * 0.5 + (w.sum() * v.sum()) ** 2)
    loss.backward(create_graph=True)
    est = opt.estimate_hessian()
    assert all(bool((d >= 0).all()) for d in est.values())
    d = est[w]
    # every (out, in) kernel holds one value: the mean over its 2x2 spatial entries
    assert torch.allclose(d, d.mean(dim=(2, 3), keepdim=True).expand_as(d))
    assert est[v].shape == v.shape
    assert w.grad is not None and w.grad.grad_fn is None  # grads detached, values kept


def test_sophia_h_hessian_ema_converges_to_diag() -> None:
    h, b = _quadratic(5, 4)
    x = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = SophiaH([x], betas=(0.9, 0.995), seed=0, distribution="rademacher")
    for _ in range(1500):
        opt.zero_grad()
        (0.5 * x @ h @ x + b @ x).backward(create_graph=True)
        opt.update_hessian()
    est = opt.state[x]["hessian"]
    assert torch.allclose(est, torch.diagonal(h), atol=0.2 * float(h.abs().max()))


def test_sophia_g_gnb_estimator_matches_gauss_newton_diag() -> None:
    """E over sampled labels of B * g_hat^2 (B = 1) is diag(J^T (diag(p) - p p^T) J) for softmax regression."""
    torch.manual_seed(0)
    x = torch.randn(4, dtype=torch.float64)
    w = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    probs = torch.softmax(w.detach() @ x, 0)
    cov = torch.diag(probs) - torch.outer(probs, probs)
    exact = torch.outer(torch.diagonal(cov), x * x)  # d logit_c / d w_cj = x_j, and the GN diag is cov_cc x_j^2
    opt = SophiaG([w], betas=(0.9, 0.0), seed=1)
    total = torch.zeros_like(w)
    n = 3000
    for _ in range(n):
        opt.zero_grad()
        opt.sampled_cross_entropy((w @ x).unsqueeze(0)).backward()
        opt.update_hessian(batch_size=1)  # beta2 = 0: the state holds this sample's estimate
        total += opt.state[w]["hessian"]
    assert torch.allclose(total / n, exact, atol=0.05 * float(exact.max()) + 1e-3)
