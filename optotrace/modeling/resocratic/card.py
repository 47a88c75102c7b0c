"""The dataset card (Markdown) with counts by type and by rejection reason, and a histogram of problem sizes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def _table(title: str, total_label: str, total: int, kept: int, rejected: dict[str, int]) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| | count |",
        "|---|---:|",
        f"| {total_label} | {total} |",
        f"| kept | {kept} |",
    ]
    for reason, n in sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"| rejected: {reason} | {n} |")
    ok = kept + sum(rejected.values()) == total
    lines += ["", f"kept + rejected = {kept + sum(rejected.values())} {'=' if ok else '!='} {total}", ""]
    return lines


def check_counts(counts: dict[str, Any]) -> list[str]:
    """The sums that must hold; an empty list when they all do."""
    bad = []
    for level, total_key in (("scenarios", "requested"), ("problems", "expanded"), ("samples", "candidates")):
        c = counts[level]
        if c["kept"] + sum(c["rejected"].values()) != c[total_key]:
            bad.append(
                f"{level}: kept {c['kept']} + rejected {sum(c['rejected'].values())} != {c[total_key]}"
            )
    if sum(counts["by_type"].values()) != counts["samples"]["kept"]:
        bad.append("by_type does not add up to the kept samples")
    if sum(counts["by_split"].values()) != counts["samples"]["kept"]:
        bad.append("by_split does not add up to the kept samples")
    return bad


def render_card(counts: dict[str, Any], samples: list[dict[str, Any]], model: str, config: Any) -> str:
    plan = config.plan
    lines = [
        "# ReSocratic synthetic data set",
        "",
        "Optimization word problems with solver programs, synthesized by optotrace's ReSocratic pipeline "
        "(Yang et al., *OptiBench Meets ReSocratic*, ICLR 2025): scenarios are written section by section after "
        "seed examples, every prefix with at least one constraint becomes a problem, each problem gets a "
        f"{config.framework} program run in a sandbox, and a sample is kept only when the program's optimum agrees "
        "with an independent solve of the scenario's formal lines (built as a ModelSpec). Each kept problem is "
        "back-translated into a question with a table and one without.",
        "",
        f"- model: `{model}`",
        f"- plan: n={plan.n}, linear ratio {plan.linear_ratio}, {plan.seeds_per_prompt} seed(s) per prompt, "
        f"temperature {plan.temperature}, random seed {plan.seed}",
        f"- agreement tolerance: rtol {config.rtol}, atol {config.atol}; near-duplicate threshold "
        f"{config.dedup_threshold}",
        "",
        "## Counts",
        "",
    ]
    s, p, q = counts["scenarios"], counts["problems"], counts["samples"]
    lines += _table("Scenarios", "requested", s["requested"], s["kept"], s["rejected"])
    lines += [f"({s['truncated_kept']} kept scenarios were truncated at their first invalid section.)", ""]
    lines += _table(
        "Problems (prefixes of kept scenarios)", "expanded", p["expanded"], p["kept"], p["rejected"]
    )
    lines += _table(
        "Questions (two per verified problem)", "candidates", q["candidates"], q["kept"], q["rejected"]
    )
    lines += ["### Kept samples by type", "", "| type | count |", "|---|---:|"]
    lines += [f"| {t} | {n} |" for t, n in sorted(counts["by_type"].items())] or ["| (none) | 0 |"]
    lines += ["", "### Split", "", "| split | count |", "|---|---:|"]
    lines += [f"| {t} | {n} |" for t, n in sorted(counts["by_split"].items())] or ["| (none) | 0 |"]
    bad = check_counts(counts)
    lines += ["", "All counts add up." if not bad else "COUNTS DO NOT ADD UP: " + "; ".join(bad), ""]
    lines += [
        "## Files",
        "",
        "- `samples.jsonl`: one sample per line with provenance (seed ids, model, prompt hashes), the program's "
        "solver status and answer, the formal solve and their agreement, and the checks passed",
        '- `sft_chat_train.jsonl`, `sft_chat_validation.jsonl`: `{"messages": [system, user, assistant]}`',
        "- `rejections.jsonl`: every rejected scenario, problem and question with its reason",
        "- `scenarios.jsonl`, `stages/*.jsonl`: the stage records (a rerun with the same settings resumes)",
        "- `sizes.png`: histogram of problem sizes (variables and constraints) of the kept samples",
        "",
    ]
    return "\n".join(lines)


def write_histogram(path: str | os.PathLike[str], samples: list[dict[str, Any]]) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key, label in ((axes[0], "n_variables", "variables"), (axes[1], "n_constraints", "constraints")):
        values = [int(s.get(key) or 0) for s in samples]
        if values:
            ax.hist(values, bins=range(min(values), max(values) + 2), align="left", rwidth=0.85)
        else:
            ax.text(0.5, 0.5, "no kept samples", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel(f"number of {label}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("samples")
    fig.suptitle("Problem sizes of the kept samples")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def write_card(
    root: str | os.PathLike[str],
    counts: dict[str, Any],
    samples: list[dict[str, Any]],
    model: str,
    config: Any,
) -> Path:
    root = Path(root)
    write_histogram(root / "sizes.png", samples)
    path = root / "card.md"
    path.write_text(render_card(counts, samples, model, config), encoding="utf-8")
    return path
