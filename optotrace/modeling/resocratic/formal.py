"""Deterministic reading of a scenario's formal `//` lines: variables with domains and bounds, the objective and
the constraints, as a solver-neutral `FormalModel` (verify.py turns it into a ModelSpec).

The formal lines mix mathematics with explanation ("So, the objective function is: Maximize 3x + 2y"); the reader
takes the longest tail of each line that parses with the scenario's own symbols, substitutes named sub-expressions
(`ProfitA = (100 - 2) * UnitsA`), and fails with a clear reason when a section yields nothing it can use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from optotrace.modeling.resocratic.expr import (
    Expr,
    ExprError,
    Relation,
    normalize,
    parse_expr,
    parse_relation,
)
from optotrace.modeling.resocratic.format import Scenario, domain_text

Domain = Literal["continuous", "integer", "binary"]
_SENSE = re.compile(r"\b(maximi[sz]e|minimi[sz]e|maximum|minimum)\b\s*:?", re.I)
_REL = re.compile(r"<=|>=|==|=|<|>|≤|≥")
_NUM = r"[-+]?\d[\d,]*(?:\.\d+)?"


class TranslationError(ValueError):
    """The formal lines could not be read as a model; the message says which section and why."""


@dataclass
class FormalVariable:
    name: str
    description: str
    domain: Domain = "continuous"
    lb: float | None = None
    ub: float | None = None


@dataclass
class FormalModel:
    """What the formal lines say: variables, a sense, an objective expression and labelled relations."""

    variables: dict[str, FormalVariable]
    sense: Literal["maximize", "minimize"]
    objective: Expr
    constraints: list[tuple[str, Relation]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def is_linear(self) -> bool:
        if self.objective.linear() is None:
            return False
        return all(r.lhs.linear() is not None and r.rhs.linear() is not None for _, r in self.constraints)

    def has_integers(self) -> bool:
        return any(v.domain != "continuous" for v in self.variables.values())

    def evaluate(self, values: dict[str, float]) -> float:
        return self.objective.evaluate(values)

    def violations(self, values: dict[str, float], tol: float = 1e-5) -> list[str]:
        """The constraints and bounds that `values` break (relative tolerance `tol`)."""
        bad: list[str] = []
        for name, v in self.variables.items():
            x = values.get(name)
            if x is None:
                continue
            if v.lb is not None and x < v.lb - tol * max(1.0, abs(v.lb)):
                bad.append(f"{name} >= {v.lb}")
            if v.ub is not None and x > v.ub + tol * max(1.0, abs(v.ub)):
                bad.append(f"{name} <= {v.ub}")
        for label, rel in self.constraints:
            try:
                lhs, rhs = rel.lhs.evaluate(values), rel.rhs.evaluate(values)
            except (KeyError, ValueError, ZeroDivisionError, OverflowError):
                bad.append(f"{label}: cannot evaluate")
                continue
            slack = tol * max(1.0, abs(lhs), abs(rhs))
            if (
                (rel.op == "<=" and lhs > rhs + slack)
                or (rel.op == ">=" and lhs < rhs - slack)
                or rel.op == "=="
                and abs(lhs - rhs) > slack
            ):
                bad.append(f"{label}: {rel.python()}")
        return bad


def _word_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"[:,]\s*|\s+", text)]


def find_relations(text: str, known: set[str]) -> list[Relation] | None:
    """The relations in the longest tail of `text` that parses (None when no tail does)."""
    text = text.strip().rstrip(".")
    for start in _word_starts(text):
        tail = text[start:].strip()
        if not tail or not _REL.search(tail):
            continue
        try:
            return parse_relation(tail, known)
        except ExprError:
            continue
    return None


def find_expr(text: str, known: set[str]) -> Expr | None:
    """The longest tail of `text` that parses as an expression over `known`."""
    text = text.strip().rstrip(".")
    for start in _word_starts(text):
        tail = text[start:].strip()
        if not tail:
            continue
        try:
            return parse_expr(tail, known)
        except ExprError:
            continue
    return None


def _symbols_in(text: str, symbols: list[str]) -> list[str]:
    return [s for s in symbols if re.search(rf"(?<![\w]){re.escape(s)}(?![\w])", text)]


def _apply_domain(text: str, variables: dict[str, FormalVariable], notes: list[str]) -> list[Relation]:
    """Domains and bounds from `where ...` text; relations that are not simple bounds are returned."""
    symbols = list(variables)
    extra: list[Relation] = []
    previous: list[str] = symbols
    clauses = re.split(r";|&|\n|,\s*and\b|\band\b|\.\s+", text)
    for clause in clauses:
        clause = re.sub(r"^\s*where\b", "", clause.strip(" ,."), flags=re.I).strip()
        if not clause:
            continue
        named = _symbols_in(clause, symbols) or previous
        lower = clause.lower()
        if "binary" in lower or re.search(r"\b0\s*or\s*1\b", lower):
            for s in named:
                variables[s].domain, variables[s].lb, variables[s].ub = "binary", 0.0, 1.0
            previous = named
            continue
        if "integer" in lower:
            for s in named:
                if variables[s].domain == "continuous":
                    variables[s].domain = "integer"
        if re.search(r"non-?negative|\bpositive\b", lower):
            for s in named:
                variables[s].lb = max(variables[s].lb or 0.0, 0.0)
        m_list = re.fullmatch(rf"([\w\s,]+?)\s*(<=|>=|=|<|>|≤|≥)\s*({_NUM})", clause)
        m_chain = re.fullmatch(rf"({_NUM})\s*(<=|<|≤)\s*([\w\s,]+?)\s*(<=|<|≤)\s*({_NUM})", clause)
        if m_chain and all(t.strip() in variables for t in m_chain.group(3).split(",")):
            for s in (t.strip() for t in m_chain.group(3).split(",")):
                variables[s].lb = float(m_chain.group(1).replace(",", ""))
                variables[s].ub = float(m_chain.group(5).replace(",", ""))
            previous = named
        elif m_list and all(t.strip() in variables for t in m_list.group(1).split(",")):
            value = float(m_list.group(3).replace(",", ""))
            op = m_list.group(2)
            for s in (t.strip() for t in m_list.group(1).split(",")):
                if op in (">=", ">", "≥", "="):
                    variables[s].lb = value
                if op in ("<=", "<", "≤", "="):
                    variables[s].ub = value
            previous = named
        elif _REL.search(clause):
            rels = find_relations(clause, set(symbols))
            if rels is None:
                notes.append(f"variables: could not read {clause!r}")
            else:
                extra.extend(rels)
            previous = named
        elif _symbols_in(clause, symbols):
            previous = named
    return extra


def _definitions(lines: tuple[str, ...], known: set[str], defs: dict[str, Expr]) -> None:
    """Named sub-expressions (`ProfitA = 3 * UnitsA`) from formal lines, added to `defs`."""
    for line in lines:
        for m in re.finditer(r"\b([A-Za-z_]\w*)\s*=(?!=)\s*([^;=<>]+)", line):
            name = m.group(1)
            if name in known or name in defs:
                continue
            expr = find_expr(m.group(2), known | set(defs))
            if expr is not None:
                defs[name] = expr.substitute(defs)


def _objective(scenario: Scenario, known: set[str], defs: dict[str, Expr]) -> tuple[str, Expr]:
    lines = scenario.objective.formal_lines
    _definitions(lines, known, defs)
    names = known | set(defs)
    for line in reversed(lines):
        hits = list(_SENSE.finditer(line))
        if not hits:
            continue
        sense = "maximize" if hits[-1].group(1).lower().startswith("maxim") else "minimize"
        tail = line[hits[-1].end() :]
        if "=" in tail and not re.search(r"<=|>=|==", tail):
            tail = tail.rsplit("=", 1)[1]
        expr = find_expr(tail, names)
        if expr is not None:
            return sense, expr.substitute(defs)
    raise TranslationError(
        "objective: no formal line says maximize/minimize followed by an expression over the variables"
    )


def _pieces(line: str) -> list[str]:
    """The relations of one line: split at `;`, and at commas when several comma parts hold a relation."""
    out: list[str] = []
    for piece in normalize(line).split(";"):
        parts = [p for p in piece.split(",") if _REL.search(p)]
        if len(parts) >= 2:
            out.extend(parts)
        elif _REL.search(piece):
            out.append(piece)
    return out


def translate(scenario: Scenario) -> FormalModel:
    """Read a scenario's formal lines as a model, or raise TranslationError saying what could not be read."""
    mapping = scenario.symbols()
    if not mapping:
        raise TranslationError("variables: no `// variables: {...}` mapping")
    variables = {sym: FormalVariable(sym, desc) for desc, sym in mapping.items()}
    known = set(variables)
    notes: list[str] = []
    constraints: list[tuple[str, Relation]] = []
    for rel in _apply_domain(domain_text(scenario.variables.formal_lines), variables, notes):
        constraints.append(("variables", rel))
    defs: dict[str, Expr] = {}
    sense, objective = _objective(scenario, known, defs)
    for section in scenario.constraints:
        label = f"constraint-{section.number}"
        _definitions(section.formal_lines, known, defs)
        found: list[Relation] = []
        for line in section.formal_lines:
            if "integer" in line.lower() or "binary" in line.lower():
                _apply_domain(line, variables, notes)
                found.append(Relation(Expr("num", (0.0,)), "<=", Expr("num", (0.0,))))  # read, nothing to add
                continue
            for piece in _pieces(line):
                rels = find_relations(piece, known | set(defs))
                if rels is None:
                    notes.append(f"{label}: could not read {piece.strip()!r}")
                    continue
                found.extend(Relation(r.lhs.substitute(defs), r.op, r.rhs.substitute(defs)) for r in rels)
        if not found:
            raise TranslationError(f"{label}: no formal line reads as a relation over the variables")
        seen = {r.python() for _, r in constraints}
        for r in found:
            if (r.lhs.variables() or r.rhs.variables()) and r.python() not in seen:
                constraints.append((label, r))
                seen.add(r.python())
    return FormalModel(variables, sense, objective, constraints, notes)
