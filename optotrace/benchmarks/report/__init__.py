"""Reports for a run: accuracy by category beside the paper's published rows (Markdown, CSV, PNG)."""

from __future__ import annotations

import os
from pathlib import Path

from optotrace.benchmarks.report.paper import PAPER_ROWS, PaperRow
from optotrace.benchmarks.report.render import bar_chart, to_csv, to_markdown
from optotrace.benchmarks.report.table import CategoryStats, category_stats


def write_report(run_dir: str | os.PathLike[str], name: str | None = None, chart: bool = True) -> dict[str, Path]:
    """report.md, report.csv and report.png in `run_dir`; returns their paths."""
    from optotrace.benchmarks.runner.evaluate import load_run

    records, meta = load_run(run_dir)
    label = name or str(meta.get("model") or "this run")
    stats = category_stats(records)
    out = Path(run_dir)
    paths = {"markdown": out / "report.md", "csv": out / "report.csv"}
    paths["markdown"].write_text(to_markdown(stats, label), encoding="utf-8")
    paths["csv"].write_text(to_csv(stats, label), encoding="utf-8")
    if chart:
        paths["png"] = bar_chart(stats, out / "report.png", label)
    return paths


__all__ = ["PAPER_ROWS", "CategoryStats", "PaperRow", "bar_chart", "category_stats", "to_csv", "to_markdown", "write_report"]
