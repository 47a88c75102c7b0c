"""AdaHessian (Yao et al. 2021, "ADAHESSIAN: An Adaptive Second Order Optimizer for Machine Learning").

Per step, with D the Hutchinson estimate z * (H z) (z Rademacher), made positive with abs and averaged over
the kernel dims of conv weights (tensors of 3 or more dims):

    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * D * D
    denom = (sqrt(v / (1 - beta2^t)))^hessian_power + eps
    p = p * (1 - lr * weight_decay) - lr / (1 - beta1^t) * m / denom

Gradients must carry their graph: call `loss.backward(create_graph=True)` (also inside a closure). After the
step every `p.grad` holds its detached value, so the double-backward graph is freed (see `_hessian`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import torch
from torch import Tensor

from optotrace.optimizers.numeric import _fused
from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._base import NumericOptimizer
from optotrace.optimizers.numeric._foreach import blocks, group_by_device_dtype, use_foreach
from optotrace.optimizers.numeric._hessian import detach_grads, fused_probes, probe_products, spatial_average_


class AdaHessian(NumericOptimizer):
    """Adam-like update with the Hutchinson Hessian diagonal in place of the squared gradient.

    `step(closure=None, hessian=None)`: `hessian` may map parameters to a precomputed diagonal estimate (already
    abs'ed and averaged, e.g. from `estimate_hessian()` averaged over several probes); otherwise the step draws
    one probe from the gradients' graph.

    `fused=` (None, True, False) runs the update of each large dense tensor as one compiled kernel and expands
    the Rademacher probes with one (see `optotrace.optimizers.numeric._fused` for when None turns it on);
    `foreach=` picks the path of the rest.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 0.15,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-4,
        weight_decay: float = 0.0,
        hessian_power: float = 1.0,
        *,
        spatial_average: bool = True,
        seed: int | None = None,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        if not 0.0 < hessian_power <= 1.0:
            raise v.NumericOptimizerError(f"hessian_power must be in (0, 1], got {hessian_power!r}")
        defaults = dict(
            lr=v.check_nonneg("lr", lr),
            betas=v.check_betas(betas),
            eps=v.check_positive("eps", eps),
            weight_decay=v.check_nonneg("weight_decay", weight_decay),
            hessian_power=float(hessian_power),
            spatial_average=bool(spatial_average),
            foreach=v.check_foreach(foreach),
            fused=v.check_fused(fused),
        )
        super().__init__(params, defaults, seed=seed)

    def estimate_hessian(self) -> dict[Tensor, Tensor]:
        """One Hutchinson sample per parameter with a gradient, abs'ed and kernel-averaged; detaches the grads."""
        return self._estimate(signed=False)

    def _estimate(self, *, signed: bool) -> dict[Tensor, Tensor]:
        """|z * Hz| per parameter (kernel-averaged where the group asks). With z Rademacher, |z * Hz| = |Hz|, so
        no product with z is taken; with `signed`, tensors that are not averaged keep the raw Hz: the update only
        uses D * D, which is the same for Hz and |Hz|, and the abs pass is saved."""
        params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        if not params:
            return {}
        averaging = {id(p): g["spatial_average"] for g in self.param_groups for p in g["params"]}
        zs, hzs = probe_products(
            params,
            [p.grad for p in params],
            distribution="rademacher",
            generator=self.generator(params[0].device),
            fused=fused_probes(self.param_groups, params),
        )
        detach_grads(params)
        out = {}
        for p, z, hz in zip(params, zs, hzs, strict=True):
            if hz is None:
                out[p] = torch.zeros_like(z)
                continue
            averaged = averaging[id(p)] and hz.dim() >= 3
            if averaged or not signed:
                hz.abs_()
            if averaged:
                spatial_average_(hz)
            out[p] = hz
        return out

    @torch.no_grad()
    def step(
        self, closure: Callable[[], float | Tensor] | None = None, hessian: Mapping[Tensor, Tensor] | None = None
    ) -> float | Tensor | None:
        loss = self._call_closure(closure)
        if hessian is None:
            with torch.enable_grad():
                hessian = self._estimate(signed=True)
        for group in self.param_groups:
            params, grads, diags, avgs, sqs = [], [], [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p not in hessian:
                    raise v.NumericOptimizerError("hessian= lacks an entry for a parameter that has a gradient")
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_hessian_diag_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                params.append(p)
                grads.append(p.grad.detach())
                diags.append(hessian[p])
                avgs.append(state["exp_avg"])
                sqs.append(state["exp_hessian_diag_sq"])
            if not params:
                continue
            t = self.state[params[0]]["step"]
            beta1, beta2 = group["betas"]
            args = dict(
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                wd=group["weight_decay"],
                k=group["hessian_power"],
                bc1=1.0 - beta1**t,
                bc2=1.0 - beta2**t,
            )

            def plain(lists: list[list[Tensor]], group: dict = group, args: dict = args) -> None:
                if not lists[0]:
                    return
                if use_foreach(group["foreach"], lists[0]):
                    _update_foreach(*lists, **args)
                else:
                    _update_single(*lists, **args)

            lists = [params, grads, diags, avgs, sqs]
            kind = "adahessian" if args["k"] == 1.0 else "adahessian_power"
            rows, rest = _fused.split_rows(lists, group.get("fused"))
            if _fused.use_fused(group.get("fused"), kind, rows):
                s = _fused.scalars(_kernel_scalars(**args), rows[0][0])
                _fused.run_rows(kind, rows, [s], plain)
                lists = rest
            plain(lists)
        return loss


def _kernel_scalars(
    *, lr: float, beta1: float, beta2: float, eps: float, wd: float, k: float, bc1: float, bc2: float
) -> list[float]:
    """The numbers the compiled update reads (see `_fused._adahessian` and `_fused._adahessian_power`)."""
    head = [1.0 - lr * wd, 1.0 - beta1, beta2, 1.0 - beta2]
    if k == 1.0:
        return [*head, eps * math.sqrt(bc2), lr * math.sqrt(bc2) / bc1]
    return [*head, eps, lr / bc1, math.sqrt(bc2), k]


def _update_single(
    params: list[Tensor],
    grads: list[Tensor],
    diags: list[Tensor],
    avgs: list[Tensor],
    sqs: list[Tensor],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    wd: float,
    k: float,
    bc1: float,
    bc2: float,
) -> None:
    for p, g, d, m, s in zip(params, grads, diags, avgs, sqs, strict=True):
        m.lerp_(g, 1.0 - beta1)
        s.mul_(beta2).addcmul_(d, d, value=1.0 - beta2)
        if wd != 0:
            p.mul_(1.0 - lr * wd)
        denom = s.sqrt()
        if k == 1.0:  # (sqrt(s) / c + eps) = (sqrt(s) + eps c) / c, c = sqrt(bc2): one pass less
            denom.add_(eps * math.sqrt(bc2))
            p.addcdiv_(m, denom, value=-lr * math.sqrt(bc2) / bc1)
        else:
            denom.div_(math.sqrt(bc2)).pow_(k).add_(eps)
            p.addcdiv_(m, denom, value=-lr / bc1)


def _update_foreach(
    params: list[Tensor],
    grads: list[Tensor],
    diags: list[Tensor],
    avgs: list[Tensor],
    sqs: list[Tensor],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    wd: float,
    k: float,
    bc1: float,
    bc2: float,
) -> None:
    lists = [params, grads, diags, avgs, sqs]
    for P, G, D, M, S in (b for bucket in group_by_device_dtype(lists) for b in blocks(bucket)):
        torch._foreach_lerp_(M, G, 1.0 - beta1)
        torch._foreach_mul_(S, beta2)
        torch._foreach_addcmul_(S, D, D, value=1.0 - beta2)
        if wd != 0:
            torch._foreach_mul_(P, 1.0 - lr * wd)
        denom = torch._foreach_sqrt(S)
        if k == 1.0:
            torch._foreach_add_(denom, eps * math.sqrt(bc2))
            torch._foreach_addcdiv_(P, M, denom, value=-lr * math.sqrt(bc2) / bc1)
        else:
            torch._foreach_div_(denom, math.sqrt(bc2))
            torch._foreach_pow_(denom, k)
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(P, M, denom, value=-lr / bc1)
