"""What every numeric optimizer shares beyond torch.optim.Optimizer: seeded random draws that survive
state_dict round trips, and state tensors whose dtype must not follow the parameter's on load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from optotrace.optimizers.numeric.errors import NumericOptimizerError


class NumericOptimizer(torch.optim.Optimizer):
    """Base class. Subclasses set `_exact_state_keys` for state tensors to restore with their saved dtype
    (torch casts floating state to the parameter's dtype on load), and use `generator(device)` for draws."""

    _exact_state_keys: tuple[str, ...] = ()

    def __init__(self, params: Any, defaults: dict[str, Any], *, seed: int | None = None) -> None:
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise NumericOptimizerError(f"seed must be an int or None, got {seed!r}")
        self._seed = seed
        self._generators: dict[str, torch.Generator] = {}
        self._pending_rng: dict[str, Tensor] = {}
        super().__init__(params, defaults)

    # -- random draws -------------------------------------------------------------------------------------------
    def generator(self, device: torch.device) -> torch.Generator | None:
        """The optimizer's own generator for `device` when built with `seed=`, else None (torch's global RNG)."""
        if self._seed is None:
            return None
        key = str(device)
        gen = self._generators.get(key)
        if gen is None:
            gen = torch.Generator(device=device)
            gen.manual_seed(self._seed)
            pending = self._pending_rng.pop(key, None)
            if pending is not None:
                gen.set_state(pending)
            self._generators[key] = gen
        return gen

    # -- state --------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        if self._seed is not None:
            rng = {k: g.get_state() for k, g in self._generators.items()}
            rng.update({k: s for k, s in self._pending_rng.items() if k not in rng})
            sd["rng"] = {"seed": self._seed, "states": rng}
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        rng = state_dict.pop("rng", None)
        super().load_state_dict(state_dict)
        if rng is not None:
            self._seed = int(rng["seed"])
            self._generators = {}
            self._pending_rng = {k: s.clone() for k, s in rng["states"].items()}
        if self._exact_state_keys:
            saved = state_dict["state"]
            index = 0
            for group in self.param_groups:
                for p in group["params"]:
                    entry = saved.get(index)
                    if entry is not None:
                        for key in self._exact_state_keys:
                            if key in entry and isinstance(entry[key], Tensor):
                                self.state[p][key] = entry[key].detach().clone().to(device=p.device)
                    index += 1

    # -- helpers ------------------------------------------------------------------------------------------------
    def momentum_buffers(self, params: list[Tensor]) -> list[Tensor]:
        """Each parameter's momentum buffer (state["momentum_buffer"]), created as zeros on first use."""
        bufs = []
        for p in params:
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            bufs.append(state["momentum_buffer"])
        return bufs

    @staticmethod
    def _call_closure(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()
