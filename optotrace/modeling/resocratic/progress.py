"""A rich progress bar per stage (or nothing, when progress is off)."""

from __future__ import annotations

import contextlib
from typing import Any


class Stages:
    """`with Stages(enabled) as st: bar = st.stage("codegen", total); bar(1)`."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress: Any = None

    def __enter__(self) -> Stages:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description:<14}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            with contextlib.suppress(Exception):
                self._progress.stop()

    def stage(self, name: str, total: int, done: int = 0) -> Any:
        """A callable that advances this stage's bar by its argument."""
        if self._progress is None:
            return lambda n=1: None
        task = self._progress.add_task(name, total=max(total, 0), completed=done)
        return lambda n=1: self._progress.advance(task, n)
