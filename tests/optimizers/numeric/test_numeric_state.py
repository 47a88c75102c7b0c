"""state_dict round trips mid-run give identical continuations (torch.save and the JSON form)."""

from __future__ import annotations

import io
import json

import pytest
import torch
from numeric_problems import OPTIMIZERS, clone_params, make_params, one_thread, run_steps  # noqa: F401 (one_thread: autouse fixture)

from optotrace.optimizers.numeric._json_state import from_json, to_json


def _roundtrip(state: dict, how: str) -> dict:
    if how == "torch.save":
        buf = io.BytesIO()
        torch.save(state, buf)
        buf.seek(0)
        return torch.load(buf, weights_only=True)
    return from_json(json.loads(json.dumps(to_json(state))))


@pytest.mark.parametrize("how", ["torch.save", "json"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_resumed_run_continues_identically(name: str, how: str) -> None:
    params = make_params("cpu", seed=1)
    opt = OPTIMIZERS[name](params, 0.1, None)
    run_steps(name, opt, params, 3, seed0=0)
    saved = _roundtrip(opt.state_dict(), how)
    resumed_params = clone_params(params)
    resumed = OPTIMIZERS[name](resumed_params, 0.0, None)  # different weight decay: the state must restore it
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["weight_decay"] == 0.1
    run_steps(name, opt, params, 2, seed0=3)
    run_steps(name, resumed, resumed_params, 2, seed0=3)
    for a, b in zip(params, resumed_params, strict=True):
        assert torch.equal(a.detach(), b.detach()), name


def test_mfac_keeps_float64_coefficients_across_load() -> None:
    from optotrace.optimizers.numeric import MFAC

    p = torch.zeros(4, requires_grad=True)
    opt = MFAC([p], num_grads=2)
    p.grad = torch.ones(4)
    opt.step()
    other = MFAC([torch.zeros(4, requires_grad=True)], num_grads=2)
    other.load_state_dict(_roundtrip(opt.state_dict(), "json"))
    head = next(iter(other.state.values()))
    assert head["coef_inv"].dtype == torch.float64 and head["gram"].dtype == torch.float64
