"""The report's sections as HTML fragments: summary, curve, step index, steps, graph, final parameters."""

from __future__ import annotations

import html
import json
from typing import Any

from optotrace.reports.diffs import as_text, diff_html
from optotrace.reports.generic import fmt_number, generic_html, text_html
from optotrace.reports.run_data import RunData, StepView
from optotrace.reports.scoring import (
    candidates_html,
    is_candidate_list,
    spending_html,
    step_calls_html,
    stopped_text,
)
from optotrace.reports.svg_chart import line_chart

KNOWN_RECORD = {"step", "epoch", "train_score", "val_score", "best_score", "best_step", "applied", "rejected",
                "errors", "tokens", "cost_usd", "seconds", "examples", "kept", "calls", "calls_by_phase"}
KNOWN_LOG = {"optimizer", "step", "via", "error", "prompt_tokens", "prompt_chars", "suggested", "unchanged",
             "applied", "rejected", "tokens", "cost_usd", "reply", "first_attempt", "current_score"}
KNOWN_SUMMARY = {"steps", "initial_val_score", "final_score", "best_score", "best_step", "seconds", "parameters",
                 "spent", "stopped"}
REASONING_KEYS = ("reasoning", "reason", "thoughts", "analysis", "explanation")
ESC = html.escape


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def totals(run: RunData) -> dict[str, Any]:
    hist = run.history
    first = hist[0] if hist else {}
    before = run.summary.get("initial_val_score", run.state.get("initial_val_score"))
    if before is None:
        before = first.get("train_score")
    after = run.summary.get("final_score")
    if after is None and hist:
        after = hist[-1].get("val_score") if hist[-1].get("val_score") is not None else hist[-1].get("train_score")
    spent = run.summary.get("spent") or run.state.get("spent")
    proposal = (spent.get("by_phase") or {}).get("proposal") if isinstance(spent, dict) else None
    calls = proposal["calls"] if isinstance(proposal, dict) and "calls" in proposal else sum(
        len(s.logs) for s in run.steps)
    seconds = run.summary.get("seconds")
    if seconds is None:
        seconds = sum(_num(h.get("seconds")) or 0.0 for h in hist)
    return {
        "before": before, "after": after, "best_score": run.summary.get("best_score", run.state.get("best_score")),
        "best_step": run.best_step, "steps": len(run.steps), "total_steps": run.state.get("total_steps"),
        "calls": calls, "tokens": int(sum(_num(h.get("tokens")) or 0 for h in hist)),
        "cost_usd": sum(_num(h.get("cost_usd")) or 0.0 for h in hist), "seconds": seconds,
        "spent": spent if isinstance(spent, dict) else None,
        "stopped": stopped_text(run.summary.get("stopped", run.state.get("stopped")), len(run.steps),
                                run.state.get("total_steps"), bool(run.summary)),
    }


def summary_section(run: RunData) -> str:
    t = totals(run)
    line = (f"score before <b>{fmt_number(t['before'])}</b>, after <b>{fmt_number(t['after'])}</b>; "
            f"best <b>{fmt_number(t['best_score'])}</b> at step <b>{fmt_number(t['best_step'])}</b>; "
            f"{t['steps']} of {fmt_number(t['total_steps'])} steps; {t['calls']} optimizer calls; "
            f"{t['tokens']:,} tokens; ${t['cost_usd']:.4f}; {fmt_number(t['seconds'])} s")
    extra = {k: v for k, v in {**run.state, **run.summary}.items()
             if k not in KNOWN_SUMMARY | {"step", "history", "optimizers", "total_steps"}}
    cfg = {k: v for k, v in run.config.items() if k != "parameters"}
    out = [f"<p class='summary' id='summary-line'>{line}</p>", spending_html(t["spent"], t["stopped"])]
    if cfg:
        out.append(f"<details><summary>configuration</summary>{generic_html(cfg)}</details>")
    if extra:
        out.append(f"<details open><summary>run fields</summary>{generic_html(extra)}</details>")
    if run.problems:
        items = "".join(f"<li>{ESC(p)}</li>" for p in run.problems)
        out.append(f"<div class='warn'>files that could not be read:<ul>{items}</ul></div>")
    return "".join(out)


def curve_section(run: RunData) -> str:
    hist = run.history
    train = [(h["step"], _num(h.get("train_score"))) for h in hist]
    val = [(h["step"], _num(h.get("val_score"))) for h in hist if _num(h.get("val_score")) is not None]
    initial = _num(run.state.get("initial_val_score"))
    if val and initial is not None:
        val.insert(0, (0, initial))
    series = [("train (minibatch, before the step's update)", "#1f77b4", train)]
    if val:
        series.append(("validation (after the step)", "#ff7f0e", val))
    best = run.best_step
    return line_chart(series, mark_x=best, mark_label=f"best: step {best}" if best is not None else "")


def index_section(run: RunData) -> str:
    best = run.best_step
    cells = []
    for s in run.steps:
        r = s.record
        cls = ["ix"]
        if s.step == best:
            cls.append("best")
        if r.get("rejected"):
            cls.append("rej")
        if r.get("errors"):
            cls.append("err")
        title = (f"step {s.step}: train {fmt_number(r.get('train_score'))}, val {fmt_number(r.get('val_score'))}, "
                 f"applied {fmt_number(r.get('applied'))}, rejected {fmt_number(r.get('rejected'))}")
        cells.append(f"<a class='{' '.join(cls)}' href='#step-{s.step}' title='{ESC(title)}'>{s.step}</a>")
    return f"<nav class='index'>{''.join(cells)}</nav>"


def _reasoning(reply: str) -> tuple[str | None, str]:
    try:
        parsed = json.loads(reply)
    except (TypeError, ValueError):
        return None, reply
    if isinstance(parsed, dict):
        for key in REASONING_KEYS:
            if isinstance(parsed.get(key), str):
                return parsed[key], reply
    return None, reply


def _log_html(log: dict[str, Any]) -> str:
    out = [f"<h4>{ESC(str(log.get('optimizer', 'optimizer')))} (read via {ESC(str(log.get('via', '?')))}; "
           f"{fmt_number(log.get('tokens'))} tokens, ${_num(log.get('cost_usd')) or 0:.4f})</h4>"]
    reasoning, reply = _reasoning(str(log.get("reply") or ""))
    if reasoning:
        out.append(f"<div class='reasoning'><b>reasoning:</b> {text_html(reasoning)}</div>")
    if log.get("error"):
        out.append(f"<div class='warn'>error: {text_html(log['error'])}</div>")
    rejected = log.get("rejected") or {}
    if rejected:
        items = rejected.items() if isinstance(rejected, dict) else enumerate(rejected)
        rows = "".join(f"<li class='rejected'><b>{ESC(str(k))}</b>: {text_html(v)}</li>" for k, v in items)
        out.append(f"<div><b>rejected proposals</b><ul>{rows}</ul></div>")
    if log.get("first_attempt"):
        notes = log["first_attempt"] if isinstance(log["first_attempt"], list) else [log["first_attempt"]]
        rows = "".join(f"<li class='rejected'>{text_html(n)}</li>" for n in notes)
        out.append(f"<div><b>first attempt refused, retried</b><ul>{rows}</ul></div>")
    if is_candidate_list(log.get("candidates")):
        out.append(candidates_html(log))
    for key, value in log.items():
        if key not in KNOWN_LOG and not (key == "candidates" and is_candidate_list(value)):  # e.g. candidates with their scores, budgets: shown as they come
            out.append(f"<div class='extra'><b>{ESC(key)}</b>{generic_html(value)}</div>")
    if reply:
        out.append(f"<details><summary>raw reply</summary>{text_html(reply)}</details>")
    return "<div class='log'>" + "".join(out) + "</div>"


def _kept_head(r: dict[str, Any]) -> str:
    """' · kept 1/2 · 3 calls' for a Trainer that scores candidates; '' for an older record."""
    out = ""
    if _num(r.get("kept")) is not None and _num(r.get("candidates")) is not None:
        out += f" · kept {fmt_number(r['kept'])}/{fmt_number(r['candidates'])}"
    if _num(r.get("calls")) is not None:
        out += f" · calls {fmt_number(r['calls'])}"
    return out


def step_section(s: StepView, best: int | None) -> str:
    r = s.record
    flag = " <span class='tag best'>best</span>" if s.step == best else ""
    head = (f"step {s.step}{flag} · train {fmt_number(r.get('train_score'))} · val {fmt_number(r.get('val_score'))}"
            f" · applied {fmt_number(r.get('applied'))} · rejected {fmt_number(r.get('rejected'))}"
            f" · errors {fmt_number(r.get('errors'))}{_kept_head(r)} · {fmt_number(r.get('tokens'))} tokens"
            f" · ${_num(r.get('cost_usd')) or 0:.4f} · {fmt_number(r.get('seconds'))} s")
    body = []
    names = [n for n in s.after if n in s.before and as_text(s.before[n]) != as_text(s.after[n])]
    for name in names:
        body.append(f"<div class='param'><h4>{ESC(name)}</h4>{diff_html(s.before[name], s.after[name])}</div>")
    if not names:
        body.append("<p class='muted'>no parameter changed in this step</p>")
    examples = r.get("examples") or []
    if examples:
        rows = "".join(
            f"<tr><td>{fmt_number(e.get('score'))}</td><td>{text_html(e.get('feedback') or '')}</td>"
            f"<td>{text_html(e.get('error') or '')}</td></tr>" for e in examples if isinstance(e, dict))
        body.append("<h4>feedback the optimizer saw</h4><table class='records feedback'><thead><tr><th>score</th>"
                    f"<th>feedback</th><th>error</th></tr></thead><tbody>{rows}</tbody></table>")
    body.append(step_calls_html(r))
    body.extend(_log_html(log) for log in s.logs)
    extra = {k: v for k, v in r.items() if k not in KNOWN_RECORD and not (k == "candidates" and _num(v) is not None)}
    for key, value in extra.items():
        body.append(f"<div class='extra'><h4>{ESC(key)}</h4>{generic_html(value)}</div>")
    return (f"<details class='step' id='step-{s.step}'><summary>{head}</summary>"
            f"<div class='body'>{''.join(body)}</div></details>")


def graph_section(run: RunData) -> str:
    from optotrace.trace.render import dot_to_svg, nodes_table_html

    graph = run.graph
    if not graph:
        return "<p class='muted'>no traced graph was saved for this run</p>"
    svg = dot_to_svg(graph["dot"]) if isinstance(graph.get("dot"), str) else None
    caption = f"<p class='muted'>the graph of step {fmt_number(graph.get('step'))}: the nodes between the " \
              "parameters and the first example's output</p>"
    if svg:
        return caption + f"<div class='graph'>{svg}</div>"
    return caption + nodes_table_html(graph.get("nodes") or [], graph.get("edges") or [])


def params_section(run: RunData) -> str:
    if not run.final_params:
        return "<p class='muted'>no parameters were saved</p>"
    out = []
    for name, value in run.final_params.items():
        start = run.initial_params.get(name)
        change = (f"<details><summary>change from the start</summary>{diff_html(start, value)}</details>"
                  if name in run.initial_params else "")
        out.append(f"<div class='param final'><h4>{ESC(name)}</h4><pre class='text'>{ESC(as_text(value))}</pre>"
                   f"{change}</div>")
    return "".join(out)
