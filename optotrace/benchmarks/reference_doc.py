"""docs/optibench_reference.md: the reference run's figures and every item that does not reproduce."""

from __future__ import annotations

from optotrace.benchmarks.diagnose import markdown_list, reason_counts
from optotrace.benchmarks.report.render import to_markdown
from optotrace.benchmarks.report.table import category_stats
from optotrace.benchmarks.runner.summary import RunSummary


def reference_doc(summary: RunSummary) -> str:
    counts = reason_counts(summary.records)
    wrong = summary.total - summary.correct
    lines = [
        "# OptiBench reference run",
        "",
        "`optotrace optibench reference` runs the 605 reference programs of e-opt.json (ReSocratic repository,"
        " commit 4578550) in the sandbox and grades their output with the same grader as any agent"
        " (every result key within 1e-4 absolute of gold).",
        "",
        f"Result: **{summary.correct} / {summary.total}** reproduce the gold answers"
        f" ({100 * summary.accuracy:.1f}%); {wrong} do not.",
        "",
        "Why the others do not:",
        "",
    ]
    lines += [f"- {reason}: {n}" for reason, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    lines += ["", "## By category", "", to_markdown(category_stats(summary.records), "reference programs", paper=False),
              "## Items that do not reproduce", "", markdown_list(summary.records)]
    return "\n".join(lines)
