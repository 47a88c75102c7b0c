"""An append-only JSONL record store: one JSON object per line, fsynced per append.

A process killed mid-append leaves a torn last line. Opening the store cuts it off (the record it held was
not finished, so its item is simply done again), so the next append starts on a fresh line instead of being
glued to the fragment. Loading keeps the last record of each key ("last wins"), so a retried item replaces
its earlier failure without rewriting the file. Appends are safe from many threads of one process.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["JsonlStore"]

log = logging.getLogger(__name__)

KeyFn = Callable[[dict[str, Any]], Any]


class JsonlStore:
    """`JsonlStore(path, key="index")`: append(record), load() -> {key: record}, rows() -> every good row.

    `key` is a field name or a function of a record. Lines that are not JSON objects (or lack the key) are
    skipped with one warning per load."""

    def __init__(self, path: str | os.PathLike[str], key: str | KeyFn = "key", repair: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key: KeyFn = (lambda row, field=key: row[field]) if isinstance(key, str) else key
        self._lock = threading.Lock()
        if repair:
            self.repair()

    def repair(self) -> bool:
        """Cut a torn last line (no trailing newline). True when something was cut."""
        with self._lock:
            try:
                fh = self.path.open("rb+")
            except FileNotFoundError:
                return False
            with fh:
                size = fh.seek(0, os.SEEK_END)
                if size == 0:
                    return False
                fh.seek(size - 1)
                if fh.read(1) == b"\n":
                    return False
                cut = _last_newline_end(fh, size)
                fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
        log.warning("%s: cut a torn last line (%d bytes) left by an interrupted write", self.path, size - cut)
        return True

    def append(self, record: dict[str, Any] | str) -> None:
        """Write one record (a dict, or a JSON object's text) as a line, and fsync it."""
        line = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False, default=str)
        data = (line.rstrip("\n") + "\n").encode("utf-8")
        with self._lock, self.path.open("ab") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every readable record in file order (bad lines skipped, with one warning)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        bad: list[int] = []
        for no, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError:
                bad.append(no)
                continue
            if isinstance(row, dict):
                yield row
            else:
                bad.append(no)
        if bad:
            log.warning("%s: skipped %d unreadable line(s) (first: line %d)", self.path, len(bad), bad[0])

    def load(self) -> dict[Any, dict[str, Any]]:
        """key -> the last record written for it."""
        out: dict[Any, dict[str, Any]] = {}
        for row in self.rows():
            try:
                out[self._key(row)] = row
            except (KeyError, TypeError):
                log.warning("%s: a record without its key; skipped", self.path)
        return out

    def reset(self) -> None:
        """Start empty (removes the file)."""
        with self._lock:
            self.path.unlink(missing_ok=True)

    def exists(self) -> bool:
        return self.path.is_file()


def _last_newline_end(fh: Any, size: int, chunk: int = 1 << 16) -> int:
    """The offset just past the last b"\\n" in the file (0 when there is none), reading backwards."""
    end = size
    while end > 0:
        start = max(0, end - chunk)
        fh.seek(start)
        block = fh.read(end - start)
        at = block.rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0
