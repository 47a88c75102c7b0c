"""The base of the Kronecker-factored optimizers (K-FAC, MKOR): layers found by forward hooks, the first-order
fallback for every other parameter, and the shared momentum / weight-decay update.

    buf = momentum * buf + d;   p = p * (1 - lr * weight_decay) - lr * buf

with d the preconditioned gradient for a hooked layer's weight and bias, and the plain gradient for the rest.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._base import NumericOptimizer
from optotrace.optimizers.numeric._foreach import group_by_device_dtype, use_foreach
from optotrace.optimizers.numeric._kron_layers import KronLayer, find_layers


class KronOptimizer(NumericOptimizer):
    """Subclasses implement `_directions(group, layers) -> {layer: direction matrix or None}` (None: that layer
    takes the first-order step this time). Factor state lives in the state of each layer's weight."""

    def __init__(
        self,
        params: nn.Module | Iterable[Tensor] | Iterable[dict],
        defaults: dict[str, Any],
        *,
        model: nn.Module | None,
        layers: Iterable[nn.Module] | None,
    ) -> None:
        name = type(self).__name__
        if isinstance(params, nn.Module):
            if model is not None and model is not params:
                raise v.NumericOptimizerError(f"{name}: got a model twice (as params and as model=); give it once")
            model, params = params, params.parameters()
        super().__init__(params, defaults)
        all_params = [p for g in self.param_groups for p in g["params"]]
        self.layers, self._hooks = find_layers(name, model, all_params, None if layers is None else list(layers))
        self._group_of = {id(p): g for g in self.param_groups for p in g["params"]}

    def remove_hooks(self) -> None:
        """Detach the forward hooks from the model (the optimizer then only takes first-order steps)."""
        for handle in self._hooks:
            handle.remove()
        self._hooks = []

    @abstractmethod
    def _directions(self, layers: list[KronLayer]) -> dict[KronLayer, Tensor | None]:
        """{layer: preconditioned gradient matrix, or None for a first-order step}: each subclass's own rule."""
        raise NotImplementedError(f"{type(self).__name__} must define _directions (K-FAC and MKOR do)")

    def _scale(self, directions: dict[KronLayer, Tensor | None]) -> float:
        """A factor applied to every preconditioned direction (K-FAC's KL clipping); 1 by default."""
        return 1.0

    @torch.no_grad()
    def step(self, closure: Callable[[], float | Tensor] | None = None) -> float | Tensor | None:
        loss = self._call_closure(closure)
        layers = [lay for lay in self.layers if lay.weight.grad is not None]
        for lay in layers:
            if lay.weight.grad.is_sparse:
                raise v.NumericOptimizerError(f"{type(self).__name__} does not support sparse gradients")
        directions = self._directions(layers)
        scale = self._scale(directions)
        step_of: dict[int, Tensor] = {}
        for lay, d in directions.items():
            if d is None:
                continue
            w, b = lay.split(d)
            step_of[id(lay.weight)] = w.mul_(scale) if scale != 1.0 else w
            if b is not None:
                step_of[id(lay.bias)] = b.mul_(scale) if scale != 1.0 else b
        for lay in self.layers:
            lay.clear()
        for group in self.param_groups:
            params, steps = [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise v.NumericOptimizerError(f"{type(self).__name__} does not support sparse gradients")
                params.append(p)
                steps.append(step_of.get(id(p), p.grad))
            if params:
                _apply(self, group, params, steps)
        return loss


def _apply(opt: KronOptimizer, group: dict, params: list[Tensor], steps: list[Tensor]) -> None:
    """buf = momentum * buf + d; p = p * (1 - lr * wd) - lr * buf (buf = d without momentum)."""
    lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
    bufs = opt.momentum_buffers(params) if mom > 0 else []
    steps = [d.reshape(p.shape) for d, p in zip(steps, params, strict=True)]
    if use_foreach(group["foreach"], params):
        lists = [params, steps, bufs] if bufs else [params, steps]
        for bucket in group_by_device_dtype(lists):
            P, D = bucket[0], bucket[1]
            if bufs:
                torch._foreach_mul_(bucket[2], mom)
                torch._foreach_add_(bucket[2], D)
                D = bucket[2]
            if wd != 0:
                torch._foreach_mul_(P, 1.0 - lr * wd)
            torch._foreach_add_(P, D, alpha=-lr)
        return
    for i, (p, d) in enumerate(zip(params, steps, strict=True)):
        if bufs:
            d = bufs[i].mul_(mom).add_(d)
        if wd != 0:
            p.mul_(1.0 - lr * wd)
        p.add_(d, alpha=-lr)


def identity_like(n: int, ref: Tensor) -> Tensor:
    return torch.eye(n, dtype=ref.dtype, device=ref.device)
