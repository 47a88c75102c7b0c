"""Convergence: Rosenbrock, an ill-conditioned quadratic, logistic regression on scikit-learn's digits, a small MLP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)

from optotrace.optimizers.numeric import (
    MFAC,
    ZOSGD,
    AdaHessian,
    DeepZero,
    Lion,
    SophiaG,
    SophiaH,
    linear_decay,
)

Factory = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


def _train(opt: torch.optim.Optimizer, params: list[torch.Tensor], loss_fn: Callable[[], torch.Tensor], steps: int,
           sampled_loss: Callable[[], torch.Tensor] | None = None, batch: int = 1) -> None:
    """The loop each optimizer expects: create_graph for AdaHessian, Hessian refresh every 10 steps for Sophia."""
    sched = torch.optim.lr_scheduler.LambdaLR(opt, linear_decay(steps)) if isinstance(opt, Lion) else None
    for s in range(steps):
        opt.zero_grad()
        if isinstance(opt, (ZOSGD, DeepZero)):
            opt.step(lambda: loss_fn().detach())
            continue
        refresh = s % 10 == 0
        if isinstance(opt, SophiaG) and refresh:
            assert sampled_loss is not None
            sampled_loss().backward()
            opt.update_hessian(batch_size=batch)
            opt.zero_grad()
        loss = loss_fn()
        loss.backward(create_graph=isinstance(opt, AdaHessian) or (isinstance(opt, SophiaH) and refresh))
        if isinstance(opt, SophiaH) and refresh:
            opt.update_hessian()
        opt.step()
        if sched is not None:
            sched.step()


ROSENBROCK: dict[str, Factory] = {
    "Lion": lambda ps: Lion(ps, lr=1e-2),
    "AdaHessian": lambda ps: AdaHessian(ps, lr=0.2, betas=(0.9, 0.99), hessian_power=0.5, seed=0),
    "SophiaH": lambda ps: SophiaH(ps, lr=3e-2, weight_decay=0.0, seed=0, distribution="rademacher"),
    "MFAC": lambda ps: MFAC(ps, lr=1e-2, num_grads=4, damp=0.1, momentum=0.5),
    "DeepZero": lambda ps: DeepZero(ps, lr=1e-3, mu=1e-6, momentum=0.9, seed=0),
}


@pytest.mark.parametrize("name", sorted(ROSENBROCK))
def test_rosenbrock(name: str) -> None:
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)

    def f() -> torch.Tensor:
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    start = float(f())
    _train(ROSENBROCK[name]([p]), [p], f, 800)
    assert float(f()) < 0.05 < start, (name, p.detach().tolist())
    assert torch.allclose(p.detach(), torch.ones(2, dtype=torch.float64), atol=0.35)  # along the flat valley


QUADRATIC: dict[str, Factory] = {
    "Lion": lambda ps: Lion(ps, lr=3e-2),
    "AdaHessian": lambda ps: AdaHessian(ps, lr=0.3, seed=0),
    "SophiaH": lambda ps: SophiaH(ps, lr=0.1, rho=1.0, weight_decay=0.0, seed=0, distribution="rademacher"),
    "ZOSGD": lambda ps: ZOSGD(ps, lr=5e-4, eps=1e-4, seed=0),
    "DeepZero": lambda ps: DeepZero(ps, lr=1e-3, mu=1e-6, momentum=0.9, seed=0),
}


@pytest.mark.parametrize("name", sorted(QUADRATIC))
def test_ill_conditioned_quadratic(name: str) -> None:
    """Condition number 1000 in a rotated basis (off-diagonal Hessian). M-FAC is left out: on a deterministic
    problem its empirical Fisher (built from the gradients, not the curvature) acts as a gradient normaliser."""
    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(8, 8, generator=g, dtype=torch.float64))
    h = q @ torch.diag(torch.logspace(0, 3, 8, dtype=torch.float64)) @ q.T
    x = torch.ones(8, dtype=torch.float64, requires_grad=True)

    def f() -> torch.Tensor:
        return 0.5 * x @ h @ x

    start = float(f())
    _train(QUADRATIC[name]([x]), [x], f, 600)
    assert float(f()) < 1e-2 * start, (name, float(f()), start)


def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.data[:400], dtype=torch.float32)  # a subset keeps the tests quick on a busy machine
    x = (x - x.mean(0)) / (x.std(0) + 1.0)
    return x, torch.tensor(data.target[:400])


CLASSIFIERS: dict[str, Factory] = {
    "Lion": lambda ps: Lion(ps, lr=1e-2, weight_decay=0.01),
    "AdaHessian": lambda ps: AdaHessian(ps, lr=0.1, seed=0),
    "SophiaH": lambda ps: SophiaH(ps, lr=2e-2, rho=0.05, seed=0),
    "SophiaG": lambda ps: SophiaG(ps, lr=2e-2, rho=0.05, seed=0),
    "MFAC": lambda ps: MFAC(ps, lr=0.05, num_grads=8, damp=1e-2, momentum=0.5),
}


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_logistic_regression_on_digits(name: str) -> None:
    x, y = _digits()
    torch.manual_seed(0)
    w = torch.zeros(64, 10, requires_grad=True)
    b = torch.zeros(10, requires_grad=True)

    def logits() -> torch.Tensor:
        return x @ w + b

    def loss() -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits(), y)

    opt = CLASSIFIERS[name]([w, b])
    sampled = (lambda: opt.sampled_cross_entropy(logits())) if isinstance(opt, SophiaG) else None
    _train(opt, [w, b], loss, 60, sampled_loss=sampled, batch=len(y))
    accuracy = float((logits().argmax(1) == y).float().mean())
    assert accuracy > 0.95, (name, accuracy)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_small_mlp_on_digits(name: str) -> None:
    x, y = _digits()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))
    params = list(model.parameters())

    def loss() -> torch.Tensor:
        return torch.nn.functional.cross_entropy(model(x), y)

    opt = CLASSIFIERS[name](params)
    sampled = (lambda: opt.sampled_cross_entropy(model(x))) if isinstance(opt, SophiaG) else None
    start = float(loss())
    _train(opt, params, loss, 60, sampled_loss=sampled, batch=len(y))
    accuracy = float((model(x).argmax(1) == y).float().mean())
    assert accuracy > 0.95 and float(loss()) < 0.3 * start, (name, accuracy)
