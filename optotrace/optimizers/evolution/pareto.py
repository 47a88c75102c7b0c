"""The rules of NSGA-II on torch tensors (Deb et al. 2002), vectorized, for minimization.

`non_dominated_rank(F)`: rank 0 is the Pareto front; rank k is the front once ranks < k are removed. The
domination matrix D[i, j] = (F_i <= F_j everywhere and F_i < F_j somewhere) is built once; each front is peeled
by counting, per point, the dominators still present (one matrix-vector product per front).
`crowding_distance(F, rank)`: per front, the sum over objectives of the gap between a point's two neighbours
along that objective, divided by the objective's range on the front; a front's extreme points get infinity.
`environmental_selection`: keep the best `n` by (rank, -crowding), the NSGA-II survivor rule.
"""

from __future__ import annotations

import torch


def dominates(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """D[i, j]: a_i dominates b_j (no worse in every objective, better in one)."""
    a, b = a[:, None, :], b[None, :, :]
    return (a <= b).all(-1) & (a < b).any(-1)


def non_dominated_rank(F: torch.Tensor) -> torch.Tensor:
    n = F.shape[0]
    D = dominates(F, F).to(F.dtype)
    count = D.sum(0)  # how many dominate each point
    rank = torch.full((n,), -1, dtype=torch.long, device=F.device)
    remaining = torch.ones(n, dtype=torch.bool, device=F.device)
    k = 0
    while bool(remaining.any()):
        front = remaining & (count == 0)
        rank[front] = k
        remaining &= ~front
        count = count - front.to(F.dtype) @ D
        k += 1
    return rank


def crowding_distance(F: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
    n, m = F.shape
    dist = torch.zeros(n, dtype=F.dtype, device=F.device)
    inf = torch.tensor(float("inf"), dtype=F.dtype, device=F.device)
    for j in range(m):
        # sort by (rank, objective): neighbours of the same front become adjacent
        order = torch.argsort(F[:, j], stable=True)
        order = order[torch.argsort(rank[order], stable=True)]
        f, r = F[order, j], rank[order]
        same_prev = torch.cat([torch.tensor([False], device=F.device), r[1:] == r[:-1]])
        same_next = torch.cat([r[:-1] == r[1:], torch.tensor([False], device=F.device)])
        fmax = torch.full((int(r.max()) + 1,), -float("inf"), dtype=F.dtype, device=F.device).scatter_reduce(
            0, r, f, "amax")
        fmin = torch.full_like(fmax, float("inf")).scatter_reduce(0, r, f, "amin")
        span = (fmax - fmin)[r]
        gap = torch.zeros_like(f)
        gap[1:-1] = f[2:] - f[:-2]
        inner = same_prev & same_next
        contrib = torch.where(span > 0, gap / span.clamp_min(1e-300), torch.zeros_like(f))
        contrib = torch.where(inner, contrib, inf)  # a front's ends (and singletons) are kept first
        dist[order] += contrib
    return dist


def environmental_selection(F: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(indices of the n survivors, their ranks, their crowding distances), best first."""
    rank = non_dominated_rank(F)
    crowd = crowding_distance(F, rank)
    order = torch.argsort(-crowd, stable=True)
    order = order[torch.argsort(rank[order], stable=True)][:n]
    return order, rank[order], crowd[order]
