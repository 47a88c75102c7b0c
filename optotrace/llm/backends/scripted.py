"""ScriptedLLM: deterministic replies for tests and demos, through the same pipeline as a real model.

Three ways to script it (combinable; tried in this order):
  ScriptedLLM(fn)                              fn(messages) -> reply
  ScriptedLLM(rules=[(regex, reply), ...])     the first rule whose regex matches the last user message
  ScriptedLLM(replies=[...]) / ScriptedLLM([...])  replies in order
A reply is a string, a dict or list (sent as JSON), a pydantic object (sent as JSON), a callable of the
messages, or an exception instance (raised). `.requests` records every request received. Like a server, a
reply longer than the request's max_tokens is cut there, with finish reason "length".
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from optotrace.llm.base import LLM
from optotrace.llm.errors import LLMConfigError, LLMError
from optotrace.llm.messages import last_user_message
from optotrace.llm.results import Message, RawReply, Request
from optotrace.llm.tokens import count_openai_tokens, messages_tokens, offline_encoding, openai_encoding_name

Reply = Any  # str | dict | list | BaseModel | Callable[[list[Message]], Any] | BaseException


class ScriptedLLM(LLM):
    backend = "scripted"
    cache_by_default = False  # a script is its own source of truth; pass cache=... to cache it anyway

    def __init__(
        self,
        script: Callable[[list[Message]], Reply] | Sequence[Reply] | None = None,
        *,
        replies: Iterable[Reply] | None = None,
        rules: Iterable[tuple[str, Reply]] | None = None,
        fn: Callable[[list[Message]], Reply] | None = None,
        model: str = "scripted",
        spec: str | None = None,
        **options: Any,
    ) -> None:
        if callable(script):
            fn = script
        elif script is not None:
            replies = [*script, *(replies or [])]
        self._fn = fn
        self._replies: deque[Reply] = deque(replies or [])
        self._rules: list[tuple[re.Pattern[str], Reply]] = []
        for pattern, reply in rules or []:
            try:
                self._rules.append((re.compile(pattern, re.DOTALL), reply))
            except re.error as exc:
                raise LLMConfigError(
                    f"ScriptedLLM rule pattern {pattern!r} is not a valid regex: {exc}"
                ) from exc
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        super().__init__(model, spec=spec or "scripted", **options)

    @classmethod
    def from_jsonl(cls, path: str | Path, **options: Any) -> ScriptedLLM:
        """Each line is {"reply": ...} (replies in order) or {"pattern": REGEX, "reply": ...} (a rule)."""
        path = Path(path).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise LLMConfigError(
                f"cannot read the script {path}: {exc}; check the path after 'scripted:'"
            ) from exc
        replies: list[Reply] = []
        rules: list[tuple[str, Reply]] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise LLMConfigError(f"{path}:{number} is not valid JSON ({exc})") from exc
            if not isinstance(item, dict) or "reply" not in item:
                raise LLMConfigError(
                    f'{path}:{number} must be an object {{"reply": ...}} or {{"pattern": ..., "reply": ...}}'
                )
            if "pattern" in item:
                rules.append((str(item["pattern"]), item["reply"]))
            else:
                replies.append(item["reply"])
        return cls(replies=replies, rules=rules, spec=f"scripted:{path}", **options)

    @property
    def remaining(self) -> int:
        """Replies still queued (rules and functions never run out)."""
        return len(self._replies)

    def count_tokens(self, text: str) -> int:
        return count_openai_tokens(text, "gpt-4")

    def _raw(self, request: Request) -> RawReply:
        with self._lock:
            self.requests.append(
                {
                    "messages": request.messages,
                    "temperature": request.temperature,
                    "max_tokens": request.max_tokens,
                    "seed": request.seed,
                    "response_model": request.schema_name,
                    "schema": request.schema,
                }
            )
            number = len(self.requests)
            reply = self._pick(request.messages, number)
        text, finish = _within(_as_text(reply, request.messages), request.max_tokens)
        prompt = messages_tokens(request.messages, self.count_tokens)
        return RawReply(text, prompt, self.count_tokens(text), self.model, finish)

    def _pick(self, messages: list[Message], number: int) -> Reply:
        if self._fn is not None:
            return self._fn
        last = last_user_message(messages)
        for pattern, reply in self._rules:
            if pattern.search(last):
                return reply
        if self._replies:
            return self._replies.popleft()
        what = "no rule matches and no scripted reply is left" if self._rules else "no scripted reply is left"
        raise LLMError(
            f"ScriptedLLM: {what} for request #{number} (last user message: {last[:200]!r}); "
            "add replies or a catch-all rule such as ('.*', reply)"
        )


def _within(text: str, max_tokens: int | None) -> tuple[str, str]:
    """The reply as a server sends it under `max_tokens`: cut at the limit with finish reason "length"."""
    if max_tokens is None or count_openai_tokens(text, "gpt-4") <= max_tokens:
        return text, "stop"
    enc = offline_encoding(openai_encoding_name("gpt-4"))
    if enc is None:
        return text[: max_tokens * 4], "length"
    return enc.decode(enc.encode(text, disallowed_special=())[:max_tokens]), "length"


def _as_text(reply: Reply, messages: list[Message]) -> str:
    if isinstance(reply, BaseException):
        raise reply
    if callable(reply) and not isinstance(reply, type):
        reply = reply(messages)
        if isinstance(reply, BaseException):
            raise reply
    if isinstance(reply, BaseModel):
        return reply.model_dump_json()
    if isinstance(reply, (dict, list)):
        return json.dumps(reply)
    return str(reply)
