"""Checking and repairing code a model suggests for a trainable function: it must compile, define the
function under its name with the same parameters, and do nothing but define things when loaded. What a model
wraps around code (fences, prose, a tail after the function, escaped newlines, a body without its `def` line)
is removed first; a repair never invents code."""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any

from optotrace.llm.replies import first_code_block, without_fence_lines
from optotrace.optimizers.errors import SuggestionRejected

__all__ = ["check_code", "def_header", "repair_candidates"]


def _strip_fence(source: str) -> str:
    body = first_code_block(source)
    return source if body is None else body


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
    text = without_fence_lines(text)
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
