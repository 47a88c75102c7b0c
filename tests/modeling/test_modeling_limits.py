"""Large and hostile expressions: sums of thousands of terms solve (real HiGHS); what cannot be handled is a
clean ExpressionError naming the limit; Unicode look-alike names cannot hide one another."""

from __future__ import annotations

import pytest

from optotrace.modeling import ModelSpec, SpecError, classify, solve
from optotrace.modeling.errors import ExpressionError
from optotrace.modeling.expression_tree import MAX_CHARS


def _spec(variables: list[dict], sense: str, objective: str, constraints: list[dict] | None = None) -> ModelSpec:
    return ModelSpec.model_validate(
        {"variables": variables, "objective": {"sense": sense, "expression": objective},
         "constraints": constraints or []}
    )


@pytest.mark.parametrize("n", [500, 5_000])
def test_an_explicit_sum_of_thousands_of_terms_solves(n: int) -> None:
    # max sum(w_i x_i) s.t. sum(x_i) <= 3, 0 <= x_i <= 1: the three largest weights are chosen.
    weights = [(i * 7919) % 1000 + 1 for i in range(n)]
    variables = [{"name": f"x{i}", "lower": 0, "upper": 1} for i in range(n)]
    objective = " + ".join(f"{w}*x{i}" for i, w in enumerate(weights))
    budget = " + ".join(f"x{i}" for i in range(n)) + " <= 3"
    spec = _spec(variables, "maximize", objective, [{"name": "budget", "expression": budget}])
    spec.check()
    assert classify(spec) == "LP"
    sol = solve(spec)
    assert sol.status == "optimal" and sol.solver == "highs"
    assert sol.objective == pytest.approx(sum(sorted(weights)[-3:]))


def test_long_sums_inside_brackets_differences_and_generators() -> None:
    n = 5_000
    variables = [{"name": "x", "index": ["I"], "lower": 0, "upper": 2}, {"name": "y", "lower": -10, "upper": 10}]
    inner = " - ".join(f"x[{i}]" for i in range(n))  # x0 - x1 - ... : at most 2 with every other x at 2
    spec = ModelSpec.model_validate({
        "sets": [{"name": "I", "elements": list(range(n))}, {"name": "J", "elements": [0, 1]}],
        "variables": variables,
        "objective": {"sense": "maximize", "expression": f"3*({inner}) + y"},
        "constraints": [  # a long chain inside a generator: y <= sum(0 + 0.5 for j in J) = 1
            {"name": "y_cap", "expression": "y <= sum(" + " + ".join(["x[j] - x[j]"] * 2_500) + " + 0.5 for j in J)"},
        ],
    })
    sol = solve(spec)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(3 * 2 + 1.0)
    assert sol.values["y"] == pytest.approx(1.0)


def test_ten_thousand_unary_minuses_are_a_clean_error() -> None:
    spec = _spec([{"name": "x", "lower": 0, "upper": 1}], "minimize", "-" * 10_000 + "x")
    with pytest.raises(ExpressionError, match="signs in a row") as info:
        spec.check()
    assert "objective" in str(info.value) and len(str(info.value)) < 1_000


@pytest.mark.parametrize("text", [
    "- " * 60 + "x",                      # spaced-out signs
    "**".join(["x"] * 10_000),            # a tower of powers the parser cannot hold
    "**".join(["x"] * 1_000),             # one it can, but no walker should
    "x" + "*x" * 20_000,                  # a product of twenty thousand factors
    "(x+" * 150 + "x" + ")" * 150,         # brackets nested 150 deep
    "x + " + "-(" * 120 + "x" + ")" * 120,  # signs each in their own brackets
])
def test_pathological_nesting_is_a_clean_error(text: str) -> None:
    spec = _spec([{"name": "x", "lower": 0, "upper": 1}], "minimize", text)
    with pytest.raises(ExpressionError) as info:
        spec.check()
    message = str(info.value)
    assert "objective" in message and ("levels deep" in message or "signs in a row" in message)
    assert len(message) < 1_000


def test_an_expression_over_the_size_limit_is_refused() -> None:
    text = "x + " * (MAX_CHARS // 4 + 10) + "x"
    spec = _spec([{"name": "x", "lower": 0, "upper": 1}], "minimize", text)
    with pytest.raises(ExpressionError, match="limit"):
        spec.check()


def test_an_error_in_a_long_sum_points_at_its_term() -> None:
    terms = [f"x{i}" for i in range(3_000)]
    terms[2_500] = "x2500 * unknown_name"
    spec = _spec([{"name": f"x{i}", "lower": 0} for i in range(3_000)], "minimize", " + ".join(terms))
    with pytest.raises(ExpressionError, match="unknown name 'unknown_name'") as info:
        spec.check()
    error = info.value
    assert error.column is not None and error.expression[error.column:].startswith("unknown_name")
    assert len(str(error)) < 1_000  # a window around the column, not 20,000 characters


def test_rendering_a_long_sum_does_not_recurse() -> None:
    n = 3_000
    spec = _spec([{"name": f"x{i}", "lower": 0} for i in range(n)], "minimize",
                 " + ".join(f"x{i}" for i in range(n)) + " - x0")
    latex = spec.to_latex()
    assert r"\mathrm{x0} + \mathrm{x1} + \mathrm{x2}" in latex and r"\mathrm{x2999} - \mathrm{x0}" in latex


# -- item 10: Unicode look-alikes --------------------------------------------------------------------------
def test_full_width_lookalike_names_are_rejected() -> None:
    spec = _spec([{"name": "x", "lower": 0, "upper": 1}, {"name": "ｘ", "lower": 5, "upper": 6}], "minimize",
                 "ｘ")
    with pytest.raises(SpecError, match="Unicode normalization") as info:
        spec.check()
    assert "'x'" in str(info.value) and "'ｘ'" in str(info.value)


def test_lookalikes_across_kinds_and_constraints_are_rejected() -> None:
    spec = ModelSpec.model_validate({
        "data": [{"name": "ﬁx", "value": 1}],  # the ligature ﬁ folds to "fi"
        "variables": [{"name": "fix", "lower": 0}],
        "objective": {"sense": "minimize", "expression": "fix"},
    })
    with pytest.raises(SpecError, match="Unicode normalization"):
        spec.check()
    spec = _spec([{"name": "x", "lower": 0}], "minimize", "x",
                 [{"name": "cap", "expression": "x <= 1"}, {"name": "ｃａｐ", "expression": "x <= 2"}])
    with pytest.raises(SpecError, match="Unicode normalization"):
        spec.check()


def test_a_lone_full_width_name_is_normalized_where_declared_and_used() -> None:
    spec = _spec([{"name": "ｙ", "lower": 2, "upper": 9}], "minimize", "y + 0*ｙ")
    assert spec.variables[0].name == "y" and spec.variables[0].declared_as == "ｙ"
    assert spec.variable("ｙ") is spec.variables[0]
    sol = solve(spec)
    assert sol.objective == pytest.approx(2.0) and sol.values["y"] == pytest.approx(2.0)


def test_index_set_names_are_normalized_like_declarations() -> None:
    spec = ModelSpec.model_validate({
        "sets": [{"name": "Ｐ", "elements": ["a", "b"]}],
        "data": [{"name": "c", "index": ["P"], "value": [1, 2]}],
        "variables": [{"name": "x", "index": "Ｐ", "lower": 1, "upper": 4}],
        "objective": {"sense": "minimize", "expression": "sum(c[p] * x[p] for p in Ｐ)"},
    })
    assert spec.sets[0].name == "P" and spec.variables[0].index == ["P"]
    assert solve(spec).objective == pytest.approx(3.0)


def _evaluate(node: object, env: dict[str, float]) -> float:
    import ast

    from optotrace.modeling.expression_tree import Factors, Terms

    if isinstance(node, Terms):
        return sum(s * _evaluate(v, env) for s, v in zip(node.signs, node.values, strict=True))
    if isinstance(node, Factors):
        out = 1.0
        for v, d in zip(node.values, node.divide, strict=True):
            out = out / _evaluate(v, env) if d else out * _evaluate(v, env)
        return out
    if isinstance(node, ast.UnaryOp):
        return -_evaluate(node.operand, env) if isinstance(node.op, ast.USub) else _evaluate(node.operand, env)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return _evaluate(node.left, env) ** _evaluate(node.right, env)
    if isinstance(node, ast.Constant):
        return float(node.value)
    assert isinstance(node, ast.Name)
    return env[node.id]


def test_chain_by_chain_parsing_means_what_python_means() -> None:
    """The fallback for very long sums (term by term) gives the same value as Python's own reading."""
    import random

    from optotrace.modeling.expression_tree import _parse_in_chains, flatten, parse_source

    rng = random.Random(7)
    env = {f"v{i}": rng.uniform(0.5, 2.0) for i in range(10)}

    def expression(depth: int) -> str:
        pieces = []
        for k in range(rng.randint(30, 80) if depth < 2 else rng.randint(1, 5)):
            atom = rng.choice([f"v{rng.randrange(10)}", f"{rng.randint(1, 9)}", f"-v{rng.randrange(10)}"])
            if depth < 2 and rng.random() < 0.1:
                atom = f"{rng.choice(['', '-', '2*'])}({expression(depth + 1)})"
            if rng.random() < 0.3:
                atom += rng.choice(["*", "/"]) + f"v{rng.randrange(10)}"
            pieces.append(("" if k == 0 else rng.choice([" + ", " - ", "+", "-"])) + atom)
        return "".join(pieces)

    for _ in range(25):
        text = expression(0)
        expected = eval(text, {}, dict(env))  # our own generated arithmetic, for the reference value only
        assert _evaluate(parse_source(text), env) == pytest.approx(expected)
        assert _evaluate(flatten(_parse_in_chains(text)), env) == pytest.approx(expected)
