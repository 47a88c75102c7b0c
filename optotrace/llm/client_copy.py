"""Deep copies of an LLM client (a deep-copied agent holds one): what a copy shares with the original and what
it gets of its own.

Shared: the usage tracker and its budgets (so copies cannot multiply a budget, and `usage` counts the calls of
all of them), the cache file (through its own SQLite connection) and loaded modules (a local model). Its own:
locks, and a copy of everything else (a ScriptedLLM's remaining replies and `requests`). A backend overrides
`LLM._copy_attribute` for what else it must not share (an HTTP client)."""

from __future__ import annotations

import copy
import threading
import types
from typing import Any

from optotrace.llm.cache import CompletionCache

_LOCK, _RLOCK = type(threading.Lock()), type(threading.RLock())


def copy_client(client: Any, memo: dict[int, Any]) -> Any:
    """A new client of the same class, each attribute copied through `client._copy_attribute`."""
    new = object.__new__(type(client))
    memo[id(client)] = new
    for name, value in vars(client).items():
        setattr(new, name, client._copy_attribute(name, value, memo))
    return new


def copy_attribute(name: str, value: Any, memo: dict[int, Any]) -> Any:
    """What a copy gets for attribute `name` by default."""
    if name == "_tracker" or isinstance(value, types.ModuleType):
        return value
    if isinstance(value, CompletionCache):
        return value if str(value.path) == ":memory:" else CompletionCache(value.path)
    if isinstance(value, _LOCK):
        return threading.Lock()
    if isinstance(value, _RLOCK):
        return threading.RLock()
    return copy.deepcopy(value, memo)
