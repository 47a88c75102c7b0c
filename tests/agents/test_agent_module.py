"""The modeler is an ot.Module built from modeling's parts: one parameter file format, one spec solver,
the run result's own failure summary."""

from __future__ import annotations

import json
from pathlib import Path

import optotrace as ot
from optotrace.agents import ModelerAgent
from optotrace.modeling.sandbox import RunResult
from optotrace.modeling.spec_run import solve_spec


def test_the_agent_saves_and_loads_like_every_module(tmp_path: Path) -> None:
    agent = ModelerAgent("scripted", mode="code")
    assert isinstance(agent, ot.Module)
    assert set(agent.named_parameters()) == {"system_prompt", "instructions"}
    agent.instructions.set("Print every label.")
    saved = json.loads(agent.save(tmp_path / "p.json").read_text())
    assert saved["format"] == "optotrace.parameters" and set(saved["parameters"]) == {"system_prompt", "instructions"}
    other = ModelerAgent("scripted", mode="code")
    other.load(tmp_path / "p.json")
    assert other.instructions.data == "Print every label."


def test_a_parameter_file_in_the_older_format_still_loads(tmp_path: Path) -> None:
    old = tmp_path / "best_params.json"
    old.write_text(json.dumps({"mode": "code", "system_prompt": "S", "instructions": "I"}))
    agent = ModelerAgent("scripted", mode="code")
    agent.load(old)
    assert (agent.system_prompt.data, agent.instructions.data) == ("S", "I")


def test_the_run_result_says_what_failed() -> None:
    assert RunResult("x: 1\n", "", 0).failure is None
    assert RunResult("", "", None, timed_out=True).failure == "the program ran past its time limit"
    failed = RunResult("", "Traceback...\nZeroDivisionError: division by zero\n", 1).failure
    assert failed == "the program exited with status 1: ZeroDivisionError: division by zero"


def test_one_spec_solver_prints_values_or_says_why_not() -> None:
    from optotrace.modeling import ModelSpec

    spec = {"name": "tiny", "variables": [{"name": "x", "lower": 0, "upper": 4}],
            "objective": {"sense": "maximize", "expression": "3*x"}, "constraints": []}
    run = solve_spec(ModelSpec.model_validate(spec))
    assert run.ok and "x: 4" in run.output and "objective: 12" in run.output
    infeasible = ModelSpec.model_validate({**spec, "constraints": [{"name": "c", "expression": "x >= 5"}]})
    bad = solve_spec(infeasible)
    assert not bad.ok and bad.failure and "infeasible" in bad.failure and "status: infeasible" in bad.output
    broken = solve_spec({"not": "a spec"})
    assert not broken.ok and broken.failure and broken.failure.startswith("the model does not build")
