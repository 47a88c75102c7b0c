"""A persistent completion cache in SQLite (the runtime's key-value store, WAL mode), safe for concurrent
threads and processes. The cache is an optimization: a broken entry is a miss, a broken file is moved aside
and rebuilt, and a paid answer is never lost to a cache error.

The key is the sha256 of the canonical JSON of (backend, model, messages, parameters, schema).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from optotrace.llm.errors import LLMConfigError
from optotrace.runtime import KVStore, KVStoreError

log = logging.getLogger(__name__)

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
    """get(key) -> stored dict or None; put(key, dict) -> stored or not. The runtime's SQLite key-value store:
    several processes may open a new file at once; an entry that is not a completion is a miss (logged once);
    a damaged file is moved aside and rebuilt; a failed write is logged and the answer still returned."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._store = KVStore(self.path, table="completions", busy_timeout_s=BUSY_TIMEOUT_MS / 1000)
        except KVStoreError as exc:
            raise LLMConfigError(
                f"cannot open the LLM cache at {self.path}: {exc}. Pick another file with cache=PATH "
                "(or OPTOTRACE_CACHE_DIR), or turn the cache off with cache=False or OPTOTRACE_CACHE=off"
            ) from exc
        self._warned = False

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._store.get(key)
        if value is None:
            return None
        if not _is_completion(value):
            if not self._warned:
                self._warned = True
                log.warning("%s: an entry is not a stored completion; treating it as a miss", self.path)
            return None
        return value

    def put(self, key: str, value: dict[str, Any]) -> bool:
        return self._store.put(key, value)

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        self._store.close()


def _is_completion(value: Any) -> bool:
    if type(value) is not dict:
        return False
    try:
        return (
            type(value["text"]) is str
            and (value["model"] is None or type(value["model"]) is str)
            and type(value["prompt_tokens"]) is int
            and type(value["completion_tokens"]) is int
            and type(value["cost_usd"]) in (int, float)
        )
    except KeyError:
        return False
