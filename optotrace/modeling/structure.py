"""The structural checks of a ModelSpec beyond its JSON shape: names, index sets, set elements, bounds (its
expressions are checked by building the model: build.check_spec)."""

from __future__ import annotations

import math

from optotrace.modeling.errors import SpecError
from optotrace.modeling.spec import ModelSpec, Variable

# Kinds whose items become components of the one Pyomo model, so a constraint may not share their names.
_COMPONENT_KINDS = ("set", "variable")


def check_structure(spec: ModelSpec) -> None:
    """Unique names, declared index sets, distinct set elements, consistent bounds (expressions: see build).
    Names are compared after NFKC folding, as the expression parser reads them; look-alikes get their own
    message."""
    names: dict[str, tuple[str, str]] = {}
    items = [("set", s) for s in spec.sets] + [("data", d) for d in spec.data]
    items += [("variable", v) for v in spec.variables]
    for kind, item in items:
        _claim(names, kind, item.name, item.declared_as)
    components = {name: taken for name, taken in names.items() if taken[0] in _COMPONENT_KINDS}
    for con in spec.constraints:
        _claim(components, "constraint", con.name, con.declared_as)
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


def _claim(seen: dict[str, tuple[str, str]], kind: str, name: str, spelled: str) -> None:
    """Record `name` (NFKC-folded, as declared: `spelled`) for an item of `kind`; SpecError when taken."""
    if name in seen:
        first_kind, first_spelled = seen[name]
        if first_spelled != spelled:
            raise SpecError(_lookalike(f"the {first_kind} '{first_spelled}'", f"the {kind} '{spelled}'", name))
        if first_kind == kind == "constraint":
            raise SpecError(f"two constraints are named '{name}'; give each a unique name")
        raise SpecError(f"the name '{name}' is used for a {first_kind} and a {kind}; names must be unique")
    seen[name] = (kind, spelled)


def _lookalike(first: str, second: str, folded: str) -> str:
    return (
        f"{first} and {second} are the same name '{folded}' after Unicode normalization (NFKC folds "
        "full-width and other look-alike characters into plain ones, as Python does); rename one of them"
    )


def var_bounds(v: Variable) -> tuple[float | None, float | None]:
    """The variable's bounds after the domain's own (binary: within [0, 1]); SpecError when inconsistent."""
    lo, hi = v.lower, v.upper
    what = f"variable '{v.name}'"
    for bound in (lo, hi):
        if bound is not None and math.isnan(bound):
            raise SpecError(f"{what} has a NaN bound")
    if v.domain == "binary":
        if (lo is not None and lo > 1) or (hi is not None and hi < 0):
            raise SpecError(f"{what} is binary but its bounds [{lo}, {hi}] exclude both 0 and 1")
        lo = 0.0 if lo is None else max(lo, 0.0)
        hi = 1.0 if hi is None else min(hi, 1.0)
    if lo is not None and hi is not None and lo > hi:
        raise SpecError(f"{what} has lower bound {lo} above upper bound {hi}; swap or fix them")
    if v.domain == "integer" and lo is not None and hi is not None and math.floor(hi) < math.ceil(lo):
        raise SpecError(f"{what} is integer but no integer lies in [{lo}, {hi}]")
    return (None if lo is None or lo == -math.inf else lo, None if hi is None or hi == math.inf else hi)
