"""Names as the user gave them, with a suffix only where two nodes share one."""

from __future__ import annotations

from collections.abc import Iterable

from optotrace.trace.nodes import Node


def unique_names(nodes: Iterable[Node]) -> dict[Node, str]:
    """Map each node to its name; when several distinct nodes share a name, the first keeps it and the
    others get `name_2`, `name_3`, ... (skipping any suffix already taken by another node's own name)."""
    ordered = list(dict.fromkeys(nodes))
    taken = {n.name for n in ordered}
    seen: set[str] = set()
    next_suffix: dict[str, int] = {}  # where to resume the search, so many nodes of one name stay linear
    out: dict[Node, str] = {}
    for n in ordered:
        name = n.name
        if name in seen:
            k = next_suffix.get(name, 2)
            while f"{name}_{k}" in taken:
                k += 1
            next_suffix[name] = k + 1
            name = f"{name}_{k}"
            taken.add(name)
        seen.add(name)
        out[n] = name
    return out
