"""A cache of program runs (SQLite, WAL): the same source under the same limits gives the stored result.

Solver programs are deterministic for a given environment, so a rerun (or a resumed run, or the same
program from a cached LLM reply) need not execute again. Only clean runs are cached: a timeout or a crash
may be the machine's fault and is retried next time."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

_SHARED: dict[str, ExecCache] = {}
_SHARED_LOCK = threading.Lock()


class ExecCache:
    @classmethod
    def shared(cls, path: str | os.PathLike[str]) -> ExecCache:
        """One instance per path and process (connections are per thread)."""
        key = str(Path(path).resolve())
        with _SHARED_LOCK:
            if key not in _SHARED:
                _SHARED[key] = cls(key)
            return _SHARED[key]

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as con:
            con.execute("CREATE TABLE IF NOT EXISTS runs (key TEXT PRIMARY KEY, result TEXT NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        return con

    @staticmethod
    def key(source: str, time_limit: float | None) -> str:
        return hashlib.sha256(f"{time_limit}\0{source}".encode()).hexdigest()

    def get(self, source: str, time_limit: float | None) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT result FROM runs WHERE key = ?", (self.key(source, time_limit),)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, source: str, time_limit: float | None, result: dict[str, Any]) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO runs (key, result) VALUES (?, ?)", (self.key(source, time_limit), json.dumps(result))
        )

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self._local = threading.local()


class CachedSandbox:
    """Wraps a sandbox provider: `.run(source, time_limit=)` answers from the cache when it can."""

    def __init__(self, provider: Any, cache: ExecCache | None) -> None:
        self.provider = provider
        self.cache = cache

    def run(self, source: str, time_limit: float | None = None) -> Any:
        from optotrace.modeling.sandbox import RunResult

        if self.cache is not None:
            hit = self.cache.get(source, time_limit)
            if hit is not None:
                return RunResult.from_dict({**hit, "wall_time": 0.0})
        result = self.provider().run(source, time_limit=time_limit)
        if self.cache is not None and result.ok:
            self.cache.put(source, time_limit, result.to_dict())
        return result
