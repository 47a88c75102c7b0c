from __future__ import annotations

import pytest

import optotrace as ot
from optotrace.optimizers import SuggestionRejected, validate_suggestion
from optotrace.optimizers.proposal.validate import cast_like, check_code, check_constraint


@pytest.mark.parametrize(
    ("value", "current", "expected"),
    [("5.0", 1, 5), (5.0, 1, 5), ("1e-3", 0.5, 0.001), (2, 0.5, 2.0), ("false", True, False), (1, False, True),
     ("[1, 2]", [0], [1, 2]), ((1, 2), [0], [1, 2]), ('{"a": 1}', {}, {"a": 1}), (42, "", "42"),
     ("about 3.5", 1.0, 3.5), ([1], (0,), (1,))],
)
def test_casts(value: object, current: object, expected: object) -> None:
    assert cast_like(value, current) == expected
    assert type(cast_like(value, current)) is type(expected)


@pytest.mark.parametrize(
    ("value", "current", "reason"),
    [(3.7, 1, "whole number"), ("3.7", 1, "whole number"), ("abc", [], "not a list"), (["a"], "", "not text"),
     ({"a": 1}, "", "not text"), ("maybe", True, "boolean"), (None, 1, "empty"), ("nan", 1.0, "finite"),
     ("between 3 and 4", 1.0, "not a number"), (True, 1, "boolean")],
)
def test_refusals_say_why(value: object, current: object, reason: str) -> None:
    with pytest.raises(SuggestionRejected, match=reason):
        cast_like(value, current)


def test_code_checks() -> None:
    assert check_code("```python\ndef f(x, k=2):\n    return x\n```", "f", "(x, k=2)") == "def f(x, k=2):\n    return x\n"
    with pytest.raises(SuggestionRejected, match="does not compile"):
        check_code("def f(x):\n    return (", "f", "(x)")
    with pytest.raises(SuggestionRejected, match="keep the name"):
        check_code("def g(x):\n    return x", "f", "(x)")
    with pytest.raises(SuggestionRejected, match="signature"):
        check_code("def f(x, y):\n    return x", "f", "(x)")
    with pytest.raises(SuggestionRejected, match="annotations and defaults"):
        check_code("def f(x: str) -> int:\n    return 1", "f", "(x: int) -> int")
    assert check_code("def f(x: int) -> int:\n    return 1", "f", "(x: 'int') -> 'int'")


def test_constraints() -> None:
    check_constraint(3, lambda v: v > 0)
    check_constraint(3, "x must be positive")  # a description only: nothing to run
    with pytest.raises(SuggestionRejected, match="constraint violated: too big"):
        check_constraint(30, lambda v: "too big" if v > 10 else True)
    with pytest.raises(SuggestionRejected, match="constraint violated"):
        check_constraint(-1, lambda v: v > 0)
    with pytest.raises(SuggestionRejected, match="ZeroDivisionError"):
        check_constraint(0, lambda v: 1 / v)


def test_validate_uses_the_parameter() -> None:
    p = ot.node(2, name="n", trainable=True, constraint=lambda v: v < 10 or "n must stay below 10")
    assert validate_suggestion(p, "4.0") == 4
    with pytest.raises(SuggestionRejected, match="below 10"):
        validate_suggestion(p, 12)

    @ot.bundle(trainable=True)
    def double(v: int) -> int:
        return v + v

    code = double.parameter
    assert validate_suggestion(code, "def double(v: int) -> int:\n    return 2 * v") .startswith("def double")
    with pytest.raises(SuggestionRejected):
        validate_suggestion(code, "def double(v, w):\n    return 2 * v")
