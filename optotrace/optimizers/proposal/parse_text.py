"""Reading suggested values from replies that hold no readable object: `"name": value` pairs in an object
too broken to load whole, XML-style tags, `name: value` lines, and a lone ```python fence that defines a code
variable's function. Each returns {variable name: value as written}."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from optotrace.llm.replies import FENCE_RE, UNREADABLE, fences, load_lenient, python_literal
from optotrace.optimizers.proposal.suggestion_names import match_names, normalize_name

# Keys that wrap a single value: {"x": {"value": 3}}.
_VALUE_KEYS = ("value", "new_value", "suggested_value", "updated_value", "suggestion", "new", "val")
# Keys that accompany a wrapped value and may be ignored.
_SIDE_KEYS = ("reason", "reasoning", "explanation", "why", "rationale", "comment", "type", "old_value", "old")
_RESERVED = ("reasoning", "answer", "suggestion", "explanation", "analysis", "thoughts", "thought")
_FAIL = UNREADABLE

def unwrap_value(value: Any) -> Any:
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


# ----------------------------------------------------------------------------------------------------------
# Key scan: `"name": value` pairs in an object too broken to load whole
# ----------------------------------------------------------------------------------------------------------


def key_scan(text: str, names: Sequence[str]) -> dict[str, Any]:
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
        val, _ = load_lenient(s2)
        if val is not _FAIL:
            return unwrap_value(val) if isinstance(val, dict) else val
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
    return scalar(s)


def _unescape(body: str) -> str:
    if "\\n" in body or '\\"' in body or "\\t" in body:
        try:
            return json.loads('"' + body.replace('"', '\\"').replace('\\\\"', '\\"') + '"', strict=False)
        except ValueError:
            return body.replace("\\n", "\n").replace('\\"', '"').replace("\\t", "\t")
    return body


def scalar(s: str) -> Any:
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
    lit = python_literal(s)
    if lit is not _FAIL and not isinstance(lit, (set, frozenset, bytes, complex)):
        return list(lit) if isinstance(lit, tuple) else lit
    return s.rstrip(".;").strip() if re.fullmatch(r"[-+]?\d[\d.eE+-]*[.;]", s) else s


# ----------------------------------------------------------------------------------------------------------
# XML-style tags and `name: value` lines
# ----------------------------------------------------------------------------------------------------------


def xml_tags(text: str, names: Sequence[str]) -> dict[str, Any]:
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
    fence = FENCE_RE.search(body)
    if fence and body.strip().startswith("```"):
        return fence.group(2).rstrip("\n")
    stripped = body.strip()
    if "\n" in stripped:  # multi-line text or code: keep it verbatim
        return _dedent_block(body)
    value = scalar(stripped)
    return stripped if value is _FAIL else value


def _dedent_block(body: str) -> str:
    return textwrap.dedent(body).strip("\n")


def name_value_lines(text: str, names: Sequence[str]) -> dict[str, Any]:
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
            fm = FENCE_RE.match(after.lstrip("\n")) if not rest.startswith("```") else None
            if rest.startswith("```"):
                fm = FENCE_RE.match(text[m.start("rest") :])
            if fm:
                value = fm.group(2).rstrip("\n")
            else:
                block = re.match(r"\n((?:[ \t]+.*\n?|\n)+)", after)  # an indented block
                if block and block.group(1).strip():
                    value = _dedent_block(block.group(1))
        else:
            value = scalar(rest.rstrip(",").strip())
        if value is not _FAIL:
            out[name] = value  # the last mention wins: models restate the final value
    return out


def lone_code_fence(text: str, names: Sequence[str], code_names: Mapping[str, str]) -> dict[str, Any]:
    """A single ```python fence defining `def f(` for a code variable whose function is f."""
    out: dict[str, Any] = {}
    bodies = [f.body for f in fences(text)]
    for var, fn in code_names.items():
        if var not in names:
            continue
        hits = [f for f in bodies if re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(fn)}\s*\(", f, re.M)]
        if hits:
            out[var] = hits[-1].rstrip("\n")
    return out
