"""A key-value store in one SQLite file (WAL mode), shared by threads and processes, that never fails its
caller over the cache's own trouble.

What it guarantees, and how:
- several processes creating the same new file at once all succeed: setting WAL mode and creating the table
  need a write lock that SQLite may refuse at once ("database is locked") even with a busy timeout, so the
  setup is retried with backoff until the others are done;
- a value that is not JSON is a miss (logged once per store);
- a file that is not a database, or is damaged, is moved aside (`NAME.corrupt-<time>`) and rebuilt with a
  warning; the move happens under a lock file and only after re-checking, so two processes that both
  noticed do not move each other's fresh file;
- `get` and `put` swallow the store's errors (logged): a cache is an optimization, the caller's work counts.
What it does not: open a path whose directory cannot be created or written; that is the user's to fix and
raises `KVStoreError` naming the file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["KVStore", "KVStoreError"]

log = logging.getLogger(__name__)
BUSY_TIMEOUT_S = 60.0


class KVStoreError(OSError):
    """The store's file cannot be opened at all (its directory is missing, read-only, ...)."""


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _is_corrupt(exc: sqlite3.Error) -> bool:
    if _is_busy(exc):
        return False
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text or "disk i/o" in text
        or not isinstance(exc, sqlite3.OperationalError)
    )


class KVStore:
    """`KVStore(path, table="kv")`: get(key) -> JSON value or None; put(key, value); len(); close()."""

    def __init__(self, path: str | os.PathLike[str], table: str = "kv", busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        if not table.isidentifier():
            raise ValueError(f"table must be an identifier, not {table!r}")
        self.path = Path(path)
        self.table = table
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None
        self._warned: set[str] = set()
        self._get_sql = f"SELECT value FROM {table} WHERE key = ?"
        self._put_sql = f"INSERT OR REPLACE INTO {table} (key, value, created) VALUES (?, ?, ?)"
        with self._lock:
            self._connect()

    # -- opening ------------------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._con is not None:
            return self._con
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KVStoreError(f"cannot create the directory of {self.path}: {exc}") from exc
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.01
        recovered = False
        while True:
            con = None
            try:
                con = sqlite3.connect(str(self.path), timeout=self.busy_timeout_s, check_same_thread=False,
                                      isolation_level=None)
                con.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
                if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower()
                    if mode != "wal":  # another process holds the file: try again shortly
                        raise sqlite3.OperationalError(f"database is locked (journal mode stays {mode})")
                con.execute("PRAGMA synchronous=NORMAL")
                con.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ("
                            " key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)")
                con.execute(f"SELECT 1 FROM {self.table} LIMIT 1").fetchall()
                self._con = con
                _OPEN.add(self)
                return con
            except sqlite3.Error as exc:
                if con is not None:
                    con.close()
                if _is_busy(exc) and time.monotonic() < deadline:
                    time.sleep(delay * (1 + random.random()))
                    delay = min(delay * 2, 0.5)
                    continue
                if _is_corrupt(exc) and not recovered:
                    self._move_aside(exc)
                    recovered = True
                    continue
                raise KVStoreError(f"cannot open {self.path}: {exc}") from exc

    def _move_aside(self, exc: BaseException) -> None:
        """Rename a damaged file (and its -wal/-shm) out of the way, unless another process already did."""
        with _file_lock(self.path.with_name(self.path.name + ".lock")):
            if not self.path.exists() or _healthy(self.path, self.table):
                return
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(self.path.name + suffix)
                with contextlib.suppress(FileNotFoundError):
                    os.replace(side, aside.with_name(aside.name + suffix))
            os.replace(self.path, aside)
        log.warning("%s is damaged (%s); moved it to %s and started a new, empty one", self.path, exc, aside)

    # -- use -------------------------------------------------------------------------------------------------
    def _run(self, op: str, sql: str, args: tuple[Any, ...]) -> list[Any] | None:
        """Execute with recovery: a damaged file is rebuilt and the statement tried once more. None on error."""
        con = self._con
        if con is not None:  # the common case, without the retry machinery
            try:
                with self._lock:
                    return con.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                if not _is_corrupt(exc):
                    self._warn_once(op, f"{self.path}: {op} failed ({type(exc).__name__}: {exc}); carrying on without it")
                    return None
        for attempt in (1, 2):
            try:
                with self._lock:
                    return self._connect().execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                if attempt == 1 and _is_corrupt(exc):
                    with self._lock:
                        self._drop_connection()
                        self._move_aside(exc)
                    continue
                self._warn_once(op, f"{self.path}: {op} failed ({type(exc).__name__}: {exc}); carrying on without it")
                return None
            except KVStoreError as exc:
                self._warn_once(op, f"{exc}; carrying on without the store")
                return None
        return None

    def get(self, key: str) -> Any | None:
        con = self._con
        row = None
        try:
            if con is None:
                raise sqlite3.OperationalError("not connected")
            with self._lock:  # the common case, kept short: a cache hit is on the hot path
                row = con.execute(self._get_sql, (key,)).fetchone()
        except sqlite3.Error:
            rows = self._run("read", self._get_sql, (key,))
            row = rows[0] if rows else None
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except (TypeError, ValueError):
            self._warn_once("json", f"{self.path}: an entry is not JSON; treating it (and any like it) as a miss")
            return None

    def put(self, key: str, value: Any) -> bool:
        """Store `value` (JSON). False when it could not be stored (logged), never an exception."""
        try:
            data = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            self._warn_once("encode", f"{self.path}: a value is not JSON-serialisable ({exc}); not stored")
            return False
        rows = self._run("write", self._put_sql, (key, data, time.time()))
        return rows is not None

    def __len__(self) -> int:
        rows = self._run("count", f"SELECT COUNT(*) FROM {self.table}", ())
        return int(rows[0][0]) if rows else 0

    def __iter__(self) -> Iterator[str]:
        return iter([r[0] for r in self._run("keys", f"SELECT key FROM {self.table}", ()) or []])

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    def _drop_connection(self) -> None:
        if self._con is not None:
            with contextlib.suppress(sqlite3.Error):
                self._con.close()
            self._con = None

    def _warn_once(self, kind: str, message: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning(message)

    # -- pickling (Ray tasks, processes): reopen on the other side --------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "table": self.table, "busy_timeout_s": self.busy_timeout_s}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["table"], state["busy_timeout_s"])  # type: ignore[misc]


_OPEN: weakref.WeakSet[KVStore] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked child must not use its parent's connections: each store reconnects on its next use."""
    for store in list(_OPEN):
        store._con = None
        store._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _healthy(path: Path, table: str) -> bool:
    try:
        con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error:
        return False
    try:
        if con.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
            return False
        con.execute(f"SELECT COUNT(*) FROM {table}").fetchall()
        return True
    except sqlite3.Error as exc:
        return _is_busy(exc) or "no such table" in str(exc).lower()
    finally:
        con.close()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no cross-process guard, the re-check still helps
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
