"""The update that SophiaH and SophiaG share (Liu et al. 2023, "Sophia: A Scalable Stochastic Second-order
Optimizer for Language Model Pre-training", Algorithm 3):

    m = beta1 * m + (1 - beta1) * g                         every step
    h = beta2 * h + (1 - beta2) * h_hat                      every k steps, by an explicit update_hessian()
    p = p * (1 - lr * weight_decay)
    p = p - lr * clip(m / max(rho * h, eps), -1, 1)

The subclasses differ only in the estimator h_hat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
from torch import Tensor

from optotrace.optimizers.numeric import _fused
from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._base import NumericOptimizer
from optotrace.optimizers.numeric._foreach import blocks, group_by_device_dtype, use_foreach


class SophiaBase(NumericOptimizer):
    """Clipped, Hessian-preconditioned momentum. Paper defaults: betas (0.965, 0.99), rho 0.04,
    weight_decay 0.1, k = 10 (call `update_hessian()` every `k` steps; the optimizer does not count for you,
    `hessian_interval` is kept in the group for loops that want to read it). `fused=` (None, True, False) runs
    the update of each large dense tensor as one compiled kernel (see `optotrace.optimizers.numeric._fused`);
    `foreach=` picks the path of the rest."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.965, 0.99),
        rho: float = 0.04,
        weight_decay: float = 1e-1,
        eps: float = 1e-12,
        hessian_interval: int = 10,
        *,
        seed: int | None = None,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=v.check_nonneg("lr", lr),
            betas=v.check_betas(betas),
            rho=v.check_positive("rho", rho),
            weight_decay=v.check_nonneg("weight_decay", weight_decay),
            eps=v.check_positive("eps", eps),
            hessian_interval=v.check_int("hessian_interval", hessian_interval),
            foreach=v.check_foreach(foreach),
            fused=v.check_fused(fused),
        )
        super().__init__(params, defaults, seed=seed)

    def _init_state(self, p: Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["hessian_updates"] = 0
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

    @torch.no_grad()
    def _accumulate_hessian(self, params: Sequence[Tensor], estimates: Sequence[Tensor]) -> None:
        """h = beta2 * h + (1 - beta2) * h_hat for each parameter."""
        beta2_of = {id(p): g["betas"][1] for g in self.param_groups for p in g["params"]}
        for p, est in zip(params, estimates, strict=True):
            state = self._init_state(p)
            state["hessian"].lerp_(est.to(state["hessian"].dtype), 1.0 - beta2_of[id(p)])
            state["hessian_updates"] += 1

    @torch.no_grad()
    def step(self, closure: Callable[[], float | Tensor] | None = None) -> float | Tensor | None:
        loss = self._call_closure(closure)
        for group in self.param_groups:
            params, grads, avgs, hessians = [], [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise v.NumericOptimizerError(f"{type(self).__name__} does not support sparse gradients")
                state = self._init_state(p)
                state["step"] += 1
                params.append(p)
                grads.append(p.grad.detach())
                avgs.append(state["exp_avg"])
                hessians.append(state["hessian"])
            if not params:
                continue
            args = dict(
                lr=group["lr"],
                beta1=group["betas"][0],
                rho=group["rho"],
                eps=group["eps"],
                wd=group["weight_decay"],
            )

            def plain(lists: list[list[Tensor]], group: dict = group, args: dict = args) -> None:
                if not lists[0]:
                    return
                if use_foreach(group["foreach"], lists[0]):
                    _sophia_foreach(*lists, **args)
                else:
                    _sophia_single(*lists, **args)

            lists = [params, grads, avgs, hessians]
            rows, rest = _fused.split_rows(lists, group.get("fused"))
            if _fused.use_fused(group.get("fused"), "sophia", rows):
                lr = args["lr"]
                values = [1.0 - lr * args["wd"], lr, 1.0 - args["beta1"], args["rho"], args["eps"]]
                _fused.run_rows("sophia", rows, [_fused.scalars(values, rows[0][0])], plain)
                lists = rest
            plain(lists)
        return loss


def _sophia_single(
    params: list[Tensor],
    grads: list[Tensor],
    avgs: list[Tensor],
    hessians: list[Tensor],
    *,
    lr: float,
    beta1: float,
    rho: float,
    eps: float,
    wd: float,
) -> None:
    for p, g, m, h in zip(params, grads, avgs, hessians, strict=True):
        if wd != 0:
            p.mul_(1.0 - lr * wd)
        m.lerp_(g, 1.0 - beta1)
        denom = torch.mul(h, rho).clamp_min_(eps)
        ratio = torch.div(m, denom).clamp_(-1.0, 1.0)
        p.add_(ratio, alpha=-lr)


def _sophia_foreach(
    params: list[Tensor],
    grads: list[Tensor],
    avgs: list[Tensor],
    hessians: list[Tensor],
    *,
    lr: float,
    beta1: float,
    rho: float,
    eps: float,
    wd: float,
) -> None:
    lists = [params, grads, avgs, hessians]
    for P, G, M, H in (b for bucket in group_by_device_dtype(lists) for b in blocks(bucket)):
        if wd != 0:
            torch._foreach_mul_(P, 1.0 - lr * wd)
        torch._foreach_lerp_(M, G, 1.0 - beta1)
        denom = torch._foreach_mul(H, rho)
        torch._foreach_clamp_min_(denom, eps)
        ratio = torch._foreach_div(M, denom)
        torch._foreach_clamp_min_(ratio, -1.0)
        torch._foreach_clamp_max_(ratio, 1.0)
        torch._foreach_add_(P, ratio, alpha=-lr)
