"""A report of a Pareto front: `front.json` (each point's parameters and scores) and `front.png` (the front
drawn over the objectives: one panel for two objectives, every pair for more)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_front_report(points: Sequence[dict[str, Any]], objectives: Sequence[str], out_dir: str | Path,
                       *, title: str = "Pareto front") -> dict[str, Path]:
    """`points`: [{"values": {...}, "scores": {objective: value}}]; writes front.json and front.png."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "front.json"
    tmp = json_path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"objectives": list(objectives), "points": list(points)}, indent=2, default=repr))
    tmp.replace(json_path)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = list(itertools.combinations(range(len(objectives)), 2))
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.5 * len(pairs), 4), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs, strict=True):
        xs = [p["scores"][objectives[i]] for p in points]
        ys = [p["scores"][objectives[j]] for p in points]
        order = sorted(range(len(xs)), key=lambda k: xs[k])
        ax.plot([xs[k] for k in order], [ys[k] for k in order], "o-", ms=4, lw=0.8)
        ax.set_xlabel(objectives[i])
        ax.set_ylabel(objectives[j])
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title} ({len(points)} points)")
    fig.tight_layout()
    png_path = out / "front.png"
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
    return {"json": json_path, "png": png_path}
