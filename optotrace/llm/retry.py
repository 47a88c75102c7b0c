"""Retries: which failures are worth another try, and the tenacity policy that makes them.

Retried: HTTP 408/409/429/5xx, dropped connections, timeouts, malformed bodies (TransientLLMError).
Not retried: authentication (-> LLMConfigError saying what to set) and bad requests (-> LLMError).
Waits grow exponentially with jitter; a server's Retry-After hint takes precedence (capped at max_wait).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential_jitter

from optotrace.llm.errors import LLMConfigError, LLMError, TransientLLMError

log = logging.getLogger("optotrace.llm")
T = TypeVar("T")
_TRANSIENT_STATUS = {408, 409, 425, 429}


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    initial_wait: float = 0.5
    max_wait: float = 30.0


def retry_after_seconds(exc: BaseException) -> float | None:
    """The Retry-After (or retry-after-ms) header of the HTTP response carried by `exc`, in seconds."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, AttributeError):
        return None


def classify(exc: BaseException, *, credentials_hint: str) -> LLMError:
    """Map any backend exception onto our family: TransientLLMError (retry), LLMConfigError, LLMError."""
    if isinstance(exc, LLMError):
        return exc
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    name = type(exc).__name__
    if status in (401, 403) or name in ("AuthenticationError", "PermissionDeniedError"):
        return LLMConfigError(
            f"the server refused the credentials (HTTP {status}): {exc}. {credentials_hint}"
        )
    if status is not None and (status in _TRANSIENT_STATUS or status >= 500):
        return TransientLLMError(
            f"HTTP {status} from the server: {exc}", status=status, retry_after=retry_after_seconds(exc)
        )
    if (
        isinstance(exc, (TimeoutError, ConnectionError, json.JSONDecodeError))
        or "Timeout" in name
        or "Connection" in name
        or name in ("ServiceUnavailableError", "InternalServerError", "APIResponseValidationError")
    ):
        return TransientLLMError(f"{name}: {exc}", status=status)
    if status is not None:
        return LLMError(
            f"the server rejected the request (HTTP {status}): {exc}. Check the model name and parameters."
        )
    return LLMError(f"{name}: {exc}")


class _WaitRetryAfter(wait_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = wait_exponential_jitter(
            initial=policy.initial_wait, max=policy.max_wait, jitter=policy.initial_wait
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hint = getattr(exc, "retry_after", None)
        if hint is not None:
            return min(float(hint), self.policy.max_wait)
        return float(self.backoff(retry_state))


def _log_retry(retry_state: RetryCallState) -> None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    log.warning("LLM call failed (attempt %d: %s); retrying in %.2f s", retry_state.attempt_number, exc, wait)


def _kwargs(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "stop": stop_after_attempt(policy.max_retries + 1),
        "wait": _WaitRetryAfter(policy),
        "retry": retry_if_exception_type(TransientLLMError),
        "before_sleep": _log_retry,
        "reraise": True,
    }


def _gave_up(exc: TransientLLMError, attempts: int) -> LLMError:
    return LLMError(
        f"the LLM call failed {attempts} times in a row, last: {exc}. The server may be down or overloaded; "
        "try again later, or raise max_retries / timeout."
    )


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy) -> T:
    attempts = 0
    try:
        for attempt in Retrying(**_kwargs(policy)):
            with attempt:
                attempts += 1
                return fn()
    except TransientLLMError as exc:
        raise _gave_up(exc, attempts) from exc
    raise AssertionError("unreachable")


async def acall_with_retries(fn: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    attempts = 0
    try:
        async for attempt in AsyncRetrying(sleep=asyncio.sleep, **_kwargs(policy)):
            with attempt:
                attempts += 1
                return await fn()
    except TransientLLMError as exc:
        raise _gave_up(exc, attempts) from exc
    raise AssertionError("unreachable")
