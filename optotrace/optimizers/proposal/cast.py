"""Casting a suggested value to its parameter's type, and the checks every value passes: not the reply
format's placeholder, and the parameter's constraint. Every refusal is a SuggestionRejected whose reason the
model reads in the next step."""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any

from optotrace.llm.replies import load_lenient, unfence
from optotrace.optimizers.errors import SuggestionRejected

__all__ = ["cast_like", "check_constraint", "kind_of", "reject_placeholder", "short_repr"]

_NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def kind_of(value: Any, is_code: bool = False) -> str:
    """The type name shown to the model and used in the response schema."""
    if is_code:
        return "code"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "dict"
    if value is None:
        return "none"
    return type(value).__name__


def short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise SuggestionRejected(f"{value!r} is a boolean, expected a number")
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        s = value.strip().strip("`'\"").replace("_", "")
        try:
            result = float(s)
        except ValueError:
            found = _NUMBER_RE.findall(s)
            if len(found) != 1:
                raise SuggestionRejected(f"{short_repr(value)} is not a number") from None
            result = float(found[0])
    else:
        raise SuggestionRejected(f"{short_repr(value)} ({type(value).__name__}) is not a number")
    if not math.isfinite(result):
        raise SuggestionRejected(f"{short_repr(value)} is not a finite number")
    return result


def _to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        s = value.strip().strip("`'\"").replace("_", "")
        if re.fullmatch(r"[-+]?\d+", s):
            return int(s)
    f = _to_float(value)
    if not f.is_integer():
        raise SuggestionRejected(f"{short_repr(value)} is not a whole number; the parameter is an integer")
    return int(f)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        s = value.strip().strip("`'\"").lower()
        if s in ("true", "yes", "on", "1"):
            return True
        if s in ("false", "no", "off", "0"):
            return False
    raise SuggestionRejected(f"{short_repr(value)} is not a boolean (true or false)")


def _to_container(value: Any, kind: type) -> Any:
    if isinstance(value, kind):
        return value
    if kind is list and isinstance(value, tuple):
        return list(value)
    if isinstance(value, str):
        # A JSON (or Python) literal written as a string, perhaps fenced, with single quotes, true/null or a
        # trailing comma: read it the lenient way replies are read.
        s = unfence(value).strip()
        for parsed in _readings(s):
            if kind is list and isinstance(parsed, tuple):
                parsed = list(parsed)
            if isinstance(parsed, kind):
                return parsed
    name = "a list" if kind is list else "a dict"
    raise SuggestionRejected(f"{short_repr(value)} ({type(value).__name__}) is not {name}")


def _readings(s: str) -> list[Any]:
    out: list[Any] = []
    for loader in (json.loads, ast.literal_eval):
        try:
            out.append(loader(s))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    if not out and s[:1] in ("{", "["):
        value, _ = load_lenient(s)
        out.append(value)
    return out


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise SuggestionRejected(f"{short_repr(value)} ({type(value).__name__}) is not text; the parameter is a string")


def cast_like(value: Any, current: Any) -> Any:
    """`value` converted to the type of `current`, or SuggestionRejected with the reason. No truncation, no
    list of characters, no str() of a dict."""
    if value is None:
        raise SuggestionRejected("the suggested value is empty (null)")
    if isinstance(current, bool):
        return _to_bool(value)
    if isinstance(current, int):
        return _to_int(value)
    if isinstance(current, float):
        return _to_float(value)
    if isinstance(current, str):
        return _to_str(value)
    if isinstance(current, tuple):
        return tuple(_to_container(value, list))
    if isinstance(current, list):
        return _to_container(value, list)
    if isinstance(current, dict):
        return _to_container(value, dict)
    if current is None:
        return value
    if isinstance(value, type(current)):
        return value
    raise SuggestionRejected(f"cannot turn {short_repr(value)} into a {type(current).__name__}")


def check_constraint(value: Any, constraint: Any) -> None:
    """Run a callable constraint: True/None passes, False or a string (the error) rejects."""
    if constraint is None or isinstance(constraint, str) or not callable(constraint):
        return
    try:
        result = constraint(value)
    except Exception as exc:  # the user's check crashed: the value is not acceptable
        raise SuggestionRejected(f"the constraint check raised {type(exc).__name__}: {exc}") from None
    if result is True or result is None:
        return
    if isinstance(result, str):
        if result.strip():
            raise SuggestionRejected(f"constraint violated: {result.strip()}")
        return
    if not result:
        doc = getattr(constraint, "__doc__", None) or getattr(constraint, "__name__", "the constraint")
        raise SuggestionRejected(f"constraint violated: {short_repr(value)} fails {doc.strip()}")


_PLACEHOLDER_RE = re.compile(r"\s*(?:<[^<>\n]{1,60}>|\.\.\.|…|NEW VALUE|new value)\s*", re.I)


def reject_placeholder(value: Any) -> None:
    """A reply that copied the reply format's placeholder (`"<new text>"`, `"..."`) instead of a value."""
    if isinstance(value, str) and _PLACEHOLDER_RE.fullmatch(value):
        raise SuggestionRejected(
            f"{value!r} is the placeholder from the reply format, not a value; write the new value itself"
        )
