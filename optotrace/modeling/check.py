"""Semantic checks of a ModelSpec beyond its JSON shape."""

from __future__ import annotations

from optotrace.modeling.errors import SpecError
from optotrace.modeling.spec import ModelSpec


def check_structure(spec: ModelSpec) -> None:
    """Unique names, declared index sets, distinct set elements, consistent bounds (expressions: see build)."""
    from optotrace.modeling.build import var_bounds

    seen: dict[str, str] = {}
    items = [("set", s.name) for s in spec.sets] + [("data", d.name) for d in spec.data]
    items += [("variable", v.name) for v in spec.variables]
    for kind, name in items:
        if name in seen:
            raise SpecError(
                f"the name '{name}' is used for a {seen[name]} and a {kind}; names must be unique"
            )
        seen[name] = kind
    constraint_names: set[str] = set()
    for con in spec.constraints:
        if con.name in constraint_names:
            raise SpecError(f"two constraints are named '{con.name}'; give each a unique name")
        constraint_names.add(con.name)
    for s in spec.sets:
        if len({str(e) for e in s.elements}) != len(s.elements):
            raise SpecError(f"set '{s.name}' lists an element twice: {s.elements}")
    for owner, index in [(f"variable '{v.name}'", v.index) for v in spec.variables] + [
        (f"data '{d.name}'", d.index) for d in spec.data
    ]:
        for set_name in index:
            if spec.set(set_name) is None:
                known = ", ".join(s.name for s in spec.sets) or "none"
                raise SpecError(
                    f"{owner} is indexed by '{set_name}', which is not a declared set (sets: {known})"
                )
    for v in spec.variables:
        var_bounds(v)


def check_spec(spec: ModelSpec) -> None:
    """Everything: the structure, then every expression, by building the model once."""
    from optotrace.modeling.build import build

    build(spec)
