"""The batcher: one thread that decodes every waiting request of a model together (continuous batching).

Requests arrive from any thread (`submit`). Between two decode steps the scheduler admits waiting sequences
while sequence ids and KV cells last, and builds one llama_decode batch from the next token of every decoding
sequence plus prompt chunks of admitted ones; each sequence then samples from its own logits row. Decoding on
a CPU reads every weight once per step whatever the batch, so a step for sixteen sequences costs little more
than a step for one.

A new sequence whose prompt starts like a sequence already in the cache (running, or finished and kept) waits
until that prefix is computed, then shares its cells (prefix.py) and computes only the rest. Finished
sequences stay in the cache (at most `keep_finished`, least recently used dropped first) so the next request
with the same instruction reuses them too, as llama-cpp-python's single-sequence prefix reuse did.

A failure while sampling one sequence fails that request only; a cancelled or failed sequence frees its
sequence id and its cells before the next step.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from typing import Any

import numpy as np

from optotrace.llm.local.model import LoadedModel
from optotrace.llm.local.prefix import best_donor
from optotrace.llm.local.sequence import DECODING, DONE, PREFILL, WAITING, Cancelled, Reply, Sequence

log = logging.getLogger("optotrace.llm")


class DecodeError(RuntimeError):
    """llama_decode failed for a reason other than a full cache."""


class Scheduler:
    def __init__(self, model: LoadedModel, gather_s: float = 0.003) -> None:
        from llama_cpp import _internals as internals

        self.model = model
        self.config = model.config
        self.gather_s = gather_s  # an idle scheduler waits this long for a request's companions to arrive
        self._cond = threading.Condition()
        self._pending: deque[Sequence] = deque()
        self._running: list[Sequence] = []
        self._kept: OrderedDict[int, Sequence] = OrderedDict()  # finished sequences still in the cache
        self._free_ids = list(range(model.n_seq_ids - 1, -1, -1))
        self._batch = internals.LlamaBatch(n_tokens=self.config.n_batch, embd=0, n_seq_max=1, verbose=False)
        self._stopped = False
        self.steps = 0  # decode calls made (for tests and perf)
        self._thread = threading.Thread(target=self._loop, name="optotrace-llm-batcher", daemon=True)
        self._thread.start()

    # -- any thread -----------------------------------------------------------------------------------------
    def submit(self, seq: Sequence) -> Sequence:
        if len(seq.prompt) >= self.config.n_ctx:
            raise ValueError(
                f"Requested tokens ({len(seq.prompt)}) exceed context window of {self.config.n_ctx}; shorten "
                "the prompt or raise n_ctx"
            )
        with self._cond:
            if self._stopped:
                raise RuntimeError("the local model was closed")
            self._pending.append(seq)
            self._cond.notify()
        return seq

    def run(self, seq: Sequence) -> Reply:
        self.submit(seq)
        try:
            return seq.future.result()
        except BaseException:
            seq.cancel()  # an interrupted caller: its sequence frees its slot at the next step
            with self._cond:
                self._cond.notify()
            raise

    def active(self) -> int:
        """Sequences admitted and not finished (for tests: 0 once everything has returned)."""
        with self._cond:
            return len(self._running)

    def used_ids(self) -> int:
        with self._cond:
            return self.model.n_seq_ids - len(self._free_ids) - len(self._kept)

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=30)
        self._batch.close()

    # -- the scheduler thread -------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                idle = not self._running
                while not self._stopped and not self._pending and not self._running:
                    self._cond.wait()
                if self._stopped:
                    break
                if idle and self.gather_s > 0:
                    self._cond.wait(self.gather_s)
                self._admit()
            try:
                self._step()
            except Exception as exc:  # a failed decode: nothing in this batch can go on
                log.warning("local model: decoding failed: %s", exc)
                for seq in list(self._running):
                    self._release(seq, exc)
        with self._cond:
            failed = list(self._running) + list(self._pending)
            self._pending.clear()
        for seq in failed:
            self._release(seq, RuntimeError("the local model was closed"))

    def _admit(self) -> None:
        cfg = self.config
        used = sum(s.reserve for s in self._running) + sum(s.n_computed for s in self._kept.values())
        while self._pending and len(self._running) < cfg.max_seqs:
            seq = self._pending[0]
            if seq.cancelled:
                self._pending.popleft()
                seq.future.set_exception(Cancelled("cancelled before it started"))
                continue
            candidates = [(s, s.tokens) for s in self._running]
            candidates += [(s, s.tokens[: s.n_computed]) for s in self._kept.values()]
            donor, share = best_donor(seq.prompt, candidates)
            seq.donor, seq.share = donor, share
            while self._kept and (not self._free_ids or used + seq.reserve > cfg.kv_cells):
                victim = next((k for k in self._kept.values() if k is not donor), None)
                if victim is None:
                    break
                used -= victim.n_computed
                self._drop_kept(victim)
            if not self._free_ids or (self._running and used + seq.reserve > cfg.kv_cells):
                seq.donor, seq.share = None, 0
                break
            self._pending.popleft()
            seq.seq_id = self._free_ids.pop()
            seq.state = WAITING if donor is not None else PREFILL
            used += seq.reserve
            self._running.append(seq)

    def _step(self) -> None:
        for seq in list(self._running):
            if seq.cancelled:
                self._release(seq, Cancelled("cancelled"))
        self._resolve_waiting()
        entries = self._fill_batch()
        if not entries:
            return
        rc = self._decode()
        if rc == 1:  # no room in the cache for this batch
            self._make_room()
            return
        if rc != 0:
            raise DecodeError(f"llama_decode returned {rc}")
        self.steps += 1
        for seq, n, logits_at in entries:
            seq.n_computed += n
            if logits_at is None:
                continue
            try:
                token = self._sample(seq, logits_at)
                seq.state = DECODING
                done = seq.accept(token, is_end=self.model.is_end(token), piece=self.model.piece(token))
            except Exception as exc:  # this request's sampler or grammar failed: only it ends
                self._release(seq, exc)
                continue
            if done:
                self._release(seq, None)

    def _resolve_waiting(self) -> None:
        for seq in self._running:
            if seq.state != WAITING:
                continue
            donor = seq.donor
            if donor is None or donor.seq_id is None or (donor.state == DONE and donor.seq_id not in self._kept):
                seq.donor, seq.share, seq.state = None, 0, PREFILL  # the donor is gone: compute it all
            elif donor.n_computed >= seq.share:
                self.model.share(donor.seq_id, seq.seq_id, seq.share)
                seq.n_computed = seq.share
                seq.state = PREFILL
                if donor.seq_id in self._kept:
                    self._kept.move_to_end(donor.seq_id)

    def _fill_batch(self) -> list[tuple[Sequence, int, int | None]]:
        """Fill the batch: one token per decoding sequence, then prompt chunks in arrival order. Returns
        (sequence, tokens added, batch index of its logits or None)."""
        b = self._batch.batch
        room = self.config.n_batch
        n = 0
        entries: list[tuple[Sequence, int, int | None]] = []
        ordered = [s for s in self._running if s.state == DECODING] + [s for s in self._running if s.state == PREFILL]
        for seq in ordered:
            if room == 0:
                break
            chunk = seq.pending_tokens()[:room]
            if not chunk:
                continue
            for j, token in enumerate(chunk):
                b.token[n + j] = token
                b.pos[n + j] = seq.n_computed + j
                b.n_seq_id[n + j] = 1
                b.seq_id[n + j][0] = seq.seq_id
                b.logits[n + j] = False
            finishes = seq.n_computed + len(chunk) == len(seq.tokens)
            if finishes:
                b.logits[n + len(chunk) - 1] = True
            entries.append((seq, len(chunk), n + len(chunk) - 1 if finishes else None))
            n += len(chunk)
            room -= len(chunk)
        b.n_tokens = n
        return entries

    def _decode(self) -> int:
        with self.model.lock:
            if self.model.closed:
                raise DecodeError("the local model was closed")
            return int(self.model.lib.llama_decode(self.model.context.ctx, self._batch.batch))

    def _sample(self, seq: Sequence, index: int) -> int:
        if seq.sampler is None:
            ptr = self.model.lib.llama_get_logits_ith(self.model.context.ctx, index)
            return int(np.ctypeslib.as_array(ptr, shape=(self.model.n_vocab,)).argmax())
        return int(seq.sampler.sample(self.model.context, index))

    def _make_room(self) -> None:
        """The cache is full: drop a kept sequence, else send the newest running one back to the queue."""
        if self._kept:
            self._drop_kept(next(iter(self._kept.values())))
            return
        if len(self._running) <= 1:
            for seq in list(self._running):
                self._release(seq, RuntimeError(
                    f"the KV cache ({self.config.kv_cells} cells) cannot hold this request; raise kv_cells"))
            return
        seq = self._running[-1]
        log.debug("local model: cache full, %s starts over later", seq.label or "a sequence")
        self._running.remove(seq)
        self._forget(seq)
        seq.reset()
        with self._cond:
            self._pending.appendleft(seq)

    def _release(self, seq: Sequence, error: BaseException | None) -> None:
        """A sequence leaves the batch: its reply (or error) goes to its caller; its cells are kept for the
        next request's prefix when it finished well, freed otherwise."""
        with self._cond:
            if seq in self._running:
                self._running.remove(seq)
            if error is None and seq.seq_id is not None:
                seq.state = DONE
                self._kept[seq.seq_id] = seq
                while len(self._kept) > self.config.keep_finished:
                    self._drop_kept(next(iter(self._kept.values())))
            else:
                self._forget(seq)
                seq.state = DONE
        if seq.future.done():
            return
        if error is None:
            seq.future.set_result(seq.reply())
        else:
            seq.future.set_exception(error)

    def _drop_kept(self, seq: Sequence) -> None:
        self._kept.pop(seq.seq_id, None)  # type: ignore[arg-type]
        self._forget(seq)

    def _forget(self, seq: Sequence) -> None:
        if seq.seq_id is None:
            return
        with self.model.lock:
            if not self.model.closed:
                self.model.forget(seq.seq_id)
        self._free_ids.append(seq.seq_id)
        seq.seq_id = None

    def debug_state(self) -> dict[str, Any]:
        with self._cond:
            return {"running": len(self._running), "pending": len(self._pending), "kept": len(self._kept),
                    "free_ids": len(self._free_ids)}
