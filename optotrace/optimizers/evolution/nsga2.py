"""NSGA-II as ask/tell on torch tensors, in the unit cube (Deb et al. 2002).

`ask()` returns a population to evaluate (random at first, then offspring: binary tournament on (rank, crowding),
simulated binary crossover with the per-variable swap of the children, polynomial mutation); `tell(F)` gives their objectives (minimized; a row of +inf marks
a failed evaluation) and keeps the best `pop_size` of parents and offspring. Everything is a tensor on `device`.
"""

from __future__ import annotations

from typing import Any

import torch

from optotrace.optimizers.evolution.pareto import environmental_selection


class NSGA2:
    def __init__(self, dim: int, pop_size: int = 50, *, device: str | torch.device = "cpu", seed: int = 0,
                 eta_c: float = 15.0, eta_m: float = 20.0, p_cross: float = 0.9) -> None:
        self.dim, self.pop_size = int(dim), int(pop_size)
        self.device = torch.device(device)
        self.eta_c, self.eta_m, self.p_cross = eta_c, eta_m, p_cross
        self.gen = torch.Generator(device=self.device).manual_seed(seed)
        self.X: torch.Tensor | None = None  # survivors
        self.F: torch.Tensor | None = None
        self.rank: torch.Tensor | None = None
        self.crowd: torch.Tensor | None = None
        self.evaluations = 0

    def _rand(self, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=self.gen, device=self.device, dtype=torch.float64)

    def ask(self) -> torch.Tensor:
        if self.X is None:
            return self._rand(self.pop_size, self.dim)
        assert self.rank is not None and self.crowd is not None
        n = self.X.shape[0]
        a = torch.randint(n, (2, self.pop_size), generator=self.gen, device=self.device)
        better = (self.rank[a[0]] < self.rank[a[1]]) | (
            (self.rank[a[0]] == self.rank[a[1]]) & (self.crowd[a[0]] >= self.crowd[a[1]]))
        parents = self.X[torch.where(better, a[0], a[1])]
        return self._mutate(self._crossover(parents))

    def _crossover(self, P: torch.Tensor) -> torch.Tensor:
        half = P.shape[0] // 2
        p1, p2 = P[:half], P[half : 2 * half]
        u = self._rand(half, self.dim)
        beta = torch.where(u <= 0.5, (2 * u) ** (1 / (self.eta_c + 1)), (1 / (2 * (1 - u))) ** (1 / (self.eta_c + 1)))
        beta = torch.where(self._rand(half, self.dim) < 0.5, beta, torch.ones_like(beta))  # per variable
        beta = torch.where(self._rand(half, 1) < self.p_cross, beta, torch.ones_like(beta))  # per pair
        c1 = 0.5 * ((1 + beta) * p1 + (1 - beta) * p2)
        c2 = 0.5 * ((1 - beta) * p1 + (1 + beta) * p2)
        swap = self._rand(half, self.dim) < 0.5  # Deb's code swaps the children per variable: genes mix
        c1, c2 = torch.where(swap, c2, c1), torch.where(swap, c1, c2)
        return torch.cat([c1, c2, P[2 * half :]]).clamp(0, 1)

    def _mutate(self, X: torch.Tensor) -> torch.Tensor:
        u = self._rand(*X.shape)
        e = 1 / (self.eta_m + 1)
        lo = (2 * u + (1 - 2 * u) * (1 - X) ** (self.eta_m + 1)) ** e - 1
        hi = 1 - (2 * (1 - u) + 2 * (u - 0.5) * X ** (self.eta_m + 1)) ** e
        delta = torch.where(u < 0.5, lo, hi)
        mutate = self._rand(*X.shape) < 1.0 / self.dim
        return torch.where(mutate, X + delta, X).clamp(0, 1)

    def tell(self, X: torch.Tensor, F: torch.Tensor) -> None:
        X = X.to(self.device, torch.float64)
        F = torch.nan_to_num(F.to(self.device, torch.float64), nan=float("inf"))
        self.evaluations += X.shape[0]
        if self.X is not None and self.F is not None:
            X, F = torch.cat([self.X, X]), torch.cat([self.F, F])
        keep, self.rank, self.crowd = environmental_selection(F, self.pop_size)
        self.X, self.F = X[keep], F[keep]

    def front(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(X, F) of the survivors on the first front."""
        if self.X is None or self.F is None or self.rank is None:
            return torch.empty(0, self.dim), torch.empty(0, 0)
        mask = (self.rank == 0) & torch.isfinite(self.F).all(-1)
        return self.X[mask], self.F[mask]

    def state(self) -> dict[str, Any]:
        return {"X": None if self.X is None else self.X.cpu().tolist(),
                "F": None if self.F is None else self.F.cpu().tolist(),
                "rank": None if self.rank is None else self.rank.cpu().tolist(),
                "crowd": None if self.crowd is None else self.crowd.cpu().tolist(),
                "evaluations": self.evaluations, "rng": self.gen.get_state().tolist()}

    def load(self, state: dict[str, Any]) -> None:
        self.evaluations = int(state.get("evaluations", 0))
        if state.get("rng") is not None:
            self.gen.set_state(torch.tensor(state["rng"], dtype=torch.uint8))
        if state.get("X") is None:
            self.X = self.F = self.rank = self.crowd = None
            return
        self.X = torch.tensor(state["X"], dtype=torch.float64, device=self.device)
        self.F = torch.tensor(state["F"], dtype=torch.float64, device=self.device)
        self.rank = torch.tensor(state["rank"], dtype=torch.long, device=self.device)
        self.crowd = torch.tensor(state["crowd"], dtype=torch.float64, device=self.device)
