"""The seed pool: scenarios in the ReSocratic format that new scenarios are written after.

Two sources: the project's own seeds (`seed_linear.txt`, `seed_nonlinear.txt`, next to this file) and the
`scenario` / `formulation` fields of OptiBench's `e-opt.json`. Formulations come in three styles (a plain
`maximize ... Subject to: ... (end)`, a JSON object, and Markdown with fenced blocks); each is converted into
the scenario format and kept only when the result parses as a valid scenario.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from optotrace.modeling.resocratic.format import Scenario, parse_scenario

Kind = Literal["linear", "nonlinear"]
_HERE = Path(__file__).parent
_SEED_HEADER = re.compile(r"^=== id: (?P<id>[\w.-]+) \| background: (?P<bg>.+?) ===\s*$", re.M)
_IDENT_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FUNCS = {
    "sqrt",
    "exp",
    "log",
    "ln",
    "abs",
    "min",
    "max",
    "sin",
    "cos",
    "pi",
    "e",
    "and",
    "or",
    "integer",
    "integers",
}


@dataclass(frozen=True)
class Seed:
    """One seed scenario with its provenance."""

    id: str
    kind: Kind
    text: str
    source: str  # "own", "e-opt:scenario" or "e-opt:formulation"
    background: str = ""

    @property
    def scenario(self) -> Scenario | None:
        return parse_scenario(self.text).scenario


@dataclass
class SeedPool:
    """Seeds by kind; `sample` draws the examples for one synthesis prompt."""

    seeds: list[Seed] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # id -> why it was not usable

    def of_kind(self, kind: Kind) -> list[Seed]:
        return [s for s in self.seeds if s.kind == kind]

    def by_id(self, seed_id: str) -> Seed:
        for s in self.seeds:
            if s.id == seed_id:
                return s
        raise KeyError(f"no seed with id {seed_id!r} in the pool")

    def sample(self, kind: Kind, k: int, rng: random.Random) -> list[Seed]:
        pool = self.of_kind(kind) or self.seeds
        if not pool:
            raise ValueError("the seed pool is empty: load the own seeds or e-opt.json first")
        return rng.sample(pool, min(k, len(pool)))

    def extend(self, other: SeedPool) -> SeedPool:
        self.seeds.extend(other.seeds)
        self.skipped.update(other.skipped)
        return self

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.seeds:
            out[f"{s.source}/{s.kind}"] = out.get(f"{s.source}/{s.kind}", 0) + 1
        return out


def _valid_seed(text: str, require_constraint: bool) -> str | None:
    """Why a seed text is not usable, or None."""
    res = parse_scenario(text)
    if res.scenario is None:
        return "; ".join(res.issues) or "does not parse"
    if res.truncated_at is not None:
        return f"invalid from {res.truncated_at}: " + "; ".join(res.issues)
    if require_constraint and res.scenario.n_constraints == 0:
        return "no constraint section"
    return None


def load_own_seeds(kinds: Iterable[Kind] = ("linear", "nonlinear")) -> SeedPool:
    """The project's own seed scenarios."""
    pool = SeedPool()
    for kind in kinds:
        text = (_HERE / f"seed_{kind}.txt").read_text(encoding="utf-8")
        heads = list(_SEED_HEADER.finditer(text))
        for i, m in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            body = text[m.end() : end].strip() + "\n"
            why = _valid_seed(body, require_constraint=True)
            if why:
                pool.skipped[m["id"]] = why
                continue
            pool.seeds.append(Seed(m["id"], kind, body, "own", m["bg"].strip()))
    return pool


# --- e-opt.json -------------------------------------------------------------------------------------------


def _kind_of(item_type: str) -> Kind:
    return "nonlinear" if str(item_type).startswith("nonlinear") else "linear"


def _symbols(exprs: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for e in exprs:
        # identifiers glued to a number (`5x`) are still identifiers; drop function names and keywords
        for tok in _IDENT_TOKEN.findall(re.sub(r"(\d)([A-Za-z_])", r"\1 \2", e)):
            if tok.lower() not in _FUNCS and tok not in seen:
                seen.append(tok)
    return seen


def _render(
    background: str,
    variables: Sequence[tuple[str, str]],
    domain: str,
    objective_nl: str,
    objective: str,
    constraints: Sequence[tuple[str, str]],
) -> str:
    mapping = json.dumps({desc: sym for sym, desc in variables})
    parts = [
        f"## Define Variables:\n{background.strip()}\n// variables: {mapping}, where {domain}",
        f"## Define Objective Function:\n{objective_nl.strip()}\n// {objective.strip()}",
    ]
    for i, (nl, formal) in enumerate(constraints, 1):
        parts.append(f"## Generate Constraint-{i}:\n{nl.strip()}\n// {formal.strip()}")
    return "\n\n".join(parts) + "\n"


_SENSE_LINE = re.compile(r"(maximi[sz]e|minimi[sz]e)\s*:?\s*(.+)", re.I)
_RELATION = re.compile(r"<=|>=|=|<|>|≤|≥")


def _from_plain(form: str, question: str) -> str | None:
    m = re.search(r"(maximi[sz]e|minimi[sz]e)\s*(.+?)\s*\n\s*subject to\s*:?\s*\n(.*)", form, re.I | re.S)
    if not m:
        return None
    sense, obj = m.group(1).capitalize(), m.group(2).strip()
    cons = [c.replace("(end)", "").strip() for c in m.group(3).splitlines()]
    cons = [c for c in cons if c and _RELATION.search(c)]
    syms = _symbols([obj, *cons])
    domain = f"{', '.join(syms)} >= 0"
    nl_cons = [(f"The problem's requirement number {i} must hold.", c) for i, c in enumerate(cons, 1)]
    return _render(
        question,
        [(s, s) for s in syms],
        domain,
        f"The goal is to {sense.lower()} {obj}.",
        f"{sense} {obj}",
        nl_cons,
    )


def _from_json(form: str, question: str) -> str | None:
    try:
        data = json.loads(form)
    except json.JSONDecodeError:
        return None
    try:
        variables = [(v["name"], v.get("description", v["name"])) for v in data["variable"]]
        obj = data["objective"][0]
        cons = [
            (c.get("description", "A requirement of the problem."), c["function"]) for c in data["constraint"]
        ]
    except (KeyError, TypeError, IndexError):
        return None
    domain_lines = [f for _, f in cons if re.fullmatch(r"[\w\s,]+>=\s*0", f)]
    cons = [(d[:1].upper() + d[1:] + ".", f) for d, f in cons if f not in domain_lines]
    domain = domain_lines[0] if domain_lines else f"{', '.join(s for s, _ in variables)} >= 0"
    sense = str(obj.get("sense", "Maximize")).capitalize()
    return _render(
        question,
        variables,
        domain,
        f"The goal is to {sense.lower()} the {obj.get('description', 'objective')}.",
        f"{sense} {obj['function']}",
        cons,
    )


def _block(form: str, name: str) -> list[str]:
    m = re.search(r"```\s*" + name + r"[^\n]*\n(.*?)```", form, re.S | re.I)
    return [ln.strip() for ln in m.group(1).splitlines() if ln.strip()] if m else []


def _from_markdown(form: str, question: str) -> str | None:
    var_lines = _block(form, "Variables")
    obj_lines = _block(form, "Objective")
    con_lines = _block(form, "Constraints")
    if not (var_lines and obj_lines and con_lines):
        return None
    variables: list[tuple[str, str]] = []
    domains: list[str] = []
    for ln in var_lines:
        head, _, comment = ln.partition("//")
        head = head.strip()
        if _RELATION.search(head) or "integer" in head.lower():
            domains.append(head)
        elif _IDENT_TOKEN.fullmatch(head):
            variables.append((head, comment.strip() or head))
        else:
            return None
    obj = _SENSE_LINE.search(" ".join(obj_lines))
    if not obj or not variables:
        return None
    cons: list[tuple[str, str]] = []
    for ln in con_lines:
        formal, _, comment = ln.partition("//")
        if _RELATION.search(formal):
            cons.append(((comment.strip() or "A requirement of the problem") + ".", formal.strip()))
    if not cons:
        return None
    domain = "; ".join(domains) if domains else f"{', '.join(s for s, _ in variables)} >= 0"
    sense = obj.group(1).capitalize()
    return _render(
        question,
        variables,
        domain,
        f"The goal is to {sense.lower()} the objective.",
        f"{sense} {obj.group(2).strip()}",
        cons,
    )


def formulation_to_scenario(formulation: str, question: str) -> str | None:
    """Convert one e-opt `formulation` into the scenario format (None when its style is not recognised)."""
    text = formulation.strip()
    if text.startswith("{"):
        return _from_json(text, question)
    if "```" in text:
        return _from_markdown(text, question)
    return _from_plain(text, question)


def load_eopt_seeds(path: str | Path, fields: Iterable[str] = ("scenario", "formulation")) -> SeedPool:
    """Seeds from OptiBench's e-opt.json: ids `eopt-<index>`; unusable items are listed in `.skipped`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pass the path of OptiBench's e-opt.json")
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); expected a list of OptiBench items") from exc
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON list of items, found {type(items).__name__}")
    wanted = set(fields)
    pool = SeedPool()
    for item in items:
        if not isinstance(item, dict) or "index" not in item:
            continue
        sid = f"eopt-{item['index']}"
        kind = _kind_of(item.get("type", "linear"))
        if "scenario" in item and "scenario" in wanted:
            text, source = str(item["scenario"]), "e-opt:scenario"
        elif "formulation" in item and "formulation" in wanted:
            converted = formulation_to_scenario(str(item["formulation"]), str(item.get("question", "")))
            if converted is None:
                pool.skipped[sid] = "formulation style not recognised"
                continue
            text, source = converted, "e-opt:formulation"
        else:
            continue
        why = _valid_seed(text, require_constraint=True)
        if why:
            pool.skipped[sid] = why
            continue
        pool.seeds.append(Seed(sid, kind, text, source))
    return pool


def default_pool(eopt_path: str | Path | None = None) -> SeedPool:
    """The own seeds, plus e-opt.json's when a path is given."""
    pool = load_own_seeds()
    if eopt_path is not None:
        pool.extend(load_eopt_seeds(eopt_path))
    return pool
