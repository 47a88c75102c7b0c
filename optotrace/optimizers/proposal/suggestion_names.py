"""Matching the keys a model wrote to the variables' names: exact first, then after normalisation (case,
punctuation, a leading type annotation), and only when the normalised name is unambiguous."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["match_names", "normalize_name"]

_TYPE_PREFIX_RE = re.compile(r"^\s*\((?:int|float|str|string|code|bool|list|dict|number|integer)\)\s*", re.I)


def normalize_name(name: str) -> str:
    """A name without case, spaces, punctuation or a leading type annotation: `(int) Str:0` -> `str0`."""
    name = _TYPE_PREFIX_RE.sub("", str(name))
    return re.sub(r"[^0-9a-z]", "", name.lower())


def match_names(keys: Iterable[str], names: Sequence[str]) -> dict[str, str]:
    """Map each key written by the model to one of `names`: exact first, then unambiguous normalised."""
    names = list(names)
    exact = set(names)
    by_norm: dict[str, list[str]] = {}
    for n in names:
        by_norm.setdefault(normalize_name(n), []).append(n)
    out: dict[str, str] = {}
    for key in keys:
        if not isinstance(key, str):
            continue
        if key in exact:
            out[key] = key
            continue
        stripped = key.strip().strip("`*'\"").strip()
        if stripped in exact:
            out[key] = stripped
            continue
        candidates = by_norm.get(normalize_name(stripped), [])
        if len(candidates) == 1:
            out[key] = candidates[0]
    return out
