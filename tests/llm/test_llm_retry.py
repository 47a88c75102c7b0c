"""Which failures are retried, and how long to wait: classification and Retry-After parsing."""

from __future__ import annotations

import email.utils
import time
from types import SimpleNamespace

import pytest

from optotrace.llm import LLMConfigError, LLMError, TransientLLMError
from optotrace.llm.retry import RetryPolicy, call_with_retries, classify, retry_after_seconds


class HTTPFailure(Exception):
    def __init__(self, status_code: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.response = SimpleNamespace(headers=headers or {})


class APITimeoutError(Exception):
    pass


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 529])
def test_rate_limits_and_server_errors_are_transient(code: int) -> None:
    assert isinstance(classify(HTTPFailure(code), credentials_hint=""), TransientLLMError)


@pytest.mark.parametrize("code", [401, 403])
def test_auth_failures_say_what_to_set(code: int) -> None:
    err = classify(HTTPFailure(code), credentials_hint="Set OPENAI_API_KEY.")
    assert isinstance(err, LLMConfigError) and "OPENAI_API_KEY" in str(err)


@pytest.mark.parametrize("code", [400, 404, 422])
def test_bad_requests_are_final(code: int) -> None:
    err = classify(HTTPFailure(code), credentials_hint="")
    assert type(err) is LLMError


def test_timeouts_and_connection_errors_are_transient() -> None:
    for exc in (APITimeoutError("slow"), ConnectionResetError("reset"), TimeoutError()):
        assert isinstance(classify(exc, credentials_hint=""), TransientLLMError)


def test_retry_after_forms() -> None:
    assert retry_after_seconds(HTTPFailure(429, {"retry-after": "3"})) == 3.0
    assert retry_after_seconds(HTTPFailure(429, {"retry-after-ms": "250"})) == 0.25
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry_after_seconds(HTTPFailure(429, {"retry-after": later})) or 0) <= 31
    assert retry_after_seconds(HTTPFailure(429, {"retry-after": "soon"})) is None
    assert retry_after_seconds(HTTPFailure(429)) is None
    assert isinstance(
        classify(HTTPFailure(429, {"retry-after": "2"}), credentials_hint=""), TransientLLMError
    )
    assert classify(HTTPFailure(429, {"retry-after": "2"}), credentials_hint="").retry_after == 2.0


def test_retries_then_success_and_no_retry_on_final_errors() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientLLMError("try again", retry_after=0)
        return "ok"

    assert call_with_retries(flaky, RetryPolicy(max_retries=3, initial_wait=0.001)) == "ok"
    assert len(calls) == 3

    def final() -> str:
        calls.append(1)
        raise LLMError("bad request")

    calls.clear()
    with pytest.raises(LLMError, match="bad request"):
        call_with_retries(final, RetryPolicy(max_retries=3, initial_wait=0.001))
    assert len(calls) == 1
