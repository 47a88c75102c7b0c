"""Finding set elements by value or by their text."""

from __future__ import annotations

from optotrace.modeling.spec import Element


def element_lookup(elements: list[Element]) -> dict[object, Element]:
    """Element by itself or by its text (JSON keys are strings: "1" finds 1)."""
    lookup: dict[object, Element] = {str(e): e for e in elements}
    lookup.update({e: e for e in elements})
    return lookup
