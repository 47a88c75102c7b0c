"""Learning-rate schedules from Defazio, Cutkosky, Mehta, Mishchenko (2023), "When, Why and How Much? Adaptive
Learning Rate Scheduling by Refinement".

- `linear_decay`: the worst-case-optimal last-iterate schedule, lr proportional to 1 - t/T, here with an
  optional linear warm-up.
- `refined_schedule`: the schedule refined from the gradient norms ||g_t|| seen in a previous run of the same
  length: smooth the norms with a median filter (width tau * T), weight w_t = norm_t^-power, set
  eta_t = w_t * sum_{p > t} w_p and normalise to a maximum of 1. With power 2 and l2 norms this is the SGD
  form; for Adam-like (coordinate-normalised) methods the paper uses the l1 norm of the gradient with power 1.
  Large early gradients give the warm-up and the tail sum gives the rapid annealing near the end.

Both return a `Schedule`: a callable step -> multiplier for `torch.optim.lr_scheduler.LambdaLR`, also indexable
and iterable as the list of the T multipliers. Past the horizon the multiplier stays at 0.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from optotrace.optimizers.numeric import _validate as v
from optotrace.optimizers.numeric.errors import NumericOptimizerError


class Schedule:
    """T learning-rate multipliers; `schedule(step)` gives the one for `step` (0 past the end)."""

    def __init__(self, values: Sequence[float]) -> None:
        self.values = [float(x) for x in values]

    def __call__(self, step: int) -> float:
        if step < 0:
            raise NumericOptimizerError(f"step must be >= 0, got {step}")
        return self.values[step] if step < len(self.values) else 0.0

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> float:
        return self.values[index]

    def __iter__(self) -> Iterator[float]:
        return iter(self.values)

    def __repr__(self) -> str:
        return f"Schedule(T={len(self.values)}, max={max(self.values, default=0.0):.3g})"


def linear_decay(total_steps: int, warmup_steps: int = 0) -> Schedule:
    """(t + 1) / W for the W warm-up steps, then (T - t) / (T - W): 1 right after warm-up, 1/(T - W) at the
    last step, 0 after it."""
    v.check_int("total_steps", total_steps)
    v.check_int("warmup_steps", warmup_steps, minimum=0)
    if warmup_steps >= total_steps:
        raise NumericOptimizerError(
            f"warmup_steps ({warmup_steps}) must be smaller than total_steps ({total_steps})"
        )
    decay = total_steps - warmup_steps
    values = [(t + 1) / warmup_steps if t < warmup_steps else (total_steps - t) / decay for t in range(total_steps)]
    return Schedule(values)


def median_filter(values: Sequence[float], width: int) -> list[float]:
    """Running median over a window of `width` samples, edges padded with the nearest value."""
    v.check_int("width", width)
    x = torch.tensor([float(a) for a in values], dtype=torch.float64)
    if width == 1 or len(x) == 0:
        return x.tolist()
    left = (width - 1) // 2
    right = width - 1 - left
    padded = torch.cat([x[:1].expand(left), x, x[-1:].expand(right)])
    windows = padded.unfold(0, width, 1)
    return windows.sort(dim=1).values[:, (width - 1) // 2].tolist()


def refined_schedule(
    grad_norms: Sequence[float],
    *,
    smoothing: float = 0.05,
    power: float = 2.0,
    warmup_steps: int = 0,
) -> Schedule:
    """The refined schedule from a previous run's gradient norms (one per step, T of them).

    `smoothing` (tau) sets the median filter's width to round(tau * T), made odd so it is centred; `power` is 2 for SGD with l2
    norms, 1 for Adam-like methods with l1 norms. `warmup_steps` optionally multiplies the first steps by a linear
    ramp (the refinement usually makes its own warm-up).
    """
    norms = [float(x) for x in grad_norms]
    if len(norms) < 2:
        raise NumericOptimizerError("refined_schedule needs the gradient norms of at least 2 steps")
    if any(not (x > 0 and x < float("inf")) for x in norms):
        raise NumericOptimizerError("gradient norms must be finite and > 0 (drop steps whose gradient was skipped)")
    v.check_unit("smoothing", smoothing, closed_right=True)
    v.check_positive("power", power)
    v.check_int("warmup_steps", warmup_steps, minimum=0)
    total = len(norms)
    width = max(1, round(smoothing * total)) | 1  # odd, so the window is centred
    smoothed = torch.tensor(median_filter(norms, width), dtype=torch.float64)
    weights = smoothed.pow(-power)
    tail = weights.flip(0).cumsum(0).flip(0) - weights  # sum over p > t
    eta = weights * tail
    peak = float(eta.max())
    if peak <= 0:
        eta = torch.ones_like(eta)
        peak = 1.0
    values = (eta / peak).tolist()
    for t in range(min(warmup_steps, total)):
        values[t] *= (t + 1) / warmup_steps
    return Schedule(values)
