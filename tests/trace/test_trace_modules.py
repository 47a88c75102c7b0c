"""Module and @model: finding parameters, saving and loading them as JSON."""

from __future__ import annotations

import collections
import dataclasses
import json
import types

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


class Inner(Module):
    def __init__(self, value: float) -> None:
        self.w = ot.node(value, name="w", trainable=True)


@dataclasses.dataclass
class Config:
    prompt: object
    retries: int = 2


class Containers(Module):
    def __init__(self) -> None:
        self.nested = {"a": {"b": [ot.node("x", name="x", trainable=True)]}}
        self.tuples = ([(ot.node(2, name="t", trainable=True),)],)
        first, second = ot.node("s1", name="s", trainable=True), ot.node("s2", name="s", trainable=True)
        self.tags = {second, first}
        self.frozen = frozenset({ot.node(3, name="f", trainable=True)})
        self.queue = collections.deque([ot.node(4, name="q", trainable=True)])
        self.modules = {"left": Inner(1.0), "right": [Inner(2.0)]}
        self.user_dict = collections.UserDict({"u": ot.node("u", name="u", trainable=True)})
        self.user_list = collections.UserList([ot.node("l", name="l", trainable=True)])
        self.mapping = types.MappingProxyType({"m": ot.node("m", name="m", trainable=True)})
        self.config = Config(prompt=ot.node("c", name="c", trainable=True))
        self.tool = Planner().plan  # a bound trainable method
        self.odd = {"a.b": ot.node("ab", name="ab", trainable=True), "a": {"b": ot.node("a_b", name="ab", trainable=True)}}
        self.frozen_value = ot.node("fixed")  # not trainable: not a parameter


def test_parameters_in_nested_containers_have_stable_names() -> None:
    named = Containers().named_parameters()
    assert list(named) == [
        "nested.a.b.0", "tuples.0.0.0", "tags.0", "tags.1", "frozen.0", "queue.0", "modules.left.w",
        "modules.right.0.w", "user_dict.u", "user_list.0", "mapping.m", "config.prompt", "tool",
        "odd.a.b", "odd.a.b_2",
    ]
    assert named["tags.0"].data == "s1" and named["tags.1"].data == "s2"  # set members in creation order
    assert named["tool"] is Planner.plan.parameter
    assert (named["odd.a.b"].data, named["odd.a.b_2"].data) == ("ab", "a_b")
    assert list(Containers().named_parameters()) == list(named)  # the same names for every instance


def test_nested_containers_save_and_load(tmp_path) -> None:
    model = Containers()
    path = model.save(tmp_path / "c.json")
    before = {name: p.data for name, p in model.named_parameters().items()}
    assert len(before) == 15 and set(json.loads(path.read_text())["parameters"]) == set(before)
    for p in model.parameters():
        if not p.is_code:
            p.set("changed" if isinstance(p.data, str) else 0)
    other = Containers()
    other.load(path)
    model.load(path)
    assert {name: p.data for name, p in model.named_parameters().items()} == before
    assert {name: p.data for name, p in other.named_parameters().items()} == before


def test_parameters_used_as_dict_keys() -> None:
    class Keyed(Module):
        def __init__(self) -> None:
            self.routes = {ot.node("search", name="tool", trainable=True): ot.node(0.5, name="w", trainable=True),
                           ot.node("fixed", name="label"): ot.node("x", name="x", trainable=True)}

    model = Keyed()
    named = model.named_parameters()
    assert list(named) == ["routes.tool", "routes.tool.key", "routes.label"]
    assert (named["routes.tool"].data, named["routes.tool.key"].data, named["routes.label"].data) == (0.5, "search", "x")
    next(iter(model.routes)).set("lookup")  # names do not follow the values
    assert list(model.named_parameters()) == list(named)


def test_cycles_are_walked_once() -> None:
    class Loop(Module):
        def __init__(self) -> None:
            self.items: list = [ot.node(1, name="one", trainable=True)]
            self.items.append(self.items)
            self.me = self

    assert list(Loop().named_parameters()) == ["items.0"]
