"""Normalising ModelSpec data values into {key tuple: float} lookups, with shape checks."""

from __future__ import annotations

from typing import Any

from optotrace.modeling.errors import SpecError
from optotrace.modeling.sets import element_lookup
from optotrace.modeling.spec import Data, Element, ModelSpec

Key = tuple[Element, ...]


def _match(key: Any, elements: list[Element], lookup: dict[object, Element], what: str) -> Element:
    found = lookup.get(key, lookup.get(str(key)))
    if found is not None:
        return found
    raise SpecError(
        f"{what}: {key!r} is not an element of its set {elements!r}; use the set's elements as keys"
    )


def table(datum: Data, spec: ModelSpec) -> dict[Key, float]:
    """The datum as {(e1, e2, ...): value}; a scalar is {(): value}."""
    what = f"data '{datum.name}'"
    sets = []
    for name in datum.index:
        s = spec.set(name)
        if s is None:
            raise SpecError(f"{what} is indexed by '{name}', which is not a declared set; add it to 'sets'")
        sets.append(s.elements)
    out: dict[Key, float] = {}

    def fill(value: Any, depth: int, key: Key) -> None:
        if depth == len(sets):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                shape = "a number" if not sets else f"a number at {key!r}"
                raise SpecError(f"{what} must hold {shape}, found {value!r}")
            out[key] = float(value)
            return
        elements = sets[depth]
        if isinstance(value, list):
            if len(value) != len(elements):
                raise SpecError(
                    f"{what}: a list of {len(value)} values for set '{datum.index[depth]}' of "
                    f"{len(elements)} elements; give one value per element, in the set's order"
                )
            for e, v in zip(elements, value, strict=True):
                fill(v, depth + 1, (*key, e))
        elif isinstance(value, dict):
            seen = set()
            lookup = element_lookup(elements)
            for k, v in value.items():
                e = _match(k, elements, lookup, what)
                seen.add(e)
                fill(v, depth + 1, (*key, e))
            missing = [e for e in elements if e not in seen]
            if missing:
                raise SpecError(f"{what} has no value for {missing!r} of set '{datum.index[depth]}'")
        else:
            raise SpecError(
                f"{what} is indexed by {datum.index}: give a list or a mapping per index level, found {value!r}"
            )

    fill(datum.value, 0, ())
    return out
