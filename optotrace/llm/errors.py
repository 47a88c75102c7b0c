"""The LLM layer's exceptions. Each message says what went wrong and what to do about it."""

from __future__ import annotations

from optotrace.errors import OptotraceError


class LLMError(OptotraceError):
    """A language-model call failed (bad request, the server kept failing, an unusable reply...)."""


class LLMConfigError(LLMError):
    """The client is not configured to make this call: a missing key, an unknown spec, a missing model file."""


class BudgetExceeded(LLMError):
    """The next call would cross a budget (`max_total_tokens` or `max_cost_usd`); it was not made."""

    def __init__(self, message: str, *, limit: float, used: float, needed: float) -> None:
        super().__init__(message)
        self.limit = limit
        self.used = used
        self.needed = needed


class StructuredOutputError(LLMError):
    """The reply did not validate against the response model, even after one repair round.

    `.raw` is the last reply text as the model sent it; `.errors` lists the validation problems.
    """

    def __init__(self, message: str, *, raw: str, errors: list[str]) -> None:
        super().__init__(message)
        self.raw = raw
        self.errors = errors


class TransientLLMError(LLMError):
    """A failure worth retrying: HTTP 429 or 5xx, a dropped connection, a timeout, a malformed body.

    `retry_after` holds the server's Retry-After hint in seconds, when it sent one.
    """

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
