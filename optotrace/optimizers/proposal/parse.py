"""Recover a suggestion `{variable name: value}` from whatever text a model wrote.

Models that ignore (or lack) structured output write JSON in code fences, prose around it, single quotes,
trailing commas, Python literals, XML-style tags, `name: value` lines, code in ```python fences, and they
mention TERMINATE in their reasoning. `read_suggestion` tries, in order:

1. every `{...}` object in the reply (fenced ones first), read as JSON, then as a Python literal, then with
   json-repair (llm/replies.py); inside an object, the variables sit under "suggestion" (or a near synonym) or
   at the top level;
2. a scan for the variable names used as keys (`"name": value` up to the next key), for objects too broken
   to read as a whole (unescaped quotes inside code, missing commas);
3. XML-style tags: `<x>3</x>`, `<variable name="x">3</variable>`;
4. `name: value` / `name = value` lines, with the value on the line, in a following code fence, or
   triple-quoted.

Three outcomes are kept apart: values; an explicit "no change" (an empty suggestion object, a suggestion that
says TERMINATE or "no change", or only a true terminate flag), which is `{}`; and nothing readable (a bare `{}`
and a null suggestion included: they say nothing), which is None. A reply cut off at the token limit (the
backend's finish reason "length", or an object that ends inside a string) never yields its cut value: that
variable is listed in `cut` with the reason, and only the values completed before the cut are kept.

Values come back as the model wrote them, with two clean-ups: a string wrapped whole in a Markdown fence
loses the fence, and code written with literal `\n` escapes (no real newline) gets its newlines back; a
variable whose kind is dict or list (`kinds`) suggested as a JSON string is decoded. Casting to the
parameter's type is cast.py's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optotrace.llm.replies import (
    ends_inside_string,
    fences,
    json_spans,
    load_lenient,
    unfence,
)
from optotrace.optimizers.proposal.parse_text import (
    key_scan,
    lone_code_fence,
    name_value_lines,
    unwrap_value,
    xml_tags,
)
from optotrace.optimizers.proposal.suggestion_names import match_names, normalize_name

__all__ = ["ReadSuggestion", "match_names", "normalize_name", "parse_suggestion", "read_suggestion",
           "CUT_REASON"]

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
# Keys that may stand beside an empty suggestion, or a terminate flag, in an explicit "no change".
_COMMENT_KEYS = {normalize_name(k) for k in (
    "reasoning", "reason", "explanation", "analysis", "thoughts", "thought", "answer", "rationale", "comment",
)}
_TERMINATE_KEYS = {normalize_name(k) for k in ("terminate", "done", "stop", "no_change", "nochange", "finished")}
_NO_CHANGE_WORDS = {"terminate", "nochange", "nochanges", "nochangeneeded", "nochangesneeded", "unchanged"}
_CODE_START_RE = re.compile(r"^\s*(?:@|async\s+def\s|def\s|class\s|import\s|from\s\S+\s+import\s)")
CUT_REASON = (
    "the reply was cut off at the token limit (max_tokens) while writing this value, so it is incomplete and "
    "was not applied; reply with the JSON object first, keep the reasoning short, and write the complete value"
)


@dataclass
class ReadSuggestion:
    """What a reply says: complete values by variable, values cut off at the token limit (name -> reason),
    and whether the model explicitly chose no change."""

    values: dict[str, Any] = field(default_factory=dict)
    cut: dict[str, str] = field(default_factory=dict)
    no_change: bool = False
    truncated: bool = False  # the reply itself was cut off (whether or not a value was)

    def as_update(self) -> dict[str, Any] | None:
        """The values; {} for an explicit no change; None when nothing usable could be read."""
        if self.values:
            return dict(self.values)
        return {} if self.no_change and not self.cut else None


# ----------------------------------------------------------------------------------------------------------
# Objects
# ----------------------------------------------------------------------------------------------------------


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
        out.setdefault(matched[key], unwrap_value(obj[key]))
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
            value = unwrap_value(rest) if len(rest) > 1 else next(iter(rest.values()), None)
            out.setdefault(next(iter(target.values())), value)
    return out


def _is_empty(value: Any) -> bool:
    if value == {} or value == []:
        return True
    return isinstance(value, str) and normalize_name(value) in _NO_CHANGE_WORDS


def _says_no_change(obj: Any) -> bool:
    """An object that explicitly changes nothing: {"suggestion": {}} (or "TERMINATE", "no change"), or only
    comments and a true terminate flag. A bare {} or a null suggestion says nothing: unreadable, not "no
    change"."""
    if not isinstance(obj, Mapping) or not obj:
        return False
    keys = {normalize_name(k): k for k in obj if isinstance(k, str)}
    suggestion_keys = [keys[k] for k in (normalize_name(s) for s in _SUGGESTION_KEYS) if k in keys]
    others = [k for k in keys if k not in _COMMENT_KEYS and keys[k] not in suggestion_keys]
    if suggestion_keys:
        empty = all(_is_empty(obj[k]) for k in suggestion_keys)
        return empty and all(k in _TERMINATE_KEYS for k in others)
    flags = [k for k in others if k in _TERMINATE_KEYS]
    return bool(flags) and len(flags) == len(others) and all(obj[keys[k]] not in (False, None, 0) for k in flags)


def _candidates(text: str) -> list[tuple[str, bool]]:
    """(object text, closed) for each fenced object, then each balanced {...} in the reply."""
    out = [(f.body, f.closed) for f in fences(text) if f.body.lstrip().startswith(("{", "["))]
    out += [(text[a:b], closed) for a, b, closed in json_spans(text)]
    return out


def _from_objects(text: str, names: Sequence[str]) -> tuple[dict[str, Any], bool, bool, bool]:
    """(values, read whole from a closed object, read by json-repair, some object says no change)."""
    best: dict[str, Any] = {}
    best_closed = repaired = no_change = False
    for chunk, closed in _candidates(text):
        obj, how = load_lenient(chunk.strip())
        if isinstance(obj, list):
            found = _from_pairs(obj, names)
        elif isinstance(obj, dict):
            found = _from_mapping(obj, names)
        else:
            continue
        found = {k: v for k, v in found.items() if v is not None}
        if not found:
            no_change = no_change or _says_no_change(obj)
            continue
        complete = closed and how != "repair"
        # The one matching most names wins; on a tie a complete object beats a cut one, else the later one
        # (models restate their final answer last).
        if len(found) > len(best) or (len(found) == len(best) and (complete or not best_closed)):
            best, best_closed, repaired = found, complete, how == "repair"
    return best, best_closed, repaired, no_change


def _clean(value: Any, code: bool, kind: str | None) -> Any:
    """A fence around the whole value removed; code's literal \\n escapes turned into newlines; a JSON string
    for a dict or list variable decoded."""
    if not isinstance(value, str):
        return value
    text = value
    if _escaped_code(text, code or text.lstrip().startswith("```")):
        text = _unescape_code(text)
    text = unfence(text)
    if _escaped_code(text, code):
        text = _unescape_code(text)
    if kind in ("dict", "list") and text.strip()[:1] in ("{", "["):
        decoded, _ = load_lenient(text.strip())
        if isinstance(decoded, dict if kind == "dict" else list):
            return decoded
    return text if text != value else value


def _escaped_code(text: str, code: bool) -> bool:
    """Code (or what starts like code) written on one line with literal \\n escapes: escaped twice."""
    return "\n" not in text.strip() and "\\n" in text and (code or bool(_CODE_START_RE.match(text)))


def _unescape_code(text: str) -> str:
    text = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\t", "\t")
    return text.replace('\\"', '"').replace("\\'", "'")


def _key_position(text: str, name: str) -> int:
    """Where the last key naming `name` starts in the text (-1 if none)."""
    pat = re.compile(rf"""["'`<]?{re.escape(name)}["'`>]?\s*[:=>]""", re.I)
    return max((m.start() for m in pat.finditer(text)), default=-1)


_SQUASH_RE = re.compile(r"[\s\\\"'`{}\[\],]+")


def _runs_to_end(text: str, value: Any) -> bool:
    """True when the text ends with the end of `value` (the value was still being written at the cut)."""
    tail = _SQUASH_RE.sub("", value if isinstance(value, str) else str(value))[-40:]
    return bool(tail) and _SQUASH_RE.sub("", text).endswith(tail)


def _cut_names(text: str, values: Mapping[str, Any]) -> list[str]:
    """The variable whose value the cut interrupted: among those running to the end of the text, the one
    whose key comes last (any, when the text ends inside a string but no value clearly runs to its end)."""
    at_end = [n for n, v in values.items() if _runs_to_end(text, v)]
    pool = at_end or (list(values) if ends_inside_string(text) else [])
    if not pool:
        return []
    return [max(pool, key=lambda n: _key_position(text, n))]


def read_suggestion(
    reply: str,
    names: Sequence[str],
    *,
    code_names: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    finish_reason: str | None = None,
) -> ReadSuggestion:
    """What a model's reply suggests for each of `names` (see the module's docstring).

    `code_names` optionally maps a code variable to its function name, so a bare ```python fence that
    defines that function counts as a suggestion for it. `kinds` maps a variable to its kind (int, str,
    code, dict, ...). `finish_reason` is the backend's: "length" means the reply was cut at max_tokens.
    A TERMINATE anywhere does not cancel a suggestion.
    """
    out = ReadSuggestion()
    if not isinstance(reply, str) or not reply.strip() or not names:
        return out
    names = list(dict.fromkeys(names))
    kinds = dict(kinds or {})
    for var in code_names or {}:
        kinds.setdefault(var, "code")
    text = reply.replace("\r\n", "\n")
    best, complete, repaired, no_change = _from_objects(text, names)
    if best and repaired:
        # json-repair ends a string at an unescaped quote inside it (code often has them); the key scan
        # reads up to the next key instead, so a longer string it finds there is the intended value.
        scanned = key_scan(text, names)
        for k, v in best.items():
            alt = scanned.get(k)
            if isinstance(v, str) and isinstance(alt, str) and len(alt) > len(v):
                best[k] = alt
    if len(best) < len(names) and "{" in text:  # 2. key scan over broken objects
        for k, v in key_scan(text, names).items():
            if v is not None:
                best.setdefault(k, v)
                complete = False
    if len(best) < len(names) and "<" in text:  # 3. XML-style tags
        for k, v in xml_tags(text, names).items():
            best.setdefault(k, v)
    if not best and not no_change:  # 4. `name: value` lines
        best = name_value_lines(text, names)
    if code_names:
        for k, v in lone_code_fence(text, names, code_names).items():
            best.setdefault(k, v)
    best = {k: _clean(v, kinds.get(k) == "code", kinds.get(k)) for k, v in best.items()}
    best = {k: v for k, v in best.items() if not (isinstance(v, str) and not v.strip())}

    out.truncated = finish_reason == "length" or ends_inside_string(text) or _open_fence_at_end(text)
    if out.truncated and best and not complete:
        for name in _cut_names(text, best):
            out.cut[name] = CUT_REASON
            del best[name]
    out.values = best
    out.no_change = no_change and not best
    return out


def _open_fence_at_end(text: str) -> bool:
    found = fences(text)
    return bool(found) and not found[-1].closed and bool(found[-1].body.strip())


def parse_suggestion(
    reply: str,
    names: list[str],
    *,
    code_names: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    finish_reason: str | None = None,
) -> dict[str, object] | None:
    """The value suggested for each of `names` in a model's reply; {} when the model explicitly chose no
    change; None when the reply holds nothing usable (a value cut off at the token limit is never returned:
    use `read_suggestion` for the reason)."""
    return read_suggestion(reply, names, code_names=code_names, kinds=kinds,
                           finish_reason=finish_reason).as_update()
