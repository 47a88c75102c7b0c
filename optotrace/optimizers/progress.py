"""A rich progress bar for training and search, showing the latest scores; silent when disabled."""

from __future__ import annotations

from typing import Any

__all__ = ["ScoreProgress"]


class ScoreProgress:
    def __init__(self, total: int, done: int, enabled: bool, label: str = "training") -> None:
        self._bar: Any = None
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[scores]}"),
            TimeElapsedColumn(), transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(label, total=total, completed=done, scores="")

    def advance(self, train: float | None, val: float | None, best: float | None, n: int = 1) -> None:
        if self._bar is None:
            return
        parts = [f"batch {train:.3f}" if train is not None else "", f"val {val:.3f}" if val is not None else "",
                 f"best {best:.3f}" if best is not None else ""]
        self._bar.update(self._task, advance=n, scores="  ".join(p for p in parts if p))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
