"""The second-order optimizers free the double-backward graph after they use it (no reference cycle left)."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)

from optotrace.optimizers.numeric import AdaHessian, NumericOptimizerError, SophiaH


def _model_step(opt: torch.optim.Optimizer, w: torch.Tensor, use_closure: bool, sophia: bool) -> weakref.ref:
    x = torch.randn(8, 5)
    holder: dict[str, weakref.ref] = {}

    def closure() -> torch.Tensor:
        opt.zero_grad()
        hidden = torch.tanh(x @ w)  # saved for the double backward
        holder["h"] = weakref.ref(hidden)
        loss = (hidden**2).sum()
        loss.backward(create_graph=True)
        return loss

    if use_closure:
        if sophia:
            opt.update_hessian(closure)  # type: ignore[attr-defined]
            opt.step()
        else:
            opt.step(closure)
    else:
        closure()
        assert holder["h"]() is not None  # alive while p.grad carries the graph
        if sophia:
            opt.update_hessian()  # type: ignore[attr-defined]
        opt.step()
    return holder["h"]


@pytest.mark.parametrize("use_closure", [False, True])
@pytest.mark.parametrize("cls", [AdaHessian, SophiaH])
def test_graph_is_freed_without_gc(cls: type, use_closure: bool) -> None:
    w = torch.randn(5, 3, requires_grad=True)
    opt = cls([w], lr=1e-2, seed=0)
    gc.collect()
    gc.disable()
    try:
        ref = _model_step(opt, w, use_closure, sophia=cls is SophiaH)
        assert ref() is None, "the forward's saved tensor outlived the step: the grad graph is still referenced"
        assert w.grad is not None and w.grad.grad_fn is None and not w.grad.requires_grad
    finally:
        gc.enable()
    assert gc.collect() == 0 or ref() is None


def test_missing_create_graph_gives_a_clear_error() -> None:
    w = torch.randn(3, requires_grad=True)
    opt = AdaHessian([w])
    (w.sin().sum()).backward()
    with pytest.raises(NumericOptimizerError, match="create_graph=True"):
        opt.step()
    opt2 = SophiaH([w])
    with pytest.raises(NumericOptimizerError, match="create_graph=True"):
        opt2.update_hessian()
