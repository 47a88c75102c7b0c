"""The scenario format, the seed pool, the expression reader, near-duplicates and prefix expansion."""

from __future__ import annotations

from pathlib import Path

import pytest
from reso_world import FERRY, KILN, LIGHTHOUSE, LIGHTHOUSE_AGAIN, MALFORMED, ORCHARD, QUARRY

from optotrace.modeling.resocratic.dedup import near_duplicates
from optotrace.modeling.resocratic.expand import expand
from optotrace.modeling.resocratic.expr import ExprError, parse_expr, parse_relation
from optotrace.modeling.resocratic.formal import TranslationError, translate
from optotrace.modeling.resocratic.format import parse_scenario
from optotrace.modeling.resocratic.seeds import formulation_to_scenario, load_eopt_seeds, load_own_seeds

EOPT = Path(__file__).resolve().parents[3] / "shared" / "data" / "optibench" / "e-opt.json"


def test_reso_well_formed_scenario_parses_in_order() -> None:
    res = parse_scenario(LIGHTHOUSE)
    assert res.ok and res.truncated_at is None and res.issues == []
    sc = res.scenario
    assert sc is not None
    assert [s.kind for s in sc.sections] == ["variables", "objective", "constraint", "constraint"]
    assert sc.symbols() == {"number of lamps": "Lamps", "number of lanterns": "Lanterns"}
    assert sc.constraints[1].formal_lines == ("Lamps + Lanterns <= 80",)
    assert parse_scenario(sc.render()).scenario == sc  # render -> parse round trip


def test_reso_chatter_before_the_first_header_is_dropped() -> None:
    res = parse_scenario(ORCHARD)
    assert res.ok and res.scenario is not None and res.scenario.n_constraints == 2
    assert "Sure" not in res.scenario.render()


def test_reso_truncates_at_the_first_invalid_section() -> None:
    res = parse_scenario(FERRY)
    assert res.ok and res.scenario is not None
    assert res.scenario.n_constraints == 1
    assert res.truncated_at == "## Generate Constraint-2:"
    assert any("no formal" in i for i in res.issues)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (MALFORMED, "no `## Define Variables:` header"),
        (LIGHTHOUSE.replace("## Define Objective Function:", "## Generate Constraint-0:"), "belongs"),
        (LIGHTHOUSE.replace('"Lamps"', '"Lamps!"'), "not identifiers"),
        (LIGHTHOUSE.replace("// Maximize 40", "// Earn 40"), "neither maximize nor minimize"),
        (LIGHTHOUSE.replace("Constraint-2", "Constraint-3"), "expected 2"),
        (LIGHTHOUSE.replace("// Lamps + Lanterns <= 80", "// the stall is small"), "no relation"),
        (
            LIGHTHOUSE.replace(
                "// Lamps + Lanterns <= 80", "// Lamps + Lanterns <= 80\nMore prose.\n// x <= 1"
            ).replace("## Generate Constraint-2:", "## Generate Constraint-2:"),
            None,
        ),
    ],
)
def test_reso_invalid_sections_are_reported(text: str, fragment: str | None) -> None:
    res = parse_scenario(text)
    if fragment is None:  # prose after formal lines in the last section: the chatter is dropped
        assert res.ok
        return
    assert any(fragment in issue for issue in res.issues), res.issues


def test_reso_prose_after_formal_lines_mid_scenario_truncates() -> None:
    text = LIGHTHOUSE.replace(
        "// 2 * Lamps + Lanterns <= 100", "// 2 * Lamps + Lanterns <= 100\nAnother remark."
    )
    res = parse_scenario(text)
    assert res.truncated_at == "## Generate Constraint-1:"
    assert not res.ok and res.scenario is not None and res.scenario.n_constraints == 0


def test_reso_own_seed_pool_is_valid_and_varied() -> None:
    pool = load_own_seeds()
    assert pool.skipped == {}
    assert len(pool.of_kind("linear")) >= 6 and len(pool.of_kind("nonlinear")) >= 6
    assert len({s.id for s in pool.seeds}) == len(pool.seeds)
    assert len({s.background for s in pool.seeds}) == len(pool.seeds)
    for seed in pool.seeds:
        assert seed.scenario is not None and seed.scenario.n_constraints >= 1
        fm = translate(seed.scenario)
        assert fm.is_linear() == (seed.kind == "linear"), seed.id


def test_reso_eopt_seeds_load_with_ids() -> None:
    if not EOPT.is_file():
        pytest.skip(f"{EOPT} is absent (the shared OptiBench data is not mounted)")
    pool = load_eopt_seeds(EOPT)
    assert len(pool.seeds) > 500
    assert all(s.id.startswith("eopt-") for s in pool.seeds)
    assert {s.source for s in pool.seeds} == {"e-opt:scenario", "e-opt:formulation"}
    assert len(pool.seeds) + len(pool.skipped) == 605
    assert all(reason for reason in pool.skipped.values())


def test_reso_eopt_loader_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_eopt_seeds(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_eopt_seeds(bad)


def test_reso_formulation_styles_convert() -> None:
    plain = formulation_to_scenario("maximize 5x+9y\nSubject to: \n8x+6y <= 1500\n3x+5y <= 1350 (end)", "Q?")
    assert plain is not None
    sc = parse_scenario(plain).scenario
    assert sc is not None and sc.n_constraints == 2 and translate(sc).sense == "maximize"
    as_json = formulation_to_scenario(
        '{"variable": [{"description": "acres of daikons", "name": "x"}], "objective": [{"description": "revenue",'
        ' "function": "300x", "sense": "Maximize"}], "constraint": [{"description": "land", "function": "x <= 300"},'
        ' {"description": "non-negativity constraint", "function": "x >= 0"}]}',
        "Q?",
    )
    assert as_json is not None and parse_scenario(as_json).ok


def test_reso_expressions_read_like_people_write_them() -> None:
    known = {"r", "h", "x", "y"}
    assert parse_expr("3(2πr^2) + 2πrh", known).evaluate({"r": 1.0, "h": 1.0}) == pytest.approx(
        8 * 3.14159265, 1e-6
    )
    assert parse_expr("(36 - 2x)(24 - 2x)x", known).evaluate({"x": 1.0}) == 34 * 22
    assert parse_expr("0.4(x+y)", known).linear() == ({"x": 0.4, "y": 0.4}, 0.0)
    assert parse_expr("x*y", known).linear() is None
    rels = parse_relation("50 <= x <= 2,000", known)
    assert [r.python() for r in rels] == ["50 <= x", "x <= 2000"]
    with pytest.raises(ExprError):
        parse_expr("x + unknownName", known)


def test_reso_formal_lines_become_a_model() -> None:
    fm = translate(parse_scenario(LIGHTHOUSE).scenario)  # type: ignore[arg-type]
    assert fm.sense == "maximize" and fm.is_linear()
    assert {v.domain for v in fm.variables.values()} == {"integer"}
    assert all(v.lb == 0 for v in fm.variables.values())
    assert [r.python() for _, r in fm.constraints] == [
        "((2 * Lamps) + Lanterns) <= 100",
        "(Lamps + Lanterns) <= 80",
    ]
    with pytest.raises(TranslationError, match="objective"):
        translate(parse_scenario(QUARRY).scenario)  # type: ignore[arg-type]


def test_reso_formal_reads_domains_and_definitions() -> None:
    text = """## Define Variables:
A company runs trucks and chooses trips.
// variables: {"trucks": "T", "trips per truck": "P", "budget": "B"}, where 1 <= T <= 9 & T, P are integers; B >= 0

## Define Objective Function:
Profit per trip is 5.
// Total profit: Profit = 5 * T * P - B
// So, the objective function is: Maximize Profit

## Generate Constraint-1:
At most 20 trips per truck and at most $1,000 budget.
// P <= 20; B <= 1,000
"""
    fm = translate(parse_scenario(text).scenario)  # type: ignore[arg-type]
    t, p, b = fm.variables["T"], fm.variables["P"], fm.variables["B"]
    assert (t.domain, t.lb, t.ub) == ("integer", 1.0, 9.0)
    assert p.domain == "integer" and b.domain == "continuous" and b.lb == 0.0
    assert fm.objective.evaluate({"T": 2, "P": 3, "B": 1}) == 29
    assert [r.python() for _, r in fm.constraints] == ["P <= 20", "B <= 1000"]


def test_reso_near_duplicates_by_tfidf() -> None:
    a = parse_scenario(LIGHTHOUSE).scenario
    b = parse_scenario(LIGHTHOUSE_AGAIN).scenario
    c = parse_scenario(KILN).scenario
    assert a and b and c
    cands = [("a", a.head_text()), ("b", b.head_text()), ("c", c.head_text())]
    verdicts = near_duplicates(cands)
    assert [v.kept for v in verdicts] == [True, False, True]
    assert verdicts[1].duplicate_of == "a" and verdicts[1].similarity > 0.7
    # against a reference (e.g. the seed the model copied), the first is dropped too
    assert not near_duplicates([("a", a.head_text())], [("seed:x", b.head_text())])[0].kept
    # a threshold of 1.0 keeps everything
    assert all(v.kept for v in near_duplicates(cands, threshold=1.0))


def test_reso_prefix_expansion() -> None:
    sc = parse_scenario(LIGHTHOUSE).scenario
    assert sc is not None
    problems = expand("s1", sc)
    assert [p.id for p in problems] == ["s1-c1", "s1-c2"]
    assert [p.n_constraints for p in problems] == [1, 2]
    assert "Constraint-2" not in problems[0].text and "Constraint-2" in problems[1].text
    assert problems[0].n_variables == 2
