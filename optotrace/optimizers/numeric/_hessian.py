"""Hutchinson's diagonal-Hessian estimator and the gradient-graph contract shared by AdaHessian and SophiaH.

Contract: the second-order optimizers read `p.grad` left by `loss.backward(create_graph=True)`. That gradient
carries the graph of the first backward (and through it the forward's saved tensors, and a reference cycle
grad -> graph -> AccumulateGrad -> parameter -> grad). Once the Hessian-vector product is taken the optimizer
replaces every `p.grad` by its detached value: the numbers stay (for logging or clipping), the graph is freed.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from optotrace.optimizers.numeric import _fused
from optotrace.optimizers.numeric.errors import NumericOptimizerError


def rademacher_like(t: Tensor, generator: torch.Generator | None = None, *, fused: bool = False) -> Tensor:
    """A tensor shaped like `t` whose entries are +1 or -1 with probability 1/2 each.

    Drawn as uniform random bytes, eight signs per byte (each bit of a uniform byte is a fair coin): about ten
    times faster on CPU than `bernoulli_`, and one eighth of the random numbers. With `fused`, a large float
    tensor's bytes are expanded into signs by one compiled kernel (one pass instead of five); the values are the
    same either way.
    """
    n = t.numel()
    raw = torch.randint(0, 256, ((n + 7) // 8,), dtype=torch.uint8, device=t.device, generator=generator)
    shifts = torch.arange(8, dtype=torch.uint8, device=t.device)
    if (
        fused
        and n >= _fused.MIN_TENSOR_NUMEL
        and t.dtype.is_floating_point
        and not torch.compiler.is_compiling()
        and _fused.disabled_reason("rademacher") is None
        and _fused.backend_available(t.device)
    ):
        out = torch.empty(raw.numel() * 8, dtype=t.dtype, device=t.device)
        with torch.no_grad():  # one grad mode for every caller: one compiled graph
            done = _fused.call("rademacher", raw, shifts, out)
        if done:
            return out[:n].view(t.shape)
    bits = (raw.unsqueeze(1) >> shifts).bitwise_and_(1).view(-1)[:n]
    return bits.to(t.dtype).mul_(2.0).sub_(1.0).view(t.shape)


def probe_like(
    t: Tensor, distribution: str, generator: torch.Generator | None = None, *, fused: bool = False
) -> Tensor:
    """A random probe vector for Hutchinson: Rademacher or standard Gaussian."""
    if distribution == "rademacher":
        return rademacher_like(t, generator, fused=fused)
    return torch.randn(t.shape, generator=generator, device=t.device, dtype=t.dtype)


def fused_probes(groups: Sequence[dict], params: Sequence[Tensor]) -> bool:
    """Whether an optimizer's probes should use the compiled expansion: some group asks for `fused=True`, or
    the `fused=None` default applies and the parameters are many float32/float64 elements (see `_fused`)."""
    flags = {g.get("fused") for g in groups}
    if True in flags:
        return True
    if None not in flags or not params:
        return False
    dtype = params[0].dtype
    return dtype in (torch.float32, torch.float64) and sum(p.numel() for p in params) >= _fused.AUTO_MIN_NUMEL


def check_distribution(distribution: str) -> str:
    if distribution not in ("rademacher", "gaussian"):
        raise NumericOptimizerError(f"distribution must be 'rademacher' or 'gaussian', got {distribution!r}")
    return distribution


def hutchinson_diagonal(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    *,
    distribution: str = "rademacher",
    generator: torch.Generator | None = None,
    fused: bool = False,
) -> list[Tensor]:
    """One-sample estimate z * (H z) of diag(H) per parameter, from gradients that carry their graph.

    E[z * Hz] = diag(H) for any z with independent zero-mean unit-variance entries. Raises when no gradient
    carries a graph (the loss was backpropagated without `create_graph=True`).
    """
    zs, hzs = probe_products(params, grads, distribution=distribution, generator=generator, fused=fused)
    diags = []
    for z, hz in zip(zs, hzs, strict=True):
        if hz is None:
            diags.append(torch.zeros_like(z))
        else:
            diags.append(hz.detach().mul_(z))
    return diags


def probe_products(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    *,
    distribution: str = "rademacher",
    generator: torch.Generator | None = None,
    fused: bool = False,
) -> tuple[list[Tensor], list[Tensor | None]]:
    """The probes z and the Hessian-vector products H z (None where a parameter's grad does not depend on it),
    one backward through the gradients' graph w.r.t. the parameters only, graph freed after."""
    zs = [probe_like(g, distribution, generator, fused=fused) for g in grads]
    outputs = [g for g in grads if g.requires_grad]
    if not outputs:
        raise NumericOptimizerError(
            "the gradients carry no graph, so no Hessian-vector product can be taken: call "
            "loss.backward(create_graph=True) (in the closure too) before step()/update_hessian()"
        )
    probes = [z for g, z in zip(grads, zs, strict=True) if g.requires_grad]
    hzs = torch.autograd.grad(outputs, list(params), grad_outputs=probes, allow_unused=True, retain_graph=False)
    return zs, [None if hz is None else hz.detach() for hz in hzs]


def spatial_average_(d: Tensor) -> Tensor:
    """For kernels of 3 or more dims (conv weights: out, in, *kernel), average over the kernel dims in place."""
    if d.dim() >= 3:
        dims = list(range(2, d.dim()))
        d.copy_(d.mean(dim=dims, keepdim=True).expand_as(d))
    return d


def detach_grads(params: Sequence[Tensor]) -> None:
    """Replace each gradient that carries a graph by its detached value (frees the double-backward graph)."""
    for p in params:
        g = p.grad
        if g is not None and (g.requires_grad or g.grad_fn is not None):
            p.grad = g.detach()
