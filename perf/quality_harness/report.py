"""Tables, chart, JSON and the goals of the quality benchmark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GAIN_GOAL = 0.15
HUMANEVAL_RATIO_GOAL = 1.3


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def task_table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of one task's rows (one per system)."""
    head = ("| system | before | after | gain | LLM calls (budget) | tokens | wall s | notes |\n"
            "|---|---:|---:|---:|---:|---:|---:|---|")
    lines = [head]
    for r in rows:
        gain = None if r.get("after") is None or r.get("before") is None else r["after"] - r["before"]
        over = " over" if r["calls"] > r["budget"] else ""
        over += f", {r['cached']} cached" if r.get("cached") else ""
        note = r.get("error") or r.get("notes") or ""
        lines.append(f"| {r['system']} | {pct(r.get('before'))} | {pct(r.get('after'))} | "
                     f"{'-' if gain is None else f'{100 * gain:+.1f}'} | {r['calls']} ({r['budget']}){over} | "
                     f"{r['tokens']} | {r['wall_s']:.0f} | {str(note)[:120].replace('|', '/')} |")
    return "\n".join(lines)


def humaneval_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| system | problems | pass, first proposal | pass within 3 steps | ratio | candidates per retry step "
             "| LLM calls | tokens | wall s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = r["pass_within"] / r["pass_first"] if r["pass_first"] else float("inf")
        lines.append(f"| {r['system']} | {r['problems']} | {pct(r['pass_first'])} | {pct(r['pass_within'])} | "
                     f"{ratio:.2f} | {r.get('retry_candidates', 1)} | {r['calls']} | {r['tokens']} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def goals(prompt_rows: list[dict[str, Any]], code_rows: list[dict[str, Any]]) -> list[tuple[str, bool | None, str]]:
    """(goal, met or None when it could not be judged, the figures)."""
    out: list[tuple[str, bool | None, str]] = []
    by_task: dict[str, list[dict[str, Any]]] = {}
    for r in prompt_rows:
        by_task.setdefault(r["task"], []).append(r)
    gains, verdicts, details = [], [], []
    for task, rows in by_task.items():
        ours = [r for r in rows if r["family"] == "optotrace" and r.get("after") is not None and not r.get("error")]
        peers = [r for r in rows if r["family"] == "peer" and r.get("after") is not None and not r.get("error")]
        if not ours:
            continue
        best = max(ours, key=lambda r: r["after"])
        gains.append(best["after"] - best["before"])
        if peers:
            top = max(peers, key=lambda r: r["after"])
            ok = best["after"] >= top["after"] and best["calls"] <= top["budget"]
            verdicts.append(ok)
            details.append(f"{task}: ours {best['system']} {pct(best['after'])} vs {top['system']} {pct(top['after'])}")
    out.append(("optotrace's best >= every peer on every task, same budget",
                all(verdicts) if verdicts else None, "; ".join(details) or "no peer ran"))
    mean_gain = sum(gains) / len(gains) if gains else None
    out.append((f"mean gain of optotrace's best over the start >= {100 * GAIN_GOAL:.0f} points on prompt tasks",
                None if mean_gain is None else mean_gain >= GAIN_GOAL,
                "-" if mean_gain is None else f"{100 * mean_gain:+.1f} points over {len(gains)} tasks"))
    ours_code = [r for r in code_rows if r["family"] == "optotrace"]
    if ours_code:
        best = max(ours_code, key=lambda r: r["pass_within"])
        ratio = best["pass_within"] / best["pass_first"] if best["pass_first"] else float("inf")
        out.append((f"HumanEval: pass within 3 steps >= {HUMANEVAL_RATIO_GOAL}x pass on the first proposal",
                    ratio >= HUMANEVAL_RATIO_GOAL,
                    f"{best['system']}: {pct(best['pass_within'])} vs {pct(best['pass_first'])} "
                    f"({ratio:.2f}x, {best['problems']} problems)"))
    else:
        out.append(("HumanEval: pass within 3 steps >= 1.3x first proposal", None, "not run"))
    return out


def render_markdown(result: dict[str, Any]) -> str:
    parts = [f"Conditions: {json.dumps(result['conditions'])}", ""]
    for column, tasks in result["prompt"].items():
        for task, rows in tasks.items():
            parts += [f"### {task} (optimizer model: {column})", "", task_table(rows), ""]
    for column, rows in result["humaneval"].items():
        if rows:
            parts += [f"### HumanEval (optimizer model: {column})", "", humaneval_table(rows), ""]
    for column, gs in result["goals"].items():
        parts += [f"### Goals (optimizer model: {column})", ""]
        parts += [f"- {'MET' if met else 'not met' if met is False else 'not judged'}: {g} ({d})" for g, met, d in gs]
        parts.append("")
    return "\n".join(parts)


def chart(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(col, task, rows) for col, tasks in result["prompt"].items() for task, rows in tasks.items()]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), squeeze=False)
    for ax, (col, task, rows) in zip(axes[0], panels, strict=True):
        names = [r["system"] for r in rows]
        before = [100 * (r.get("before") or 0) for r in rows]
        after = [100 * (r.get("after") or 0) for r in rows]
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], before, 0.4, label="before", color="#bbbbbb")
        ax.bar([x + 0.2 for x in xs], after, 0.4, label="after",
               color=["#1f77b4" if r["family"] == "optotrace" else "#ff7f0e" for r in rows])
        ax.set_xticks(list(xs), names, rotation=45, ha="right", fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_title(f"{task} ({col})", fontsize=9)
        ax.set_ylabel("validation accuracy, %")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
