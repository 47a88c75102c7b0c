"""Function source text: extracting a bundled function's definition, annotating a failing line, and compiling
new source inside the closure of the function it replaces."""

from __future__ import annotations
import __future__

import ast
import inspect
import sys
import textwrap
import types
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


_SCOPE, _DEFINE = "__optotrace_scope__", "__optotrace_define__"


def in_closure_scope(tree: ast.Module, name: str, free: list[str]) -> tuple[ast.Module, int]:
    """`tree` rewritten so that its statements run inside a function whose free variables are `free`:

        def __optotrace_scope__():
            a = b = None                    # makes `free` closure variables of what follows
            def __optotrace_define__():
                <the statements of tree>    # line numbers unchanged
                return <name>
            return __optotrace_define__

    Also returns the compiler flags of the `from __future__` imports it moved out (they must stay at the top)."""
    flags, body = 0, []
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                flags |= getattr(__future__, alias.name).compiler_flag
        else:
            body.append(statement)
    define = _function(_DEFINE, [*body, ast.Return(ast.Name(name, ast.Load()))])
    bind = ast.Assign([ast.Name(n, ast.Store()) for n in free], ast.Constant(None))
    scope = _function(_SCOPE, [bind, define, ast.Return(ast.Name(_DEFINE, ast.Load()))])
    module = ast.Module([scope], type_ignores=[])
    return ast.fix_missing_locations(module), flags


def _function(name: str, body: list[ast.stmt]) -> ast.FunctionDef:
    args = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                         defaults=[])
    extra: dict[str, Any] = {"type_params": []} if sys.version_info >= (3, 12) else {}
    return ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None, lineno=1,
                           col_offset=0, **extra)


def defined_in_closure(code: types.CodeType, namespace: dict[str, Any], cells: dict[str, types.CellType]) -> Any:
    """Run the definitions of a module compiled from `in_closure_scope` with `cells` as their closure and return
    the function they define."""
    scope = next(c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == _SCOPE)
    define = next(c for c in scope.co_consts if isinstance(c, types.CodeType) and c.co_name == _DEFINE)
    closure = tuple(cells[n] for n in define.co_freevars)
    return types.FunctionType(define, namespace, _DEFINE, None, closure)()


DEFAULTS, KWDEFAULTS = "__optotrace_defaults__", "__optotrace_kwdefaults__"


def keep_original_defaults(definition: ast.FunctionDef | ast.AsyncFunctionDef, original_source: str) -> None:
    """Where new code keeps a default expression of the original definition as written, use the value the
    original computed (`__optotrace_defaults__[i]`): it was evaluated in the scope that defined the function,
    whose local names (`def f(x, k=scale)` inside another function) new code cannot see."""
    try:
        old = ast.parse(original_source).body[0]
    except (SyntaxError, IndexError):
        return
    if not isinstance(old, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    new_args, old_args = definition.args, old.args
    n_new, n_old = len(new_args.defaults), len(old_args.defaults)
    for i in range(min(n_new, n_old)):  # positional defaults belong to the last parameters: align from the end
        new_i, old_i = n_new - 1 - i, n_old - 1 - i
        if ast.dump(new_args.defaults[new_i]) == ast.dump(old_args.defaults[old_i]):
            new_args.defaults[new_i] = _lookup(DEFAULTS, old_i, new_args.defaults[new_i])
    old_kw = {a.arg: d for a, d in zip(old_args.kwonlyargs, old_args.kw_defaults, strict=True) if d is not None}
    for j, (arg, default) in enumerate(zip(new_args.kwonlyargs, new_args.kw_defaults, strict=True)):
        if default is not None and arg.arg in old_kw and ast.dump(default) == ast.dump(old_kw[arg.arg]):
            new_args.kw_defaults[j] = _lookup(KWDEFAULTS, arg.arg, default)


def _lookup(table: str, key: int | str, where: ast.expr) -> ast.expr:
    lookup = ast.Subscript(ast.Name(table, ast.Load()), ast.Constant(key), ast.Load())
    return ast.fix_missing_locations(ast.copy_location(lookup, where))
