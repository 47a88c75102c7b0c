"""A persistent completion cache in SQLite (WAL mode), safe for concurrent threads and processes.

The key is the sha256 of the canonical JSON of (backend, model, messages, parameters, schema). Each process
opens its own connection; SQLite's locking with a generous busy timeout serialises writers, and WAL lets
readers proceed while one writes, so concurrent runs sharing one file lose nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from optotrace.llm.errors import LLMConfigError

_OFF = {"off", "0", "false", "no", "none", "disable", "disabled"}
_ON = {"on", "1", "true", "yes", "enable", "enabled", ""}
BUSY_TIMEOUT_MS = 60_000


def default_cache_dir() -> Path:
    """OPTOTRACE_CACHE_DIR, else $OPTOTRACE_HOME/cache, else ~/.cache/optotrace."""
    if os.environ.get("OPTOTRACE_CACHE_DIR"):
        return Path(os.environ["OPTOTRACE_CACHE_DIR"]).expanduser()
    if os.environ.get("OPTOTRACE_HOME"):
        return Path(os.environ["OPTOTRACE_HOME"]).expanduser() / "cache"
    return Path.home() / ".cache" / "optotrace"


def resolve_cache_path(
    cache: bool | str | os.PathLike[str] | None, *, default_on: bool = True
) -> Path | None:
    """Where the cache lives, or None when it is off. Explicit argument first, then OPTOTRACE_CACHE."""
    if cache is None:
        env = os.environ.get("OPTOTRACE_CACHE")
        if env is None:
            cache = default_on
        elif env.strip().lower() in _OFF:
            cache = False
        elif env.strip().lower() in _ON:
            cache = True
        else:
            cache = env
    if cache is False:
        return None
    if cache is True:
        return default_cache_dir() / "llm.sqlite"
    return Path(cache).expanduser()


def cache_key(
    backend: str, model: str, messages: list[dict[str, str]], params: dict[str, Any], schema: Any
) -> str:
    payload = {"backend": backend, "model": model, "messages": messages, "params": params, "schema": schema}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CompletionCache:
    """get(key) -> stored dict or None; put(key, dict). One connection per instance, guarded by a lock."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None
            )
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS completions ("
                " key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
            )
        except (OSError, sqlite3.Error) as exc:
            raise LLMConfigError(
                f"cannot open the LLM cache at {self.path}: {exc}. Pick another file with cache=PATH "
                "(or OPTOTRACE_CACHE_DIR), or turn the cache off with cache=False or OPTOTRACE_CACHE=off"
            ) from exc
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM completions WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: dict[str, Any]) -> None:
        data = json.dumps(value, ensure_ascii=False)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO completions (key, value, created) VALUES (?, ?, ?)",
                (key, data, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
