"""Check a suggested value before it is applied: cast to the parameter's type, compile code, keep the
function's name and signature, run the parameter's constraint. Every refusal carries a reason the model reads
in the next step."""

from __future__ import annotations

import ast
import json
import math
import re
import textwrap
from typing import Any

from optotrace.optimizers.errors import SuggestionRejected

__all__ = [
    "SuggestionRejected", "cast_like", "check_code", "check_constraint", "kind_of", "reject_placeholder",
    "repair_candidates", "validate_suggestion",
]

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


def _short(value: Any, limit: int = 80) -> str:
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
                raise SuggestionRejected(f"{_short(value)} is not a number") from None
            result = float(found[0])
    else:
        raise SuggestionRejected(f"{_short(value)} ({type(value).__name__}) is not a number")
    if not math.isfinite(result):
        raise SuggestionRejected(f"{_short(value)} is not a finite number")
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
        raise SuggestionRejected(f"{_short(value)} is not a whole number; the parameter is an integer")
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
    raise SuggestionRejected(f"{_short(value)} is not a boolean (true or false)")


def _to_container(value: Any, kind: type) -> Any:
    if isinstance(value, kind):
        return value
    if kind is list and isinstance(value, tuple):
        return list(value)
    if isinstance(value, str):
        s = value.strip()
        for loader in (json.loads, ast.literal_eval):
            try:
                parsed = loader(s)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if kind is list and isinstance(parsed, tuple):
                parsed = list(parsed)
            if isinstance(parsed, kind):
                return parsed
    name = "a list" if kind is list else "a dict"
    raise SuggestionRejected(f"{_short(value)} ({type(value).__name__}) is not {name}")


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise SuggestionRejected(f"{_short(value)} ({type(value).__name__}) is not text; the parameter is a string")


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
    raise SuggestionRejected(f"cannot turn {_short(value)} into a {type(current).__name__}")


# ----------------------------------------------------------------------------------------------------------
# Code
# ----------------------------------------------------------------------------------------------------------


def _strip_fence(source: str) -> str:
    m = re.search(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", source, re.DOTALL)
    return m.group(1) if m else source


def _norm(expr: ast.expr | None) -> str:
    """Source text of an annotation or default, without quotes or spaces (so `'int'` matches `int`)."""
    if expr is None:
        return ""
    return re.sub(r"[\s'\"]", "", ast.unparse(expr))


def _param_shape(args: ast.arguments) -> list[tuple[str, str, str, str]]:
    """(name, kind, annotation, default) per parameter, in order."""
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    shape = []
    for i, a in enumerate(positional):
        kind = "positional_only" if i < len(args.posonlyargs) else "positional_or_keyword"
        shape.append((a.arg, kind, _norm(a.annotation), _norm(defaults[i])))
    if args.vararg:
        shape.append((args.vararg.arg, "var_positional", _norm(args.vararg.annotation), ""))
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=False):
        shape.append((a.arg, "keyword_only", _norm(a.annotation), _norm(d)))
    if args.kwarg:
        shape.append((args.kwarg.arg, "var_keyword", _norm(args.kwarg.annotation), ""))
    return shape


def _signature_shape(signature: str) -> list[tuple[str, str, str, str]] | None:
    """Parameter names and kinds from an `inspect.signature` text such as `(x, k=2) -> int`."""
    text = signature.strip()
    if not text.startswith("("):
        text = text[text.find("(") :] if "(" in text else f"({text})"
    try:
        tree = ast.parse(f"def _f{text}:\n    pass")
    except SyntaxError:
        head = text.split("->")[0].strip()[1:-1]
        try:  # defaults whose repr is not Python (`<object at 0x..>`): keep names only
            cleaned = re.sub(r"=\s*<[^>]*>", "=None", head)
            tree = ast.parse(f"def _f({cleaned}):\n    pass")
        except SyntaxError:
            return None
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    return _param_shape(fn.args)


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Assign,
                ast.AnnAssign, ast.Pass)


def _stray_statements(tree: ast.Module) -> list[ast.stmt]:
    """Top-level statements that would do something when the code is loaded: calls, prints, loops, tests."""
    return [n for n in tree.body if not isinstance(n, _DEFINITIONS)
            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]


def _definitions_only(text: str) -> str | None:
    """`text` without its stray top-level statements (a model's demo calls and prints), or None."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    stray = _stray_statements(tree)
    if not stray:
        return None
    lines = text.splitlines()
    drop = {i for n in stray for i in range(n.lineno - 1, (n.end_lineno or n.lineno))}
    return "\n".join(line for i, line in enumerate(lines) if i not in drop).strip("\n")


def _check_code_text(text: str, name: str | None, signature: str | None) -> str:
    """The compile, name and signature checks on already cleaned source."""
    if not text.strip():
        raise SuggestionRejected("the suggested code is empty")
    try:
        tree = ast.parse(text)
        compile(tree, f"<suggestion for {name or 'code'}>", "exec")
    except SyntaxError as exc:
        raise SuggestionRejected(f"the code does not compile: {exc.msg} (line {exc.lineno})") from None
    stray = _stray_statements(tree)
    if stray:
        line = stray[0]
        raise SuggestionRejected(
            f"line {line.lineno}: top-level statements other than definitions, imports and assignments would run "
            f"when the code is loaded ({ast.unparse(line)[:60]!r}); put them inside the function or remove them"
        )
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if name:
        matching = [d for d in defs if d.name == name]
        if not matching:
            found = ", ".join(d.name for d in defs) or "no function"
            raise SuggestionRejected(f"the code must define `def {name}(...)` (keep the name), found {found}")
        if signature:
            want = _signature_shape(signature)
            got = _param_shape(matching[0].args)
            if want is not None and [w[:2] for w in want] != [g[:2] for g in got]:
                got_text = ", ".join(g[0] for g in got)
                raise SuggestionRejected(
                    f"the function `{name}` must keep its signature {name}{signature}; the suggestion has "
                    f"({got_text})"
                )
            if want is not None and want != got:
                raise SuggestionRejected(
                    f"the function `{name}` must keep its signature exactly (annotations and defaults): "
                    f"{name}{signature}"
                )
    return text + "\n"


_CODE_START_RE = re.compile(r"^(?:async\s+def|def|class|import|from|@)\b|^@")
_FENCE_LINE_RE = re.compile(r"^[ \t]*```[A-Za-z0-9_+-]*[ \t]*$")
_CLOSERS_RE = re.compile(r"[\s\"'}\]]*[}\]][\s\"'}\]]*$")
_TOP_LEVEL_KEEP = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


def def_header(source: str | None, name: str | None) -> str | None:
    """The `def name(...) -> ...:` line(s) of `name` in `source` (decorators and body excluded), or None."""
    if not source or not name:
        return None
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None
    lines = textwrap.dedent(source).splitlines()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name and node.body:
            return "\n".join(lines[node.lineno - 1 : node.body[0].lineno - 1]).rstrip() or None
    return None


def _normalize_code(source: str) -> str:
    """Mechanical clean-up: fences, Windows newlines, literal \\n escapes, tabs, common indentation."""
    text = _strip_fence(source).replace("\r\n", "\n")
    text = "\n".join(line for line in text.split("\n") if not _FENCE_LINE_RE.match(line))
    if "\n" not in text.strip() and "\\n" in text:  # the model escaped the newlines twice
        text = text.replace("\\n", "\n").replace('\\"', '"').replace("\\t", "\t").replace("\\'", "'")
    return textwrap.dedent(text.expandtabs(4)).strip("\n")


def _from_first_code_line(text: str) -> str:
    """Drop leading prose: start at the first line that opens a definition, an import or a decorator."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _CODE_START_RE.match(line.strip()) and not line.startswith((" ", "\t")):
            return "\n".join(lines[i:])
    return text


def _longest_compiling_prefix(text: str, min_lines: int = 2) -> str | None:
    """The longest run of leading lines that compiles (drops a cut-off or explained tail)."""
    lines = text.rstrip().split("\n")
    for end in range(len(lines) - 1, min_lines - 1, -1):
        cut = "\n".join(lines[:end]).rstrip()
        for candidate in (cut, _CLOSERS_RE.sub("", cut)):
            try:
                ast.parse(candidate)
            except SyntaxError:
                continue
            return candidate
    return None


def _definitions_only(text: str) -> str | None:
    """Only the top-level definitions and imports (drops test calls, prints and stray statements)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lines = text.split("\n")
    keep = [n for n in tree.body if isinstance(n, _TOP_LEVEL_KEEP)]
    if not keep or len(keep) == len(tree.body):
        return None
    parts = []
    for n in keep:
        start = min([n.lineno, *(d.lineno for d in getattr(n, "decorator_list", []))])
        parts.append("\n".join(lines[start - 1 : n.end_lineno]))
    return "\n\n".join(parts)


def _under_header(text: str, header: str | None) -> str | None:
    """A bare body (no `def` line at all) placed under the original function's `def` line."""
    if not header or re.search(r"^\s*(?:async\s+)?def\s", text, re.M):
        return None
    body = textwrap.dedent(text).strip("\n")
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return None
    # A body returns or raises something; a lone expression or assignment is not a function body.
    if not any(isinstance(n, (ast.Return, ast.Raise, ast.Yield, ast.YieldFrom)) for n in ast.walk(tree)):
        return None
    return header + "\n" + textwrap.indent(body, "    ")


def repair_candidates(source: str, name: str | None = None, original: str | None = None) -> list[str]:
    """Repaired readings of code a model wrote, most faithful first. Each is still checked in full by
    `check_code`; a repair never invents code: it removes wrapping (fences, prose before or after, escapes)
    and, for a body given without its `def` line, puts it under the original signature."""
    base = _normalize_code(source)
    seen: list[str] = []

    def add(text: str | None) -> None:
        if text and text.strip() and text not in seen:
            seen.append(text)

    add(base)
    started = _from_first_code_line(base)
    add(started)
    add(_CLOSERS_RE.sub("", started))  # the JSON closers a model wrote into the string
    for text in list(seen):
        prefix = _longest_compiling_prefix(text)
        if prefix:
            add(_definitions_only(prefix))  # a cut tail is often tests or calls that would run on definition
        add(prefix)
    for text in list(seen):
        add(_definitions_only(text))
    header = def_header(original, name)
    for text in list(seen):
        add(_under_header(text, header))
    return seen


def check_code(source: Any, name: str | None = None, signature: str | None = None,
               original: str | None = None) -> str:
    """Return the cleaned source if it compiles and defines `name` with the same parameters as `signature`.

    What a model wraps around code (fences, prose, a tail after the function, escaped newlines, tabs, a body
    without its `def` line when `original` holds the current source) is removed first, by `repair_candidates`;
    the first reading that passes every check wins, else the reason the unrepaired code fails is raised."""
    if not isinstance(source, str):
        raise SuggestionRejected(f"code must be a string of Python source, got {type(source).__name__}")
    text = textwrap.dedent(_strip_fence(source).replace("\r\n", "\n")).strip("\n")
    try:
        return _check_code_text(text, name, signature)
    except SuggestionRejected as first:
        for candidate in _with_definitions_only([text, *repair_candidates(source, name, original)]):
            if candidate == text:
                continue
            try:
                return _check_code_text(candidate, name, signature)
            except SuggestionRejected:
                continue
        raise first from None


def _with_definitions_only(candidates: list[str]) -> list[str]:
    out: list[str] = []
    for candidate in candidates:
        out.append(candidate)
        trimmed = _definitions_only(candidate)
        if trimmed:
            out.append(trimmed)
    return out


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
        raise SuggestionRejected(f"constraint violated: {_short(value)} fails {doc.strip()}")


_PLACEHOLDER_RE = re.compile(r"\s*(?:<[^<>\n]{1,60}>|\.\.\.|…|NEW VALUE|new value)\s*", re.I)


def reject_placeholder(value: Any) -> None:
    """A reply that copied the reply format's placeholder (`"<new text>"`, `"..."`) instead of a value."""
    if isinstance(value, str) and _PLACEHOLDER_RE.fullmatch(value):
        raise SuggestionRejected(
            f"{value!r} is the placeholder from the reply format, not a value; write the new value itself"
        )


def validate_suggestion(param: Any, value: Any) -> Any:
    """The value to apply to `param` (a ParameterNode or anything with .data), or SuggestionRejected."""
    if getattr(param, "is_code", False):
        if not isinstance(value, str):
            raise SuggestionRejected(f"code must be a string of Python source, got {type(value).__name__}")
        new = check_code(value, getattr(param, "code_name", None), getattr(param, "code_signature", None),
                         original=param.data if isinstance(param.data, str) else None)
    else:
        reject_placeholder(value)
        new = cast_like(value, param.data)
    check_constraint(new, getattr(param, "constraint", None))
    return new
