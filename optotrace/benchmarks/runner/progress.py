"""A rich progress bar that shows the running accuracy."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RunProgress:
    """`with RunProgress(total, done, correct) as p: p.advance(record.correct)`; silent when disabled."""

    def __init__(self, total: int, done: int = 0, correct: int = 0, enabled: bool = True, label: str = "OptiBench") -> None:
        self.total, self.done, self.correct = total, done, correct
        self.enabled = enabled
        self.label = label
        self._progress: Progress | None = None
        self._task: Any = None

    def _description(self) -> str:
        acc = self.correct / self.done if self.done else 0.0
        return f"{self.label}  acc {acc:6.1%} ({self.correct}/{self.done})"

    def __enter__(self) -> RunProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                transient=False,
                console=Console(stderr=True),
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(self._description(), total=self.total, completed=self.done)
        return self

    def advance(self, correct: bool) -> None:
        self.done += 1
        self.correct += int(correct)
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=self._description())

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
