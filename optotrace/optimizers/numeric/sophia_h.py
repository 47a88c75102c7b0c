"""SophiaH: Sophia with Hutchinson's estimator h_hat = u * (H u) (Liu et al. 2023, Algorithm 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from optotrace.optimizers.numeric._hessian import (
    check_distribution,
    detach_grads,
    fused_probes,
    hutchinson_diagonal,
)
from optotrace.optimizers.numeric._sophia import SophiaBase


class SophiaH(SophiaBase):
    """Sophia whose Hessian diagonal comes from Hutchinson probes.

    Every `hessian_interval` steps: `loss.backward(create_graph=True)`, then `update_hessian()` (it takes the
    Hessian-vector product and detaches the grads), then `step()` as usual with the same gradients. Between
    refreshes a plain `loss.backward()` is enough. The paper draws u from N(0, I); `distribution="rademacher"`
    gives the lower-variance Rademacher probe.
    """

    def __init__(self, params: Any, *args: Any, distribution: str = "gaussian", **kwargs: Any) -> None:
        self.distribution = check_distribution(distribution)
        super().__init__(params, *args, **kwargs)

    def update_hessian(self, closure: Callable[[], Any] | None = None) -> Any:
        """Refresh the Hessian EMA from the current gradients' graph (or from `closure`, which must call
        `backward(create_graph=True)`); returns the closure's loss."""
        loss = self._call_closure(closure)
        params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        if not params:
            return loss
        with torch.enable_grad():
            estimates = hutchinson_diagonal(
                params,
                [p.grad for p in params],
                distribution=self.distribution,
                generator=self.generator(params[0].device),
                fused=fused_probes(self.param_groups, params),
            )
        detach_grads(params)
        self._accumulate_hessian(params, estimates)
        return loss

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["distribution"] = self.distribution
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        self.distribution = check_distribution(state_dict.pop("distribution", self.distribution))
        super().load_state_dict(state_dict)
