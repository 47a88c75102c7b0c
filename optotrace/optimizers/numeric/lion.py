"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms").

    c = beta1 * m + (1 - beta1) * g          (interpolated momentum)
    p = p * (1 - lr * weight_decay) - lr * sign(c)
    m = beta2 * m + (1 - beta2) * g          (the one state buffer, `exp_avg`)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from optotrace.optimizers.numeric import _fused
from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._base import NumericOptimizer
from optotrace.optimizers.numeric._foreach import blocks, group_by_device_dtype, use_foreach


class Lion(NumericOptimizer):
    """Sign update of the interpolated momentum, decoupled weight decay; paper defaults betas (0.9, 0.99).

    The paper suggests an lr 3-10x smaller than AdamW's and a weight decay 3-10x larger.

    `fused=` (None, True, False) runs the update of each large dense tensor as one compiled kernel (see
    `optotrace.optimizers.numeric._fused` for when None turns it on); `foreach=` picks the path of the rest.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=v.check_nonneg("lr", lr),
            betas=v.check_betas(betas),
            weight_decay=v.check_nonneg("weight_decay", weight_decay),
            foreach=v.check_foreach(foreach),
            fused=v.check_fused(fused),
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float | Tensor] | None = None) -> float | Tensor | None:
        loss = self._call_closure(closure)
        for group in self.param_groups:
            params, grads, avgs = [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise v.NumericOptimizerError("Lion does not support sparse gradients")
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                params.append(p)
                grads.append(p.grad)
                avgs.append(state["exp_avg"])
            if not params:
                continue
            beta1, beta2 = group["betas"]
            lr, wd = group["lr"], group["weight_decay"]

            def plain(lists: list[list[Tensor]], group: dict = group, args: tuple = (lr, beta1, beta2, wd)) -> None:
                if not lists[0]:
                    return
                if use_foreach(group["foreach"], lists[0]):
                    _lion_foreach(*lists, *args)
                else:
                    _lion_single(*lists, *args)

            lists = [params, grads, avgs]
            rows, rest = _fused.split_rows(lists, group.get("fused"))
            if _fused.use_fused(group.get("fused"), "lion", rows):
                s = _fused.scalars([1.0 - lr * wd, lr, 1.0 - beta1, 1.0 - beta2], rows[0][0])
                _fused.run_rows("lion", rows, [s], plain)
                lists = rest
            plain(lists)
        return loss


def _lion_single(
    params: list[Tensor], grads: list[Tensor], avgs: list[Tensor], lr: float, beta1: float, beta2: float, wd: float
) -> None:
    for p, g, m in zip(params, grads, avgs, strict=True):
        if wd != 0:
            p.mul_(1.0 - lr * wd)
        update = torch.lerp(m, g, 1.0 - beta1).sign_()
        p.add_(update, alpha=-lr)
        m.lerp_(g, 1.0 - beta2)


def _lion_foreach(
    params: list[Tensor], grads: list[Tensor], avgs: list[Tensor], lr: float, beta1: float, beta2: float, wd: float
) -> None:
    for P, G, M in (b for bucket in group_by_device_dtype([params, grads, avgs]) for b in blocks(bucket)):
        if wd != 0:
            torch._foreach_mul_(P, 1.0 - lr * wd)
        U = torch._foreach_lerp(M, G, 1.0 - beta1)
        torch._foreach_sign_(U)
        torch._foreach_add_(P, U, alpha=-lr)
        torch._foreach_lerp_(M, G, 1.0 - beta2)
