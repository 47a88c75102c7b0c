"""openai:MODEL — the openai SDK against api.openai.com or any OpenAI-compatible server (`base_url=`)."""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any

from optotrace.llm.backends.formats import check_mode, response_format
from optotrace.llm.base import LLM
from optotrace.llm.errors import LLMConfigError, TransientLLMError
from optotrace.llm.pricing import price_per_token
from optotrace.llm.results import RawReply, Request
from optotrace.llm.tokens import count_openai_tokens, heuristic_tokens, messages_tokens

NO_KEY = "sk-no-key"


def is_official(base_url: str | None) -> bool:
    return base_url is None or "api.openai.com" in base_url


def chat_kwargs(request: Request, model: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": request.messages,
        "temperature": request.temperature,
    }
    if request.max_tokens is not None:
        kwargs["max_tokens"] = request.max_tokens
    if request.seed is not None:
        kwargs["seed"] = request.seed
    return kwargs


def reply_from_response(resp: Any, request: Request, model: str, count: Any) -> RawReply:
    """A RawReply from an OpenAI-style ChatCompletion; a body of another shape is a (retryable) server fault."""
    choices = getattr(resp, "choices", None)
    if not choices:
        raise TransientLLMError(f"the server sent a body that is not a chat completion: {str(resp)[:200]!r}")
    message = getattr(choices[0], "message", None)
    text = getattr(message, "content", None) or ""
    usage = getattr(resp, "usage", None)
    prompt = getattr(usage, "prompt_tokens", None)
    completion = getattr(usage, "completion_tokens", None)
    return RawReply(
        text,
        int(prompt) if prompt is not None else messages_tokens(request.messages, count),
        int(completion) if completion is not None else count(text),
        str(getattr(resp, "model", None) or model),
        getattr(choices[0], "finish_reason", None),
    )


class OpenAILLM(LLM):
    backend = "openai"
    credentials_hint = "Set OPENAI_API_KEY (or pass api_key=...) to a valid key for this server."

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        response_format: str = "auto",
        **options: Any,
    ) -> None:
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if not api_key:
            if self.base_url is None:
                raise LLMConfigError(
                    f"openai:{model} needs an API key: set OPENAI_API_KEY (or pass api_key=...); for an "
                    "OpenAI-compatible server that needs no key, pass base_url=... instead"
                )
            api_key = NO_KEY
        self._api_key = api_key
        mode = check_mode(response_format)
        if mode == "auto":
            mode = "json_schema" if is_official(self.base_url) else "json_object_schema"
        self.response_format_mode = mode
        options.setdefault("spec", f"openai:{model}")
        super().__init__(model, **options)
        self._client: Any = None
        self._aclients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def cache_identity(self) -> str:
        return "openai" if is_official(self.base_url) else f"openai@{self.base_url}"

    def _copy_attribute(self, name: str, value: Any, memo: dict[int, Any]) -> Any:
        if name == "_client":
            return None  # a copy opens its own connections, when it first needs them
        if name == "_aclients":
            return weakref.WeakKeyDictionary()
        return super()._copy_attribute(name, value, memo)

    def _default_price(self) -> tuple[float, float] | None:
        return price_per_token(self.model) if is_official(self.base_url) else None

    def count_tokens(self, text: str) -> int:
        return count_openai_tokens(text, self.model) if is_official(self.base_url) else heuristic_tokens(text)

    def _client_options(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": 0,
        }

    def _sync_client(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(**self._client_options())
        return self._client

    def _async_client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._aclients.get(loop)
        if client is None:
            import openai

            client = self._aclients[loop] = openai.AsyncOpenAI(**self._client_options())
        return client

    def _kwargs(self, request: Request) -> dict[str, Any]:
        kwargs = chat_kwargs(request, self.model)
        if is_official(self.base_url) and "max_tokens" in kwargs:  # the name OpenAI's newer models require
            kwargs["max_completion_tokens"] = kwargs.pop("max_tokens")
        if request.schema is not None:
            fmt = response_format(self.response_format_mode, request.schema, request.schema_name)
            if fmt is not None:
                kwargs["response_format"] = fmt
        return kwargs

    def _schema_rejected(self, exc: Exception, request: Request) -> bool:
        """A 400 for a json_schema request: the model lacks structured outputs; use JSON mode from now on."""
        if request.schema is None or self.response_format_mode != "json_schema":
            return False
        if getattr(exc, "status_code", None) != 400 or "response_format" not in str(exc):
            return False
        self.response_format_mode = "json_object"
        return True

    def _raw(self, request: Request) -> RawReply:
        client = self._sync_client()
        try:
            resp = client.chat.completions.create(**self._kwargs(request))
        except Exception as exc:
            if not self._schema_rejected(exc, request):
                raise
            resp = client.chat.completions.create(**self._kwargs(request))
        return reply_from_response(resp, request, self.model, self.count_tokens)

    async def _araw(self, request: Request) -> RawReply:
        client = self._async_client()
        try:
            resp = await client.chat.completions.create(**self._kwargs(request))
        except Exception as exc:
            if not self._schema_rejected(exc, request):
                raise
            resp = await client.chat.completions.create(**self._kwargs(request))
        return reply_from_response(resp, request, self.model, self.count_tokens)
