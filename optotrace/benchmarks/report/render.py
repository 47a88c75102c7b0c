"""The report files: Markdown and CSV tables beside the paper's rows, and a bar chart (PNG)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from optotrace.benchmarks.report.paper import PAPER_ROWS
from optotrace.benchmarks.report.table import CATEGORY_ORDER, CATEGORY_TITLES, CategoryStats

_COLUMNS = [CATEGORY_TITLES[c] for c in CATEGORY_ORDER]


def _our_row(stats: dict[str, CategoryStats]) -> list[float]:
    return [stats[c].pct(stats[c].correct) for c in CATEGORY_ORDER]


def to_markdown(stats: dict[str, CategoryStats], name: str = "this run", paper: bool = True) -> str:
    """Accuracy by category (%, the paper's metric), then the secondary metrics of the run."""
    head = "| Model | " + " | ".join(_COLUMNS) + " | Code pass |"
    lines = [head, "|" + "---|" * (len(_COLUMNS) + 2)]
    total = stats["all"]
    ours = _our_row(stats)
    lines.append(f"| **{name}** | " + " | ".join(f"{v:.1f}" for v in ours) + f" | {total.pct(total.code_pass):.1f} |")
    if paper:
        for row in PAPER_ROWS:
            vals = row.by_category()
            lines.append(f"| {row.name} | " + " | ".join(f"{vals[c]:.1f}" for c in CATEGORY_ORDER) + f" | {row.code_pass:.1f} |")
    lines += [
        "",
        "| Category | n | correct | accuracy % | objective rel 1e-4 % | objective rel 5% % | code pass % | tokens | cost USD |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cat, s in stats.items():
        lines.append(
            f"| {CATEGORY_TITLES.get(cat, cat)} | {s.n} | {s.correct} | {s.pct(s.correct):.1f} | "
            f"{s.pct(s.objective_rel_1e4):.1f} | {s.pct(s.objective_rel_5pct):.1f} | {s.pct(s.code_pass):.1f} | "
            f"{s.tokens} | {s.cost_usd:.4f} |"
        )
    return "\n".join(lines) + "\n"


def to_csv(stats: dict[str, CategoryStats], name: str = "this run", paper: bool = True) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["model", "category", "n", "correct", "accuracy_pct", "objective_rel_1e-4_pct",
                "objective_rel_5pct_pct", "code_pass_pct", "source"])
    for cat, s in stats.items():
        w.writerow([name, cat, s.n, s.correct, f"{s.pct(s.correct):.2f}", f"{s.pct(s.objective_rel_1e4):.2f}",
                    f"{s.pct(s.objective_rel_5pct):.2f}", f"{s.pct(s.code_pass):.2f}", "run"])
    if paper:
        for row in PAPER_ROWS:
            for cat, val in row.by_category().items():
                w.writerow([row.name, cat, "", "", f"{val:.2f}", "", "", f"{row.code_pass:.2f}" if cat == "all" else "",
                            "ReSocratic README table (arXiv:2407.09887)"])
    return buf.getvalue()


def bar_chart(stats: dict[str, CategoryStats], path: str | os.PathLike[str], name: str = "this run", paper: bool = True) -> Path:
    """Grouped bars: accuracy per category for this run and the paper's rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [(name, _our_row(stats))]
    if paper:
        series += [(row.name, [row.by_category()[c] for c in CATEGORY_ORDER]) for row in PAPER_ROWS]
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(11, 5.2))
    for i, (label, values) in enumerate(series):
        xs = [j + i * width for j in range(len(CATEGORY_ORDER))]
        ax.bar(xs, values, width=width, label=label)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(CATEGORY_ORDER))])
    ax.set_xticklabels(_COLUMNS)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title("OptiBench accuracy by category")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
