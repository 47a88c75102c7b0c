"""Ask/tell Bayesian optimization on the unit cube: a BoTorch Gaussian process, log expected improvement,
and a cost-aware choice of fidelity.

Scores are maximized. `ask()` returns the next point and the fidelity to evaluate it at; `tell()` records a
score. The first `n_init` points are random. After that a GP is fitted to all observations (the fidelity is one
more input, so cheap and expensive scores share one model) and the next point is the candidate with the
largest expected improvement at the target fidelity (1.0); the incumbent is the best posterior mean at the
target fidelity among the points seen, so cheap, biased scores never pose as the best.

The fidelity for that point is the one with the most information per unit cost: one observation at fidelity s
reduces the variance of f(x, 1) by Cov(f(x,1), f(x,s))^2 / Var(y(x,s)), and we pick the s maximizing that
reduction divided by cost(s). Cheap evaluations win while they still say something about the target; once the
cheap score at x is known well, the expensive one wins (the variance-reduction-per-cost rule of multi-fidelity
BO, e.g. Kandasamy et al. 2016; Song et al. 2019).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

DTYPE = torch.float64
Sampler = Callable[[torch.Tensor], torch.Tensor]  # snaps raw unit-cube rows to valid encoded points


class BOEngine:
    def __init__(self, width: int, snap: Sampler, *, fidelities: Sequence[tuple[float, float]] | None = None,
                 n_init: int = 5, n_candidates: int = 1024, seed: int = 0) -> None:
        self.width = width
        self.snap = snap
        self.fidelities = sorted((float(s), float(c)) for s, c in fidelities) if fidelities else None
        self.n_init = max(1, int(n_init))
        self.n_candidates = int(n_candidates)
        self.seed = int(seed)
        self.X: list[list[float]] = []
        self.Y: list[float] = []
        self.S: list[float] = []

    @property
    def multi_fidelity(self) -> bool:
        return self.fidelities is not None and len(self.fidelities) > 1

    def _generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed * 1_000_003 + len(self.Y))

    def tell(self, x: Sequence[float], y: float, fidelity: float = 1.0) -> None:
        self.X.append([float(v) for v in x])
        self.Y.append(float(y))
        self.S.append(float(fidelity))

    # -- ask -------------------------------------------------------------------------------------------------
    def ask(self) -> tuple[list[float], float]:
        g = self._generator()
        if len(self.Y) < self.n_init or len(set(self.Y)) < 2:
            x = self.snap(torch.rand(1, self.width, generator=g, dtype=DTYPE))[0]
            return x.tolist(), self._initial_fidelity()
        model = self.fit()
        cands = self._candidates(g)
        ei = self.log_ei(model, cands)
        x = cands[int(torch.argmax(ei))]
        return x.tolist(), self.choose_fidelity(model, x)

    def _initial_fidelity(self) -> float:
        if not self.multi_fidelity:
            return 1.0
        assert self.fidelities is not None
        has_target = any(s >= 1.0 for s in self.S)
        last_init = len(self.Y) >= self.n_init - 1
        return 1.0 if last_init and not has_target else self.fidelities[0][0]

    def _candidates(self, g: torch.Generator) -> torch.Tensor:
        """Random points plus Gaussian moves around the best few seen (a cheap local search)."""
        rand = torch.rand(self.n_candidates, self.width, generator=g, dtype=DTYPE)
        X = torch.tensor(self.X, dtype=DTYPE)
        Y = torch.tensor(self.Y, dtype=DTYPE)
        top = X[torch.argsort(Y, descending=True)[:5]]
        local = []
        for scale in (0.2, 0.05, 0.01):
            noise = torch.randn(top.shape[0], self.n_candidates // 8, self.width, generator=g, dtype=DTYPE)
            local.append((top[:, None, :] + scale * noise).reshape(-1, self.width).clamp(0, 1))
        return self.snap(torch.cat([rand, *local]))

    # -- the model ---------------------------------------------------------------------------------------------
    def train_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        X = torch.tensor(self.X, dtype=DTYPE).reshape(-1, self.width)
        if self.multi_fidelity:
            X = torch.cat([X, torch.tensor(self.S, dtype=DTYPE)[:, None]], dim=1)
        return X, torch.tensor(self.Y, dtype=DTYPE)[:, None]

    def fit(self) -> Any:
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms.outcome import Standardize
        from gpytorch.mlls import ExactMarginalLogLikelihood

        X, Y = self.train_data()
        torch.manual_seed(self.seed + len(self.Y))
        if self.multi_fidelity:
            from botorch.models import SingleTaskMultiFidelityGP

            model = SingleTaskMultiFidelityGP(X, Y, data_fidelities=[self.width], outcome_transform=Standardize(m=1))
        else:
            model = SingleTaskGP(X, Y, outcome_transform=Standardize(m=1))
        try:
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        except Exception:  # a failed hyperparameter fit keeps the priors' values: still a usable GP
            pass
        return model.eval()

    def _at_target(self, x: torch.Tensor) -> torch.Tensor:
        if not self.multi_fidelity:
            return x
        return torch.cat([x, torch.ones(*x.shape[:-1], 1, dtype=DTYPE)], dim=-1)

    def incumbent(self, model: Any) -> float:
        """The best value at the target fidelity: observed when single-fidelity, else the best posterior mean."""
        if not self.multi_fidelity:
            return max(self.Y)
        X = torch.tensor(self.X, dtype=DTYPE)
        with torch.no_grad():
            return float(model.posterior(self._at_target(X)).mean.max())

    def log_ei(self, model: Any, cands: torch.Tensor) -> torch.Tensor:
        from botorch.acquisition import LogExpectedImprovement

        acq = LogExpectedImprovement(model, best_f=self.incumbent(model))
        with torch.no_grad():
            out = [acq(self._at_target(chunk)[:, None, :]) for chunk in cands.split(512)]
        return torch.cat(out)

    def choose_fidelity(self, model: Any, x: torch.Tensor) -> float:
        if not self.multi_fidelity:
            return 1.0
        assert self.fidelities is not None
        best, best_gain = 1.0, -1.0
        target = self._at_target(x[None, :])
        for s, cost in self.fidelities:
            pair = torch.cat([target, torch.cat([x, torch.tensor([s], dtype=DTYPE)])[None, :]])
            with torch.no_grad():
                cov = model.posterior(pair).mvn.covariance_matrix
                var_y = model.posterior(pair, observation_noise=True).variance[1, 0]
            gain = float(cov[0, 1] ** 2 / var_y) / cost
            if gain > best_gain:
                best, best_gain = s, gain
        return best

    def best(self) -> tuple[int, float] | None:
        """(index, score) of the best observation at the highest fidelity seen."""
        if not self.Y:
            return None
        top = max(self.S)
        idx = max((i for i, s in enumerate(self.S) if s == top), key=lambda i: self.Y[i])
        return idx, self.Y[idx]

    # -- state -------------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"X": self.X, "Y": self.Y, "S": self.S}

    def load(self, state: dict[str, Any]) -> None:
        self.X = [list(map(float, x)) for x in state.get("X", [])]
        self.Y = [float(y) for y in state.get("Y", [])]
        self.S = [float(s) for s in state.get("S", [1.0] * len(self.Y))]
