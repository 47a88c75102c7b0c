"""How OptoPrime's prompt writes things: values, code lines, constraints, and the compact prompt's ending for
a small model. The words live in prompts/*.txt; this module fills them in."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from optotrace.optimizers.proposal.checks import is_instruction
from optotrace.optimizers.proposal.schema import VariableSpec
from optotrace.optimizers.proposal.templates import render

__all__ = ["clip", "code_line", "compact_ending", "constraint_text", "example_value", "feedback_direction",
           "show_signature", "show_value", "tried_lines", "value_line"]


def clip(text: str, limit: int) -> str:
    """`text` cut in the middle to about `limit` characters, saying how many were left out."""
    if limit <= 0 or len(text) <= limit:
        return text
    keep = max(limit - 40, 16)
    head, tail = text[: keep * 2 // 3], text[-(keep // 3) :]
    return f"{head} ...[{len(text) - len(head) - len(tail)} characters omitted]... {tail}"


def show_value(value: Any, limit: int) -> str:
    """A value as the prompt shows it: text quoted when on one line, verbatim when on several."""
    if isinstance(value, str):
        if "\n" in value:
            return clip(value, limit)
        return clip(json.dumps(value, ensure_ascii=False), limit)
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the step
        text = f"<{type(value).__name__}: repr failed: {exc}>"
    return clip(text, limit)


def value_line(kind: str, name: str, text: str) -> str:
    if "\n" in text:
        return f"({kind}) {name}:\n{text}"
    return f"({kind}) {name} = {text}"


def code_line(n: Any, names: Mapping[int, str]) -> str:
    """`result = op(arg=name, ...)` for an operation node, marked when it raised."""
    inputs = getattr(n, "inputs", {}) or {}
    args = ", ".join(f"{k}={names.get(id(v), getattr(v, 'name', '?'))}" for k, v in inputs.items())
    line = f"{names[id(n)]} = {getattr(n, 'op_name', n.name)}({args})"
    if n.kind == "exception":
        exc = getattr(n, "exception", None)
        line += f"  # raised {type(exc).__name__}" if exc is not None else "  # raised an error"
    return line


def example_value(spec: VariableSpec) -> str:
    return {
        "int": "<new integer>",
        "float": "<new number>",
        "bool": "<true or false>",
        "list": "<new list>",
        "dict": "<new object>",
        "code": '"<complete new source of the function>"',
        "str": '"<new instruction>"' if spec.role == "instruction" else '"<new text>"',
    }.get(spec.kind, "<new value>")


def constraint_text(p: Any) -> str | None:
    """The parameter's constraint in words; an instruction parameter's role is one too."""
    c = getattr(p, "constraint", None)
    parts = []
    if c is not None:
        if isinstance(c, str):
            parts.append(c)
        else:
            doc = (getattr(c, "__doc__", None) or "").strip().splitlines()
            label = doc[0] if doc and getattr(c, "__name__", "") != "<lambda>" else getattr(c, "__name__", "a check")
            parts.append(f"must pass the check {label}" if label != "<lambda>"
                         else "must pass a check (values that fail are rejected)")
    if is_instruction(p):
        parts.append(render("instruction_role"))
    return "; ".join(parts) or None


def show_signature(p: Any, code_name: str) -> str:
    """`name(params) -> ret` as written in the function's current source (annotations unquoted, as the
    user wrote them), falling back to the recorded signature with its string annotations unquoted."""
    try:
        tree = ast.parse(textwrap.dedent(str(p.data)))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name == code_name:
                returns = f" -> {ast.unparse(fn.returns)}" if fn.returns is not None else ""
                return f"{code_name}({ast.unparse(fn.args)}){returns}"
    except (SyntaxError, ValueError, TypeError, RecursionError):
        pass
    recorded = getattr(p, "code_signature", "") or "(...)"
    return code_name + re.sub(r"(:\s*|->\s*)'([^'\n]*)'", r"\1\2", recorded)


_UP_RE = re.compile(r"too (?:small|low|short|few)|should be (?:larger|higher|bigger|greater|more)|\bincrease", re.I)
_DOWN_RE = re.compile(r"too (?:large|high|big|long|many)|should be (?:smaller|lower|less|fewer)|\bdecrease", re.I)


def feedback_direction(feedback: str) -> str | None:
    """'up' when the feedback only asks for larger outputs, 'down' when it only asks for smaller ones."""
    up, down = bool(_UP_RE.search(feedback)), bool(_DOWN_RE.search(feedback))
    return "up" if up and not down else "down" if down and not up else None


def _num(value: Any) -> str:
    return repr(value) if isinstance(value, (int, float)) else str(value)


def tried_lines(name: str, entries: Sequence[Mapping[str, Any]]) -> tuple[list[str], str]:
    """The values of the numeric variable `name` already tried, one line each with its feedback, and a hint:
    the interval the feedback brackets when it turned from 'too small' to 'too large' (either way round)."""
    lines = [f"{name} = {_num(e['value'])}: {e['feedback']}" for e in entries]
    up = [e["value"] for e in entries if feedback_direction(str(e["feedback"])) == "up"]
    down = [e["value"] for e in entries if feedback_direction(str(e["feedback"])) == "down"]
    hint = ""
    if up and down and max(up) < min(down):
        hint = render("optoprime_tried_bracket", first="small", second="large", name=name, a=_num(max(up)),
                      b=_num(min(down)))
    elif up and down and max(down) < min(up):
        hint = render("optoprime_tried_bracket", first="large", second="small", name=name, a=_num(max(down)),
                      b=_num(min(up)))
    return lines, hint


_COMPACT_EXAMPLE = {"str": '"..."', "code": '"..."'}


def compact_ending(specs: Sequence[VariableSpec], shown: Sequence[Any],
                   tried: Mapping[str, Sequence[Mapping[str, Any]]] | None) -> tuple[str, str, str | None]:
    """(ending, #Tried section, code variable asked for as a ```python block) of the compact prompt.

    A single code variable is asked for as a ```python block (a small model writes code far better there
    than inside a JSON string, where every newline must be escaped); other values as JSON, with no
    placeholder text to copy. Numeric variables with values already tried (`tried`: name -> [{value,
    feedback}], from the optimizer's memory) get those values listed with their feedback, and the request
    asks for a value not tried yet."""
    if len(specs) == 1 and specs[0].kind == "code" and specs[0].code_name:
        signature = show_signature(shown[0], specs[0].code_name)
        return render("optoprime_compact_code", signature=signature), "", specs[0].name
    fields = ", ".join(f'"{s.name}": {_COMPACT_EXAMPLE.get(s.kind, "...")}' for s in specs)
    names = ", ".join(s.name for s in specs)
    request = render("optoprime_compact_request", names=names)
    numeric = [s for s in specs if s.kind in ("int", "float") and (tried or {}).get(s.name)]
    tried_text = ""
    if numeric:
        section, asks = [], []
        for s in numeric:
            lines, hint = tried_lines(s.name, (tried or {})[s.name])
            section.extend(lines)
            values = ", ".join(_num(e["value"]) for e in (tried or {})[s.name])
            asks.append(f"{s.name} must not be {values}.{hint}")
        tried_text = render("optoprime_tried", lines="\n".join(section))
        request = render("optoprime_compact_request_tried", names=names, asks=" ".join(asks))
    return render("optoprime_compact_json", fields=fields, request=request), tried_text, None
