"""K-FAC and MKOR in use: fewer steps than AdamW to the same loss on digits, state_dict round trips, the trace
bridge, and the messages for misuse."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)
from torch import nn
from torch.nn import functional as F

from optotrace.optimizers.numeric import KFAC, MKOR, NumericOptimizerAdapter, NumericOptimizerError


def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.data, dtype=torch.float32)
    return (x - x.mean(0)) / (x.std(0) + 1.0), torch.tensor(data.target)


def _steps_to(make: Callable[[nn.Module], torch.optim.Optimizer], build: Callable[[], nn.Module], target: float,
              budget: int) -> int:
    """Full-batch steps until the digits loss is <= target (budget + 1 when never)."""
    x, y = _digits()
    torch.manual_seed(0)
    model = build()
    opt = make(model)
    for s in range(budget):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        with torch.no_grad():
            if float(F.cross_entropy(model(x), y)) <= target:
                return s + 1
    return budget + 1


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))


def _logreg() -> nn.Module:
    return nn.Linear(64, 10)


CASES = {  # problem: (model, target loss, AdamW's budget, K-FAC's and MKOR's options)
    "mlp": (_mlp, 3e-3, 120, dict(lr=0.3, kl_clip=1e-2, damping=1e-2), dict(lr=3.0)),
    "logistic": (_logreg, 3e-3, 200, dict(lr=1.0, kl_clip=1e-2, damping=1e-2), dict(lr=10.0)),
}


@pytest.mark.parametrize("problem", sorted(CASES))
def test_fewer_steps_than_the_best_adamw_to_the_same_loss(problem: str) -> None:
    build, target, budget, kfac, mkor = CASES[problem]
    adamw = min(
        _steps_to(lambda m, lr=lr: torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.0), build, target, budget)
        for lr in (0.03, 0.1, 0.3)
    )
    assert adamw <= budget, "AdamW never reached the target: the problem is mis-set"
    k = _steps_to(lambda m: KFAC(m, **kfac), build, target, budget)
    m = _steps_to(lambda m: MKOR(m, **mkor), build, target, budget)
    assert k <= 0.75 * adamw, (problem, k, adamw)
    assert m <= 0.9 * adamw, (problem, m, adamw)


def _conv_model() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4), nn.LayerNorm(4))


def _train(model: nn.Module, opt: torch.optim.Optimizer, seeds: range) -> None:
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(6, 1, 6, 6, generator=g)
        y = torch.randint(0, 4, (6,), generator=g)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("cls", [KFAC, MKOR])
def test_state_dict_round_trip_continues_identically(cls: type) -> None:
    torch.manual_seed(0)
    model = _conv_model()
    opt = cls(model, lr=0.05, inv_every=3, weight_decay=0.01)
    _train(model, opt, range(4))  # stops between two refreshes
    saved_model = copy.deepcopy(model.state_dict())
    saved_opt = copy.deepcopy(opt.state_dict())
    _train(model, opt, range(4, 9))

    twin = _conv_model()
    twin.load_state_dict(saved_model)
    twin_opt = cls(twin, lr=0.05, inv_every=3, weight_decay=0.01)
    twin_opt.load_state_dict(saved_opt)
    _train(twin, twin_opt, range(4, 9))
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)


ot = pytest.importorskip("optotrace.trace", reason="the trace package (optotrace.trace) is not importable")


@pytest.mark.parametrize("cls", [KFAC, MKOR])
def test_module_parameters_through_the_trace_bridge(cls: type) -> None:
    torch.manual_seed(0)
    layer = nn.Linear(3, 2)
    w = ot.node(layer.weight, name="w", trainable=True)
    b = ot.node(layer.bias, name="b", trainable=True)
    options = dict(kl_clip=None) if cls is KFAC else {}
    opt = NumericOptimizerAdapter([w, b], cls, model=layer, lr=0.2, momentum=0.5, **options)
    x = torch.randn(32, 3)
    target = x @ torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]]).t() + torch.tensor([0.3, -0.1])
    losses = []
    for _ in range(60):
        opt.zero_feedback()
        loss = F.mse_loss(layer(x), target)  # the module computes on the nodes' own tensors
        losses.append(float(loss.detach()))
        update = opt.step(loss=loss)
    assert losses[-1] < 1e-2 * losses[0], losses[-1]
    assert set(update) == {w, b}
    assert torch.equal(w.data, layer.weight.detach()) and not w.data.requires_grad
    state = json.loads(json.dumps(opt.state_dict()))  # plain JSON, as the Trainer checkpoints it
    twin_layer = nn.Linear(3, 2)
    twin = NumericOptimizerAdapter(
        [ot.node(twin_layer.weight, trainable=True), ot.node(twin_layer.bias, trainable=True)], cls, model=twin_layer,
        lr=0.2, momentum=0.5,
    )
    twin.load_state_dict(state)
    assert twin.step_count == 60
    key = "A_inv" if cls is KFAC else "R_inv"
    assert torch.allclose(twin.optimizer.state[twin_layer.weight][key], opt.optimizer.state[layer.weight][key])


def test_bridge_with_copied_tensors_says_to_give_module_parameters() -> None:
    layer = nn.Linear(3, 2)
    w = ot.node(layer.weight.detach().clone(), name="w", trainable=True)
    with pytest.raises(NumericOptimizerError, match="nn.Linear or nn.Conv2d"):
        NumericOptimizerAdapter([w], KFAC, model=layer)
    with pytest.raises(NumericOptimizerError, match="needs the model"):
        NumericOptimizerAdapter([ot.node(torch.zeros(3), trainable=True)], MKOR)


@pytest.mark.parametrize("cls", [KFAC, MKOR])
def test_misuse_gets_one_clear_message(cls: type) -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Conv2d(2, 4, 3, groups=2), nn.LSTM(2, 2))
    name = cls.__name__
    with pytest.raises(NumericOptimizerError, match=rf"{name} needs the model: {name}\(model"):
        cls(list(model.parameters()))
    with pytest.raises(NumericOptimizerError, match="groups=2"):
        cls(model, layers=[model[1]])
    with pytest.raises(NumericOptimizerError, match="only nn.Linear and nn.Conv2d"):
        cls(model, layers=[model[2]])
    with pytest.raises(NumericOptimizerError, match="not a submodule"):
        cls(model, layers=[nn.Linear(2, 2)])
    with pytest.raises(NumericOptimizerError, match="no nn.Linear or nn.Conv2d"):
        cls(nn.Sequential(nn.LSTM(2, 2), nn.Conv2d(2, 4, 3, groups=2)))
    with pytest.raises(NumericOptimizerError, match="must be a torch.nn.Module"):
        cls(list(model.parameters()), model="net")
    with pytest.raises(NumericOptimizerError, match="model twice"):
        cls(model, model=nn.Linear(2, 2))
    with pytest.raises(NumericOptimizerError, match="inv_every"):
        cls(model, inv_every=0)
    opt = cls(model)  # unsupported layers are left to the first-order step
    assert [lay.name for lay in opt.layers] == ["0"]


def test_bad_hyperparameters_name_the_argument() -> None:
    layer = nn.Linear(2, 2)
    with pytest.raises(NumericOptimizerError, match="damping"):
        KFAC(layer, damping=0.0)
    with pytest.raises(NumericOptimizerError, match="kl_clip"):
        KFAC(layer, kl_clip=-1.0)
    with pytest.raises(NumericOptimizerError, match="gamma"):
        MKOR(layer, gamma=0.0)
    with pytest.raises(NumericOptimizerError, match="stabilization"):
        MKOR(layer, stabilization=1.5)


def test_hooks_removed_leave_a_first_order_optimizer_and_eval_records_nothing() -> None:
    layer = nn.Linear(2, 1)
    opt = KFAC(layer, lr=0.1, momentum=0.0)
    layer.eval()
    with torch.no_grad():
        layer(torch.randn(4, 2))
    assert not opt.layers[0].inputs
    layer.train()
    opt.remove_hooks()
    x = torch.randn(4, 2)
    before = layer.weight.detach().clone()
    layer(x).sum().backward()
    opt.step()
    assert torch.allclose(layer.weight, before - 0.1 * layer.weight.grad)
