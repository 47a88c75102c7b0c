"""Stage helpers: question checks, program extraction and outcomes, the formal solve, agreement, the plan."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from reso_world import FERRY_C1, KILN, LIGHTHOUSE, NO_PROGRAM, ORCHARD

from optotrace.modeling.resocratic.backtranslate import check_question, clean_question, has_table
from optotrace.modeling.resocratic.codegen import extract_program, messages_for, read_outcome
from optotrace.modeling.resocratic.expand import expand
from optotrace.modeling.resocratic.format import parse_scenario
from optotrace.modeling.resocratic.seeds import load_own_seeds
from optotrace.modeling.resocratic.synthesize import SynthesisPlan, plan_tasks
from optotrace.modeling.resocratic.verify import compare, solve_formal

LIGHT = expand("s", parse_scenario(LIGHTHOUSE).scenario)[-1]  # type: ignore[arg-type]
GOOD = (
    "A lighthouse keeper's cooperative sells hand-made lamps and lanterns. A lamp earns $40 and a lantern $30. "
    "A lamp takes 2 hours of work and a lantern 1 hour; 100 hours are available. The stall shows at most 80 "
    "items. How many of each should be made to maximize profit?"
)
TABLE = (
    "A lighthouse keeper's cooperative sells lamps and lanterns; 100 hours of work are available and the stall "
    "shows at most 80 items.\n\n| item | profit | hours |\n|---|---|---|\n| lamp | 40 | 2 |\n| lantern | 30 | 1 |"
    "\n\nHow many of each maximize profit?"
)


def test_reso_question_checks() -> None:
    assert check_question(GOOD, LIGHT, "plain").ok
    assert check_question(TABLE, LIGHT, "table").ok
    assert check_question(GOOD, LIGHT, "table").failed == ("table_missing",)
    assert check_question(TABLE, LIGHT, "plain").failed == ("unexpected_table",)
    assert "formal_leak" in check_question(GOOD + " // Lamps + Lanterns <= 80", LIGHT, "plain").failed
    assert "formal_leak" in check_question(GOOD + " Note: 2*Lamps+Lanterns<=100.", LIGHT, "plain").failed
    assert "too_short" in check_question("Maximize it.", LIGHT, "plain").failed
    missing = check_question(
        "A cooperative sells lamps and lanterns and wants the most profit. What should it do?", LIGHT, "plain"
    )
    assert "numbers_missing" in missing.failed and missing.number_coverage < 0.8
    leaky = expand("s", parse_scenario(LIGHTHOUSE.replace("Lamps", "nLampsMade")).scenario)[-1]  # type: ignore[arg-type]
    assert "symbol_leak" in check_question(GOOD + " Let nLampsMade be the count.", leaky, "plain").failed
    assert clean_question("Sure, here is the word problem:\n" + GOOD) == GOOD
    assert has_table(TABLE) and not has_table(GOOD)


def test_reso_program_extraction() -> None:
    program = extract_program(FERRY_C1)
    assert program is not None and program.startswith("import pyomo.environ as pyo")
    assert extract_program(NO_PROGRAM) is None
    assert extract_program("x = 1\nprint('objective:', x)") == "x = 1\nprint('objective:', x)"
    msgs = messages_for(LIGHT, "pyscipopt", linear=True)
    assert "PySCIPOpt" in msgs[-1]["content"] and "lighthouse" in msgs[-1]["content"]
    assert "appsi_highs" in messages_for(LIGHT, "pyomo", linear=True)[-1]["content"]
    assert "scip_direct" in messages_for(LIGHT, "pyomo", linear=False)[-1]["content"]
    with pytest.raises(ValueError):
        messages_for(LIGHT, "gurobi", linear=True)  # type: ignore[arg-type]


def _run(**kw: object) -> SimpleNamespace:
    base = {
        "stdout": "",
        "stderr": "",
        "returncode": 0,
        "timed_out": False,
        "memory_exceeded": False,
        "output_truncated": False,
        "error": "",
    }
    return SimpleNamespace(**{**base, **kw})


@pytest.mark.parametrize(
    ("run", "reason", "objective"),
    [
        (_run(stdout="status: optimal\nobjective: 12.5\n"), "", 12.5),
        (_run(stdout="status: TerminationCondition.optimal\nobjective: -3e2\n"), "", -300.0),
        (_run(stdout="status: infeasible\nobjective: 0\n"), "program_not_optimal", 0.0),
        (_run(stdout="the answer is 7\n"), "program_no_objective", None),
        (_run(returncode=1, stderr="  File x\nSyntaxError: bad"), "program_syntax_error", None),
        (_run(returncode=1, stderr="NameError: name 'y'"), "program_error", None),
        (_run(returncode=-9, timed_out=True), "program_timeout", None),
        (_run(returncode=1, memory_exceeded=True), "program_memory", None),
        (_run(output_truncated=True), "program_output_limit", None),
        (_run(returncode=None, error="worker died"), "sandbox_error", None),
    ],
)
def test_reso_program_outcomes(run: SimpleNamespace, reason: str, objective: float | None) -> None:
    outcome = read_outcome(run)
    assert outcome.reason == reason and outcome.ok == (reason == "")
    assert outcome.objective == objective


def test_reso_formal_solve_of_the_own_seeds() -> None:
    expected = {
        "own-lin-01": 750.0,
        "own-lin-04": 1290.0,
        "own-nl-01": 96.0,
        "own-nl-05": 4200.0,
        "own-nl-07": 1300.0,
    }
    pool = load_own_seeds()
    for seed_id, value in expected.items():
        result = solve_formal(pool.by_id(seed_id).scenario, seed_id, time_limit=30)  # type: ignore[arg-type]
        assert result.ok, (seed_id, result.reason, result.detail)
        assert result.objective == pytest.approx(value, rel=1e-4), seed_id
        assert result.spec_json and '"variables"' in result.spec_json


def test_reso_formal_solve_failures_are_reasons() -> None:
    kiln = expand("k", parse_scenario(KILN).scenario)  # type: ignore[arg-type]
    assert solve_formal(kiln[0].scenario).objective == pytest.approx(72.0)
    infeasible = solve_formal(kiln[1].scenario)
    assert infeasible.reason == "formal_not_optimal" and infeasible.status == "infeasible"
    orchard = solve_formal(parse_scenario(ORCHARD).scenario)  # type: ignore[arg-type]
    assert orchard.ok and orchard.linear is False and orchard.objective == pytest.approx(200.0, rel=1e-4)


def test_reso_agreement_tolerances() -> None:
    assert compare(100.0, 100.005, rtol=1e-4).agree
    assert not compare(100.0, 100.5, rtol=1e-4).agree
    assert compare(0.0, 1e-7, atol=1e-6).agree
    assert not compare(None, 1.0).agree


def test_reso_sampling_plan_is_deterministic() -> None:
    pool = load_own_seeds()
    plan = SynthesisPlan(n=10, linear_ratio=0.3, seeds_per_prompt=2, seed=3)
    a, b = plan_tasks(plan, pool), plan_tasks(plan, pool)
    assert [t.prompt_hash for t in a] == [t.prompt_hash for t in b]
    assert sum(t.kind == "linear" for t in a) == 3
    for t in a:
        assert len(t.seed_ids) == 2 and all(pool.by_id(s).kind == t.kind for s in t.seed_ids)
        assert t.background in t.messages[-1]["content"]
    assert [t.prompt_hash for t in plan_tasks(SynthesisPlan(n=10, seed=4), pool)] != [
        t.prompt_hash for t in a
    ]
    with pytest.raises(ValueError):
        SynthesisPlan(linear_ratio=1.5)
