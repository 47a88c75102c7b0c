"""The progress bar of training and search (the runtime's display), showing the latest scores."""

from __future__ import annotations

from optotrace.runtime import Progress

__all__ = ["ScoreProgress"]


class ScoreProgress:
    def __init__(self, total: int, done: int, enabled: bool, label: str = "training") -> None:
        self._display = Progress(enabled).__enter__()
        self._bar = self._display.bar(label, total or None, done)

    def advance(self, train: float | None, val: float | None, best: float | None, n: int = 1) -> None:
        parts = [f"batch {train:.3f}" if train is not None else "", f"val {val:.3f}" if val is not None else "",
                 f"best {best:.3f}" if best is not None else ""]
        self._bar.advance(n, status="  ".join(p for p in parts if p))

    def close(self) -> None:
        self._display.close()
