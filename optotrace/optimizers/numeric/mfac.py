"""M-FAC (Frantar, Kurtic, Alistarh 2021, "M-FAC: Efficient Matrix-Free Approximations of Second-Order
Information"), the dynamic algorithm for a sliding window of gradients.

The empirical Fisher of the last m gradients g_1..g_m (rows of G, m x d), dampened:

    F = damp * I + (1/m) * G^T G

is inverted on a vector without ever forming a d x d matrix (Woodbury):

    F^{-1} x = (x - G^T c) / damp,      c = (m * damp * I + G G^T)^{-1} (G x)

so F^{-1} x = x / damp - sum_j c_j g_j: the paper's form, with the coefficients c from an m x m matrix. Each
step the new gradient overwrites the oldest row of G; G G^T changes in one row and column (O(dm) to compute),
and the inverse of the m x m matrix is corrected by a rank-2 Woodbury update (O(m^2)), and recomputed exactly
every m steps (O(m^3) / m, amortized O(m^2)) so rounding does not drift. Per step: two passes over the window,
O(dm + m^2).

The preconditioned direction u = F^{-1} g then drives SGD with momentum and decoupled weight decay:

    buf = momentum * buf + u;   p = p * (1 - lr * weight_decay) - lr * buf

Precision: (x - G^T c) cancels when |g|^2 / m is far above damp (F^{-1} g is then much shorter than g / damp);
in float32 keep damp within a few orders of magnitude of the window's |g|^2 / m, or use float64 parameters.

Memory: m * d floats of the parameters' dtype for the window, d more for the momentum buffer (momentum > 0),
and two m x m float64 matrices (G G^T and the inverse), per parameter group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._base import NumericOptimizer
from optotrace.optimizers.numeric._foreach import group_by_device_dtype, use_foreach


class MFAC(NumericOptimizer):
    """Matrix-free inverse-Fisher preconditioned SGD over a window of `num_grads` gradients per group.

    The group's window-wide state (step, slot, `gram`, `coef_inv`) lives in the state of the group's first
    parameter, so state_dict round trips carry it.
    """

    _exact_state_keys = ("gram", "coef_inv")

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        num_grads: int = 32,
        damp: float = 1e-4,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=v.check_nonneg("lr", lr),
            num_grads=v.check_int("num_grads", num_grads),
            damp=v.check_positive("damp", damp),
            momentum=v.check_unit("momentum", momentum),
            weight_decay=v.check_nonneg("weight_decay", weight_decay),
            foreach=v.check_foreach(foreach),
        )
        super().__init__(params, defaults)

    def _group_state(self, group: dict) -> dict:
        head = self.state[group["params"][0]]
        m = group["num_grads"]
        if "gram" not in head:
            device = group["params"][0].device
            head["step"] = 0
            head["slot"] = 0
            head["gram"] = torch.zeros(m, m, dtype=torch.float64, device=device)
            head["coef_inv"] = torch.eye(m, dtype=torch.float64, device=device) / (m * group["damp"])
        elif head["gram"].shape[0] != m:
            raise v.NumericOptimizerError(
                f"num_grads changed from {head['gram'].shape[0]} to {m} after the window filled; build a new MFAC"
            )
        return head

    @torch.no_grad()
    def step(self, closure: Callable[[], float | Tensor] | None = None) -> float | Tensor | None:
        loss = self._call_closure(closure)
        for group in self.param_groups:
            params = group["params"]
            if all(p.grad is None for p in params):
                continue
            head = self._group_state(group)
            m, damp = group["num_grads"], group["damp"]
            grads, windows = [], []
            for p in params:
                if p.grad is not None and p.grad.is_sparse:
                    raise v.NumericOptimizerError("MFAC does not support sparse gradients")
                state = self.state[p]
                if "grad_window" not in state:
                    state["grad_window"] = torch.zeros(m, p.numel(), dtype=p.dtype, device=p.device)
                g = p.grad.detach().reshape(-1) if p.grad is not None else torch.zeros_like(p).reshape(-1)
                grads.append(g)
                windows.append(state["grad_window"])
            fast = use_foreach(group["foreach"], params)
            slot = head["slot"]
            for w, g in zip(windows, grads, strict=True):
                w[slot].copy_(g)
            k = _window_products(windows, grads, fast).to(torch.float64)
            if not bool(torch.isfinite(k).all()):
                raise v.NumericOptimizerError(
                    "MFAC got a non-finite gradient (the run diverged?): lower lr or raise damp"
                )
            _replace_row(head, slot, k, m, damp)
            coef = (head["coef_inv"] @ k).to(grads[0].dtype)
            directions = _inverse_fisher(windows, grads, coef, damp, fast)
            head["slot"] = (slot + 1) % m
            head["step"] += 1
            _apply(self, group, params, directions, fast)
        return loss

    @torch.no_grad()
    def inverse_fisher_product(self, vectors: list[Tensor], group_index: int = 0) -> list[Tensor]:
        """F^{-1} x for x given per parameter of the group (shapes of the parameters), with the current window."""
        group = self.param_groups[group_index]
        head = self._group_state(group)
        windows = [
            self.state[p].get("grad_window", torch.zeros(group["num_grads"], p.numel(), dtype=p.dtype, device=p.device))
            for p in group["params"]
        ]
        xs = [x.reshape(-1) for x in vectors]
        k = _window_products(windows, xs, True).to(torch.float64)
        coef = (head["coef_inv"] @ k).to(xs[0].dtype)
        out = _inverse_fisher(windows, xs, coef, group["damp"], True)
        return [o.view_as(x) for o, x in zip(out, vectors, strict=True)]


def _window_products(windows: list[Tensor], xs: list[Tensor], fast: bool) -> Tensor:
    """G x: the m inner products of the window's gradients with x, summed over the parameters."""
    m = windows[0].shape[0]
    if fast:
        total = torch.mv(windows[0], xs[0])
        for w, x in zip(windows[1:], xs[1:], strict=True):
            total.add_(torch.mv(w, x))
        return total
    total = torch.zeros(m, dtype=xs[0].dtype, device=xs[0].device)
    for w, x in zip(windows, xs, strict=True):
        for j in range(m):
            total[j] += torch.dot(w[j], x)
    return total


def _inverse_fisher(windows: list[Tensor], xs: list[Tensor], coef: Tensor, damp: float, fast: bool) -> list[Tensor]:
    """(x - G^T c) / damp per parameter."""
    out = []
    for w, x in zip(windows, xs, strict=True):
        if fast:
            u = torch.addmv(x, w.t(), coef, alpha=-1.0)
        else:
            u = x.clone()
            for j in range(w.shape[0]):
                u.sub_(w[j] * coef[j])
        out.append(u.div_(damp))
    return out


def _replace_row(head: dict, slot: int, k: Tensor, m: int, damp: float) -> None:
    """Put row/column `slot` of G G^T to k and keep coef_inv = (m*damp*I + G G^T)^{-1} (rank-2 Woodbury)."""
    gram, inv = head["gram"], head["coef_inv"]
    delta = k - gram[slot]
    gram[slot, :] = k
    gram[:, slot] = k
    if (head["step"] + 1) % m == 0:
        _refresh(gram, inv, m, damp)
        return
    a_vec = delta.clone()
    a_vec[slot] -= delta[slot] / 2
    w = torch.stack([inv[:, slot], inv @ a_vec], dim=1)  # A^{-1} U, U = [e_slot, a]
    u = torch.zeros(m, 2, dtype=gram.dtype, device=gram.device)
    u[slot, 0] = 1.0
    u[:, 1] = a_vec
    s = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=gram.dtype, device=gram.device) + u.t() @ w
    correction, info = torch.linalg.solve_ex(s, w.t())
    if int(info) != 0 or not bool(torch.isfinite(correction).all()):
        _refresh(gram, inv, m, damp)  # the 2x2 system is too ill-conditioned: recompute exactly
        return
    inv.sub_(w @ correction)


def _refresh(gram: Tensor, inv: Tensor, m: int, damp: float) -> None:
    """coef_inv = (m*damp*I + G G^T)^{-1}, exactly (Cholesky; a general inverse if rounding broke definiteness)."""
    a = gram + torch.eye(m, dtype=gram.dtype, device=gram.device) * (m * damp)
    chol, info = torch.linalg.cholesky_ex(a)
    inv.copy_(torch.cholesky_inverse(chol) if int(info) == 0 else torch.linalg.pinv(a, hermitian=True))


def _apply(opt: MFAC, group: dict, params: list[Tensor], directions: list[Tensor], fast: bool) -> None:
    """buf = momentum * buf + u; p = p * (1 - lr * wd) - lr * buf (buf = u without momentum)."""
    lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
    us = [u.view_as(p) for u, p in zip(directions, params, strict=True)]
    bufs = opt.momentum_buffers(params) if mom > 0 else []
    if fast:
        lists = [params, us, bufs] if bufs else [params, us]
        for bucket in group_by_device_dtype(lists):
            P, U = bucket[0], bucket[1]
            steps = U
            if bufs:
                steps = bucket[2]
                torch._foreach_mul_(steps, mom)
                torch._foreach_add_(steps, U)
            if wd != 0:
                torch._foreach_mul_(P, 1.0 - lr * wd)
            torch._foreach_add_(P, steps, alpha=-lr)
        return
    for i, (p, u) in enumerate(zip(params, us, strict=True)):
        step = u
        if bufs:
            step = bufs[i].mul_(mom).add_(u)
        if wd != 0:
            p.mul_(1.0 - lr * wd)
        p.add_(step, alpha=-lr)
