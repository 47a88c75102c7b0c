"""`LLM`: the one client interface. Cache, budgets, retries, structured output and usage are applied here, once
(each job's details in its own module: reservation, structured, client_copy, cache, usage); a backend
implements only `_raw` (one request -> one RawReply), optionally `_araw`, and `count_tokens`."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import weakref
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import Any, ClassVar

from pydantic import BaseModel

from optotrace.llm import structured
from optotrace.llm.cache import CompletionCache, cache_key, resolve_cache_path
from optotrace.llm.client_copy import copy_attribute, copy_client
from optotrace.llm.errors import LLMError
from optotrace.llm.journal import active_journal, request_key
from optotrace.llm.messages import batch_kwargs, normalize_messages
from optotrace.llm.pricing import cost_usd, price_per_token
from optotrace.llm.reservation import Reservation
from optotrace.llm.results import Completion, RawReply, Request, Usage
from optotrace.llm.retry import RetryPolicy, acall_with_retries, call_with_retries, classify
from optotrace.llm.tokens import heuristic_tokens
from optotrace.llm.usage import UsageTotals, UsageTracker

log = logging.getLogger("optotrace.llm")
Messages = str | Sequence[dict[str, Any]]


def _log_summary(tracker: UsageTracker, spec: str) -> None:
    totals = tracker.snapshot()
    if totals.calls:
        log.info("LLM usage for %s: %s", spec, totals.summary())


class LLM(ABC):
    """A chat model behind one interface: `complete`, `acomplete`, `complete_many`, `usage`, `count_tokens`.

    Options every backend takes (through `get_llm(spec, **options)`):
      cache             True / False / a file path; None: OPTOTRACE_CACHE, else on (off for `scripted`).
                        Only temperature-0 calls are cached.
      timeout           seconds per HTTP request (remote backends).
      max_retries       extra attempts after a transient failure (429, 5xx, timeouts, dropped connections).
      retry_initial_wait, retry_max_wait   backoff bounds in seconds (a Retry-After hint takes precedence).
      max_total_tokens, max_cost_usd       budgets; the call that would cross one raises BudgetExceeded first.
      price             (USD per prompt token, USD per completion token) when litellm's cost map lacks the model.
      small_model       True for a small model (optimizers then use their compact prompts, answer first);
                        None: OPTOTRACE_SMALL_MODEL, else the backend's default (True for the embedded local
                        model, False otherwise, whatever the URL). Also settable later: llm.small_model = True.
    """

    backend: ClassVar[str] = "llm"
    cache_by_default: ClassVar[bool] = True
    credentials_hint: ClassVar[str] = ""
    small_by_default: ClassVar[bool] = False

    def __init__(
        self,
        model: str,
        *,
        spec: str | None = None,
        cache: bool | str | os.PathLike[str] | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
        retry_initial_wait: float = 0.5,
        retry_max_wait: float = 30.0,
        max_total_tokens: int | None = None,
        max_cost_usd: float | None = None,
        price: tuple[float, float] | None = None,
        small_model: bool | None = None,
    ) -> None:
        self.model = model
        self._small_model = small_model
        self.spec = spec or f"{self.backend}:{model}"
        self.timeout = float(timeout)
        self.retry_policy = RetryPolicy(int(max_retries), float(retry_initial_wait), float(retry_max_wait))
        path = resolve_cache_path(cache, default_on=self.cache_by_default)
        self.cache: CompletionCache | None = CompletionCache(path) if path is not None else None
        self.price = price if price is not None else self._default_price()
        if max_cost_usd is not None and self.price is None:
            log.warning(
                "no price is known for %s, so max_cost_usd=%s cannot be enforced; pass price=(USD per input "
                "token, USD per output token) to get_llm",
                self.spec,
                max_cost_usd,
            )
        self._tracker = UsageTracker(max_total_tokens, max_cost_usd)
        weakref.finalize(self, _log_summary, self._tracker, self.spec)

    # -- what a backend provides -------------------------------------------------------------------------
    @abstractmethod
    def _raw(self, request: Request) -> RawReply:
        """Make one call. Raise TransientLLMError for what may be retried (or let the SDK's errors through)."""

    async def _araw(self, request: Request) -> RawReply:
        return await asyncio.to_thread(self._raw, request)

    def count_tokens(self, text: str) -> int:
        return heuristic_tokens(text)

    @property
    def cache_identity(self) -> str:
        """What distinguishes this backend's answers in the cache key (the endpoint, for a remote server)."""
        return self.backend

    def _default_price(self) -> tuple[float, float] | None:
        return price_per_token(self.model)

    # -- public API ----------------------------------------------------------------------------------------
    @property
    def small_model(self) -> bool:
        """Declared size class: a small model gets the optimizers' compact prompts. `small_model=` (or setting
        this) wins; then OPTOTRACE_SMALL_MODEL (1/0); then the backend's default."""
        if self._small_model is not None:
            return self._small_model
        env = os.environ.get("OPTOTRACE_SMALL_MODEL", "").strip().lower()
        if env in ("1", "true", "yes", "on"):
            return True
        if env in ("0", "false", "no", "off"):
            return False
        return self.small_by_default

    @small_model.setter
    def small_model(self, value: bool | None) -> None:
        self._small_model = None if value is None else bool(value)

    @property
    def usage(self) -> UsageTotals:
        return self._tracker.snapshot()

    def complete(
        self,
        messages: Messages,
        response_model: type[BaseModel] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> Completion:
        t0 = perf_counter()
        request, key = self._prepare(messages, response_model, temperature, max_tokens, seed)
        hit = None if self._journaled(request) else self._from_cache(key, response_model, t0)
        if hit is not None:
            return hit
        raw, usage, attempts = self._send(request)
        parsed, repair = self._check(request, raw, response_model, final=False)
        if repair is not None:
            raw, more, n = self._send(repair)
            usage, attempts = usage + more, attempts + n
            parsed, _ = self._check(repair, raw, response_model, final=True)
        return self._finish(key, raw, usage, parsed, t0, attempts)

    async def acomplete(
        self,
        messages: Messages,
        response_model: type[BaseModel] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> Completion:
        t0 = perf_counter()
        request, key = self._prepare(messages, response_model, temperature, max_tokens, seed)
        hit = None if self._journaled(request) else self._from_cache(key, response_model, t0)
        if hit is not None:
            return hit
        raw, usage, attempts = await self._asend(request)
        parsed, repair = self._check(request, raw, response_model, final=False)
        if repair is not None:
            raw, more, n = await self._asend(repair)
            usage, attempts = usage + more, attempts + n
            parsed, _ = self._check(repair, raw, response_model, final=True)
        return self._finish(key, raw, usage, parsed, t0, attempts)

    def complete_many(
        self,
        requests: Sequence[Messages | dict[str, Any]],
        concurrency: int = 8,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Run a batch on at most `concurrency` threads; results in the order of `requests`.
        Each request is a messages list (or string) or a dict of `complete` keyword arguments. With
        `return_exceptions=True` a failed request yields its exception in place instead of raising."""
        calls = [batch_kwargs(r) for r in requests]
        if not calls:
            return []
        pool = ThreadPoolExecutor(
            max(1, min(int(concurrency), len(calls))), thread_name_prefix="optotrace-llm"
        )
        try:
            futures = [
                pool.submit(contextvars.copy_context().run, self._complete_or_error, kw, return_exceptions)
                for kw in calls
            ]
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    async def acomplete_many(
        self,
        requests: Sequence[Messages | dict[str, Any]],
        concurrency: int = 8,
        return_exceptions: bool = False,
    ) -> list[Any]:
        gate = asyncio.Semaphore(max(1, int(concurrency)))

        async def one(kw: dict[str, Any]) -> Any:
            async with gate:
                return await self.acomplete(**kw)

        return list(
            await asyncio.gather(*(one(batch_kwargs(r)) for r in requests), return_exceptions=return_exceptions)
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"

    def __deepcopy__(self, memo: dict[int, Any]) -> LLM:
        """A client to run beside this one (a deep-copied agent holds one); see client_copy for what it shares."""
        return copy_client(self, memo)

    def _copy_attribute(self, name: str, value: Any, memo: dict[int, Any]) -> Any:
        """What a deep copy gets for attribute `name`; a backend overrides it for what it must not share."""
        return copy_attribute(name, value, memo)

    # -- the pipeline ----------------------------------------------------------------------------------------
    def _complete_or_error(self, kw: dict[str, Any], return_exceptions: bool) -> Any:
        try:
            return self.complete(**kw)
        except Exception as exc:
            if return_exceptions:
                return exc
            raise

    def _prepare(
        self,
        messages: Messages,
        response_model: type[BaseModel] | None,
        temperature: float,
        max_tokens: int | None,
        seed: int | None,
    ) -> tuple[Request, str | None]:
        msgs = normalize_messages(messages)
        schema = structured.schema_for(response_model) if response_model is not None else None
        if schema is not None:
            msgs = structured.with_schema_hint(msgs, schema)
        request = Request(
            msgs,
            float(temperature),
            max_tokens,
            seed,
            schema,
            response_model.__name__ if response_model else None,
        )
        key = None
        if self.cache is not None and request.temperature == 0:
            key = cache_key(self.cache_identity, self.model, msgs, request.params(), schema)
        return request, key

    def _from_cache(
        self, key: str | None, response_model: type[BaseModel] | None, t0: float
    ) -> Completion | None:
        if key is None or self.cache is None:
            return None
        hit = self.cache.get(key)
        if hit is None:
            return None
        parsed = None
        if response_model is not None:
            parsed, errors = structured.parse_reply(hit["text"], response_model)
            if errors:  # the model changed since this entry was stored: treat it as a miss
                return None
        self._tracker.add_call(self.model, cached=True)
        log.debug("LLM cache hit for %s (%s)", self.spec, key[:12])
        usage = Usage(hit["prompt_tokens"], hit["completion_tokens"], hit["cost_usd"])
        return Completion(hit["text"], hit["model"], usage, parsed, perf_counter() - t0, cached=True,
                          finish_reason=hit.get("finish_reason"))

    def _journal_key(self, request: Request) -> str:
        return request_key(self.cache_identity, self.model, request)

    def _journaled(self, request: Request) -> bool:
        """True when the active run journal (journal.py) holds this request: it is replayed, not a cache hit."""
        journal = active_journal()
        return journal is not None and journal.holds(self._journal_key(request))

    def _wrap(self, exc: Exception) -> LLMError:
        return classify(exc, credentials_hint=self.credentials_hint)

    def _account(self, raw: RawReply) -> Usage:
        usage = Usage(
            raw.prompt_tokens,
            raw.completion_tokens,
            cost_usd(self.price, raw.prompt_tokens, raw.completion_tokens),
        )
        self._tracker.add_request(self.model, usage, priced=self.price is not None)
        return usage

    def _send(self, request: Request) -> tuple[RawReply, Usage, int]:
        held = Reservation(request, self._tracker, self.count_tokens, self.price)
        attempts = 0
        raw: RawReply | None = None

        def once() -> RawReply:
            nonlocal attempts
            attempts += 1
            try:
                return self._raw(held.request)
            except Exception as exc:
                raise self._wrap(exc) from exc

        journal = active_journal()
        try:
            if journal is None:
                raw = call_with_retries(once, self.retry_policy)
            else:
                raw = journal.reply(self._journal_key(request), lambda: call_with_retries(once, self.retry_policy))
        finally:
            held.release(raw)
        return raw, self._account(raw), attempts

    async def _asend(self, request: Request) -> tuple[RawReply, Usage, int]:
        held = Reservation(request, self._tracker, self.count_tokens, self.price)
        attempts = 0
        raw: RawReply | None = None

        async def once() -> RawReply:
            nonlocal attempts
            attempts += 1
            try:
                return await self._araw(held.request)
            except Exception as exc:
                raise self._wrap(exc) from exc

        journal = active_journal()
        try:
            if journal is None:
                raw = await acall_with_retries(once, self.retry_policy)
            else:
                raw = await journal.areply(self._journal_key(request),
                                           lambda: acall_with_retries(once, self.retry_policy))
        finally:
            held.release(raw)
        return raw, self._account(raw), attempts

    def _check(
        self, request: Request, raw: RawReply, response_model: type[BaseModel] | None, *, final: bool
    ) -> tuple[BaseModel | None, Request | None]:
        return structured.check_reply(self.spec, request, raw, response_model, final=final)

    def _finish(
        self, key: str | None, raw: RawReply, usage: Usage, parsed: BaseModel | None, t0: float, attempts: int
    ) -> Completion:
        self._tracker.add_call(self.model, cached=False)
        if key is not None and self.cache is not None:
            self.cache.put(
                key,
                {
                    "text": raw.text,
                    "model": raw.model,
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "cost_usd": usage.cost_usd,
                    "finish_reason": raw.finish_reason,
                },
            )
        return Completion(
            raw.text, raw.model, usage, parsed, perf_counter() - t0, cached=False, attempts=attempts,
            finish_reason=raw.finish_reason,
        )

