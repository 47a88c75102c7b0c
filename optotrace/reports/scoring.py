"""The report's view of candidate scoring and spending: each step's candidates with their scores and the one
kept, the step's LLM calls by phase, and the run's budget spending and why it stopped."""

from __future__ import annotations

import html
from typing import Any

from optotrace.reports.diffs import as_text
from optotrace.reports.generic import fmt_number, text_html

ESC = html.escape
PREVIEW_CHARS = 300

__all__ = ["candidates_html", "is_candidate_list", "spending_html", "step_calls_html", "stopped_text"]


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def is_candidate_list(value: Any) -> bool:
    """The Trainer's candidate log: a list of {"score", "valid", ...} entries."""
    return isinstance(value, list) and bool(value) and all(
        isinstance(c, dict) and "score" in c and "valid" in c for c in value)


def _kept_index(log: dict[str, Any], cands: list[dict[str, Any]]) -> int | None:
    if any("kept" in c for c in cands):
        return next((i for i, c in enumerate(cands) if c.get("kept")), None)
    if not log.get("applied"):  # an older log: the applied values came from the best-scoring valid candidate
        return None
    scored = [(i, _num(c.get("score"))) for i, c in enumerate(cands) if c.get("valid")]
    if not scored:
        return None
    return max(scored, key=lambda t: t[1] if t[1] is not None else float("-inf"))[0]


def _values_html(values: Any) -> str:
    if not isinstance(values, dict) or not values:
        return ""
    parts = []
    for name, value in values.items():
        text = as_text(value)
        text = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + " ..."
        parts.append(f"<b>{ESC(str(name))}</b>: {text_html(text)}")
    return "<br>".join(parts)


def _verdict(cands: list[dict[str, Any]], kept: int | None, current: float | None) -> str:
    if kept is not None:
        score = cands[kept].get("score")
        where = "validation set" if cands[kept].get("score_on") == "val" else "minibatch"
        against = f" over the current values' {fmt_number(current)}" if current is not None else ""
        unscored = " (kept unscored)" if score is None else f": {fmt_number(score)} on the {where}{against}"
        return f"kept candidate {kept + 1}{unscored}"
    valid = [c for c in cands if c.get("valid")]
    if not valid:
        return "kept current values: no valid candidate (each was refused or changed nothing)"
    best = max((s for c in valid if (s := _num(c.get("score"))) is not None), default=None)
    detail = f" (best {fmt_number(best)}, current {fmt_number(current)})" if best is not None else ""
    return f"kept current values: no candidate scored better{detail}"


def candidates_html(log: dict[str, Any]) -> str:
    """The candidates an optimizer proposed in a step: what each changed, its score, and which one was kept."""
    cands = log["candidates"]
    kept = _kept_index(log, cands)
    current = _num(log.get("current_score"))
    scores = [s for c in cands if (s := _num(c.get("score"))) is not None]
    best = max(scores) if scores else None
    rows = []
    for i, c in enumerate(cands):
        score = _num(c.get("score"))
        cls = " class='best-row'" if best is not None and score == best else ""
        on = "validation" if c.get("score_on") == "val" else "minibatch"
        state = "kept" if i == kept else ("refused or no change" if not c.get("valid") else "not kept")
        rows.append(f"<tr{cls}><td>{i + 1}</td><td>{fmt_number(c.get('score'))}</td><td>{on}</td>"
                    f"<td class='cand-state'>{state}</td><td>{ESC(str(c.get('via') or ''))}</td>"
                    f"<td>{_values_html(c.get('values'))}</td></tr>")
    table = ("<table class='records'><thead><tr><th>#</th><th>score</th><th>scored on</th><th>kept</th>"
             f"<th>via</th><th>change</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    head = f"current values: {fmt_number(current)}; " if current is not None else ""
    verdict = _verdict(cands, kept, current)
    return (f"<div class='candidates'><b>candidates</b>{table}"
            f"<p class='verdict'>{ESC(head)}<b>{ESC(verdict)}</b></p></div>")


def _phases_text(phases: Any) -> str:
    if not isinstance(phases, dict):
        return ""
    parts = [f"{ESC(str(name))} {fmt_number(v.get('calls'))} calls / {int(_num(v.get('tokens')) or 0):,} tokens"
             for name, v in phases.items() if isinstance(v, dict)]
    return "; ".join(parts)


def step_calls_html(record: dict[str, Any]) -> str:
    """The LLM calls of one step (the optimizers' proposals and the workflow's own calls while scoring)."""
    calls = record.get("calls")
    if _num(calls) is None:
        return ""
    phases = _phases_text(record.get("calls_by_phase"))
    split = f" ({phases})" if phases else ""
    return (f"<p class='calls'>LLM calls in this step: <b>{fmt_number(calls)}</b>{split}; "
            f"{int(_num(record.get('tokens')) or 0):,} tokens</p>")


def stopped_text(stopped: Any, steps: int, total: Any, finished: bool) -> str:
    """Why the run ended, in words."""
    if stopped == "budget":
        return (f"stopped by the run's budget after step {steps}: the next request would have crossed it; the run "
                "ends on its last finished step's values")
    if stopped:
        return f"stopped after step {steps}: {stopped}"
    if not isinstance(total, int) or steps >= total:
        return f"ran all {steps} steps"
    if finished:
        return f"ended after step {steps} of {total}: the target score was reached"
    return f"not finished: interrupted after step {steps} of {total} (resume=True continues it)"


def spending_html(spent: Any, stopped: str) -> str:
    """The run's budget spending (calls and tokens, by phase, against the limits) and why it stopped."""
    out = []
    if isinstance(spent, dict) and spent:
        limits = [f"{fmt_number(spent.get(k))} {name}" for k, name in (("limit_calls", "calls"),
                                                                       ("limit_tokens", "tokens"))
                  if spent.get(k) is not None]
        limit = f"limit {', '.join(limits)}" if limits else "no limit"
        n = spent.get("refused")
        refused = f"; {fmt_number(n)} refused request{'' if n == 1 else 's'}" if n else ""
        phases = _phases_text(spent.get("by_phase")) or "none"
        out.append(f"<p class='spending' id='spending'>budget spent: <b>{fmt_number(spent.get('calls'))}</b> LLM "
                   f"calls, <b>{int(_num(spent.get('tokens')) or 0):,}</b> tokens ({limit}{refused}); by phase: "
                   f"{phases}</p>")
    out.append(f"<p class='stopped' id='stopped'>{ESC(stopped)}</p>")
    return "".join(out)
