"""Module and @model: finding parameters, saving and loading them as JSON."""

from __future__ import annotations

import json

import pytest

import optotrace as ot
from optotrace.errors import OptotraceError
from optotrace.trace import Module, ParameterFileError


@ot.model
class Planner:
    def __init__(self) -> None:
        self.prompt = ot.node("plan step by step", name="prompt", trainable=True)
        self.temperature = ot.node(0.7, name="temperature", trainable=True)
        self.fixed = ot.node("not trainable")

    @ot.bundle(trainable=True)
    def plan(self, task):
        return f"{task}: plan"


class Agent(Module):
    def __init__(self) -> None:
        self.planner = Planner()
        self.tools = [ot.node({"name": "search"}, name="tool", trainable=True), "plain"]
        self.weights = {"w": ot.node((1, 2), name="w", trainable=True)}
        self.alias = self.planner.prompt  # the same parameter twice: listed once

    @ot.bundle(trainable=True)
    def act(self, observation):
        return observation


def test_model_classes_are_modules() -> None:
    planner = Planner()
    assert isinstance(planner, Module) and type(planner).__name__ == "Planner" and ot.model(Agent) is Agent
    assert planner.plan("x").data == "x: plan"


def test_parameters_by_attribute_path() -> None:
    agent = Agent()
    named = agent.named_parameters()
    assert list(named) == ["planner.prompt", "planner.temperature", "planner.plan", "tools.0", "weights.w", "act"]
    assert named["planner.plan"] is Planner.plan.parameter and named["act"] is Agent.act.parameter
    assert agent.parameters() == list(named.values()) and named["planner.prompt"].name == "prompt"


def test_save_and_load_round_trip(tmp_path) -> None:
    agent = Agent()
    path = agent.save(tmp_path / "params.json")
    document = json.loads(path.read_text())
    assert document["parameters"]["planner.plan"]["type"] == "code"
    assert document["parameters"]["weights.w"] == {"type": "tuple", "value": [1, 2]}
    other = Agent()
    other.planner.prompt.set("changed")
    other.planner.temperature.set(1)
    other.weights["w"].set((9, 9))
    other.load(path)
    assert other.planner.prompt.data == "plan step by step" and other.planner.temperature.data == 0.7
    assert other.weights["w"].data == (1, 2) and other.tools[0].data == {"name": "search"}


def _rewrite(path, change) -> None:
    document = json.loads(path.read_text())
    change(document["parameters"])
    path.write_text(json.dumps(document))


def test_load_refuses_missing_extra_and_wrong_types(tmp_path) -> None:
    agent = Agent()
    path = agent.save(tmp_path / "p.json")
    _rewrite(path, lambda p: (p.pop("act"), p.update(extra={"type": "int", "value": 1})))
    agent.planner.prompt.set("kept")
    with pytest.raises(ParameterFileError, match=r"missing parameters \['act'\].*unexpected parameters \['extra'\]"):
        agent.load(path)
    assert agent.planner.prompt.data == "kept"  # nothing changed
    path = agent.save(tmp_path / "q.json")
    _rewrite(path, lambda p: p.update({"planner.temperature": {"type": "str", "value": "hot"}}))
    with pytest.raises(ParameterFileError, match="'planner.temperature' should be float but the file has str"):
        agent.load(path)
    assert issubclass(ParameterFileError, OptotraceError)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ParameterFileError, match="cannot read"):
        agent.load(tmp_path / "bad.json")


def test_unsavable_values_are_named() -> None:
    class Thing(Module):
        def __init__(self) -> None:
            self.obj = ot.node(object(), name="obj", trainable=True)

    with pytest.raises(ParameterFileError, match="'obj' holds a object"):
        Thing().save("unused.json")


def test_arrays_and_tensors_round_trip(tmp_path) -> None:
    numpy = pytest.importorskip("numpy")

    class Numeric(Module):
        def __init__(self) -> None:
            self.array = ot.node(numpy.arange(6, dtype="float32").reshape(2, 3), trainable=True)

    m = Numeric()
    path = m.save(tmp_path / "n.json")
    m.array.set(numpy.zeros((2, 3), dtype="float32"))
    m.load(path)
    assert m.array.data.dtype == numpy.float32 and m.array.data.tolist() == [[0, 1, 2], [3, 4, 5]]
    torch = pytest.importorskip("torch")

    class Tensors(Module):
        def __init__(self) -> None:
            self.weight = ot.node(torch.ones(2, dtype=torch.float64, requires_grad=True), trainable=True)

    t = Tensors()
    path = t.save(tmp_path / "t.json")
    t.weight.set(torch.zeros(2, dtype=torch.float64, requires_grad=True))
    t.load(path)
    assert t.weight.data.dtype == torch.float64 and t.weight.data.tolist() == [1.0, 1.0] and t.weight.data.requires_grad
