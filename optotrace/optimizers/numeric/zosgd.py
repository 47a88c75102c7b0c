"""ZO-SGD in the MeZO style (Malladi et al. 2023, "Fine-Tuning Language Models with Just Forward Passes").

Per step, with z ~ N(0, I) regenerated from a per-step seed (never stored):

    l+ = f(p + eps z),  l- = f(p - eps z),  g_proj = (l+ - l-) / (2 eps)
    p = p * (1 - lr * weight_decay) - lr * g_proj * z

Two forward passes, no backward and no optimizer state but the base seed and the step count. `step(closure)`
needs a closure that returns the loss; it runs under torch.no_grad(). The per-tensor path regenerates z four
times (perturb, flip, restore, update) and holds one z-sized temporary at a time, as MeZO does; the foreach path
draws z once per step and keeps it for the step (d more floats of transient memory, fewer draws).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._base import NumericOptimizer
from optotrace.optimizers.numeric._foreach import use_foreach
from optotrace.optimizers.numeric.errors import NumericOptimizerError

_MIX = 0x9E3779B97F4A7C15


def step_seed(base: int, step: int) -> int:
    """The seed of step `step`'s perturbation, derived from the base seed (so a resumed run draws the same z)."""
    return (base * 6364136223846793005 + (step + 1) * _MIX) % (2**63 - 1)


def loss_value(loss: float | Tensor) -> float:
    """A closure's loss as a Python float; clear error for anything else."""
    if isinstance(loss, Tensor):
        if loss.numel() != 1:
            raise NumericOptimizerError(f"the closure must return a scalar loss, got a tensor of shape {tuple(loss.shape)}")
        return float(loss.detach())
    if isinstance(loss, (int, float)) and not isinstance(loss, bool):
        return float(loss)
    raise NumericOptimizerError(f"the closure must return a number or a scalar tensor, got {type(loss).__name__}")


class ZOSGD(NumericOptimizer):
    """Zeroth-order SGD with seeded two-point Gaussian estimates; `eps` is shared by all groups."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        eps: float = 1e-3,
        weight_decay: float = 0.0,
        *,
        seed: int | None = None,
        foreach: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=v.check_nonneg("lr", lr),
            eps=v.check_positive("eps", eps),
            weight_decay=v.check_nonneg("weight_decay", weight_decay),
            foreach=v.check_foreach(foreach),
        )
        super().__init__(params, defaults)
        base = seed if seed is not None else int(torch.randint(0, 2**62, (1,)).item())
        if not isinstance(base, int) or isinstance(base, bool):
            raise NumericOptimizerError(f"seed must be an int or None, got {seed!r}")
        head = self.state[self.param_groups[0]["params"][0]]
        head["seed"] = base
        head["step"] = 0

    def _params(self) -> list[tuple[Tensor, dict]]:
        return [(p, g) for g in self.param_groups for p in g["params"]]

    @torch.no_grad()
    def step(self, closure: Callable[[], float | Tensor] | None = None) -> float:  # type: ignore[override]
        """One two-point estimate and update; returns (l+ + l-) / 2, the loss estimate at the current point."""
        if closure is None:
            raise NumericOptimizerError("ZOSGD.step needs a closure that evaluates and returns the loss")
        eps_values = {g["eps"] for g in self.param_groups}
        if len(eps_values) != 1:
            raise NumericOptimizerError(f"all parameter groups must share one eps, got {sorted(eps_values)}")
        eps = eps_values.pop()
        head = self.state[self.param_groups[0]["params"][0]]
        seed = step_seed(head["seed"], head["step"])
        pairs = self._params()
        fast = use_foreach(self.param_groups[0]["foreach"], [p for p, _ in pairs])
        if fast:
            zs = _draw(pairs, seed)
            torch._foreach_add_([p for p, _ in pairs], zs, alpha=eps)
            plus = loss_value(closure())
            torch._foreach_add_([p for p, _ in pairs], zs, alpha=-2 * eps)
            minus = loss_value(closure())
            torch._foreach_add_([p for p, _ in pairs], zs, alpha=eps)
        else:
            _perturb(pairs, seed, lambda g: eps)
            plus = loss_value(closure())
            _perturb(pairs, seed, lambda g: -2 * eps)
            minus = loss_value(closure())
            _perturb(pairs, seed, lambda g: eps)
        projected = (plus - minus) / (2 * eps)
        for group in self.param_groups:
            wd, lr = group["weight_decay"], group["lr"]
            if wd != 0:
                if fast:
                    torch._foreach_mul_(group["params"], 1.0 - lr * wd)
                else:
                    for p in group["params"]:
                        p.mul_(1.0 - lr * wd)
        if fast:
            for (p, g), z in zip(pairs, zs, strict=True):
                p.add_(z, alpha=-g["lr"] * projected)
        else:
            _perturb(pairs, seed, lambda g: -g["lr"] * projected)
        head["step"] += 1
        head["projected_grad"] = projected
        return (plus + minus) / 2


def _generators(pairs: list[tuple[Tensor, dict]], seed: int) -> dict[torch.device, torch.Generator]:
    gens: dict[torch.device, torch.Generator] = {}
    for p, _ in pairs:
        if p.device not in gens:
            gens[p.device] = torch.Generator(device=p.device).manual_seed(seed)
    return gens


def _draw(pairs: list[tuple[Tensor, dict]], seed: int) -> list[Tensor]:
    gens = _generators(pairs, seed)
    return [torch.randn(p.shape, generator=gens[p.device], device=p.device, dtype=p.dtype) for p, _ in pairs]


def _perturb(pairs: list[tuple[Tensor, dict]], seed: int, scale: Callable[[dict], float]) -> None:
    """p += scale(group) * z, z regenerated tensor by tensor from `seed`."""
    gens = _generators(pairs, seed)
    for p, g in pairs:
        z = torch.randn(p.shape, generator=gens[p.device], device=p.device, dtype=p.dtype)
        p.add_(z, alpha=scale(g))
