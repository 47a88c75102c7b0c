"""Parsing an expression of any realistic size into a shallow tree.

Python's `ast` nests `a + b + c + ...` one level per term, and both its own tree construction and every
recursive walker fail after a few thousand levels. Real models have sums of thousands of terms, so:

* sums and differences become one n-ary `Terms` node, products and quotients one `Factors` node
  (built iteratively, whatever the input's nesting);
* an expression too deep for `ast.parse` itself is parsed chain by chain: every long chain of `+`/`-` at one
  bracket level is cut into its terms, each parsed on its own (columns stay those of the whole text);
* what is still too deep (10,000 unary minuses, a tower of powers, brackets nested hundreds of levels) or too
  long is refused with a ParseLimit naming the limit, never a RecursionError or MemoryError.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field

MAX_CHARS = 2_000_000
MAX_DEPTH = 100
MAX_SIGNS_IN_A_ROW = 50
_CHAIN_SPLIT = 32  # a chain with more terms than this is parsed term by term in the fallback
_SIGN_RUN = re.compile(r"(?:[-+~]\s*){" + str(MAX_SIGNS_IN_A_ROW + 1) + ",}")
_DELIMITERS = frozenset({",", "for", "if", "else", "in", "and", "or", "not", "is", "lambda", ":", ":=", "=", ";",
                         "<", ">", "<=", ">=", "==", "!=", "<>"})
_OPERAND_END = frozenset({")", "operand"})  # what a binary + or - follows


class Terms(ast.expr):
    """values[0] ± values[1] ± ... ; `signs[i]` is +1 or -1 (the first is +1)."""

    _fields = ("values",)


class Factors(ast.expr):
    """values[0] (* or /) values[1] ... ; `divide[i]` is True where the factor divides (the first is False)."""

    _fields = ("values",)


class ParseLimit(Exception):
    """The expression is beyond what can be handled; `column` is where, when known."""

    def __init__(self, problem: str, column: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.column = column


def parse_source(source: str) -> ast.expr:
    """The flattened tree of `source` (one line). SyntaxError as ast.parse raises it; ParseLimit beyond limits."""
    if len(source) > MAX_CHARS:
        raise ParseLimit(f"the expression is {len(source):,} characters long, over the limit of {MAX_CHARS:,}; "
                         "write long sums as sum(c[i] * x[i] for i in I) over indexed data")
    run = _SIGN_RUN.search(source)
    if run:
        raise ParseLimit(f"more than {MAX_SIGNS_IN_A_ROW} signs in a row; simplify them", run.start())
    try:
        tree = _parse_piece(source, 0, len(source))
    except RecursionError:
        tree = _parse_in_chains(source)
    except MemoryError:  # CPython's parser reports its own stack overflow as MemoryError
        raise _too_deep() from None
    tree = flatten(tree)
    _check_depth(tree)
    return tree


def _too_deep() -> ParseLimit:
    return ParseLimit(f"the expression is nested more than {MAX_DEPTH} levels deep (brackets, powers, signs or a "
                      "product of thousands of factors); simplify it or split it with auxiliary variables")


def _parse_piece(source: str, start: int, end: int) -> ast.expr:
    """source[start:end] parsed alone, columns counted from the start of `source`."""
    return _parse_text(source[start:end], start)


def _parse_text(text: str, start: int) -> ast.expr:
    """`text`, which stands at column `start` of the whole expression, parsed alone."""
    lead = len(text) - len(text.lstrip())
    try:
        body = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        if exc.offset is not None:
            exc.offset += start + lead
        raise
    except MemoryError:
        raise _too_deep() from None
    shift = start + lead
    if shift:
        for node in ast.walk(body):
            if hasattr(node, "col_offset"):
                node.col_offset += shift
                if getattr(node, "end_col_offset", None) is not None:
                    node.end_col_offset += shift
    return body


# -- the fallback: long chains parsed term by term -------------------------------------------------------------
@dataclass
class _Chain:
    start: int
    terms: list[tuple[int, int, int]] = field(default_factory=list)  # (sign, start, end)
    term_start: int = 0
    sign: int = 1
    last: str = ""  # the previous token at this level ("" at a chain's start)


def _long_chains(source: str) -> list[tuple[int, int, list[tuple[int, int, int]]]]:
    """(start, end, terms) of every chain of more than _CHAIN_SPLIT terms, at any bracket level."""
    found: list[tuple[int, int, list[tuple[int, int, int]]]] = []
    levels: list[_Chain] = [_Chain(0, term_start=0)]

    def close(chain: _Chain, end: int) -> None:
        if chain.last:
            chain.terms.append((chain.sign, chain.term_start, end))
        if len(chain.terms) > _CHAIN_SPLIT:
            found.append((chain.start, end, chain.terms))

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.COMMENT):
            continue
        text, (_, col), (_, end_col) = tok.string, tok.start, tok.end
        chain = levels[-1]
        if text in ("(", "[", "{"):
            chain.last = "("
            levels.append(_Chain(end_col, term_start=end_col))
            continue
        if text in (")", "]", "}"):
            if len(levels) > 1:
                close(levels.pop(), col)
            levels[-1].last = ")"
            continue
        if text in _DELIMITERS and tok.type in (tokenize.OP, tokenize.NAME):
            close(chain, col)
            levels[-1] = _Chain(end_col, term_start=end_col)
            continue
        binary = chain.last in _OPERAND_END
        if text in ("+", "-") and binary:
            chain.terms.append((chain.sign, chain.term_start, col))
            chain.sign, chain.term_start, chain.last = (1 if text == "+" else -1), end_col, "op"
            continue
        is_operand = tok.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING)
        chain.last = "operand" if is_operand else "op"
    while levels:
        close(levels.pop(), len(source))
    return found


def _parse_in_chains(source: str) -> ast.expr:
    chains = sorted(_long_chains(source), key=lambda c: (c[0], -c[1]))
    if not chains:
        raise _too_deep()
    marker = "_ot_chain_"
    while marker in source:
        marker += "_"
    return _parse_span(source, 0, len(source), chains, marker)


def _parse_span(source: str, start: int, end: int, chains: list[tuple[int, int, list[tuple[int, int, int]]]],
                marker: str) -> ast.expr:
    """source[start:end], with each outermost long chain inside it replaced by a placeholder of the same width."""
    own = next((c for c in chains if (c[0], c[1]) == (start, end)), None)
    inside = [c for c in chains if start <= c[0] and c[1] <= end and (c[0], c[1]) != (start, end)]
    outermost: list[tuple[int, int, list[tuple[int, int, int]]]] = []
    for c in inside:
        if not outermost or c[0] >= outermost[-1][1]:
            outermost.append(c)
    if not outermost and own is None:
        return _parse_piece(source, start, end)
    if own is not None:
        values, signs = [], []
        for sign, t_start, t_end in own[2]:
            values.append(_parse_span(source, t_start, t_end, chains, marker))
            signs.append(sign)
        node = Terms(values=values)
        node.signs = signs
        _place(node, values[0])
        return node
    pieces: list[str] = []
    names: dict[str, tuple[int, int]] = {}
    cursor = start
    for n, (c_start, c_end, _) in enumerate(outermost):
        name = f"{marker}{n}"
        width = c_end - c_start
        if width < len(name):
            raise _too_deep()
        pieces += [source[cursor:c_start], name.ljust(width)]
        names[name] = (c_start, c_end)
        cursor = c_end
    pieces.append(source[cursor:end])
    try:
        skeleton = _parse_text("".join(pieces), start)
    except RecursionError:
        raise _too_deep() from None
    holder = ast.Expression(body=skeleton)
    for parent in list(ast.walk(holder)):
        for field_name, value in ast.iter_fields(parent):
            if isinstance(value, ast.Name) and value.id in names:
                setattr(parent, field_name, _parse_span(source, *names[value.id], chains, marker))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.Name) and item.id in names:
                        value[i] = _parse_span(source, *names[item.id], chains, marker)
    return holder.body


def _place(node: ast.AST, like: ast.AST) -> None:
    for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        setattr(node, attr, getattr(like, attr, None))


# -- flattening and the depth limit --------------------------------------------------------------------------
_ADDITIVE = (ast.Add, ast.Sub)
_MULTIPLICATIVE = (ast.Mult, ast.Div)


def _chain(node: ast.expr) -> ast.expr:
    """`node` itself, or the n-ary node of the associative chain it heads (collected without recursion)."""
    if not isinstance(node, ast.BinOp) or not isinstance(node.op, _ADDITIVE + _MULTIPLICATIVE):
        return node
    additive = isinstance(node.op, _ADDITIVE)
    family = _ADDITIVE if additive else _MULTIPLICATIVE
    values: list[ast.expr] = []
    marks: list[bool] = []  # subtraction or division
    current: ast.expr = node
    while isinstance(current, ast.BinOp) and isinstance(current.op, family):
        values.append(current.right)
        marks.append(isinstance(current.op, (ast.Sub, ast.Div)))
        current = current.left
    if isinstance(current, Terms if additive else Factors):
        head_values = list(current.values)
        head_marks = [s < 0 for s in current.signs] if additive else list(current.divide)
    else:
        head_values, head_marks = [current], [False]
    values = head_values + values[::-1]
    marks = head_marks + marks[::-1]
    flat: ast.expr
    if additive:
        flat = Terms(values=values)
        flat.signs = [-1 if m else 1 for m in marks]
    else:
        flat = Factors(values=values)
        flat.divide = marks
    _place(flat, node)
    flat.col_offset = getattr(values[0], "col_offset", node.col_offset)
    return flat


def flatten(tree: ast.expr) -> ast.expr:
    """`tree` with every +/- chain as Terms and every * and / chain as Factors, built iteratively."""
    holder = ast.Expression(body=tree)
    stack: list[ast.AST] = [holder]
    while stack:
        parent = stack.pop()
        for field_name, value in ast.iter_fields(parent):
            if isinstance(value, ast.expr):
                new = _chain(value)
                if new is not value:
                    setattr(parent, field_name, new)
                stack.append(new)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.expr):
                        new = _chain(item)
                        value[i] = new
                        stack.append(new)
                    elif isinstance(item, ast.AST):
                        stack.append(item)
            elif isinstance(value, ast.AST):
                stack.append(value)
    return holder.body


def _check_depth(tree: ast.AST) -> None:
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseLimit(_too_deep().problem, getattr(node, "col_offset", None))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
