"""Names that collide after NFKC folding (full-width letters, ligatures, superscripts) are refused by
`spec.check()` with the same message as by `solve()`, whatever kinds of items they name; names that may be
shared (data and a constraint) still solve."""

from __future__ import annotations

import keyword

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optotrace.modeling import ModelSpec, SpecError, solve
from optotrace.modeling.spec import RESERVED

# Each pair folds to the same name; the second spelling is the look-alike.
LOOKALIKES = [("x", "ｘ"), ("fi", "ﬁ"), ("cap", "ｃａｐ"), ("x2", "x²"), ("é", "e\u0301")]

# (first kind, second kind) of the two colliding items; constraints share a namespace with sets and variables.
CLASHING_KINDS = [("variable", "variable"), ("data", "variable"), ("set", "data"), ("variable", "constraint"),
                  ("set", "constraint"), ("constraint", "constraint")]


def _spec(named: list[tuple[str, str]]) -> ModelSpec:
    """A small feasible model holding one item of each (kind, name), plus `z` to minimize."""
    spec: dict = {"sets": [], "data": [], "variables": [{"name": "z", "lower": 1}], "constraints": [],
                  "objective": {"sense": "minimize", "expression": "z"}}
    for kind, name in named:
        if kind == "set":
            spec["sets"].append({"name": name, "elements": [1, 2]})
        elif kind == "data":
            spec["data"].append({"name": name, "value": 3})
        elif kind == "variable":
            spec["variables"].append({"name": name, "lower": 0, "upper": 1})
        else:
            spec["constraints"].append({"name": name, "expression": "z <= 5"})
    return ModelSpec.model_validate(spec)


def _refusals(spec: ModelSpec) -> tuple[str, str]:
    with pytest.raises(SpecError) as by_check:
        spec.check()
    with pytest.raises(SpecError) as by_solve:
        solve(spec)
    return str(by_check.value), str(by_solve.value)


@pytest.mark.parametrize("plain, lookalike", LOOKALIKES)
@pytest.mark.parametrize("kinds", CLASHING_KINDS)
def test_check_refuses_lookalikes_as_solve_does(plain: str, lookalike: str, kinds: tuple[str, str]) -> None:
    checked, solved = _refusals(_spec([(kinds[0], plain), (kinds[1], lookalike)]))
    assert checked == solved
    assert "Unicode normalization" in checked and f"'{plain}'" in checked and f"'{lookalike}'" in checked


def test_a_variable_and_a_constraint_of_one_name_are_refused() -> None:
    checked, solved = _refusals(_spec([("variable", "cap"), ("constraint", "cap")]))
    assert checked == solved == "the name 'cap' is used for a variable and a constraint; names must be unique"


def test_data_and_a_constraint_may_share_a_name() -> None:
    spec = _spec([("data", "cap"), ("constraint", "ｃａｐ")])
    assert spec.check() is spec and solve(spec).values == {"z": 1.0}


def test_a_variable_may_be_named_objective() -> None:
    spec = ModelSpec.model_validate({"variables": [{"name": "objective", "lower": 2}],
                                     "objective": {"sense": "minimize", "expression": "objective"}})
    assert solve(spec.check()).values == {"objective": 2.0}


def _usable(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and name not in RESERVED and name != "z"


@settings(max_examples=40, deadline=None)
@given(
    name=st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6).filter(_usable),
    widen=st.lists(st.booleans(), min_size=6, max_size=6).filter(any),
    kinds=st.sampled_from(CLASHING_KINDS),
)
def test_any_full_width_spelling_is_refused_alike(name: str, widen: list[bool], kinds: tuple[str, str]) -> None:
    wide = "".join(chr(ord(c) + 0xFEE0) if w else c for c, w in zip(name, widen, strict=False))
    if wide == name:
        wide = chr(ord(name[0]) + 0xFEE0) + name[1:]
    checked, solved = _refusals(_spec([(kinds[0], name), (kinds[1], wide)]))
    assert checked == solved and "Unicode normalization" in checked
