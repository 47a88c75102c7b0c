"""Coordinate-wise zeroth-order gradient estimation with a sparsity mask, as in DeepZero (Chen et al. 2024,
"DeepZero: Scaling up Zeroth-Order Optimization for Deep Model Training").

For each active coordinate i (those the mask keeps), a forward difference

    g_i = (f(p + mu e_i) - f(p)) / mu

and zero elsewhere; then SGD with momentum and decoupled weight decay on that estimate. One step costs
1 + (number of active coordinates) evaluations of the closure, so it suits functions without gradients and
few parameters (or a high `sparsity`). The mask keeps round((1 - sparsity) * numel) coordinates of each tensor
(at least one), drawn at random once (DeepZero keeps a fixed sparse pattern), or redrawn every
`mask_interval` steps; `set_mask(param, mask)` installs a mask of your own (e.g. from a pruning criterion).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._base import NumericOptimizer
from optotrace.optimizers.numeric._foreach import group_by_device_dtype, use_foreach
from optotrace.optimizers.numeric.errors import NumericOptimizerError
from optotrace.optimizers.numeric.zosgd import loss_value


class DeepZero(NumericOptimizer):
    """Sparse coordinate-wise gradient estimation (CGE) + momentum SGD, for closures without gradients."""

    _exact_state_keys = ("active",)

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        mu: float = 5e-3,
        sparsity: float = 0.0,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        mask_interval: int | None = None,
        *,
        seed: int | None = None,
        foreach: bool | None = None,
    ) -> None:
        if mask_interval is not None:
            v.check_int("mask_interval", mask_interval)
        defaults = dict(
            lr=v.check_nonneg("lr", lr),
            mu=v.check_positive("mu", mu),
            sparsity=v.check_unit("sparsity", sparsity),
            momentum=v.check_unit("momentum", momentum),
            weight_decay=v.check_nonneg("weight_decay", weight_decay),
            mask_interval=mask_interval,
            foreach=v.check_foreach(foreach),
        )
        super().__init__(params, defaults, seed=seed)

    def set_mask(self, param: Tensor, mask: Tensor) -> None:
        """Estimate only where `mask` (bool, shaped like `param`) is True."""
        if mask.shape != param.shape or mask.dtype != torch.bool:
            raise NumericOptimizerError(
                f"mask must be a bool tensor of shape {tuple(param.shape)}, got {mask.dtype} {tuple(mask.shape)}"
            )
        if not mask.any():
            raise NumericOptimizerError("mask selects no coordinate; keep at least one True")
        state = self.state[param]
        state["active"] = mask.reshape(-1).nonzero().view(-1).to(param.device)
        state["user_mask"] = True

    def _draw_active(self, p: Tensor, sparsity: float) -> Tensor:
        n = p.numel()
        keep = max(1, round((1.0 - sparsity) * n))
        perm = torch.randperm(n, generator=self.generator(torch.device("cpu")))
        return perm[:keep].sort().values.to(p.device)

    @torch.no_grad()
    def step(self, closure: Callable[[], float | Tensor] | None = None) -> float:  # type: ignore[override]
        """Estimate the gradient on the active coordinates and update; returns f at the point before the step."""
        if closure is None:
            raise NumericOptimizerError("DeepZero.step needs a closure that evaluates and returns the loss")
        f0 = loss_value(closure())
        for group in self.param_groups:
            estimates = []
            for p in group["params"]:
                state = self.state[p]
                step = state.get("step", 0)
                redraw = group["mask_interval"] is not None and step % group["mask_interval"] == 0
                if "active" not in state or (redraw and not state.get("user_mask", False)):
                    state["active"] = self._draw_active(p, group["sparsity"])
                state["step"] = step + 1
                estimates.append(_coordinate_estimate(p, state["active"], closure, f0, group["mu"]))
            _update(self, group, estimates)
        return f0


def _coordinate_estimate(p: Tensor, active: Tensor, closure: Callable, f0: float, mu: float) -> Tensor:
    """Forward differences on the active coordinates (flat indices in row-major order), zeros elsewhere."""
    est = torch.zeros_like(p)
    coords = torch.unravel_index(active.cpu(), p.shape) if p.dim() else ()
    for j in range(active.numel()):
        index = tuple(int(c[j]) for c in coords)
        elem = p[index]
        old = elem.clone()
        elem.add_(mu)
        fi = loss_value(closure())
        elem.copy_(old)
        est[index] = (fi - f0) / mu
    return est


def _update(opt: DeepZero, group: dict, estimates: list[Tensor]) -> None:
    """buf = momentum * buf + g; p = p * (1 - lr * wd) - lr * buf (buf = g without momentum)."""
    params = group["params"]
    lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
    steps = estimates
    if mom > 0:
        steps = []
        for p in params:
            state = opt.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = torch.zeros_like(p)
            steps.append(state["momentum_buffer"])
    if use_foreach(group["foreach"], params):
        for P, E, S in group_by_device_dtype([params, estimates, steps]):
            if mom > 0:
                torch._foreach_mul_(S, mom)
                torch._foreach_add_(S, E)
            if wd != 0:
                torch._foreach_mul_(P, 1.0 - lr * wd)
            torch._foreach_add_(P, S, alpha=-lr)
        return
    for p, e, s in zip(params, estimates, steps, strict=True):
        if mom > 0:
            s.mul_(mom).add_(e)
        if wd != 0:
            p.mul_(1.0 - lr * wd)
        p.add_(s, alpha=-lr)
