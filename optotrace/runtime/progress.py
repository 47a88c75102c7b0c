"""One progress display (rich, on stderr): bars with done/total, elapsed time and the ETA, plus a status
text per bar (running accuracy, latest scores). Silent when disabled, so callers never branch on it.

    with Progress(enabled) as progress:
        bar = progress.bar("codegen", total=120, done=20)
        bar.advance(1, status="acc 61.0% (12/20)")
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["Bar", "Progress"]


class Bar:
    """One line of the display; `advance(n, status=...)`."""

    def __init__(self, progress: Any = None, task: Any = None) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: float = 1, status: str | None = None) -> None:
        if self._progress is None:
            return
        fields = {} if status is None else {"status": status}
        self._progress.update(self._task, advance=n, **fields)

    def __call__(self, n: float = 1) -> None:
        self.advance(n)


class Progress:
    def __init__(self, enabled: bool = True, transient: bool = False) -> None:
        self.enabled = enabled
        self.transient = transient
        self._progress: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._progress = RichProgress(
                TextColumn("[bold]{task.description:<12}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
                transient=self.transient,
                console=Console(stderr=True),
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._progress is not None:
            with contextlib.suppress(Exception):  # a broken terminal must not end a finished run
                self._progress.stop()
            self._progress = None

    def bar(self, label: str, total: int | None, done: int = 0, status: str = "") -> Bar:
        if self._progress is None:
            return Bar()
        task = self._progress.add_task(label, total=None if total is None else max(total, 0), completed=done,
                                       status=status)
        return Bar(self._progress, task)
