"""The run directory: what a training run writes as it goes, atomically (temp file + os.replace).

    run_dir/
      config.json            what was run
      state.json             the last finished step (written last in every step: the resume point)
      steps/step_00003.json  per step: scores, applied/rejected updates, tokens, cost
      params/step_00003.json parameter values after the step (step_00000 is the start)
      metrics.jsonl          one line per step (rewritten from steps/ at every step)
      best_params.json       the best parameters (Module.save format), at the end
      learning_curve.png     at the end
      summary.json           at the end
      details.json           a whole-run search's own results (its population, its races), at the end
      replies.sqlite         a whole-run search's reply journal, replayed on resume (llm/journal.py)
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from optotrace.runtime import atomic_write_bytes, atomic_write_text, clean_stale_temps

__all__ = ["RunFiles", "atomic_write_text", "plot_learning_curve"]

log = logging.getLogger(__name__)

OWNED = ("state.json", "config.json", "metrics.jsonl", "best_params.json", "learning_curve.png", "summary.json",
         "details.json", "replies.sqlite", "replies.sqlite-wal", "replies.sqlite-shm")


class RunFiles:
    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)

    # -- paths -----------------------------------------------------------------------------------------------
    def step_path(self, step: int) -> Path:
        return self.dir / "steps" / f"step_{step:05d}.json"

    def params_path(self, step: int) -> Path:
        return self.dir / "params" / f"step_{step:05d}.json"

    # -- json --------------------------------------------------------------------------------------------------
    def write_json(self, name: str | Path, obj: Any) -> Path:
        path = self.dir / name
        atomic_write_text(path, json.dumps(obj, indent=1, ensure_ascii=False, default=_default))
        return path

    def read_json(self, name: str | Path) -> Any:
        path = self.dir / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            from optotrace.optimizers.errors import TrainerError

            raise TrainerError(
                f"{path} is damaged (not valid JSON: {exc}); restore it, or start over in another run directory "
                "(or replace this run)"
            ) from None

    def load_state(self) -> dict[str, Any] | None:
        """The resume point. Temporary files of writes a killed run left unfinished are removed first."""
        for path in clean_stale_temps(self.dir, recursive=True):
            log.info("removed %s, left by an interrupted write", path)
        state = self.read_json("state.json")
        return state if isinstance(state, dict) else None

    def clear(self) -> None:
        """Remove what an earlier run wrote here (only the files a run owns)."""
        for name in OWNED:
            (self.dir / name).unlink(missing_ok=True)
        for sub in ("steps", "params", "optimizers"):
            shutil.rmtree(self.dir / sub, ignore_errors=True)
        clean_stale_temps(self.dir, recursive=True)

    def write_metrics(self, records: Iterable[Mapping[str, Any]]) -> Path:
        keys = ("step", "epoch", "train_score", "val_score", "best_score", "applied", "rejected", "tokens",
                "cost_usd", "seconds")
        lines = [json.dumps({k: r.get(k) for k in keys}, default=_default) for r in records]
        path = self.dir / "metrics.jsonl"
        atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
        return path


def _default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return repr(obj)


def plot_learning_curve(records: list[Mapping[str, Any]], path: Path, initial: Mapping[str, Any] | None = None) -> Path:
    """Train (minibatch) and validation scores per step, as a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    train_pts = [(r["step"], r["train_score"]) for r in records if r.get("train_score") is not None]
    if train_pts:
        ax.plot([s for s, _ in train_pts], [t for _, t in train_pts], marker="o",
                label="train (minibatch, before the step's update)")
    val_pts = [(r["step"], r["val_score"]) for r in records if r.get("val_score") is not None]
    if initial and initial.get("val_score") is not None:
        val_pts.insert(0, (0, initial["val_score"]))
    if val_pts:
        ax.plot([s for s, _ in val_pts], [v for _, v in val_pts], marker="s", label="validation (after the step)")
    ax.set_xlabel("step")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers: no 0.5 ticks
    ax.set_ylabel("score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())

