"""Plain data passed between the client, its backends, the cache and the usage tracker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

Message = dict[str, str]


@dataclass(frozen=True)
class Usage:
    """Tokens (and cost, where the price is known) of one completion, repair rounds included."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cost_usd + other.cost_usd,
        )


@dataclass
class Completion:
    """What `LLM.complete` returns."""

    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    parsed: BaseModel | None = None
    latency_s: float = 0.0
    cached: bool = False
    attempts: int = 0  # HTTP requests or local calls made for it: retries and repair rounds included
    finish_reason: str | None = None  # the backend's: "stop", "length" (cut off at max_tokens), ...; None: unknown

    @property
    def truncated(self) -> bool:
        """True when the backend stopped the reply at the token limit: its end is missing."""
        return self.finish_reason == "length"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Request:
    """One call as a backend sees it: messages plus sampling parameters and the JSON schema, if any."""

    messages: list[Message]
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    schema: dict[str, Any] | None = None
    schema_name: str | None = None

    def params(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed}


@dataclass(frozen=True)
class RawReply:
    """A backend's answer to one request, before validation. Token counts come from the backend."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    finish_reason: str | None = None
