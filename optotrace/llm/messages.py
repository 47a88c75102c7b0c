"""Normalising what callers pass as `messages` (and as one request of a batch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optotrace.llm.errors import LLMError
from optotrace.llm.results import Message

ROLES = ("system", "user", "assistant", "tool")


def normalize_messages(messages: str | Sequence[Any]) -> list[Message]:
    """A plain string becomes one user message; a list of {"role", "content"} dicts is checked and copied."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    out: list[Message] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise LLMError(
                f"message {i} is {m!r}; each message must be a dict with 'role' and 'content' "
                "(or pass a plain string for a single user message)"
            )
        if m["role"] not in ROLES:
            raise LLMError(f"message {i} has role {m['role']!r}; use one of {', '.join(ROLES)}")
        out.append({"role": str(m["role"]), "content": "" if m["content"] is None else str(m["content"])})
    if not out:
        raise LLMError("messages is empty; pass at least one message")
    return out


def last_user_message(messages: Sequence[Message]) -> str:
    """The content of the last user message ('' when there is none)."""
    for m in reversed(messages):
        if m["role"] == "user":
            return m["content"]
    return ""


def batch_kwargs(request: str | Sequence[Any] | dict[str, Any]) -> dict[str, Any]:
    """One request of `complete_many`: a messages list (or string), or a dict of `complete` keyword arguments."""
    if isinstance(request, dict) and "messages" in request:
        return dict(request)
    if isinstance(request, dict):
        raise LLMError(
            f"a batch request dict needs a 'messages' key (got keys {sorted(request)}); pass a messages list, "
            "a string, or a dict of complete() keyword arguments"
        )
    return {"messages": request}
