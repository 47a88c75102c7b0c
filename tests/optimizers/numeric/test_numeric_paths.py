"""Every foreach fast path against its per-tensor reference path, step by step, on CPU (and CUDA if present)."""

from __future__ import annotations

import pytest
import torch
from numeric_problems import DEVICES, OPTIMIZERS, clone_params, make_params, one_thread, run_steps  # noqa: F401 (one_thread: autouse fixture)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fast_path_matches_reference_step_by_step(name: str, weight_decay: float, device: str) -> None:
    fast_params = make_params(device)
    ref_params = clone_params(fast_params)
    fast = OPTIMIZERS[name](fast_params, weight_decay, True)
    ref = OPTIMIZERS[name](ref_params, weight_decay, False)
    steps = 2 if name == "DeepZero" else 4
    for s in range(steps):
        run_steps(name, fast, fast_params, 1, seed0=s)
        run_steps(name, ref, ref_params, 1, seed0=s)
        for a, b in zip(fast_params, ref_params, strict=True):
            torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-5, atol=1e-6, msg=f"{name} step {s}")
    moved = sum(float((a.detach() - b).abs().sum()) for a, b in zip(fast_params, make_params(device), strict=True))
    assert moved > 0, f"{name} did not move the parameters"


def test_default_picks_foreach_only_for_one_device_and_dtype() -> None:
    from optotrace.optimizers.numeric._foreach import default_foreach

    same = [torch.zeros(3), torch.zeros(2, 2)]
    assert default_foreach(same)
    assert not default_foreach([torch.zeros(3), torch.zeros(3, dtype=torch.float64)])
    assert not default_foreach([])


def test_blocks_cover_every_element_once() -> None:
    from optotrace.optimizers.numeric._foreach import blocks

    tensors = [torch.zeros(n) for n in (5, 40_000, 70_001, 3)] + [torch.zeros(30, 20).t()]
    seen = [torch.zeros_like(t) for t in tensors]
    count = 0
    for (chunk,) in blocks([seen], block_numel=1 << 12):
        count += 1
        for c in chunk:
            c.add_(1.0)
    assert count > 10
    assert all(bool((s == 1).all()) for s in seen)
