"""copy.deepcopy / copy.copy of nodes, bundled functions and agents: a copy is a new, detached node."""

from __future__ import annotations

import copy

import networkx

import optotrace as ot
from optotrace.trace import (
    ExceptionNode,
    ExecutionError,
    MessageNode,
    Module,
    ParameterNode,
    to_dot,
    to_networkx,
)


def _graph():
    p = ot.node("draft", name="p", trainable=True, description="the prompt", constraint="short")
    y = p + "!"
    y.backward("too long")
    return p, y


def test_deepcopy_of_a_parameter_is_a_new_detached_parameter() -> None:
    p, y = _graph()
    c = copy.deepcopy(p)
    assert isinstance(c, ParameterNode) and c is not p and c.id != p.id and c.id > y.id
    assert (c.name, c.description, c.constraint, c.trainable, c.data) == ("p", "the prompt", "short", True, "draft")
    assert c.feedback == [] and c.children == [] and c.parents == []
    assert len(p.feedback) == 1 and p.children == [y]  # the original is untouched
    c.set("changed")
    assert p.data == "draft"


def test_deepcopy_of_a_message_has_no_link_to_the_original_parents() -> None:
    p, y = _graph()
    c = copy.deepcopy(y)
    assert isinstance(c, MessageNode) and c.id != y.id and c.data == "draft!"
    assert c.parents == [] and c.inputs == {} and c.feedback == [] and c.code_parameter is None
    assert c.op_name == "add" and y.parents[0] is p and p.children == [y]
    c.backward("nothing upstream")
    assert len(p.feedback) == 1


def test_copies_stay_apart_in_networkx_and_dot() -> None:
    _, y = _graph()
    c = copy.deepcopy(y)
    g, h = to_networkx(y), to_networkx(c)
    assert set(g.nodes).isdisjoint(h.nodes)
    both = networkx.compose(g, h)
    assert both.number_of_nodes() == g.number_of_nodes() + 1
    assert f"n{c.id} " in to_dot(c) and f"n{y.id} " not in to_dot(c)


def test_data_is_deep_copied_and_sharing_is_kept() -> None:
    n = ot.node([1, 2], name="xs")
    c = copy.deepcopy(n)
    c.data.append(3)
    assert n.data == [1, 2]
    p = ot.node(1, trainable=True)
    a, b = copy.deepcopy([p, p])
    assert a is b and a is not p
    shallow = copy.copy(n)
    assert shallow.id != n.id and shallow.data is n.data and shallow.parents == []


def test_exception_nodes_copy() -> None:
    try:
        ot.node(1) / 0
    except ExecutionError as exc:
        error = exc.exception_node
    c = copy.deepcopy(error)
    assert isinstance(c, ExceptionNode) and c.id != error.id and c.parents == []
    assert isinstance(c.exception, ZeroDivisionError) and c.data == error.data


class Agent(Module):
    def __init__(self) -> None:
        self.prompt = ot.node("be brief", name="prompt", trainable=True)
        self.tools = {"search": ot.node("search(q)", name="tool", trainable=True)}
        self.steps = ot.bundle(trainable=True)(_steps)

    @ot.bundle(trainable=True)
    def act(self, observation):
        return observation


def _steps(x):
    return x + 1


def test_deepcopy_of_an_agent_runs_side_by_side() -> None:
    agent = Agent()
    twin = copy.deepcopy(agent)
    assert twin.prompt is not agent.prompt and twin.prompt.id != agent.prompt.id
    assert twin.tools["search"] is not agent.tools["search"]
    twin.prompt.set("be thorough")
    assert agent.prompt.data == "be brief"
    assert twin.steps.parameter is not agent.steps.parameter
    twin.steps.parameter.set("def _steps(x):\n    return x + 100\n")
    assert twin.steps(1).data == 101 and agent.steps(1).data == 2
    assert list(twin.named_parameters()) == list(agent.named_parameters())


def test_a_copied_module_owns_its_trainable_methods_code() -> None:
    agent = Agent()
    twin = copy.deepcopy(agent)
    own = twin.named_parameters()["act"]
    assert own is not Agent.act.parameter and agent.named_parameters()["act"] is Agent.act.parameter
    assert twin.act.parameter is own and own.is_code and own.data == Agent.act.parameter.data
    out = twin.act("obs")
    assert out.data == "obs" and out.code_parameter is own and own in out.parents
    own.set("def act(self, observation):\n    return observation.upper()\n")
    assert twin.act("obs").data == "OBS" and agent.act("obs").data == "obs" and Agent().act("x").data == "x"
    third = copy.deepcopy(twin)  # a copy of a copy owns yet another one
    assert third.named_parameters()["act"] not in (own, Agent.act.parameter) and third.act("o").data == "O"
    pair = copy.deepcopy([agent, Agent()])  # instances copied together share their class's copy, as before
    assert pair[0].named_parameters()["act"] is pair[1].named_parameters()["act"]


def test_a_module_copied_with_its_optimizer_keeps_them_together() -> None:
    from optotrace.optimizers.base import collect_parameters

    agent = Agent()
    params = collect_parameters(agent)
    twin, twin_params = copy.deepcopy((agent, params))
    assert twin_params == twin.parameters() and not set(map(id, twin_params)) & set(map(id, params))


def test_pickled_nodes_arrive_detached() -> None:
    import pickle

    p, y = _graph()
    for original in (p, y):
        got = pickle.loads(pickle.dumps(original))
        assert type(got) is type(original) and got.id != original.id and got.data == original.data
        assert got.parents == [] and got.feedback == [] and got.children == []
    q = pickle.loads(pickle.dumps(p))
    assert (q.name, q.description, q.constraint, q.trainable) == ("p", "the prompt", "short", True)
    (q + "?").backward("works")
    assert len(q.feedback) == 1 and len(p.feedback) == 1
    try:
        ot.node(1) / 0
    except ExecutionError as exc:
        error = pickle.loads(pickle.dumps(exc.exception_node))
    assert isinstance(error.exception, ZeroDivisionError) and error.inputs == {}
