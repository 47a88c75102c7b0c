"""MKOR (Mozaffari, Li, Dehnavi, NeurIPS 2023, "MKOR: Momentum-Enabled Kronecker-Factor-Based Optimizer Using
Rank-1 Updates").

K-FAC's factors, but no matrix is ever inverted: each factor's inverse is updated by a rank-1 term built from the
batch-mean activation and output-gradient vectors (a_bar = mean of the rows a, g_bar = mean of the rows g; see
`_kron_layers`), with momentum gamma, by Sherman-Morrison. For a factor M and its inverse X = M^-1:

    M' = gamma * M + (1 - gamma) * v v^T
    X' = X / gamma - ((1 - gamma) / gamma^2) * (X v)(X v)^T / (1 + ((1 - gamma) / gamma) * v^T X v)

with v = a_bar for R^-1 (input side, in+1 x in+1) and v = g_bar for L^-1 (output side, out x out), both starting
at the identity, refreshed every `inv_every` steps. The preconditioned gradient of the layer is

    V = L^-1 @ grad @ R^-1,   d = V * |grad| / |V|      (rescaled to the gradient's norm: MKOR's inverses grow
                                                          like gamma^-t between refreshes, so only V's direction
                                                          is used)

Norm-based stabilization: when an inverse's largest entry exceeds `stabilize_norm`, it is pulled towards the
identity: X = zeta * X / max|X| + (1 - zeta) * I (zeta = `stabilization`). Fallback: when a factor goes bad
(a non-finite entry, or a Sherman-Morrison denominator <= 0) or the direction is not finite, that layer's
inverses are reset to the identity and it takes a first-order step (the plain gradient) this time; `fallbacks`
in the weight's state counts them. Then SGD with momentum and decoupled weight decay, as for K-FAC (`_kron`).

Paths: `foreach=False` is the reference (the formula above with explicit outer products); the default fast path
applies each update in place (addr_ on the inverse), forms L^-1 @ grad @ R^-1 from the batch's rows when that is
cheaper (`KronLayer.product`) and runs the momentum / weight-decay update with foreach calls.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._kron import KronOptimizer, identity_like
from optotrace.optimizers.numeric._kron_layers import KronLayer


class MKOR(KronOptimizer):
    """MKOR for the nn.Linear and nn.Conv2d layers of `model` (MKOR(model, ...) or MKOR(params, model=model)).

    `gamma` is the factors' momentum, `inv_every` how often the inverses take a rank-1 update, `stabilize_norm`
    and `stabilization` the norm-based stabilizer. Other parameters take SGD with momentum.
    """

    _exact_state_keys = ("L_inv", "R_inv")

    def __init__(
        self,
        params: nn.Module | Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        momentum: float = 0.9,
        gamma: float = 0.95,
        inv_every: int = 10,
        stabilize_norm: float = 100.0,
        stabilization: float = 0.1,
        weight_decay: float = 0.0,
        *,
        model: nn.Module | None = None,
        layers: Iterable[nn.Module] | None = None,
        foreach: bool | None = None,
    ) -> None:
        gamma = v.check_unit("gamma", gamma)
        if gamma == 0:
            raise v.NumericOptimizerError("gamma must be in (0, 1): it weighs the old factor in each rank-1 update")
        defaults = dict(
            lr=v.check_nonneg("lr", lr),
            momentum=v.check_unit("momentum", momentum),
            gamma=gamma,
            inv_every=v.check_int("inv_every", inv_every),
            stabilize_norm=v.check_positive("stabilize_norm", stabilize_norm),
            stabilization=v.check_unit("stabilization", stabilization, closed_right=True),
            weight_decay=v.check_nonneg("weight_decay", weight_decay),
            foreach=v.check_foreach(foreach),
        )
        super().__init__(params, defaults, model=model, layers=layers)

    def _directions(self, layers: list[KronLayer]) -> dict[KronLayer, Tensor | None]:
        out: dict[KronLayer, Tensor | None] = {}
        for lay in layers:
            group = self._group_of[id(lay.weight)]
            state = self.state[lay.weight]
            fast = group["foreach"] is not False
            if "L_inv" not in state:
                _reset(state, lay)
            step = int(state["mkor_step"])
            state["mkor_step"] = step + 1
            ok = True
            if lay.has_batch() and step % group["inv_every"] == 0:
                a_rows, g_rows = lay.rows()
                a_bar, g_bar = a_rows.mean(0), g_rows.mean(0)
                ok = sherman_morrison_(state["R_inv"], a_bar, group["gamma"], fast)
                ok = ok and sherman_morrison_(state["L_inv"], g_bar, group["gamma"], fast)
                if ok:
                    for key in ("L_inv", "R_inv"):
                        _stabilize_(state[key], group["stabilize_norm"], group["stabilization"])
            grad = lay.grad_matrix()
            d = None
            if ok:
                d = lay.product(state["L_inv"], state["R_inv"]) if fast else state["L_inv"] @ grad @ state["R_inv"]
            if d is not None:
                norm = torch.linalg.vector_norm(d)
                d = d.mul_(torch.linalg.vector_norm(grad) / norm) if float(norm) > 0 else d
                ok = bool(torch.isfinite(d).all())
            if not ok:
                _reset(state, lay)
                state["fallbacks"] = int(state.get("fallbacks", 0)) + 1
                d = None
            out[lay] = d
        return out


def sherman_morrison_(inv: Tensor, vec: Tensor, gamma: float, fast: bool = True) -> bool:
    """In place: inv = (gamma * inv^-1 + (1 - gamma) * vec vec^T)^-1 for a symmetric `inv`, by Sherman-Morrison.

    Returns False (inv left as it was) when the update is not defined: a non-finite input or a denominator <= 0.
    """
    xv = inv @ vec
    c = (1.0 - gamma) / gamma
    denom = 1.0 + c * float(vec @ xv)
    if not (denom > 0 and torch.isfinite(xv).all()):
        return False
    if fast:
        inv.addr_(xv, xv, beta=1.0 / gamma, alpha=-c / (gamma * denom))
    else:
        inv.copy_(inv / gamma - (c / gamma) * torch.outer(xv, xv) / denom)
    return bool(torch.isfinite(inv).all())


def _stabilize_(inv: Tensor, limit: float, zeta: float) -> None:
    """Pull an inverse whose largest entry passed `limit` towards the identity: zeta * inv / max|inv| + (1-zeta) I."""
    top = float(inv.abs().max())
    if top > limit:
        inv.mul_(zeta / top).diagonal().add_(1.0 - zeta)


def _reset(state: dict, lay: KronLayer) -> None:
    state["L_inv"] = identity_like(lay.out_dim, lay.weight)
    state["R_inv"] = identity_like(lay.in_dim, lay.weight)
    state.setdefault("mkor_step", 0)
