"""Shared helpers of the numeric-optimizer tests: devices, random problems, optimizer factories."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from optotrace.optimizers.numeric import MFAC, ZOSGD, AdaHessian, DeepZero, Lion, SophiaG, SophiaH

HAS_CUDA = torch.cuda.is_available()


@pytest.fixture(autouse=True)
def one_thread():  # noqa: ANN201 - imported by every numeric test module
    """Run each test on one intra-op thread, then restore the setting. The tests use small tensors, where
    torch's thread pool only costs time, and on a shared, oversubscribed machine a tiny matmul with two
    spinning threads can take 100x longer than with one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device here: the GPU half of this check is skipped"),
    ),
]


def make_params(device: str, seed: int = 0, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """Leaf tensors of assorted shapes: a scalar, a vector, a conv kernel, a matrix larger than one CPU block
    (so the blocked foreach path splits it), and a non-contiguous one."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(), (7,), (4, 3, 3, 3), (300, 250), (33, 65)]
    out = [torch.randn(s, generator=g, dtype=dtype).to(device) for s in shapes]
    out[-1] = torch.randn(65, 33, generator=g, dtype=dtype).to(device).t()  # non-contiguous leaf
    return [t.requires_grad_(True) for t in out]


def clone_params(params: list[torch.Tensor]) -> list[torch.Tensor]:
    out = []
    for p in params:
        q = torch.empty_strided(p.shape, p.stride(), dtype=p.dtype, device=p.device)
        q.copy_(p.detach())
        out.append(q.requires_grad_(True))
    return out


def quadratic_loss(params: list[torch.Tensor], seed: int) -> torch.Tensor:
    """A smooth non-quadratic loss with a non-diagonal Hessian, different per `seed`."""
    g = torch.Generator().manual_seed(seed)
    total = torch.zeros((), device=params[0].device, dtype=params[0].dtype)
    for p in params:
        flat = p.reshape(-1)
        a = torch.randn(flat.numel(), generator=g, dtype=p.dtype).to(p.device)
        total = total + (flat * a).sum().tanh() + 0.5 * (flat * flat).sum() + 0.1 * (flat**4).sum()
    return total


OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "Lion": lambda ps, wd, fe: Lion(ps, lr=1e-2, weight_decay=wd, foreach=fe),
    "AdaHessian": lambda ps, wd, fe: AdaHessian(ps, lr=1e-2, weight_decay=wd, hessian_power=0.8, seed=3, foreach=fe),
    "SophiaH": lambda ps, wd, fe: SophiaH(ps, lr=1e-2, weight_decay=wd, seed=3, foreach=fe),
    "SophiaG": lambda ps, wd, fe: SophiaG(ps, lr=1e-2, weight_decay=wd, foreach=fe),
    "MFAC": lambda ps, wd, fe: MFAC(ps, lr=0.5, num_grads=4, damp=1e3, momentum=0.9, weight_decay=wd, foreach=fe),
    "ZOSGD": lambda ps, wd, fe: ZOSGD(ps, lr=1e-3, eps=1e-3, weight_decay=wd, seed=5, foreach=fe),
    "DeepZero": lambda ps, wd, fe: DeepZero(
        ps, lr=1e-3, mu=1e-3, sparsity=0.9995, momentum=0.5, weight_decay=wd, seed=5, foreach=fe
    ),
}


def run_steps(name: str, opt: torch.optim.Optimizer, params: list[torch.Tensor], steps: int, seed0: int = 0) -> None:
    """Drive `opt` for `steps` steps on quadratic_loss, the way each optimizer expects to be called."""
    for s in range(steps):
        seed = seed0 + s
        opt.zero_grad()
        if name in ("ZOSGD", "DeepZero"):
            opt.step(lambda seed=seed: quadratic_loss(params, seed))
            continue
        loss = quadratic_loss(params, seed)
        if name == "AdaHessian":
            loss.backward(create_graph=True)
            opt.step()
        elif name == "SophiaH":
            loss.backward(create_graph=s % 2 == 0)
            if s % 2 == 0:
                opt.update_hessian()
            opt.step()
        elif name == "SophiaG":
            loss.backward()
            if s % 2 == 0:
                opt.update_hessian(batch_size=4)  # any gradient stands in for the sampled-label one here
            opt.step()
        else:
            loss.backward()
            opt.step()
