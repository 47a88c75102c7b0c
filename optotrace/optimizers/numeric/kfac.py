"""K-FAC (Martens & Grosse 2015, "Optimizing Neural Networks with Kronecker-factored Approximate Curvature";
Grosse & Martens 2016, "A Kronecker-factored approximate Fisher matrix for convolution layers").

Per layer with gradient matrix grad = [dW | db] (out x in+1; see `_kron_layers` for the rows a and g):

    A = decay * A + (1 - decay) * a^T a / rows          (input-activation covariance, in+1 x in+1)
    G = decay * G + (1 - decay) * g^T g / rows          (output-gradient covariance, out x out)
    pi = sqrt((tr(A) / dim A) / (tr(G) / dim G))        (factored Tikhonov damping, Martens & Grosse sec. 6.3)
    A_inv = (A + pi * sqrt(damping) * I)^-1,  G_inv = (G + sqrt(damping) / pi * I)^-1   (every `inv_every` steps)
    V = G_inv @ grad @ A_inv                            (the preconditioned gradient, F^-1 vec(grad))
    nu = min(1, sqrt(kl_clip / (lr^2 * sum_layers <V, grad>)))     (KL clipping, Ba et al. 2017)
    d = nu * V

and d drives SGD with momentum and decoupled weight decay (see `_kron`); parameters outside a hooked layer take
the plain gradient there (SGD with momentum). Factors are refreshed from the batches recorded since the last step
every `cov_every` steps.

Paths: `foreach=False` is the reference (the formulas above, torch.linalg.inv); the default fast path updates the
factors in place (addmm_), inverts by Cholesky, forms G_inv @ grad @ A_inv from the batch's rows when that is
cheaper (`KronLayer.product`: a batch of fewer rows than the layer's width) and runs the momentum / weight-decay update with foreach calls.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._kron import KronOptimizer
from optotrace.optimizers.numeric._kron_layers import KronLayer


class KFAC(KronOptimizer):
    """K-FAC for the nn.Linear and nn.Conv2d layers of `model` (KFAC(model, ...) or KFAC(params, model=model)).

    `damping` is the Tikhonov damping lambda, `kl_clip` the trust bound on the step's KL (None: no clipping),
    `factor_decay` the running-average weight of the old factors, `inv_every` how often the inverses are
    refreshed, `cov_every` how often the factors take in new batches. `layers=` restricts preconditioning to
    the given modules (each must be a supported layer).
    """

    _exact_state_keys = ("A", "G", "A_inv", "G_inv")

    def __init__(
        self,
        params: nn.Module | Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        momentum: float = 0.9,
        damping: float = 1e-3,
        kl_clip: float | None = 1e-3,
        factor_decay: float = 0.95,
        inv_every: int = 10,
        cov_every: int = 1,
        weight_decay: float = 0.0,
        *,
        model: nn.Module | None = None,
        layers: Iterable[nn.Module] | None = None,
        foreach: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=v.check_nonneg("lr", lr),
            momentum=v.check_unit("momentum", momentum),
            damping=v.check_positive("damping", damping),
            kl_clip=None if kl_clip is None else v.check_positive("kl_clip", kl_clip),
            factor_decay=v.check_unit("factor_decay", factor_decay),
            inv_every=v.check_int("inv_every", inv_every),
            cov_every=v.check_int("cov_every", cov_every),
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
            step = int(state.get("kfac_step", 0))
            if lay.has_batch() and step % group["cov_every"] == 0:
                _update_factors(state, lay, group["factor_decay"], fast)
            if "A" not in state:
                out[lay] = None  # no batch recorded yet: a first-order step
                continue
            if "A_inv" not in state or step % group["inv_every"] == 0:
                _refresh_inverses(state, group["damping"], fast)
            out[lay] = lay.product(state["G_inv"], state["A_inv"]) if fast else (
                state["G_inv"] @ lay.grad_matrix() @ state["A_inv"])
            state["kfac_step"] = step + 1
        return out

    def _scale(self, directions: dict[KronLayer, Tensor | None]) -> float:
        total, kl_clip, lr = 0.0, None, 0.0
        for lay, d in directions.items():
            if d is None:
                continue
            group = self._group_of[id(lay.weight)]
            kl_clip, lr = group["kl_clip"], group["lr"]
            total += float((d * lay.grad_matrix()).sum())
        if kl_clip is None or lr == 0 or total <= 0:
            return 1.0
        return min(1.0, (kl_clip / (lr * lr * total)) ** 0.5)

    def precondition(self, layer: KronLayer) -> Tensor:
        """G_inv @ [dW | db] @ A_inv for one layer with its current inverses (no state change)."""
        state = self.state[layer.weight]
        return state["G_inv"] @ layer.grad_matrix() @ state["A_inv"]


def _update_factors(state: dict, lay: KronLayer, decay: float, fast: bool) -> None:
    a, g = lay.rows()
    rows = a.shape[0]
    if "A" not in state:
        state["A"] = a.t() @ a / rows
        state["G"] = g.t() @ g / rows
        return
    if fast:
        state["A"].addmm_(a.t(), a, beta=decay, alpha=(1 - decay) / rows)
        state["G"].addmm_(g.t(), g, beta=decay, alpha=(1 - decay) / rows)
    else:
        state["A"] = decay * state["A"] + (1 - decay) * (a.t() @ a) / rows
        state["G"] = decay * state["G"] + (1 - decay) * (g.t() @ g) / rows


def damped_factors(a: Tensor, g: Tensor, damping: float) -> tuple[Tensor, Tensor]:
    """A + pi sqrt(lambda) I and G + sqrt(lambda) / pi I (factored Tikhonov damping)."""
    ta = float(torch.trace(a)) / a.shape[0]
    tg = float(torch.trace(g)) / g.shape[0]
    pi = (ta / tg) ** 0.5 if ta > 0 and tg > 0 else 1.0
    root = damping**0.5
    eye_a = torch.eye(a.shape[0], dtype=a.dtype, device=a.device)
    eye_g = torch.eye(g.shape[0], dtype=g.dtype, device=g.device)
    return a + (pi * root) * eye_a, g + (root / pi) * eye_g


def _refresh_inverses(state: dict, damping: float, fast: bool) -> None:
    a, g = damped_factors(state["A"], state["G"], damping)
    if not fast:
        state["A_inv"], state["G_inv"] = torch.linalg.inv(a), torch.linalg.inv(g)
        return
    state["A_inv"], state["G_inv"] = _spd_inverse(a), _spd_inverse(g)


def _spd_inverse(m: Tensor) -> Tensor:
    chol, info = torch.linalg.cholesky_ex(m)
    if int(info) != 0:  # rounding broke definiteness: a general inverse
        return torch.linalg.inv(m)
    return torch.cholesky_inverse(chol)
