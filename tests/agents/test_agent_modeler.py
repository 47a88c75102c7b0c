"""The modeler agent driven by ScriptedLLM: code mode (sandbox + repair), spec mode (no code runs), tracing."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import optotrace as ot
from optotrace.agents import ModelerAgent
from optotrace.agents.modeler.training import metric
from optotrace.benchmarks.problem import OptiBenchProblem
from optotrace.benchmarks.runner import evaluate
from optotrace.llm import ScriptedLLM

TEA = OptiBenchProblem(
    index=5, type="linear-notable", question="Black milk tea earns $2.5, green $7 ... maximize profit.",
    results={"The number of bottles of black milk tea": 136.0, "The number of bottles of green milk tea": 45.0,
             "Total profit": 655.0},
)
PROGRAM = """```python
import pyomo.environ as pyo
m = pyo.ConcreteModel()
m.b = pyo.Var(domain=pyo.NonNegativeIntegers)
m.g = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(10, None))
m.obj = pyo.Objective(expr=2.5 * m.b + 7 * m.g, sense=pyo.maximize)
m.milk = pyo.Constraint(expr=300 * m.b + 200 * m.g <= 50000)
m.ratio = pyo.Constraint(expr=m.b >= 3 * m.g)
pyo.SolverFactory("appsi_highs").solve(m)
print("The number of bottles of black milk tea:", pyo.value(m.b))
print("The number of bottles of green milk tea:", pyo.value(m.g))
print("Total profit:", pyo.value(m.obj))
```"""
SPEC = {
    "spec": {
        "name": "tea",
        "variables": [{"name": "b", "domain": "integer", "lower": 0}, {"name": "g", "domain": "integer", "lower": 10}],
        "objective": {"sense": "maximize", "expression": "2.5*b + 7*g"},
        "constraints": [{"name": "milk", "expression": "300*b + 200*g <= 50000"}, {"name": "ratio", "expression": "b >= 3*g"}],
    },
    "report": {"The number of bottles of black milk tea": "b", "The number of bottles of green milk tea": "g",
               "Total profit": "objective"},
}


def test_code_mode_repairs_a_crashing_program() -> None:
    llm = ScriptedLLM(replies=["```python\nprint(1/0)\n```", PROGRAM])
    agent = ModelerAgent(llm, mode="code", max_attempts=3)
    try:
        result = agent(TEA)
    finally:
        agent.close()
    assert result.attempts == 2 and result.code_ok
    assert "ZeroDivisionError" in result.errors[0]
    assert "Total profit: 655" in (result.output or "")
    repair_turn = llm.requests[1]["messages"][-1]["content"]
    assert "ZeroDivisionError" in repair_turn
    assert "- Total profit" in llm.requests[0]["messages"][1]["content"]


def test_code_mode_gives_up_after_k_attempts() -> None:
    llm = ScriptedLLM(rules=[(".*", "```python\nprint('nothing useful')\n```")])
    agent = ModelerAgent(llm, mode="code", max_attempts=2)
    try:
        result = agent(TEA)
    finally:
        agent.close()
    assert result.attempts == 2 and len(llm.requests) == 2
    assert "printed none of the requested values" in result.errors[-1]


def test_spec_mode_solves_without_running_code() -> None:
    llm = ScriptedLLM(rules=[(".*", json.dumps(SPEC))])
    result = ModelerAgent(llm, mode="spec")(TEA)
    assert result.program is None and result.code_ok
    assert result.values == {"The number of bottles of black milk tea": 136.0,
                             "The number of bottles of green milk tea": 45.0, "Total profit": 655.0}


def test_spec_mode_feeds_back_infeasibility() -> None:
    bad = json.loads(json.dumps(SPEC))
    bad["spec"]["constraints"].append({"name": "impossible", "expression": "b + g <= 5"})
    llm = ScriptedLLM(replies=[json.dumps(bad), json.dumps(SPEC)])
    result = ModelerAgent(llm, mode="spec", max_attempts=2)(TEA)
    assert result.attempts == 2 and result.values["Total profit"] == 655.0
    assert "infeasible" in llm.requests[1]["messages"][-1]["content"]


def test_evaluate_drives_both_modes(tmp_path: Path) -> None:
    code_agent = ModelerAgent(ScriptedLLM(rules=[(".*", PROGRAM)]), mode="code")
    spec_agent = ModelerAgent(ScriptedLLM(rules=[(".*", json.dumps(SPEC))]), mode="spec")
    try:
        a = evaluate(code_agent, [TEA], run_dir=tmp_path / "code", progress=False)
        b = evaluate(spec_agent, [TEA], run_dir=tmp_path / "spec", progress=False)
    finally:
        code_agent.close()
    assert a.correct == b.correct == 1
    assert a.records[0].program and a.records[0].prompt[0]["role"] == "system"
    assert b.records[0].spec["name"] == "tea" and b.records[0].program is None


def test_traced_forward_gives_feedback_to_both_prompts() -> None:
    agent = ModelerAgent(ScriptedLLM(rules=[(".*", "```python\nprint('Total profit: 600')\n```")]), mode="code", max_attempts=1)
    try:
        out, _ = agent.forward(TEA)
    finally:
        agent.close()
    score, feedback = metric(TEA, out.data)
    assert score < 1 and "no printed line matches the label 'The number of bottles of black milk tea'" in feedback
    out.backward(feedback)
    for param in agent.parameters():
        assert param.feedback and param.feedback[0].feedback == feedback
    names = [n.name for n in ot.subgraph(out)]
    assert {"system_prompt", "instructions", "compose", "ask_llm", "run_program"} <= set(names)


def test_parameters_save_load_and_pickle(tmp_path: Path) -> None:
    agent = ModelerAgent("scripted", mode="spec")
    agent.instructions.set("Be precise.")
    path = agent.save(tmp_path / "p.json")
    other = ModelerAgent("scripted", mode="spec")
    other.load(path)
    assert other.instructions.data == "Be precise."
    clone = pickle.loads(pickle.dumps(agent))
    assert clone.instructions.data == "Be precise." and clone.mode == "spec"
