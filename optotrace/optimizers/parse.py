"""Recover a suggestion `{variable name: value}` from whatever text a model wrote.

Models that ignore (or lack) structured output write JSON in code fences, prose around it, single quotes,
trailing commas, Python literals, XML-style tags, `name: value` lines, code in ```python fences, and they
mention TERMINATE in their reasoning. `parse_suggestion` tries, in order:

1. every `{...}` object in the reply (fenced ones first), read as JSON, then as a Python literal, then with
   json-repair; inside an object, the variables sit under "suggestion" (or a near synonym) or at the top level;
2. a scan for the variable names used as keys (`"name": value` up to the next key), for objects too broken
   to read as a whole (unescaped quotes inside code, missing commas);
3. XML-style tags: `<x>3</x>`, `<variable name="x">3</variable>`;
4. `name: value` / `name = value` lines, with the value on the line, in a following code fence, or
   triple-quoted.

Values come back as the model wrote them (a number, a string, a list...); casting to the parameter's type is
validate.py's job. Names match exactly first, then after normalisation (case, punctuation, type annotations),
and only when the normalised name is unambiguous.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["parse_suggestion", "normalize_name", "match_names"]

# Keys under which models put the variables (checked case-insensitively, after normalisation).
_SUGGESTION_KEYS = (
    "suggestion",
    "suggestions",
    "suggested",
    "updates",
    "update",
    "updated_variables",
    "new_variables",
    "new_values",
    "variables",
    "changes",
    "values",
)
# Keys that wrap a single value: {"x": {"value": 3}}.
_VALUE_KEYS = ("value", "new_value", "suggested_value", "updated_value", "suggestion", "new", "val")
# Keys that accompany a wrapped value and may be ignored.
_SIDE_KEYS = ("reason", "reasoning", "explanation", "why", "rationale", "comment", "type", "old_value", "old")
_RESERVED = ("reasoning", "answer", "suggestion", "explanation", "analysis", "thoughts", "thought")

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
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


# ----------------------------------------------------------------------------------------------------------
# Objects
# ----------------------------------------------------------------------------------------------------------


def _balanced_objects(text: str) -> list[tuple[int, int]]:
    """Spans of top-level `{...}` in text, aware of quoted strings (", ', and triple quotes)."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] != "{":
            i += 1
            continue
        end = _match_brace(text, i)
        if end is None:
            # Unclosed: take the rest so json-repair can try.
            spans.append((i, n))
            break
        spans.append((i, end + 1))
        i = end + 1
    return spans


def _match_brace(text: str, start: int) -> int | None:
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
            if len(quote) == 1 and c == "\n" and quote == "'":
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
                return i
        i += 1
    return None


def _starts_single_quoted(text: str, i: int) -> bool:
    """A ' opens a string when it follows a structural character, not a letter (so `don't` is prose)."""
    j = i - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    return j < 0 or text[j] in "{[,:("


def _python_literal(text: str) -> Any:
    """ast.literal_eval after mapping JSON's true/false/null to Python outside strings."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        pass
    mapped = _map_json_words(text)
    if mapped != text:
        try:
            return ast.literal_eval(mapped)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            pass
    # Trailing commas are legal in Python, so what is left is usually a stray comment or prose.
    return _FAIL


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
        m = re.match(r"(true|false|null)\b", text[i:]) if c in "tfn" and (i == 0 or not text[i - 1].isalnum()) else None
        if m:
            out.append({"true": "True", "false": "False", "null": "None"}[m.group(1)])
            i += len(m.group(1))
            continue
        out.append(c)
        i += 1
    return "".join(out)


class _Fail:
    pass


_FAIL: Any = _Fail()


def _load_object(text: str) -> Any:
    """Read an object: strict JSON, lenient JSON, Python literal, then json-repair."""
    return _load_object_how(text)[0]


def _load_object_how(text: str) -> tuple[Any, str]:
    """The object and how it was read ("json", "python", "repair"; `_FAIL` and "" when unreadable)."""
    try:
        return json.loads(text), "json"
    except ValueError:
        pass
    try:
        return json.loads(text, strict=False), "json"  # raw newlines and tabs inside strings
    except ValueError:
        pass
    value = _python_literal(text)
    if value is not _FAIL:
        return value, "python"
    try:
        import json_repair

        value = json_repair.loads(text)
    except Exception:  # json-repair raises assorted errors on hostile input
        return _FAIL, ""
    return (value, "repair") if isinstance(value, (dict, list)) and value else (_FAIL, "")


def _unwrap(value: Any) -> Any:
    """{"value": 3} -> 3, {"value": 3, "reason": "..."} -> 3; anything else unchanged."""
    if isinstance(value, dict) and value:
        keys = {normalize_name(k): k for k in value if isinstance(k, str)}
        value_keys = [keys[k] for k in (normalize_name(v) for v in _VALUE_KEYS) if k in keys]
        side = {normalize_name(s) for s in _SIDE_KEYS}
        if len(value_keys) == 1 and all(
            normalize_name(k) in side or k == value_keys[0] for k in value if isinstance(k, str)
        ):
            return value[value_keys[0]]
    return value


def _from_mapping(obj: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """Variables in a parsed object: under a suggestion key, else at the top level (else one level down)."""
    norm_keys = {normalize_name(k): k for k in obj if isinstance(k, str)}
    found: dict[str, Any] = {}
    # Under a suggestion-like key; a variable may itself be named like one, so exact names win below.
    for key in _SUGGESTION_KEYS:
        real = norm_keys.get(normalize_name(key))
        if real is None or real in names:
            continue
        inner = obj[real]
        if isinstance(inner, dict):
            found = _pick(inner, names)
            if found:
                break
        elif isinstance(inner, list):  # [{"name": "x", "value": 3}, ...]
            found = _from_pairs(inner, names)
            if found:
                break
        elif isinstance(inner, str) and len(names) >= 1:
            # "suggestion": "{\"x\": 3}" -- JSON inside a string.
            nested = parse_suggestion(inner, names) if "{" in inner or "<" in inner else None
            if nested:
                found = nested
                break
    top = _pick(obj, names)
    for k, v in top.items():
        found.setdefault(k, v)
    if not found:
        for v in obj.values():
            if isinstance(v, dict):
                found = _from_mapping(v, names)
                if found:
                    break
    return found


def _pick(obj: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    matched = match_names(obj.keys(), names)
    out: dict[str, Any] = {}
    # Exact keys first, so {"x": 1, "X": 2} gives x=1.
    for key in sorted(matched, key=lambda k: k != matched[k]):
        out.setdefault(matched[key], _unwrap(obj[key]))
    return out


def _from_pairs(items: list[Any], names: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        lowered = {normalize_name(k): k for k in item if isinstance(k, str)}
        name_key = lowered.get("name") or lowered.get("variable") or lowered.get("key")
        if name_key is None:
            out.update(_pick(item, names))
            continue
        target = match_names([str(item[name_key])], names)
        if target:
            rest = {k: v for k, v in item.items() if k != name_key}
            value = _unwrap(rest) if len(rest) > 1 else next(iter(rest.values()), None)
            out.setdefault(next(iter(target.values())), value)
    return out


# ----------------------------------------------------------------------------------------------------------
# Key scan: `"name": value` pairs in an object too broken to load whole
# ----------------------------------------------------------------------------------------------------------


def _key_scan(text: str, names: Sequence[str]) -> dict[str, Any]:
    keys = list(names) + [k for k in _RESERVED if k not in names]
    alternatives = "|".join(sorted((re.escape(k) for k in keys), key=len, reverse=True))
    pat = re.compile(rf"""(?P<q>["'`]?)(?P<key>{alternatives})(?P=q)\s*:\s*""", re.I)
    hits = [m for m in pat.finditer(text) if m.group("q") or _at_key_position(text, m.start())]
    out: dict[str, Any] = {}
    for idx, m in enumerate(hits):
        target = match_names([m.group("key")], names)
        if not target:
            continue
        end = hits[idx + 1].start() if idx + 1 < len(hits) else len(text)
        raw = text[m.end() : end]
        value = _scan_value(raw)
        if value is not _FAIL:
            out[next(iter(target.values()))] = value  # the last occurrence wins: the final answer
    return out


def _at_key_position(text: str, pos: int) -> bool:
    j = pos - 1
    while j >= 0 and text[j] in " \t":
        j -= 1
    return j < 0 or text[j] in "{,\n"


def _scan_value(raw: str) -> Any:
    """The value at the start of `raw`, which runs to the next key: strip the separators, then read it."""
    s = raw.strip()
    s = re.sub(r"[\s,}\]]*$", "", s)  # closing braces of the enclosing objects and the comma before the next key
    if not s:
        return _FAIL
    if s[0] == "{" or s[0] == "[":
        closing = "}" if s[0] == "{" else "]"
        s2 = s if s.endswith(closing) else s + closing
        val = _load_object(s2)
        if val is not _FAIL:
            return _unwrap(val) if isinstance(val, dict) else val
    if s[:3] in ('"""', "'''"):
        q = s[:3]
        body = s[3:]
        return body[: body.rfind(q)] if q in body else body
    if s[0] in "\"'":
        q = s[0]
        try:
            return json.loads(s, strict=False) if q == '"' else ast.literal_eval(s)
        except (ValueError, SyntaxError):
            pass
        body = s[1:]
        if body.endswith(q):
            body = body[:-1]
        return _unescape(body)
    return _scalar(s)


def _unescape(body: str) -> str:
    if "\\n" in body or '\\"' in body or "\\t" in body:
        try:
            return json.loads('"' + body.replace('"', '\\"').replace('\\\\"', '\\"') + '"', strict=False)
        except ValueError:
            return body.replace("\\n", "\n").replace('\\"', '"').replace("\\t", "\t")
    return body


def _scalar(s: str) -> Any:
    """A bare value: a JSON or Python literal if it is one, else the text."""
    s = s.strip()
    s = s.strip("`").strip()
    if s.startswith("**") and s.endswith("**"):
        s = s[2:-2].strip()
    if not s:
        return _FAIL
    try:
        return json.loads(s)
    except ValueError:
        pass
    lit = _python_literal(s)
    if lit is not _FAIL and not isinstance(lit, (set, frozenset, bytes, complex)):
        return list(lit) if isinstance(lit, tuple) else lit
    return s.rstrip(".;").strip() if re.fullmatch(r"[-+]?\d[\d.eE+-]*[.;]", s) else s


# ----------------------------------------------------------------------------------------------------------
# XML-style tags and `name: value` lines
# ----------------------------------------------------------------------------------------------------------


def _xml(text: str, names: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    region = text
    m = re.search(r"<suggestions?>(.*?)(?:</suggestions?>|\Z)", text, re.DOTALL | re.I)
    if m:
        region = m.group(1)
    for vm in re.finditer(
        r"""<(?:variable|var|param|parameter)\s+name\s*=\s*["']?([^"'>]+)["']?\s*>(.*?)</(?:variable|var|param|parameter)>""",
        region,
        re.DOTALL | re.I,
    ):
        target = match_names([vm.group(1).strip()], names)
        if target:
            out[next(iter(target.values()))] = _tag_value(vm.group(2))
    for vm in re.finditer(
        r"<(?:variable|var)>\s*<name>(.*?)</name>\s*<value>(.*?)</value>\s*</(?:variable|var)>", region, re.DOTALL | re.I
    ):
        target = match_names([vm.group(1).strip()], names)
        if target:
            out.setdefault(next(iter(target.values())), _tag_value(vm.group(2)))
    for name in names:
        if name in out:
            continue
        tm = re.search(rf"<\s*{re.escape(name)}\s*>(.*?)</\s*{re.escape(name)}\s*>", region, re.DOTALL | re.I)
        if tm:
            out[name] = _tag_value(tm.group(1))
    return out


def _tag_value(body: str) -> Any:
    body = body.strip("\n")
    fence = _FENCE_RE.search(body)
    if fence and body.strip().startswith("```"):
        return fence.group(2).rstrip("\n")
    stripped = body.strip()
    if "\n" in stripped:  # multi-line text or code: keep it verbatim
        return _dedent_block(body)
    value = _scalar(stripped)
    return stripped if value is _FAIL else value


def _dedent_block(body: str) -> str:
    import textwrap

    return textwrap.dedent(body).strip("\n")


def _lines(text: str, names: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    alternatives = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
    if not alternatives:
        return out
    line_re = re.compile(
        rf"^[ \t>*\-#\d.)]*[`*\"']*(?:\((?:\w+)\)\s*)?(?P<name>{alternatives})[`*\"']*(?:\s*\([^)\n]*\))?[`*]*\s*(?P<sep>[:=]|->)[`*]*[ \t]*(?P<rest>.*)$",
        re.M | re.I,
    )
    for m in line_re.finditer(text):
        target = match_names([m.group("name")], names)
        if not target:
            continue
        name = next(iter(target.values()))
        rest = m.group("rest").rstrip()
        after = text[m.end() :]
        value: Any = _FAIL
        if rest.startswith('"""') or rest.startswith("'''"):
            q = rest[:3]
            tail = text[m.start("rest") + 3 :]
            endq = tail.find(q)
            value = tail[:endq] if endq >= 0 else tail
            value = value.strip("\n")
        elif rest in ("", "`", "```") or rest.startswith("```"):
            fm = _FENCE_RE.match(after.lstrip("\n")) if not rest.startswith("```") else None
            if rest.startswith("```"):
                fm = _FENCE_RE.match(text[m.start("rest") :])
            if fm:
                value = fm.group(2).rstrip("\n")
            else:
                block = re.match(r"\n((?:[ \t]+.*\n?|\n)+)", after)  # an indented block
                if block and block.group(1).strip():
                    value = _dedent_block(block.group(1))
        else:
            value = _scalar(rest.rstrip(",").strip())
        if value is not _FAIL:
            out[name] = value  # the last mention wins: models restate the final value
    return out


def _lone_code_fence(text: str, names: Sequence[str], code_names: Mapping[str, str]) -> dict[str, Any]:
    """A single ```python fence defining `def f(` for a code variable whose function is f."""
    out: dict[str, Any] = {}
    fences = [f.group(2) for f in _FENCE_RE.finditer(text)]
    for var, fn in code_names.items():
        if var not in names:
            continue
        hits = [f for f in fences if re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(fn)}\s*\(", f, re.M)]
        if hits:
            out[var] = hits[-1].rstrip("\n")
    return out


# ----------------------------------------------------------------------------------------------------------


def parse_suggestion(
    reply: str, names: list[str], *, code_names: Mapping[str, str] | None = None
) -> dict[str, object] | None:
    """The value suggested for each of `names` in a model's reply, or None when it holds nothing usable.

    `code_names` optionally maps a code variable to its function name, so a bare ```python fence that
    defines that function counts as a suggestion for it. A TERMINATE anywhere does not cancel a suggestion.
    """
    if not isinstance(reply, str) or not reply.strip() or not names:
        return None
    names = list(dict.fromkeys(names))
    text = reply.replace("\r\n", "\n")
    best: dict[str, Any] = {}

    # 1. Whole objects: fenced ones first, then every balanced {...} in the reply; the one matching most
    #    names wins, the later one on a tie (models restate their final answer last).
    candidates: list[str] = [
        f.group(2) for f in _FENCE_RE.finditer(text) if f.group(2).lstrip().startswith(("{", "["))
    ]
    candidates += [text[a:b] for a, b in _balanced_objects(text)]
    repaired = False
    for chunk in candidates:
        obj, how = _load_object_how(chunk.strip())
        if isinstance(obj, list):
            found = _from_pairs(obj, names)
        elif isinstance(obj, dict):
            found = _from_mapping(obj, names)
        else:
            continue
        found = {k: v for k, v in found.items() if v is not None}
        if found and len(found) >= len(best):
            best, repaired = found, how == "repair"
    if best and repaired:
        # json-repair ends a string at an unescaped quote inside it (code often has them); the key scan
        # reads up to the next key instead, so a longer string it finds there is the intended value.
        scanned = _key_scan(text, names)
        for k, v in best.items():
            alt = scanned.get(k)
            if isinstance(v, str) and isinstance(alt, str) and len(alt) > len(v):
                best[k] = alt

    # 2. Key scan over broken objects.
    if len(best) < len(names) and "{" in text:
        for k, v in _key_scan(text, names).items():
            if v is not None:
                best.setdefault(k, v)

    # 3. XML-style tags.
    if len(best) < len(names) and "<" in text:
        for k, v in _xml(text, names).items():
            best.setdefault(k, v)

    # 4. `name: value` lines, and lone code fences.
    if not best:
        best = _lines(text, names)
    if code_names:
        for k, v in _lone_code_fence(text, names, code_names).items():
            best.setdefault(k, v)
    best = {k: v for k, v in best.items() if not (isinstance(v, str) and not v.strip())}
    return best or None
