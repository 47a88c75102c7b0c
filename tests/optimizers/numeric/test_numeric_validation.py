"""Bad arguments raise NumericOptimizerError (a ValueError and an OptotraceError) naming the argument."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)

from optotrace.errors import OptotraceError
from optotrace.optimizers.numeric import (
    MFAC,
    ZOSGD,
    AdaHessian,
    DeepZero,
    Lion,
    NumericOptimizerError,
    SophiaG,
    SophiaH,
)

P = [torch.zeros(2, requires_grad=True)]

CASES: list[tuple[Callable[[], object], str]] = [
    (lambda: Lion(P, lr=-1.0), "lr"),
    (lambda: Lion(P, betas=(0.9, 1.0)), r"betas\[1\]"),
    (lambda: Lion(P, betas=(0.9,)), "betas"),
    (lambda: Lion(P, weight_decay=float("nan")), "weight_decay"),
    (lambda: Lion(P, foreach="yes"), "foreach"),
    (lambda: Lion(P, fused=1), "fused"),
    (lambda: AdaHessian(P, fused="auto"), "fused"),
    (lambda: SophiaG(P, fused="yes"), "fused"),
    (lambda: AdaHessian(P, hessian_power=0.0), "hessian_power"),
    (lambda: AdaHessian(P, eps=0.0), "eps"),
    (lambda: SophiaH(P, rho=0.0), "rho"),
    (lambda: SophiaH(P, distribution="uniform"), "distribution"),
    (lambda: SophiaG(P, hessian_interval=0), "hessian_interval"),
    (lambda: MFAC(P, num_grads=0), "num_grads"),
    (lambda: MFAC(P, damp=0.0), "damp"),
    (lambda: MFAC(P, momentum=1.0), "momentum"),
    (lambda: ZOSGD(P, eps=-1e-3), "eps"),
    (lambda: ZOSGD(P, seed="x"), "seed"),
    (lambda: DeepZero(P, sparsity=1.0), "sparsity"),
    (lambda: DeepZero(P, mask_interval=0), "mask_interval"),
    (lambda: AdaHessian(P, seed=1.5), "seed"),
]


@pytest.mark.parametrize(("build", "word"), CASES)
def test_bad_arguments_name_the_argument(build: Callable[[], object], word: str) -> None:
    with pytest.raises(NumericOptimizerError, match=word) as info:
        build()
    assert isinstance(info.value, ValueError) and isinstance(info.value, OptotraceError)


def test_sparse_gradients_are_refused() -> None:
    emb = torch.nn.Embedding(5, 2, sparse=True)
    emb(torch.tensor([1])).sum().backward()
    with pytest.raises(NumericOptimizerError, match="sparse"):
        Lion(emb.parameters()).step()


def test_sophia_g_update_hessian_needs_a_batch_size() -> None:
    with pytest.raises(NumericOptimizerError, match="batch_size"):
        SophiaG(P).update_hessian(batch_size=0)


def test_adahessian_hessian_argument_must_cover_the_params() -> None:
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    with pytest.raises(NumericOptimizerError, match="hessian="):
        AdaHessian([p]).step(hessian={})
