"""Why a reference program does not reproduce its gold answer: automatic classes plus checked notes."""

from __future__ import annotations

from collections.abc import Iterable

from optotrace.benchmarks.runner.record import ProblemRecord
from optotrace.modeling.grading import close_rel

# Items checked by hand (the arithmetic is in each note). Keys: OptiBench index.
NOTES: dict[int, str] = {
    29: "gold (5 new, 10 old) violates the question's own 35% cap on old furnaces (10 > 0.35*15); the reference "
    "MILP is infeasible and CBC prints a relaxation (11.06, 5.96)",
    121: "gold is integral (166, 334, 834) but the reference program declares continuous variables; "
    "its LP optimum is 166.67/333.33/833.33",
    144: "gold 39975 is not optimal: (800+25x)(50-x)-50(50-x) peaks at x=10 with 40000, which SCIP finds",
    375: "gold 39975 is not optimal: (800+25x)(50-x)-50(50-x) peaks at x=10 with 40000, which SCIP finds",
    293: "gold objective 150 contradicts its own gold variables: 100*0 + 75*10 = 750, which the program prints",
}
_TOLERANCE_REL = 1e-3


def reason(record: ProblemRecord) -> str:
    """One line: why this reference item did not reproduce."""
    g = record.grade
    note = NOTES.get(record.index)
    if not g.code_ok:
        base = f"reference program fails: {g.failure}"
        return f"{base}; {note}" if note else base
    wrong = [k for k in g.keys if not k.ok]
    missing = [k.key for k in wrong if not k.how]
    parts: list[str] = []
    if missing:
        parts.append("label(s) not printed by the reference program: " + ", ".join(f"'{m}'" for m in missing))
    numeric = [k for k in wrong if k.how and k.got is not None]
    if numeric:
        obj_ok = g.objective_key is not None and all(k.key != g.objective_key for k in wrong)
        near = all(close_rel(k.got, k.gold, _TOLERANCE_REL) for k in numeric if k.got is not None)
        worst = max(abs(k.got - k.gold) / max(abs(k.gold), 1e-12) for k in numeric if k.got is not None)
        if note:
            parts.append(note)
        elif near and (record.type or "").startswith("nonlinear"):
            parts.append(f"nonlinear solver tolerance: SCIP's local solution differs from gold by at most "
                         f"{worst:.1e} relative (> 1e-4 absolute)")
        elif obj_ok:
            parts.append("alternative optimum: the objective matches gold, the decision variables differ")
        else:
            parts.append("gold disagrees with the reference program's own optimum")
    elif note:
        parts.append(note)
    return "; ".join(parts) or "incorrect for an unknown reason"


def markdown_list(records: Iterable[ProblemRecord]) -> str:
    """The Markdown table of non-reproducing items (for docs/optibench_reference.md and the README)."""
    rows = [r for r in sorted(records, key=lambda r: r.index) if not r.correct]
    lines = ["| index | type | wrong values (gold -> reference output) | reason |", "|---|---|---|---|"]
    for r in rows:
        wrong = [k for k in r.grade.keys if not k.ok]
        shown = "; ".join(
            f"{k.key}: {k.gold:g} -> {'missing' if not k.how else ('None' if k.got is None else f'{k.got:.10g}')}"
            for k in wrong[:3]
        ) + (f"; +{len(wrong) - 3} more" if len(wrong) > 3 else "")
        lines.append(f"| {r.index} | {r.type} | {shown.replace('|', '/')} | {reason(r).replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def reason_counts(records: Iterable[ProblemRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        if r.correct:
            continue
        text = reason(r)
        key = text.split(":")[0] if r.index not in NOTES else "gold contradicts the question or its program (checked by hand)"
        counts[key] = counts.get(key, 0) + 1
    return counts
