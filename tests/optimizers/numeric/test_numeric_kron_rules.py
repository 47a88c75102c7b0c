"""K-FAC and MKOR rules checked by hand: factors built from the batch, inverses by torch.linalg, Sherman-Morrison
against an explicit inverse, the stabilizer, the first-order fallback, and the reference against the fast path."""

from __future__ import annotations

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)
from torch import nn
from torch.nn import functional as F

from optotrace.optimizers.numeric import KFAC, MKOR
from optotrace.optimizers.numeric.kfac import damped_factors
from optotrace.optimizers.numeric.mkor import sherman_morrison_

PATHS = [False, None]  # the reference and the fast path


def _step_delta(model: nn.Module, opt: torch.optim.Optimizer, loss_fn) -> list[torch.Tensor]:  # noqa: ANN001
    before = [p.detach().clone() for p in model.parameters()]
    opt.zero_grad()
    loss_fn().backward()
    grads = [p.grad.detach().clone() for p in model.parameters()]
    opt.step()
    return [p.detach() - b for p, b in zip(model.parameters(), before, strict=True)], grads


def _capture_output_grad(module: nn.Module) -> dict[str, torch.Tensor]:
    """{"g": the gradient of the loss with respect to the module's output}, filled during backward."""
    captured: dict[str, torch.Tensor] = {}

    def hook(m: nn.Module, inputs: tuple, out: torch.Tensor) -> None:
        out.register_hook(lambda grad: captured.__setitem__("g", grad.detach().clone()))

    module.register_forward_hook(hook)
    return captured


def _by_hand_kfac(a: torch.Tensor, g: torch.Tensor, grad: torch.Tensor, damping: float) -> torch.Tensor:
    """G^-1 grad A^-1 from the rows a (with the ones column) and g, in float64 with torch.linalg.inv."""
    a, g, grad = a.double(), g.double(), grad.double()
    A = a.t() @ a / a.shape[0]
    G = g.t() @ g / g.shape[0]
    pi = ((torch.trace(A) / A.shape[0]) / (torch.trace(G) / G.shape[0])).sqrt()
    A_d = A + pi * damping**0.5 * torch.eye(A.shape[0], dtype=A.dtype)
    G_d = G + damping**0.5 / pi * torch.eye(G.shape[0], dtype=G.dtype)
    return torch.linalg.inv(G_d) @ grad @ torch.linalg.inv(A_d)


@pytest.mark.parametrize("foreach", PATHS)
def test_kfac_linear_step_matches_the_exact_preconditioned_gradient(foreach: bool | None) -> None:
    torch.manual_seed(0)
    layer = nn.Linear(4, 3).double()
    x = torch.randn(8, 4, dtype=torch.float64)
    target = torch.randn(8, 3, dtype=torch.float64)
    opt = KFAC(layer, lr=1.0, momentum=0.0, damping=0.05, kl_clip=None, foreach=foreach)
    captured = _capture_output_grad(layer)
    delta, grads = _step_delta(layer, opt, lambda: F.mse_loss(layer(x), target))
    a = torch.cat([x, torch.ones(8, 1, dtype=x.dtype)], dim=1)
    g = captured["g"] * 8  # per-example gradients of the mean loss
    grad = torch.cat([grads[0], grads[1][:, None]], dim=1)
    v = _by_hand_kfac(a, g, grad, 0.05)
    assert torch.allclose(-delta[0], v[:, :-1], atol=1e-10)
    assert torch.allclose(-delta[1], v[:, -1], atol=1e-10)
    state = opt.state[layer.weight]
    a_d, g_d = damped_factors(state["A"], state["G"], 0.05)
    assert torch.allclose(state["A_inv"] @ a_d, torch.eye(5, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(state["G_inv"] @ g_d, torch.eye(3, dtype=torch.float64), atol=1e-10)


@pytest.mark.parametrize("foreach", PATHS)
def test_kfac_conv2d_step_matches_the_exact_kfc_preconditioned_gradient(foreach: bool | None) -> None:
    torch.manual_seed(1)
    conv = nn.Conv2d(2, 3, kernel_size=3, padding=1, stride=2).double()
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64)
    target = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    opt = KFAC(conv, lr=1.0, momentum=0.0, damping=0.1, kl_clip=None, foreach=foreach)
    captured = _capture_output_grad(conv)
    delta, grads = _step_delta(conv, opt, lambda: F.mse_loss(conv(x), target))
    # the patches by hand: one row per (image, output position), channels-major then kernel rows then columns
    padded = F.pad(x, (1, 1, 1, 1))
    rows, grows = [], []
    for n in range(2):
        for i in range(3):
            for j in range(3):
                patch = padded[n, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].reshape(-1)
                rows.append(torch.cat([patch, torch.ones(1, dtype=x.dtype)]))
                grows.append(captured["g"][n, :, i, j] * 2)  # times the batch size (KFC)
    grad = torch.cat([grads[0].reshape(3, -1), grads[1][:, None]], dim=1)
    v = _by_hand_kfac(torch.stack(rows), torch.stack(grows), grad, 0.1)
    assert torch.allclose(-delta[0], v[:, :-1].reshape(3, 2, 3, 3), atol=1e-10)
    assert torch.allclose(-delta[1], v[:, -1], atol=1e-10)


def test_kfac_kl_clipping_scales_the_step() -> None:
    torch.manual_seed(2)
    x, target = torch.randn(16, 5, dtype=torch.float64), torch.randn(16, 2, dtype=torch.float64)
    free = nn.Linear(5, 2).double()
    clipped = nn.Linear(5, 2).double()
    clipped.load_state_dict(free.state_dict())
    lr, kl = 0.5, 1e-6
    d_free, grads = _step_delta(free, KFAC(free, lr=lr, momentum=0.0, kl_clip=None), lambda: F.mse_loss(free(x), target))
    d_clip, _ = _step_delta(clipped, KFAC(clipped, lr=lr, momentum=0.0, kl_clip=kl),
                            lambda: F.mse_loss(clipped(x), target))
    vg = sum(float((-d / lr * g).sum()) for d, g in zip(d_free, grads, strict=True))
    nu = min(1.0, (kl / (lr * lr * vg)) ** 0.5)
    assert nu < 1.0
    for a, b in zip(d_clip, d_free, strict=True):
        assert torch.allclose(a, nu * b, atol=1e-12)


def test_kfac_inverses_refresh_every_inv_every_steps_and_factors_average() -> None:
    torch.manual_seed(3)
    layer = nn.Linear(3, 2).double()
    opt = KFAC(layer, lr=0.01, inv_every=3, factor_decay=0.8)
    xs = [torch.randn(6, 3, dtype=torch.float64) for _ in range(4)]
    inverses, factors = [], []
    for x in xs:
        opt.zero_grad()
        layer(x).pow(2).mean().backward()
        opt.step()
        state = opt.state[layer.weight]
        inverses.append(state["A_inv"].clone())
        factors.append(state["A"].clone())
    assert torch.equal(inverses[0], inverses[1]) and torch.equal(inverses[1], inverses[2])
    assert not torch.equal(inverses[2], inverses[3])  # step 4 (index 3) refreshes
    a3 = torch.cat([xs[3], torch.ones(6, 1, dtype=torch.float64)], dim=1)
    assert torch.allclose(factors[3], 0.8 * factors[2] + 0.2 * a3.t() @ a3 / 6)


def test_parameters_outside_supported_layers_take_the_momentum_step() -> None:
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    opt = KFAC(model, lr=0.1, momentum=0.0)
    x = torch.randn(8, 4)
    delta, grads = _step_delta(model, opt, lambda: model(x).pow(2).mean())
    names = [n for n, _ in model.named_parameters()]
    for n, d, g in zip(names, delta, grads, strict=True):
        if n.startswith("1."):  # LayerNorm: plain gradient step
            assert torch.allclose(d, -0.1 * g, atol=1e-7), n
    assert len(opt.layers) == 2


@pytest.mark.parametrize("fast", [False, True])
def test_sherman_morrison_matches_the_explicit_inverse(fast: bool) -> None:
    g = torch.Generator().manual_seed(5)
    q = torch.randn(6, 6, generator=g, dtype=torch.float64)
    m = q @ q.t() + 0.5 * torch.eye(6, dtype=torch.float64)
    vec = torch.randn(6, generator=g, dtype=torch.float64)
    inv = torch.linalg.inv(m)
    assert sherman_morrison_(inv, vec, 0.9, fast)
    expected = torch.linalg.inv(0.9 * m + 0.1 * torch.outer(vec, vec))
    assert torch.allclose(inv, expected, atol=1e-10)
    nan = torch.eye(3, dtype=torch.float64)
    assert not sherman_morrison_(nan, torch.tensor([float("nan"), 0.0, 1.0], dtype=torch.float64), 0.9, fast)


@pytest.mark.parametrize("foreach", PATHS)
def test_mkor_step_by_hand(foreach: bool | None) -> None:
    torch.manual_seed(6)
    layer = nn.Linear(3, 2).double()
    x, target = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    opt = MKOR(layer, lr=1.0, momentum=0.0, gamma=0.9, inv_every=1, foreach=foreach)
    captured = _capture_output_grad(layer)
    delta, grads = _step_delta(layer, opt, lambda: F.mse_loss(layer(x), target))
    a_bar = torch.cat([x, torch.ones(5, 1, dtype=x.dtype)], dim=1).mean(0)
    g_bar = (captured["g"] * 5).mean(0)
    r_inv = torch.linalg.inv(0.9 * torch.eye(4, dtype=x.dtype) + 0.1 * torch.outer(a_bar, a_bar))
    l_inv = torch.linalg.inv(0.9 * torch.eye(2, dtype=x.dtype) + 0.1 * torch.outer(g_bar, g_bar))
    grad = torch.cat([grads[0], grads[1][:, None]], dim=1)
    v = l_inv @ grad @ r_inv
    v = v * grad.norm() / v.norm()
    assert torch.allclose(-delta[0], v[:, :-1], atol=1e-10)
    assert torch.allclose(-delta[1], v[:, -1], atol=1e-10)
    assert torch.allclose(opt.state[layer.weight]["R_inv"], r_inv, atol=1e-12)


def test_mkor_falls_back_to_a_first_order_step_when_the_factors_go_bad() -> None:
    torch.manual_seed(7)
    layer = nn.Linear(3, 2)
    opt = MKOR(layer, lr=0.1, momentum=0.0, inv_every=1)
    x = torch.randn(4, 3)
    _step_delta(layer, opt, lambda: layer(x).pow(2).mean())
    opt.state[layer.weight]["L_inv"].fill_(float("inf"))
    delta, grads = _step_delta(layer, opt, lambda: layer(x).pow(2).mean())
    assert torch.allclose(delta[0], -0.1 * grads[0]) and torch.allclose(delta[1], -0.1 * grads[1])
    state = opt.state[layer.weight]
    assert state["fallbacks"] == 1
    assert torch.equal(state["L_inv"], torch.eye(2)) and torch.equal(state["R_inv"], torch.eye(4))
    delta, _ = _step_delta(layer, opt, lambda: layer(x).pow(2).mean())  # and carries on preconditioned
    assert all(bool(torch.isfinite(d).all()) for d in delta)


def test_mkor_norm_stabilizer_pulls_a_growing_inverse_to_the_identity() -> None:
    layer = nn.Linear(2, 2, bias=False)
    opt = MKOR(layer, lr=0.0, gamma=0.5, inv_every=1, stabilize_norm=10.0, stabilization=0.1)
    x = torch.full((3, 2), 1e-4)  # tiny vectors: each update nearly doubles the inverse (1 / gamma)
    tops = []
    for _ in range(8):
        _step_delta(layer, opt, lambda: layer(x).sum())
        tops.append(float(opt.state[layer.weight]["R_inv"].abs().max()))
    assert max(tops) <= 10.0 and max(tops) > 4.0


def test_reference_and_fast_paths_agree_over_several_steps() -> None:
    def run(cls, foreach):  # noqa: ANN001, ANN202
        torch.manual_seed(8)
        model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3)).double()
        opt = cls(model, lr=0.05, inv_every=2, weight_decay=0.01, foreach=foreach)
        g = torch.Generator().manual_seed(9)
        for _ in range(5):
            x = torch.randn(4, 1, 6, 6, generator=g, dtype=torch.float64)
            opt.zero_grad()
            F.cross_entropy(model(x), torch.tensor([0, 1, 2, 0])).backward()
            opt.step()
        return [p.detach() for p in model.parameters()]

    for cls in (KFAC, MKOR):
        for a, b in zip(run(cls, False), run(cls, None), strict=True):
            assert torch.allclose(a, b, atol=1e-9), cls.__name__


@pytest.mark.parametrize("clip", [False, True])
def test_product_from_the_batch_rows_matches_the_dense_product(clip: bool) -> None:
    torch.manual_seed(10)
    layer = nn.Linear(40, 30).double()  # 4 rows << 30, 41: the product is formed from the rows
    opt = KFAC(layer, lr=0.1)
    opt.zero_grad()
    layer(torch.randn(4, 40, dtype=torch.float64)).pow(2).mean().backward()
    if clip:  # the gradient is no longer the rows' outer products: the probe sees it, the dense product is used
        torch.nn.utils.clip_grad_norm_([layer.weight, layer.bias], 1e-3)
    lay = opt.layers[0]
    left = torch.randn(30, 30, dtype=torch.float64)
    right = torch.randn(41, 41, dtype=torch.float64)
    assert torch.allclose(lay.product(left, right), left @ lay.grad_matrix() @ right, atol=1e-10)
