"""A lazily started, shared Sandbox: only runs that execute programs pay for one."""

from __future__ import annotations

import threading
from typing import Any

from optotrace.benchmarks.runner.settings import EvalSettings


class LazySandbox:
    """Callable returning one Sandbox, started on first use; `close()` stops it."""

    def __init__(self, settings: EvalSettings, pool_size: int | None = None) -> None:
        self.settings = settings
        self.pool_size = pool_size or settings.sandbox_pool
        self._sandbox: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        if self._sandbox is None:
            with self._lock:
                if self._sandbox is None:
                    from optotrace.modeling.sandbox import Sandbox

                    self._sandbox = Sandbox(
                        pool_size=self.pool_size,
                        time_limit=self.settings.time_limit,
                        memory_limit=self.settings.memory_limit,
                        output_limit=self.settings.output_limit,
                    )
        return self._sandbox

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None


_PROCESS_SANDBOXES: dict[tuple[float, int, int], LazySandbox] = {}
_PROCESS_LOCK = threading.Lock()


def process_sandbox(settings: EvalSettings) -> LazySandbox:
    """One LazySandbox per process and settings (Ray workers reuse it across tasks)."""
    key = (settings.time_limit, settings.memory_limit, settings.output_limit)
    with _PROCESS_LOCK:
        if key not in _PROCESS_SANDBOXES:
            _PROCESS_SANDBOXES[key] = LazySandbox(settings, pool_size=1)
        return _PROCESS_SANDBOXES[key]
