"""Hypervolume (minimization; the volume dominated by a set and bounded by a reference point).

Exact in 2-D (sort by the first objective, sum the rectangles) and 3-D (slice along the third objective: between
consecutive levels the dominated area is the 2-D hypervolume of the points at or below the level); Monte Carlo
with a fixed seed for more objectives.
"""

from __future__ import annotations

import torch


def _clip(F: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    return F[(ref > F).all(-1)]


def hv2d(F: torch.Tensor, ref: torch.Tensor) -> float:
    F = _clip(F.to(torch.float64), ref.to(torch.float64))
    if F.shape[0] == 0:
        return 0.0
    F = F[torch.argsort(F[:, 0])]
    best_y = torch.cummin(F[:, 1], 0).values  # the front's staircase
    xs = torch.cat([F[:, 0], ref[:1].to(torch.float64)])
    widths = xs[1:] - xs[:-1]
    return float((widths * (ref[1] - best_y)).sum())


def hv3d(F: torch.Tensor, ref: torch.Tensor) -> float:
    F = _clip(F.to(torch.float64), ref.to(torch.float64))
    if F.shape[0] == 0:
        return 0.0
    F = F[torch.argsort(F[:, 2])]
    levels = torch.cat([F[:, 2], ref[2:3].to(torch.float64)])
    total = 0.0
    for i in range(F.shape[0]):
        depth = float(levels[i + 1] - levels[i])
        if depth > 0:
            total += depth * hv2d(F[: i + 1, :2], ref[:2])
    return total


def hv_monte_carlo(F: torch.Tensor, ref: torch.Tensor, samples: int = 200_000, seed: int = 0) -> float:
    F = _clip(F.to(torch.float64), ref.to(torch.float64))
    if F.shape[0] == 0:
        return 0.0
    low = F.min(0).values
    g = torch.Generator(device="cpu").manual_seed(seed)
    pts = low + (ref.to(torch.float64) - low) * torch.rand(samples, F.shape[1], generator=g, dtype=torch.float64)
    covered = torch.zeros(samples, dtype=torch.bool)
    for chunk in F.split(256):
        covered |= (chunk[None, :, :] <= pts[:, None, :]).all(-1).any(-1)
    return float(covered.double().mean() * torch.prod(ref.to(torch.float64) - low))


def hypervolume(F: torch.Tensor, ref: torch.Tensor | list[float]) -> float:
    F = torch.as_tensor(F).detach().cpu()
    ref = torch.as_tensor(ref, dtype=torch.float64).cpu()
    if F.ndim != 2 or F.shape[1] != ref.shape[0]:
        raise ValueError(f"hypervolume needs an (n, {ref.shape[0]}) array of objectives, got {tuple(F.shape)}")
    if F.shape[1] == 2:
        return hv2d(F, ref)
    if F.shape[1] == 3:
        return hv3d(F, ref)
    return hv_monte_carlo(F, ref)
