"""Run machinery every part shares, importing nothing else of optotrace: a JSONL record store with torn-line
repair, atomic writes, one executor (threads, processes or Ray), one progress display, one SQLite key-value
store, one prompt-template loader."""

from optotrace.runtime.atomic import atomic_write_bytes, atomic_write_text, clean_stale_temps
from optotrace.runtime.executor import Executor, ExecutorError, Outcome, ensure_ray
from optotrace.runtime.jsonl import JsonlStore
from optotrace.runtime.kvstore import KVStore, KVStoreError
from optotrace.runtime.progress import Bar, Progress
from optotrace.runtime.templates import Templates

__all__ = [
    "Bar",
    "Executor",
    "ExecutorError",
    "JsonlStore",
    "KVStore",
    "KVStoreError",
    "Outcome",
    "Progress",
    "Templates",
    "atomic_write_bytes",
    "atomic_write_text",
    "clean_stale_temps",
    "ensure_ray",
]
