"""M-FAC's windowed inverse-Fisher product against the explicit inverse of damp*I + (1/m) sum g g^T."""

from __future__ import annotations

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)

from optotrace.optimizers.numeric import MFAC


@pytest.mark.parametrize("foreach", [False, True])
def test_direction_matches_explicit_inverse_through_window_wraps(foreach: bool) -> None:
    torch.manual_seed(0)
    m, damp = 4, 0.3
    a = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = MFAC([a, b], lr=1.0, num_grads=m, damp=damp, foreach=foreach)
    history: list[torch.Tensor] = []
    for step in range(3 * m + 2):  # wraps the ring several times; passes the exact refresh points
        g = torch.randn(10, dtype=torch.float64) * (1 + step % 3)
        history.append(g)
        before = torch.cat([a.detach().reshape(-1), b.detach()]).clone()
        a.grad, b.grad = g[:6].view(3, 2).clone(), g[6:].clone()
        opt.step()
        after = torch.cat([a.detach().reshape(-1), b.detach()])
        window = torch.stack(history[-m:])
        fisher = damp * torch.eye(10, dtype=torch.float64) + window.T @ window / m
        expected = torch.linalg.solve(fisher, g)
        torch.testing.assert_close(before - after, expected, rtol=1e-9, atol=1e-10)


def test_inverse_fisher_product_of_any_vector() -> None:
    torch.manual_seed(1)
    p = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    opt = MFAC([p], lr=0.0, num_grads=3, damp=0.1)
    grads = [torch.randn(6, dtype=torch.float64) for _ in range(5)]
    for g in grads:
        p.grad = g
        opt.step()
    x = torch.randn(6, dtype=torch.float64)
    window = torch.stack(grads[-3:])
    fisher = 0.1 * torch.eye(6, dtype=torch.float64) + window.T @ window / 3
    (got,) = opt.inverse_fisher_product([x])
    torch.testing.assert_close(got, torch.linalg.solve(fisher, x))


def test_long_run_stays_accurate_in_float32() -> None:
    """The rank-2 corrections drift only between exact refreshes (every m steps)."""
    torch.manual_seed(2)
    m, damp = 8, 1.0
    p = torch.zeros(50, requires_grad=True)
    opt = MFAC([p], lr=1.0, num_grads=m, damp=damp)
    history = []
    for _ in range(61):
        g = torch.randn(50)
        history.append(g.double())
        before = p.detach().double().clone()
        p.grad = g
        opt.step()
    window = torch.stack(history[-m:])
    fisher = damp * torch.eye(50, dtype=torch.float64) + window.T @ window / m
    torch.testing.assert_close(before - p.detach().double(), torch.linalg.solve(fisher, history[-1]), rtol=1e-4, atol=1e-5)
    assert opt.state[p]["coef_inv"].dtype == torch.float64
