"""Function source text: extracting a bundled function's definition and annotating a failing line."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any


def definition_source(fn: Callable[..., Any]) -> tuple[str, int] | None:
    """The dedented `def ...` of `fn` without its decorator lines, and the file line of its first line.
    None when the source is unavailable (built-ins, the REPL, lambdas written inline)."""
    try:
        raw = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(raw)
    except (OSError, TypeError, SyntaxError):
        return None
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    lines = raw.splitlines(keepends=True)
    # getsource starts at co_firstlineno (the first decorator line); the def follows the decorators
    return "".join(lines[definition.lineno - 1:]), fn.__code__.co_firstlineno + definition.lineno - 1


def annotate(source: str, line: int | None, context: int = 8) -> str:
    """`source` indented, with `-->` on line `line` (1-based); long sources show a window around it."""
    lines = source.rstrip("\n").splitlines()
    first, last = 0, len(lines)
    if line is not None and len(lines) > 2 * context + 1:
        first, last = max(0, line - 1 - context), min(len(lines), line + context)
    out = ["    ..."] if first > 0 else []
    for number in range(first, last):
        marker = "--> " if number + 1 == line else "    "
        out.append(f"{marker}{lines[number]}")
    if last < len(lines):
        out.append("    ...")
    return "\n".join(out)


def failing_line(exc: BaseException, filename: str, first_line: int, n_lines: int) -> int | None:
    """The 1-based line of the source (starting at file line `first_line`) where `exc` passed last."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        lineno = tb.tb_lineno
        if tb.tb_frame.f_code.co_filename == filename and first_line <= lineno < first_line + n_lines:
            found = lineno - first_line + 1
        tb = tb.tb_next
    return found
