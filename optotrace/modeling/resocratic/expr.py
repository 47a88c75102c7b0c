"""A small parser for the arithmetic in formal `//` lines, as people and models write it.

Accepts `^` and `**` for powers, implicit multiplication (`10y`, `2πr^2`, `(36 - 2x)(24 - 2x)x`), thousands
separators (`50,000`), `π`, percentages (`5%`) and a few functions (sqrt, exp, log, abs, min, max). The result
is a tiny tree that renders as Python syntax, evaluates numerically, and reports its linear form when it has one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "abs": abs,
    "min": min,
    "max": max,
}
CONSTANTS = {"pi": math.pi}
RELATIONS = {"<=": "<=", ">=": ">=", "=": "==", "==": "==", "<": "<=", ">": ">=", "≤": "<=", "≥": ">="}

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|<=|>=|==|[-+*/^()%,=<>≤≥]))"
)


class ExprError(ValueError):
    """The text is not an expression this parser understands."""


@dataclass(frozen=True)
class Expr:
    """A node: op in num, var, add, mul, div, pow, neg, call. `args` holds children (or the value/name)."""

    op: str
    args: tuple

    # rendering ----------------------------------------------------------------------------------------
    def python(self) -> str:
        op, a = self.op, self.args
        if op == "num":
            return repr(float(a[0])) if not float(a[0]).is_integer() else str(int(a[0]))
        if op == "var":
            return str(a[0])
        if op == "neg":
            return f"-({a[0].python()})"
        if op == "add":
            return "(" + " + ".join(x.python() for x in a) + ")"
        if op == "mul":
            return f"({a[0].python()} * {a[1].python()})"
        if op == "div":
            return f"({a[0].python()} / {a[1].python()})"
        if op == "pow":
            return f"({a[0].python()} ** {a[1].python()})"
        if op == "call":
            return f"{a[0]}(" + ", ".join(x.python() for x in a[1]) + ")"
        raise ExprError(f"unknown node {op}")

    def evaluate(self, values: Mapping[str, float]) -> float:
        op, a = self.op, self.args
        if op == "num":
            return float(a[0])
        if op == "var":
            return float(values[a[0]])
        if op == "neg":
            return -a[0].evaluate(values)
        if op == "add":
            return sum(x.evaluate(values) for x in a)
        if op == "mul":
            return a[0].evaluate(values) * a[1].evaluate(values)
        if op == "div":
            return a[0].evaluate(values) / a[1].evaluate(values)
        if op == "pow":
            return float(a[0].evaluate(values) ** a[1].evaluate(values))
        if op == "call":
            return float(FUNCTIONS[a[0]](*(x.evaluate(values) for x in a[1])))
        raise ExprError(f"unknown node {op}")

    def variables(self) -> set[str]:
        if self.op == "var":
            return {self.args[0]}
        if self.op == "num":
            return set()
        kids = self.args[1] if self.op == "call" else self.args
        out: set[str] = set()
        for k in kids:
            out |= k.variables()
        return out

    def substitute(self, defs: Mapping[str, Expr]) -> Expr:
        if self.op == "var":
            return defs.get(self.args[0], self)
        if self.op == "num":
            return self
        if self.op == "call":
            return Expr("call", (self.args[0], tuple(k.substitute(defs) for k in self.args[1])))
        return Expr(self.op, tuple(k.substitute(defs) for k in self.args))

    def linear(self) -> tuple[dict[str, float], float] | None:
        """(coefficients, constant) when the expression is affine, else None."""
        op, a = self.op, self.args
        if op == "num":
            return {}, float(a[0])
        if op == "var":
            return {a[0]: 1.0}, 0.0
        if op == "neg":
            inner = a[0].linear()
            return None if inner is None else ({k: -v for k, v in inner[0].items()}, -inner[1])
        if op == "add":
            coeffs: dict[str, float] = {}
            const = 0.0
            for x in a:
                part = x.linear()
                if part is None:
                    return None
                for k, v in part[0].items():
                    coeffs[k] = coeffs.get(k, 0.0) + v
                const += part[1]
            return coeffs, const
        if op in ("mul", "div"):
            left, right = a[0].linear(), a[1].linear()
            if left is None or right is None:
                return None
            if op == "div":
                if right[0]:
                    return None
                if right[1] == 0:
                    raise ExprError("division by zero")
                return {k: v / right[1] for k, v in left[0].items()}, left[1] / right[1]
            if left[0] and right[0]:
                return None
            scalar, other = (left[1], right) if not left[0] else (right[1], left)
            return {k: v * scalar for k, v in other[0].items()}, other[1] * scalar
        if op == "pow":
            base, expo = a[0].linear(), a[1].linear()
            if base is None or expo is None or expo[0]:
                return None
            if not base[0]:
                return {}, base[1] ** expo[1]
            return base if expo[1] == 1 else None
        return None


def normalize(text: str) -> str:
    """Spelling fixes before tokenizing: π, thousands separators, unicode minus and times, `$`."""
    text = text.replace("π", " pi ").replace("−", "-").replace("×", "*").replace("·", "*").replace("$", "")
    text = re.sub(
        r"(?<![\d.])(\d{1,3})((?:,\d{3})+)(?![\d])", lambda m: m.group(1) + m.group(2).replace(",", ""), text
    )
    return text


def tokenize(text: str) -> list[tuple[str, str]]:
    text = normalize(text).strip().rstrip(".")
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ExprError(f"unexpected character {text[pos]!r} in {text!r}")
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], known: set[str] | None) -> None:
        self.toks = tokens
        self.i = 0
        self.known = known

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExprError(f"expected {value or 'more input'}, found {tok[1] if tok else 'the end'}")
        self.i += 1
        return tok

    def expr(self) -> Expr:
        terms = [self.term()]
        while (tok := self.peek()) is not None and tok[1] in ("+", "-"):
            self.take()
            t = self.term()
            terms.append(t if tok[1] == "+" else Expr("neg", (t,)))
        return terms[0] if len(terms) == 1 else Expr("add", tuple(terms))

    def _starts_factor(self, tok: tuple[str, str] | None) -> bool:
        return tok is not None and (tok[0] in ("num", "name") or tok[1] == "(")

    def term(self) -> Expr:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok is not None and tok[1] in ("*", "/"):
                self.take()
                right = self.unary()
                left = Expr("mul" if tok[1] == "*" else "div", (left, right))
            elif self._starts_factor(tok):  # implicit multiplication
                left = Expr("mul", (left, self.power()))
            else:
                return left

    def unary(self) -> Expr:
        tok = self.peek()
        if tok is not None and tok[1] in ("-", "+"):
            self.take()
            inner = self.unary()
            return Expr("neg", (inner,)) if tok[1] == "-" else inner
        return self.power()

    def power(self) -> Expr:
        base = self.atom()
        tok = self.peek()
        if tok is not None and tok[1] in ("^", "**"):
            self.take()
            return Expr("pow", (base, self.unary()))
        return base

    def atom(self) -> Expr:
        kind, value = self.take()
        if kind == "num":
            num = float(value)
            if (tok := self.peek()) is not None and tok[1] == "%":
                self.take()
                num /= 100.0
            return Expr("num", (num,))
        if kind == "name":
            lower = value.lower()
            if lower in FUNCTIONS and (tok := self.peek()) is not None and tok[1] == "(":
                self.take("(")
                args = [self.expr()]
                while (tok := self.peek()) is not None and tok[1] == ",":
                    self.take()
                    args.append(self.expr())
                self.take(")")
                return Expr("call", ("log" if lower == "ln" else lower, tuple(args)))
            if lower in CONSTANTS and (self.known is None or value not in self.known):
                return Expr("num", (CONSTANTS[lower],))
            if self.known is not None and value not in self.known:
                parts = _split_name(value, self.known)
                if parts is None:
                    raise ExprError(f"unknown name {value!r}")
                nodes = [
                    Expr("var", (q,)) if q in self.known else Expr("num", (CONSTANTS[q],)) for q in parts
                ]
                node = nodes[0]
                for nxt in nodes[1:]:  # `rh` written for r * h
                    node = Expr("mul", (node, nxt))
                return node
            return Expr("var", (value,))
        if value == "(":
            inner = self.expr()
            self.take(")")
            return inner
        raise ExprError(f"unexpected {value!r}")


def _split_name(name: str, known: set[str]) -> list[str] | None:
    """Split a glued name (`rh`, `pir`) into known names, or None."""
    names = known | set(CONSTANTS)
    best: dict[int, list[str]] = {0: []}
    for end in range(1, len(name) + 1):
        for start in range(end):
            if start in best and name[start:end] in names:
                best[end] = [*best[start], name[start:end]]
                break
    parts = best.get(len(name))
    if not parts or len(parts) < 2:
        return None
    return parts


def parse_expr(text: str, known: set[str] | None = None) -> Expr:
    """Parse one expression; with `known`, every name must be one of them (or pi, or a function)."""
    p = _Parser(tokenize(text), known)
    if not p.toks:
        raise ExprError("empty expression")
    e = p.expr()
    if p.peek() is not None:
        raise ExprError(f"unexpected {p.peek()[1]!r} after the expression")  # type: ignore[index]
    return e


@dataclass(frozen=True)
class Relation:
    """`lhs op rhs` with op in <=, >=, == (strict inequalities are read as non-strict)."""

    lhs: Expr
    op: str
    rhs: Expr

    def python(self) -> str:
        return f"{self.lhs.python()} {self.op} {self.rhs.python()}"


def parse_relation(text: str, known: set[str] | None = None) -> list[Relation]:
    """`a <= b`, or a chain `a <= b <= c` (two relations)."""
    parts = re.split(r"(<=|>=|==|≤|≥|=|<|>)", normalize(text))
    if len(parts) < 3 or len(parts) % 2 == 0:
        raise ExprError(f"no relation in {text!r}")
    exprs = [parse_expr(p, known) for p in parts[0::2]]
    ops = [RELATIONS[o] for o in parts[1::2]]
    if len(ops) > 2 or (len(ops) == 2 and "==" in ops):
        raise ExprError(f"unsupported chain of relations in {text!r}")
    return [Relation(exprs[i], ops[i], exprs[i + 1]) for i in range(len(ops))]
