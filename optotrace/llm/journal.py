"""A run's reply journal: every reply a run received, in a SQLite file of its run directory, so that a killed
search resumes by replaying its requests instead of paying for them again.

    with ReplyJournal(run_dir / "replies.sqlite").active():
        ...every request sent in this context (and in threads started with a copy of it) is recorded; a
        request the journal already holds is answered from it instead of being sent...

A request is identified by the client's cache identity, the model, the messages, the sampling parameters
(temperature and seed included) and the schema, and by how many times this run has sent the same request
before (the second identical request at temperature 0.7 is another draw). A replayed reply is admitted and
settled by the run's budget like the original call, so a resumed run spends exactly what an uninterrupted one
does, and stops at the same point. The LLM cache is not consulted for a request the journal holds: the
original call was a real one, and so must its replay be counted.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from optotrace.llm.cache import cache_key
from optotrace.llm.results import RawReply, Request
from optotrace.runtime import KVStore

__all__ = ["ReplyJournal", "active_journal"]

_JOURNAL: contextvars.ContextVar[ReplyJournal | None] = contextvars.ContextVar("optotrace_journal", default=None)


def active_journal() -> ReplyJournal | None:
    return _JOURNAL.get()


def request_key(identity: str, model: str, request: Request) -> str:
    return cache_key(identity, model, request.messages, request.params(), request.schema)


class ReplyJournal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.store = KVStore(self.path, table="replies")
        self._sent: dict[str, int] = {}  # request key -> occurrences taken in this process
        self._lock = threading.Lock()
        self.replayed = 0
        self.recorded = 0

    def holds(self, key: str) -> bool:
        """Whether the next occurrence of this request was recorded (without taking it)."""
        with self._lock:
            n = self._sent.get(key, 0)
        return self.store.get(f"{key}:{n}") is not None

    def reply(self, key: str, send: Callable[[], RawReply]) -> RawReply:
        """The recorded reply to the next occurrence of this request, else `send()`'s, recorded."""
        slot, saved = self._take(key)
        return saved if saved is not None else self._record(slot, send())

    async def areply(self, key: str, send: Callable[[], Awaitable[RawReply]]) -> RawReply:
        slot, saved = self._take(key)
        return saved if saved is not None else self._record(slot, await send())

    def _take(self, key: str) -> tuple[str, RawReply | None]:
        with self._lock:
            n = self._sent.get(key, 0)
            self._sent[key] = n + 1
        slot = f"{key}:{n}"
        saved = self.store.get(slot)
        if not isinstance(saved, dict):
            return slot, None
        with self._lock:
            self.replayed += 1
        return slot, RawReply(saved["text"], saved["prompt_tokens"], saved["completion_tokens"], saved["model"],
                              saved.get("finish_reason"))

    def _record(self, slot: str, raw: RawReply) -> RawReply:
        self.store.put(slot, {"text": raw.text, "model": raw.model, "prompt_tokens": raw.prompt_tokens,
                              "completion_tokens": raw.completion_tokens, "finish_reason": raw.finish_reason})
        with self._lock:
            self.recorded += 1
        return raw

    @contextmanager
    def active(self) -> Iterator[ReplyJournal]:
        token = _JOURNAL.set(self)
        try:
            yield self
        finally:
            _JOURNAL.reset(token)
            self.store.close()
