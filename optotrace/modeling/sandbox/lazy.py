"""A lazily started, shared Sandbox: only work that executes programs pays for one."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["LazySandbox", "process_sandbox"]

class LazySandbox:
    """Callable returning one Sandbox, started on first use and shared by threads; `close()` stops it.
    Pickles as its settings (a Ray task or a subprocess starts its own on first use)."""

    def __init__(
        self,
        time_limit: float = 120.0,
        memory_limit: int = 4 * 1024**3,
        output_limit: int = 16 * 1024**2,
        pool_size: int = 2,
    ) -> None:
        self.time_limit, self.memory_limit, self.output_limit = time_limit, memory_limit, output_limit
        self.pool_size = max(1, int(pool_size))
        self._sandbox: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        if self._sandbox is None:
            with self._lock:
                if self._sandbox is None:
                    from optotrace.modeling.sandbox.pool import Sandbox

                    self._sandbox = Sandbox(
                        pool_size=self.pool_size,
                        time_limit=self.time_limit,
                        memory_limit=self.memory_limit,
                        output_limit=self.output_limit,
                    )
        return self._sandbox

    def run(self, source: str, time_limit: float | None = None) -> Any:
        return self().run(source, time_limit=time_limit)

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("time_limit", "memory_limit", "output_limit", "pool_size")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]


_PER_PROCESS: dict[tuple[float, int, int], LazySandbox] = {}
_PER_PROCESS_LOCK = threading.Lock()


def process_sandbox(time_limit: float, memory_limit: int, output_limit: int) -> LazySandbox:
    """One single-worker LazySandbox per process and limits (Ray workers reuse it across tasks)."""
    key = (time_limit, memory_limit, output_limit)
    with _PER_PROCESS_LOCK:
        if key not in _PER_PROCESS:
            _PER_PROCESS[key] = LazySandbox(time_limit, memory_limit, output_limit, pool_size=1)
        return _PER_PROCESS[key]
