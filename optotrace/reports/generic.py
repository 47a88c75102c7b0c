"""Any JSON value as HTML: lists of records as tables, mappings as key/value tables, long text as <pre>. The
report uses it for fields it does not know by name (candidates, budgets, new record kinds)."""

from __future__ import annotations

import html
import json
from typing import Any

MAX_ROWS = 50
MAX_COLUMNS = 12
MAX_TEXT = 4000


def fmt_number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def text_html(value: Any, limit: int = MAX_TEXT) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    if len(text) > limit:
        text = text[:limit] + f" ... ({len(text) - limit} more characters)"
    if "\n" in text or len(text) > 120:
        return f"<pre class='text'>{html.escape(text)}</pre>"
    return html.escape(text)


def generic_html(value: Any, depth: int = 0) -> str:
    if isinstance(value, (int, float, bool)) or value is None:
        return html.escape(fmt_number(value))
    if isinstance(value, str):
        return text_html(value)
    if depth >= 3:
        return text_html(value)
    if isinstance(value, dict):
        rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{generic_html(v, depth + 1)}</td></tr>"
                       for k, v in list(value.items())[:MAX_ROWS])
        more = f"<tr><td colspan='2' class='muted'>{len(value) - MAX_ROWS} more</td></tr>" if len(value) > MAX_ROWS else ""
        return f"<table class='kv'>{rows}{more}</table>"
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) for v in value):
            return records_table(list(value), depth)
        items = "".join(f"<li>{generic_html(v, depth + 1)}</li>" for v in list(value)[:MAX_ROWS])
        more = f"<li class='muted'>{len(value) - MAX_ROWS} more</li>" if len(value) > MAX_ROWS else ""
        return f"<ul>{items}{more}</ul>"
    return text_html(repr(value))


def records_table(records: list[dict[str, Any]], depth: int = 0) -> str:
    """Rows of records; a `score` column comes first and the best score is marked."""
    columns: list[str] = []
    for r in records:
        columns.extend(k for k in r if k not in columns)
    columns = sorted(columns, key=lambda c: c != "score")[:MAX_COLUMNS]
    scores = [r.get("score") for r in records if isinstance(r.get("score"), (int, float))]
    best = max(scores) if scores else None
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = []
    for r in records[:MAX_ROWS]:
        cls = " class='best-row'" if best is not None and r.get("score") == best else ""
        cells = "".join(f"<td>{generic_html(r.get(c), depth + 1)}</td>" for c in columns)
        rows.append(f"<tr{cls}>{cells}</tr>")
    more = (f"<tr><td colspan='{len(columns)}' class='muted'>{len(records) - MAX_ROWS} more</td></tr>"
            if len(records) > MAX_ROWS else "")
    return f"<table class='records'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}{more}</tbody></table>"
