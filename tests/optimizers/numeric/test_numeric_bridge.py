"""The trace bridge: ParameterNodes holding floats and tensors, optimized inside traced workflows."""

from __future__ import annotations

import json

import pytest
import torch
from numeric_problems import one_thread  # noqa: F401 (autouse fixture)

ot = pytest.importorskip("optotrace.trace", reason="the trace package (optotrace.trace) is not importable")

from optotrace.optimizers.numeric import (  # noqa: E402
    ZOSGD,
    AdaHessian,
    DeepZero,
    Lion,
    NumericOptimizerAdapter,
    NumericOptimizerError,
    TensorParameters,
)


def test_float_and_tensor_parameters_by_gradient_through_traced_ops() -> None:
    w = ot.node(0.0, name="w", trainable=True)
    b = ot.node(torch.zeros(3), name="b", trainable=True)
    opt = NumericOptimizerAdapter([w, b], Lion, lr=0.02, betas=(0.5, 0.9))
    target_b = torch.tensor([1.0, -1.0, 0.5])
    for _ in range(200):
        opt.zero_feedback()
        for k in (1.0, 2.0):  # outputs with their own losses as feedback: the step uses the mean loss
            y = w * k  # traced operators compute on the bound leaf tensors
            assert isinstance(y, ot.MessageNode) and y.data.requires_grad
            y.backward((y.data - 3.0 * k) ** 2)
        z = b + 1.0
        z.backward(((z.data - 1.0 - target_b) ** 2).sum())
        update = opt.step()
    assert set(update) == {w, b}
    assert isinstance(w.data, float)  # floats stay floats
    assert isinstance(b.data, torch.Tensor) and not b.data.requires_grad
    assert w.data == pytest.approx(3.0, abs=0.1)
    assert b.data.tolist() == pytest.approx(target_b.tolist(), abs=0.15)


def test_second_order_optimizer_through_the_adapter() -> None:
    x = ot.node(3.0, name="x", trainable=True)
    opt = NumericOptimizerAdapter([x], AdaHessian, lr=0.5, seed=0)
    for _ in range(40):
        opt.zero_feedback()
        y = (x - 1.0) ** 2
        opt.step(loss=y.data)  # a loss given directly; create_graph is handled by the adapter
    assert x.data == pytest.approx(1.0, abs=0.05)


def test_zeroth_order_for_a_workflow_without_gradients() -> None:
    x = ot.node(0.0, name="x", trainable=True)
    bundle = ot.bundle()

    @bundle
    def score(v: float) -> float:
        return -abs(round(v, 3) - 2.5)  # rounding: no gradient anywhere

    def objective() -> float:
        return score(x).data if isinstance(score(x), ot.Node) else score(x)

    for cls, kwargs in [(ZOSGD, {"lr": 0.05, "eps": 0.05, "seed": 0}), (DeepZero, {"lr": 0.2, "mu": 0.01})]:
        x.set(0.0)
        opt = NumericOptimizerAdapter([x], cls, objective=objective, maximize=True, **kwargs)
        for _ in range(60):
            opt.zero_feedback()
            opt.step()
        assert isinstance(x.data, float)
        assert x.data == pytest.approx(2.5, abs=0.3), cls.__name__


def test_adapter_errors_are_clear() -> None:
    x = ot.node(1.0, name="x", trainable=True)
    with pytest.raises(NumericOptimizerError, match="objective="):
        NumericOptimizerAdapter([x], ZOSGD)
    opt = NumericOptimizerAdapter([x], Lion)
    opt.zero_feedback()
    with pytest.raises(NumericOptimizerError, match="no gradient reached"):
        opt.step()
    with pytest.raises(NumericOptimizerError, match="str"):
        TensorParameters([ot.node("text", name="t", trainable=True)])


def test_adapter_state_is_json_and_resumes_identically() -> None:
    def run(opt: NumericOptimizerAdapter, node: object, steps: int) -> None:
        for _ in range(steps):
            opt.zero_feedback()
            y = (node - 4.0) ** 2  # type: ignore[operator]
            opt.step(loss=y.data)

    a = ot.node(0.0, name="a", trainable=True)
    opt = NumericOptimizerAdapter([a], Lion, lr=0.1)
    run(opt, a, 3)
    state = json.loads(json.dumps(opt.state_dict()))
    b = ot.node(a.data, name="a", trainable=True)
    resumed = NumericOptimizerAdapter([b], Lion, lr=0.1)
    resumed.load_state_dict(state)
    run(opt, a, 3)
    run(resumed, b, 3)
    assert a.data == b.data


def test_hybrid_trainer_run_with_text_and_numeric_parameters() -> None:
    pytest.importorskip("optotrace.optimizers.train.trainer", reason="the Trainer is not importable")
    from optotrace.llm import ScriptedLLM
    from optotrace.optimizers import OptoPrime, Trainer

    prefix = ot.node("value:", name="prefix", trainable=True, description="label printed before the number")
    scale = ot.node(0.5, name="scale", trainable=True, description="multiplies the input")
    numeric = NumericOptimizerAdapter([scale], Lion, lr=0.1)
    llm = ScriptedLLM(fn=lambda messages, **kw: '{"reasoning": "use a clearer label", "suggestion": {"prefix": "result:"}}')
    text = OptoPrime([prefix], llm=llm)

    @ot.bundle()
    def report(label: str, value: object) -> tuple:
        return (label, value)

    def agent(k: float) -> object:
        return report(prefix, scale * k)  # a text parameter and a number in one workflow

    def metric(example: dict, output: object) -> tuple[float, object]:
        label, value = output.data if isinstance(output, ot.Node) else output
        loss = (value - 3.0 * example["input"]) ** 2
        label_penalty = 0.0 if label == "result:" else 1.0  # the Trainer keeps a new label only when it scores better
        return -float(loss) - label_penalty, {"text": f"{label} {float(value):.2f}: aim for 3x the input, "
                                                      "labelled 'result:'", "loss": loss}

    train = [{"input": 1.0}, {"input": 2.0}]
    trainer = Trainer(agent, [text, numeric], train, metric=metric, minibatch_size=2, steps=25, progress=False)
    trainer.fit()
    numeric.release()  # the Trainer ends with zero_feedback(), which binds leaf tensors for a next step
    assert prefix.data == "result:"
    assert isinstance(scale.data, float) and scale.data == pytest.approx(3.0, abs=0.3)
