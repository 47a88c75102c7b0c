"""Reading what a model wrote: fenced blocks, JSON objects, lenient loading, the program in a reply.

The one place for these jobs; the optimizers' parser, the modeler agent and ReSocratic build on it. Models
write JSON in fences or amid prose, with single quotes, trailing commas, Python's True/None, raw newlines
inside strings, and cut their reply short at the token limit; code comes in ```python fences, untagged
fences, or fences never closed. Nothing here raises on a hostile reply: an unreadable one is `UNREADABLE`
or None.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FENCE_RE", "UNREADABLE", "Fence", "ends_inside_string", "extract_program", "fences", "first_code_block",
    "first_json_object", "json_spans", "load_lenient", "load_object", "python_literal", "repair_load",
    "unfence", "without_fence_lines",
]


class _Unreadable:
    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE: Any = _Unreadable()

# ----------------------------------------------------------------------------------------------------------
# Fences
# ----------------------------------------------------------------------------------------------------------

# A fence: ```lang, newline, body, up to the closing ``` or the end of the text (a reply cut off inside it).
FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(```|\Z)", re.DOTALL)
_PYTHON_TAGS = ("python", "py", "python3", "")


@dataclass(frozen=True)
class Fence:
    """One fenced block: its language tag (lower case, "" when none), body, and whether it was closed."""

    lang: str
    body: str
    closed: bool
    start: int
    end: int


def fences(text: str) -> list[Fence]:
    """Every fenced block in order; the last may be unclosed (a reply cut off inside it)."""
    return [
        Fence(m.group(1).lower(), m.group(2), bool(m.group(3)), m.start(), m.end())
        for m in FENCE_RE.finditer(text)
    ]


def first_code_block(text: str) -> str | None:
    """The body of the first ```python (or untagged) block, closed or not; None when there is none."""
    for f in fences(text):
        if f.lang in _PYTHON_TAGS:
            return f.body
    return None


def unfence(text: str) -> str:
    """`text` without a fence wrapped around all of it (```lang ... ```); anything else unchanged."""
    stripped = text.strip()
    if not stripped.startswith("```"):
        return text
    found = fences(stripped)
    if len(found) == 1 and found[0].start == 0 and stripped[found[0].end :].strip() == "":
        return found[0].body.rstrip("\n")
    return text


def without_fence_lines(text: str) -> str:
    """`text` with every line that opens or closes a fence removed (the lines between are kept)."""
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(ln for ln in lines if not ln.strip().startswith("```"))


# ----------------------------------------------------------------------------------------------------------
# JSON objects in prose
# ----------------------------------------------------------------------------------------------------------


def json_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, closed) of each top-level `{...}` in text, aware of quoted strings (", ', triple quotes).
    An object still open at the end of the text is the last span, with closed=False."""
    spans: list[tuple[int, int, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] != "{":
            i += 1
            continue
        end, _ = _scan(text, i)
        if end is None:
            spans.append((i, n, False))
            break
        spans.append((i, end + 1, True))
        i = end + 1
    return spans


def first_json_object(text: str) -> str | None:
    """The text of the first complete `{...}` object in `text`, or None."""
    for start, end, closed in json_spans(text):
        if closed:
            return text[start:end]
    return None


def ends_inside_string(text: str) -> bool:
    """True when `text` ends inside a quoted string of an unclosed object: a reply cut off mid-value."""
    spans = json_spans(text)
    if not spans or spans[-1][2]:
        return False
    _, quote = _scan(text, spans[-1][0])
    return quote is not None


def _scan(text: str, start: int) -> tuple[int | None, str | None]:
    """From the `{` at `start`: (index of its matching `}`, None), or (None, the quote open at the end)."""
    depth = 0
    i, n = start, len(text)
    quote: str | None = None
    while i < n:
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            if quote == "'" and c == "\n":
                quote = None  # an apostrophe in prose, not a string
            i += 1
            continue
        if text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i : i + 3]
            i += 3
            continue
        if c == '"' or c == "'" and _starts_single_quoted(text, i):
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i, None
        i += 1
    return None, quote


def _starts_single_quoted(text: str, i: int) -> bool:
    """A ' opens a string when it follows a structural character, not a letter (so `don't` is prose)."""
    j = i - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    return j < 0 or text[j] in "{[,:("


# ----------------------------------------------------------------------------------------------------------
# Lenient loading
# ----------------------------------------------------------------------------------------------------------

_LITERAL_ERRORS = (ValueError, SyntaxError, MemoryError, RecursionError, TypeError)


def python_literal(text: str) -> Any:
    """ast.literal_eval, after mapping JSON's true/false/null to Python outside strings; UNREADABLE if not."""
    try:
        return ast.literal_eval(text)
    except _LITERAL_ERRORS:
        pass
    mapped = _map_json_words(text)
    if mapped != text:
        try:
            return ast.literal_eval(mapped)
        except _LITERAL_ERRORS:
            pass
    return UNREADABLE


_JSON_WORDS = {"true": "True", "false": "False", "null": "None"}
_JSON_WORD_RE = re.compile(r"(true|false|null)\b")


def _map_json_words(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        c = text[i]
        if quote:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if text.startswith(quote, i):
                if len(quote) == 3:
                    out.append(text[i + 1 : i + 3])
                    i += 3
                    quote = None
                    continue
                quote = None
            i += 1
            continue
        if text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i : i + 3]
            out.append(quote)
            i += 3
            continue
        if c in "\"'":
            quote = c
            out.append(c)
            i += 1
            continue
        m = _JSON_WORD_RE.match(text, i) if c in "tfn" and (i == 0 or not text[i - 1].isalnum()) else None
        if m:
            out.append(_JSON_WORDS[m.group(1)])
            i += len(m.group(1))
            continue
        out.append(c)
        i += 1
    return "".join(out)


def repair_load(text: str) -> Any:
    """json-repair's reading of `text` (it copes with fences, prose around the object, unclosed strings);
    UNREADABLE when it raises."""
    try:
        import json_repair

        return json_repair.loads(text)
    except Exception:  # json-repair raises assorted errors on hostile input
        return UNREADABLE


def load_lenient(text: str) -> tuple[Any, str]:
    """(value, how): strict JSON, JSON with raw control characters, a Python literal, then json-repair
    (accepted only when it yields a non-empty object or list). ("json" | "python" | "repair"), or
    (UNREADABLE, "")."""
    try:
        return json.loads(text), "json"
    except ValueError:
        pass
    try:
        return json.loads(text, strict=False), "json"  # raw newlines and tabs inside strings
    except ValueError:
        pass
    value = python_literal(text)
    if value is not UNREADABLE:
        return value, "python"
    value = repair_load(text)
    return (value, "repair") if isinstance(value, (dict, list)) and value else (UNREADABLE, "")


def load_object(text: str) -> dict[str, Any] | list[Any] | None:
    """The JSON object (or array) a reply holds: a fenced or bare one read leniently, else json-repair's
    reading of the whole reply; None when there is none."""
    stripped = unfence(text).strip()
    value, _ = load_lenient(stripped)
    if isinstance(value, (dict, list)):
        return value
    for start, end, _closed in json_spans(text):
        value, _ = load_lenient(text[start:end])
        if isinstance(value, dict):
            return value
    value = repair_load(text)
    return value if isinstance(value, (dict, list)) else None


# ----------------------------------------------------------------------------------------------------------
# Programs
# ----------------------------------------------------------------------------------------------------------


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def extract_program(reply: str) -> str | None:
    """The Python program in a reply: the longest closed ```python block that parses (untagged blocks when no
    tagged one; a block that does not parse is still the program the model meant), else an unclosed fence's
    tail, else the whole reply when it parses as Python; None when there is none."""
    found = fences(reply)
    closed = [f for f in found if f.closed and f.body.strip()]
    for group in ([f for f in closed if f.lang in ("python", "py", "python3")], [f for f in closed if not f.lang]):
        if not group:
            continue
        bodies = sorted((f.body.strip() for f in group), key=len, reverse=True)
        return next((b for b in bodies if _parses(b)), bodies[0])
    open_tail = [f for f in found if not f.closed and f.body.strip() and f.lang in _PYTHON_TAGS]
    if open_tail:
        return open_tail[-1].body.strip()
    text = reply.strip()
    return text if text and _parses(text) else None
