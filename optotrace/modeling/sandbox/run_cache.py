"""A cache of program runs (the runtime's SQLite key-value store): the same source under the same time limit
gives the stored result.

Solver programs are deterministic for a given environment, so a rerun (or a resumed run, or the same
program from a cached LLM reply) need not execute again. Only clean runs are cached: a timeout or a crash
may be the machine's fault and is retried next time."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optotrace.modeling.sandbox.result import RunResult
from optotrace.runtime import KVStore

__all__ = ["CachedSandbox", "RunCache"]

_SHARED: dict[str, RunCache] = {}
_SHARED_LOCK = threading.Lock()


class RunCache:
    @classmethod
    def shared(cls, path: str | os.PathLike[str]) -> RunCache:
        """One instance per path and process."""
        key = str(Path(path).resolve())
        with _SHARED_LOCK:
            if key not in _SHARED:
                _SHARED[key] = cls(key)
            return _SHARED[key]

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._store = KVStore(self.path, table="program_runs")

    @staticmethod
    def key(source: str, time_limit: float | None) -> str:
        return hashlib.sha256(f"{time_limit}\0{source}".encode()).hexdigest()

    def get(self, source: str, time_limit: float | None) -> dict[str, Any] | None:
        hit = self._store.get(self.key(source, time_limit))
        return hit if isinstance(hit, dict) else None

    def put(self, source: str, time_limit: float | None, result: dict[str, Any]) -> None:
        self._store.put(self.key(source, time_limit), result)

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]


class CachedSandbox:
    """Wraps a sandbox provider (a callable returning a Sandbox): `.run(source, time_limit=)` answers from the
    cache when it can. With `cache=None` it just runs."""

    def __init__(self, provider: Callable[[], Any], cache: RunCache | None) -> None:
        self.provider = provider
        self.cache = cache

    def run(self, source: str, time_limit: float | None = None) -> RunResult:
        if self.cache is not None:
            hit = self.cache.get(source, time_limit)
            if hit is not None:
                try:
                    return RunResult.from_dict({**hit, "wall_time": 0.0})
                except TypeError:  # an entry of another shape: run again, and overwrite it
                    pass
        result: RunResult = self.provider().run(source, time_limit=time_limit)
        if self.cache is not None and result.ok:
            self.cache.put(source, time_limit, result.to_dict())
        return result
