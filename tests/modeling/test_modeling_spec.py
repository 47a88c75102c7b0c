"""ModelSpec: JSON shape, round trips, rendering, and the errors for bad specs."""

from __future__ import annotations

import json

import pydantic
import pytest

from optotrace.errors import OptotraceError
from optotrace.modeling import ExpressionError, ModelSpec, SpecError, build, classify

PRODUCTION = {
    "name": "production",
    "description": "Plan production of chairs and tables.",
    "sets": [{"name": "P", "elements": ["chairs", "tables"]}],
    "data": [
        {"name": "profit", "index": ["P"], "value": {"chairs": 30, "tables": 50}},
        {"name": "hours", "index": "P", "value": [2, 4]},
        {"name": "capacity", "value": 100},
    ],
    "variables": [
        {"name": "x", "index": ["P"], "domain": "integer", "lower": 0, "description": "units made"}
    ],
    "objective": {"sense": "maximize", "expression": "sum(profit[p] * x[p] for p in P)"},
    "constraints": [
        {"name": "labour", "expression": "sum(hours[p] * x[p] for p in P) <= capacity"},
        {"name": "demand", "for": "p in P", "expression": "x[p] <= 40"},
    ],
}


def spec_with(**changes: object) -> ModelSpec:
    return ModelSpec.model_validate({**PRODUCTION, **changes})


def with_objective(expression: str) -> ModelSpec:
    return spec_with(objective={"sense": "maximize", "expression": expression})


def test_json_round_trip_keeps_everything() -> None:
    spec = ModelSpec.model_validate(PRODUCTION)
    again = ModelSpec.from_json(spec.to_json())
    assert again == spec
    assert json.loads(spec.to_json())["constraints"][1]["for"] == "p in P"
    assert again.check() is again


def test_json_schema_uses_the_json_keys() -> None:
    schema = json.dumps(ModelSpec.json_schema())
    assert '"for"' in schema and '"for_each"' not in schema
    assert "continuous" in schema and "maximize" in schema


def test_aliases_are_normalised() -> None:
    spec = ModelSpec.model_validate(
        {"variables": [{"name": "x", "domain": "Int"}], "objective": {"sense": "MAX", "expression": "x"}}
    )
    assert spec.variables[0].domain == "integer"
    assert spec.objective.sense == "maximize"


def test_markdown_and_latex_read_like_mathematics() -> None:
    spec = ModelSpec.model_validate(PRODUCTION)
    md = spec.to_markdown()
    assert "**Maximize**" in md and "labour" in md and r"\sum_{p \in P}" in md
    tex = spec.to_latex()
    assert tex.startswith(r"\begin{align*}") and tex.endswith(r"\end{align*}")
    assert r"\max" in tex and r"\leq" in tex and r"\forall p \in P" in tex and r"\in \mathbb{Z}" in tex


def test_latex_of_nonlinear_functions() -> None:
    spec = ModelSpec.model_validate(
        {
            "variables": [{"name": "x", "lower": 1}, {"name": "y", "lower": 0}],
            "objective": {
                "sense": "minimize",
                "expression": "sqrt(x) + exp(y) / log(x + 1) + abs(x - y) + x**2",
            },
        }
    )
    tex = spec.to_latex()
    assert r"\sqrt{x}" in tex and r"\frac{" in tex and r"\exp" in tex and "x^{2}" in tex and r"\left|" in tex


@pytest.mark.parametrize(
    ("expression", "message", "column"),
    [
        ("sum(profit[p] * y[p] for p in P)", "unknown name 'y'", 16),
        ("3x + 2", "write multiplication explicitly", 0),
        ("x[chairs]^2", "x**2", 0),
        ("sum(x[p] for p in Q)", "'Q' is not a set", 18),
        ("x['sofas']", "'sofas' is not an element of set 'P'", 2),
        ("__import__('os').system('ls')", "attribute access", 0),
        ("eval('1')", "unknown function 'eval'", 0),
        ("x", "indexed by ['P']", 0),
        ("x[1, 2]", "takes 1 (P) indices", 0),
        ("lambda: 0", "lambda is not allowed", 0),
        ("x['chairs'] if True else 0", "conditional expression", 0),
        ("", "empty", None),
    ],
)
def test_bad_objective_names_the_item_and_points_at_the_token(
    expression: str, message: str, column: int | None
) -> None:
    with pytest.raises(ExpressionError) as info:
        build(with_objective(expression))
    err = info.value
    assert isinstance(err, OptotraceError)
    assert str(err).startswith("objective:")
    assert message in str(err)
    assert err.column == column
    if column is not None:
        caret_line = str(err).splitlines()[-1]
        assert caret_line.index("^") - 4 == column


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("x['chairs'] + x['tables']", "needs one of <=, >=, =="),
        ("x['chairs'] < 3", "strict inequalities"),
        ("x['chairs'] != 3", "'!=' cannot be modelled"),
        ("1 <= x['chairs'] >= 3", "same direction twice"),
        ("x['chairs'] <= unknown_cap", "unknown name 'unknown_cap'"),
        ("max(x['chairs'], x['tables']) >= 3", "can only be linearized"),
    ],
)
def test_bad_constraint_names_the_constraint(expression: str, message: str) -> None:
    spec = spec_with(constraints=[{"name": "capacity", "expression": expression}])
    with pytest.raises(ExpressionError) as info:
        spec.check()
    assert str(info.value).startswith("constraint 'capacity'")
    assert message in str(info.value)


def test_bad_for_clause_names_the_constraint() -> None:
    spec = spec_with(constraints=[{"name": "demand", "for": "p in Products", "expression": "x[p] <= 4"}])
    with pytest.raises(
        ExpressionError, match=r"constraint 'demand' \('for' clause\): 'Products' is not a set"
    ):
        spec.check()


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ([{"name": "x", "domain": "binary", "lower": 2}], "binary but its bounds"),
        ([{"name": "x", "lower": 5, "upper": 1}], "lower bound 5.0 above upper bound 1.0"),
        ([{"name": "x", "domain": "integer", "lower": 0.2, "upper": 0.8}], "no integer lies"),
        ([{"name": "x", "index": ["Nowhere"]}], "'Nowhere', which is not a declared set"),
        ([{"name": "x"}, {"name": "x"}], "names must be unique"),
    ],
)
def test_wrong_domains_and_bounds_are_spec_errors(variables: list[dict], message: str) -> None:
    spec = ModelSpec.model_validate(
        {"variables": variables, "objective": {"sense": "minimize", "expression": "0"}}
    )
    with pytest.raises(SpecError, match=message):
        spec.check()


def test_unknown_domain_and_bad_names_fail_validation() -> None:
    with pytest.raises(pydantic.ValidationError):
        ModelSpec.model_validate(
            {
                "variables": [{"name": "x", "domain": "complex"}],
                "objective": {"sense": "min", "expression": "x"},
            }
        )
    with pytest.raises(pydantic.ValidationError, match="identifier"):
        ModelSpec.model_validate(
            {"variables": [{"name": "2x"}], "objective": {"sense": "min", "expression": "0"}}
        )
    with pytest.raises(pydantic.ValidationError, match="reserved"):
        ModelSpec.model_validate(
            {"variables": [{"name": "sum"}], "objective": {"sense": "min", "expression": "0"}}
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "hours", "index": ["P"], "value": [1, 2, 3]}, "a list of 3 values"),
        ({"name": "hours", "index": ["P"], "value": {"chairs": 1}}, "no value for \\['tables'\\]"),
        (
            {"name": "hours", "index": ["P"], "value": {"chairs": 1, "sofas": 2, "tables": 3}},
            "'sofas' is not an element",
        ),
        ({"name": "hours", "index": ["P"], "value": 3}, "give a list or a mapping"),
    ],
)
def test_data_shapes_are_checked(data: dict, message: str) -> None:
    others = [d for d in PRODUCTION["data"] if d["name"] != "hours"]  # type: ignore[union-attr]
    with pytest.raises(SpecError, match=message):
        spec_with(data=[*others, data]).check()


def test_tables_families_and_conditions() -> None:
    spec = ModelSpec.model_validate(
        {
            "sets": [{"name": "I", "elements": [1, 2, 3]}, {"name": "J", "elements": ["a", "b"]}],
            "data": [{"name": "c", "index": ["I", "J"], "value": [[1, 2], [3, 4], [5, 6]]}],
            "variables": [
                {"name": "x", "index": ["I", "J"], "lower": 0, "upper": 1},
                {"name": "t", "index": "I"},
            ],
            "objective": {"sense": "maximize", "expression": "sum(c[i, j] * x[i, j] for i in I for j in J)"},
            "constraints": [
                {"name": "row", "for": "i in I", "expression": "sum(x[i, j] for j in J) <= 1"},
                {"name": "chain", "for": "i in I if i > 1", "expression": "t[i] >= t[i - 1] + 1"},
                {"name": "start", "expression": "t[1] == 0"},
                {
                    "name": "pairs",
                    "for": "i in I, k in I if i < k",
                    "expression": "x[i, 'a'] + x[k, 'a'] <= 1",
                },
            ],
        }
    )
    model = build(spec)
    assert len(model.chain) == 2 and len(model.row) == 3 and len(model.pairs) == 3
    assert classify(spec) == "LP"
