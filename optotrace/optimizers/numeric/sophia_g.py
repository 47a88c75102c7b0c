"""SophiaG: Sophia with the Gauss-Newton-Bartlett estimator (Liu et al. 2023, Algorithm 2).

For a loss l(logits, y) that is a negative log-likelihood (cross-entropy), draw labels y_hat from the model's
own predictive distribution softmax(logits), take the mean loss L_hat on (x, y_hat) over the minibatch of size B,
and use h_hat = B * grad(L_hat) * grad(L_hat). In a loop, every k steps:

    logits = model(x)
    sampled_cross_entropy(logits).backward()        # labels sampled from the logits, no gradient through them
    opt.update_hessian(batch_size=x.shape[0])
    opt.zero_grad()
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric._sophia import SophiaBase


def sample_labels(logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Labels drawn from softmax(logits) along the last dim; shape logits.shape[:-1], no gradient."""
    probs = torch.softmax(logits.detach().float(), dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).view(probs.shape[:-1])


def sampled_cross_entropy(logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Mean cross-entropy of `logits` (..., classes) against labels sampled from themselves (GNB loss)."""
    labels = sample_labels(logits, generator)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


class SophiaG(SophiaBase):
    """Sophia whose Hessian diagonal is the Gauss-Newton-Bartlett estimate from sampled-label gradients."""

    def sampled_cross_entropy(self, logits: Tensor) -> Tensor:
        """`sampled_cross_entropy` with the optimizer's own generator (reproducible when built with seed=)."""
        return sampled_cross_entropy(logits, self.generator(logits.device))

    @torch.no_grad()
    def update_hessian(self, batch_size: int) -> None:
        """Refresh the Hessian EMA with batch_size * g * g, g = the current gradients of the sampled-label loss
        (mean over a minibatch of `batch_size` examples)."""
        v.check_int("batch_size", batch_size)
        params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        estimates = [p.grad.detach().square().mul_(batch_size) for p in params]
        self._accumulate_hessian(params, estimates)


__all__ = ["SophiaG", "sample_labels", "sampled_cross_entropy"]
