"""One sequence in the batch: its prompt, the reply so far, its own sampler, stop strings and limits."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

WAITING, PREFILL, DECODING, DONE = "waiting", "prefill", "decoding", "done"


@dataclass(frozen=True)
class Reply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class Cancelled(Exception):
    """The caller gave up on this sequence before it finished."""


class Sequence:
    """Tokens known so far (prompt, then sampled ones) and how many of them are in the KV cache."""

    def __init__(self, prompt: list[int], *, max_tokens: int, n_ctx: int, stop: list[str],
                 sampler: Any | None, label: str = "") -> None:
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.n_ctx = n_ctx
        self.stop = stop
        self.sampler = sampler  # a llama.cpp sampler chain; None: greedy by argmax over the logits
        self.label = label
        self.future: Future[Reply] = Future()
        self._cancel = threading.Event()
        self.reset()

    def reset(self) -> None:
        """Back to the prompt alone (a sequence preempted for room starts over, with its sampler reset)."""
        self.tokens = list(self.prompt)
        self.n_computed = 0
        self.pieces: list[bytes] = []
        self.state = PREFILL
        self.seq_id: int | None = None
        self.donor: Sequence | None = None
        self.share = 0
        self.text = ""
        self.finish_reason: str | None = None
        if self.sampler is not None:
            self.sampler.reset()

    # -- the caller's side ---------------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- the scheduler's side ------------------------------------------------------------------------------
    @property
    def generated(self) -> int:
        return len(self.tokens) - len(self.prompt)

    @property
    def reserve(self) -> int:
        """KV cells this sequence is expected to add (its unshared prompt and part of its reply)."""
        return len(self.prompt) - self.share + min(self.max_tokens, 256)

    def pending_tokens(self) -> list[int]:
        return self.tokens[self.n_computed :]

    def accept(self, token: int, *, is_end: bool, piece: bytes) -> bool:
        """Take a sampled token; True when the reply is finished."""
        if is_end:
            return self._finish("stop")
        self.tokens.append(token)
        self.pieces.append(piece)
        text = b"".join(self.pieces).decode("utf-8", errors="ignore")
        cut = min((i for i in (text.find(s) for s in self.stop) if i >= 0), default=-1)
        if cut >= 0:
            self.text = text[:cut]
            return self._finish("stop", keep_text=True)
        self.text = text
        if self.generated >= self.max_tokens or len(self.tokens) >= self.n_ctx:
            return self._finish("length")
        return False

    def _finish(self, reason: str, keep_text: bool = False) -> bool:
        if not keep_text:
            self.text = b"".join(self.pieces).decode("utf-8", errors="ignore")
        self.finish_reason = reason
        self.state = DONE
        return True

    def reply(self) -> Reply:
        return Reply(self.text, len(self.prompt), self.generated, self.finish_reason or "stop")
