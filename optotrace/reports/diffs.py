"""A parameter's old and new value as an HTML line diff (difflib), with word-level marks for short texts."""

from __future__ import annotations

import difflib
import html
import json
from typing import Any

CONTEXT_LINES = 3


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def _words(old: str, new: str) -> str:
    """One-line texts: the removed words struck through, the added ones highlighted."""
    a, b = old.split(" "), new.split(" ")
    parts = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            parts.append(html.escape(" ".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(f"<del>{html.escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            parts.append(f"<ins>{html.escape(' '.join(b[j1:j2]))}</ins>")
    return f"<div class='diff words'>{' '.join(parts)}</div>"


def diff_html(old: Any, new: Any) -> str:
    """The change from `old` to `new`: words for one-line texts, a unified line diff otherwise."""
    a, b = as_text(old), as_text(new)
    if a == b:
        return "<div class='diff'><span class='muted'>unchanged</span></div>"
    if "\n" not in a and "\n" not in b and len(a) + len(b) < 2000:
        return _words(a, b)
    rows = []
    for line in difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after", n=CONTEXT_LINES,
                                     lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        cls = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "ctx")
        rows.append(f"<span class='{cls}'>{html.escape(line)}</span>")
    return "<pre class='diff lines'>" + "\n".join(rows) + "</pre>"
