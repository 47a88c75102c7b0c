"""The expression language of ModelSpec: a whitelisted subset of Python's syntax, parsed with `ast`.

Nothing is ever evaluated by Python: `ast.parse` produces a tree, `validate` rejects every node outside the
subset, and optotrace.modeling.compiler walks the tree itself. Errors point at the offending token.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from optotrace.modeling.errors import ExpressionError
from optotrace.modeling.expression_tree import Factors, ParseLimit, Terms, parse_source

__all__ = ["Factors", "Terms", "parse_bindings", "parse_constraint", "parse_expression", "parse_tree", "validate"]

FUNCTIONS = frozenset({"sum", "abs", "sqrt", "exp", "log", "min", "max"})
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARE = {ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "=="}
_INDEX_COMPARE = (ast.LtE, ast.GtE, ast.Eq, ast.Lt, ast.Gt, ast.NotEq)
_HINTS: dict[type, str] = {
    ast.BitXor: "'^' is not a power here: write x**2",
    ast.Lt: "strict inequalities cannot be modelled: use <=",
    ast.Gt: "strict inequalities cannot be modelled: use >=",
    ast.NotEq: "'!=' cannot be modelled (only inside an 'if' of a sum or a 'for')",
    ast.Lambda: "lambda is not allowed",
    ast.Attribute: "attribute access (a.b) is not allowed: use plain names, x[i], sum(...), sqrt(...)",
    ast.ListComp: "a list comprehension is not allowed: write sum(expr for i in I)",
    ast.List: "a list is not allowed here",
    ast.Dict: "a dictionary is not allowed here",
    ast.IfExp: "a conditional expression (a if c else b) is not allowed",
}


@dataclass(frozen=True)
class Bindings:
    """A parsed `for` clause; `text` is what was parsed, `shift` the prefix length to subtract from columns."""

    generators: list[ast.comprehension]
    text: str
    shift: int


@dataclass(frozen=True)
class ConstraintTree:
    """A parsed constraint: `parts[0] ops[0] parts[1] (ops[1] parts[2])`."""

    parts: list[ast.expr]
    ops: list[str]


def _error(
    item: str, text: str, problem: str, node: ast.AST | None = None, shift: int = 0
) -> ExpressionError:
    column = getattr(node, "col_offset", None) if node is not None else None
    return ExpressionError(item, text, problem, None if column is None else max(column - shift, 0))


def parse_tree(text: str, item: str) -> ast.expr:
    """The (flattened) tree of any expression or constraint text, not yet checked against the language."""
    return _parse(text, item)


def _parse(text: str, item: str, *, prefix: str = "", suffix: str = "") -> ast.expr:
    if not text or not text.strip():
        raise ExpressionError(item, text, "the expression is empty")
    flat = text.replace("\n", " ").replace("\t", " ").replace("\r", " ")
    try:
        return parse_source(prefix + flat + suffix)
    except ParseLimit as exc:
        column = None if exc.column is None else max(exc.column - len(prefix), 0)
        raise ExpressionError(item, text, exc.problem, column) from None
    except SyntaxError as exc:
        column = None if exc.offset is None else max(exc.offset - 1 - len(prefix), 0)
        column = None if column is None else min(column, len(flat))
        problem = f"syntax error ({exc.msg})"
        if "invalid decimal literal" in (exc.msg or ""):
            problem += ": write multiplication explicitly, e.g. 2*x"
        raise ExpressionError(item, text, problem, column) from None


def validate(node: ast.AST, item: str, text: str, shift: int = 0, *, in_condition: bool = False) -> None:
    """Reject anything outside the modeling subset (conditions of `if` may also compare and combine)."""

    def fail(problem: str, at: ast.AST) -> None:
        raise _error(item, text, problem, at, shift)

    def walk(n: ast.AST, cond: bool) -> None:
        if isinstance(n, ast.Constant):
            if isinstance(n.value, bool) or not isinstance(n.value, (int, float, str)):
                fail(f"the constant {n.value!r} is not allowed (numbers only, or element names in quotes)", n)
        elif isinstance(n, (Terms, Factors)):
            for value in n.values:
                walk(value, cond)
        elif isinstance(n, ast.Name):
            if n.id in FUNCTIONS:
                fail(f"'{n.id}' is a function: call it, e.g. {n.id}(...)", n)
        elif isinstance(n, ast.BinOp):
            if type(n.op) not in _BINOPS and not (cond and isinstance(n.op, (ast.Mod, ast.FloorDiv))):
                fail(_HINTS.get(type(n.op), f"the operator {type(n.op).__name__} is not allowed"), n)
            walk(n.left, cond)
            walk(n.right, cond)
        elif isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.Not) and cond:
                walk(n.operand, cond)
            elif not isinstance(n.op, (ast.USub, ast.UAdd)):
                fail(f"the unary operator {type(n.op).__name__} is not allowed", n)
            else:
                walk(n.operand, cond)
        elif isinstance(n, ast.Subscript):
            if not isinstance(n.value, ast.Name):
                fail("only a name can be indexed, e.g. x[i] or c[i, j]", n)
            index = n.slice
            for part in index.elts if isinstance(index, ast.Tuple) else [index]:
                if isinstance(part, ast.Slice):
                    fail("slices are not allowed: index with set elements, e.g. x[i]", n)
                walk(part, True)  # index arithmetic may use % and //
        elif isinstance(n, ast.Call):
            if isinstance(n.func, ast.Attribute):
                fail(_HINTS[ast.Attribute], n.func)
            if not isinstance(n.func, ast.Name) or n.func.id not in FUNCTIONS:
                what = n.func.id if isinstance(n.func, ast.Name) else ast.unparse(n.func)
                fail(f"unknown function '{what}': allowed are {', '.join(sorted(FUNCTIONS))}", n)
            if n.keywords:
                fail("keyword arguments are not allowed", n.keywords[0].value)
            if not n.args:
                fail(f"{n.func.id}() needs an argument", n)
            name = n.func.id
            gens = [a for a in n.args if isinstance(a, ast.GeneratorExp)]
            if name == "sum" and (len(n.args) != 1 or not gens):
                fail("sum takes one generator: sum(expr for i in I)", n)
            if name in ("abs", "sqrt", "exp", "log") and (len(n.args) != 1 or gens):
                fail(f"{name} takes exactly one argument", n)
            if gens and len(n.args) != 1:
                fail(f"{name} takes either one generator or several arguments", n)
            for a in n.args:
                walk(a, cond)
        elif isinstance(n, ast.GeneratorExp):
            for comp in n.generators:
                check_comprehension(comp)
            walk(n.elt, cond)
        elif cond and isinstance(n, ast.Compare):
            for op in n.ops:
                if not isinstance(op, _INDEX_COMPARE):
                    fail(f"the comparison {type(op).__name__} is not allowed", n)
            walk(n.left, cond)
            for c in n.comparators:
                walk(c, cond)
        elif cond and isinstance(n, ast.BoolOp):
            for v in n.values:
                walk(v, cond)
        elif isinstance(n, ast.Compare):
            fail("a comparison is only allowed once, at the top of a constraint", n)
        else:
            fail(_HINTS.get(type(n), f"'{type(n).__name__}' is not part of the modeling language"), n)

    def check_comprehension(comp: ast.comprehension) -> None:
        if comp.is_async:
            fail("async is not allowed", comp.target)
        if not isinstance(comp.target, ast.Name):
            fail("bind one index name per set: 'for i in I, j in J' / 'for i in I for j in J'", comp.target)
        if not isinstance(comp.iter, ast.Name):
            fail("iterate over a set by its name, e.g. 'for i in I'", comp.iter)
        for cond in comp.ifs:
            walk(cond, True)

    walk(node, in_condition)


def parse_expression(text: str, item: str) -> ast.expr:
    """An objective or other plain expression (no comparison)."""
    node = _parse(text, item)
    if isinstance(node, ast.Compare):
        raise _error(item, text, "an objective is an expression, not a comparison", node.comparators[0])
    validate(node, item, text)
    return node


def parse_constraint(text: str, item: str) -> ConstraintTree:
    """A constraint: `a <= b`, `a >= b`, `a == b`, or a range `lo <= a <= hi`."""
    node = _parse(text, item)
    if not isinstance(node, ast.Compare):
        raise ExpressionError(item, text, "a constraint needs one of <=, >=, ==", len(text.rstrip()))
    ops: list[str] = []
    for op, right in zip(node.ops, node.comparators, strict=True):
        if type(op) not in _COMPARE:
            hint = _HINTS.get(type(op), f"the comparison {type(op).__name__} is not allowed")
            raise _error(item, text, hint, right)
        ops.append(_COMPARE[type(op)])
    parts = [node.left, *node.comparators]
    if len(ops) > 2:
        raise _error(item, text, "at most two comparisons (a range lo <= expr <= hi)", parts[3])
    if len(ops) == 2 and (ops[0] != ops[1] or ops[0] == "=="):
        raise _error(item, text, "a range needs the same direction twice: lo <= expr <= hi", parts[2])
    for part in parts:
        validate(part, item, text)
    return ConstraintTree(parts, ops)


def parse_bindings(text: str, item: str) -> Bindings:
    """The `for` of a constraint family: "i in I, j in J if i != j" (or "i in I for j in J")."""
    clauses = text.strip()
    if clauses.startswith("for "):
        clauses = clauses[4:]
    # "i in I, j in J" -> "i in I for j in J" (a comma outside brackets separates bindings)
    depth, pieces, start = 0, [], 0
    for pos, ch in enumerate(clauses):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            pieces.append(clauses[start:pos])
            start = pos + 1
    pieces.append(clauses[start:])
    joined = " for ".join(p.strip() for p in pieces)
    prefix = "(0 for "
    node = _parse(joined, item + " ('for' clause)", prefix=prefix, suffix=")")
    if not isinstance(node, ast.GeneratorExp):
        raise ExpressionError(item, text, "the 'for' clause reads like 'i in I' or 'i in I, j in J'")
    validate(node, item + " ('for' clause)", joined, shift=len(prefix))
    return Bindings(node.generators, joined, len(prefix))
