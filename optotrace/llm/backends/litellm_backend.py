"""litellm:PROVIDER/MODEL — every provider litellm knows, through litellm.completion / acompletion.

litellm is imported here only, with LITELLM_LOCAL_MODEL_COST_MAP=True set first so it never fetches its
price list from the network. `api_base=` (alias `base_url=`) routes it to any compatible server.
"""

from __future__ import annotations

import os
from typing import Any

from optotrace.llm.backends.formats import check_mode, response_format
from optotrace.llm.backends.openai_backend import chat_kwargs, reply_from_response
from optotrace.llm.base import LLM
from optotrace.llm.errors import LLMConfigError
from optotrace.llm.pricing import price_per_token
from optotrace.llm.results import RawReply, Request
from optotrace.llm.tokens import count_openai_tokens, heuristic_tokens

NO_KEY = "sk-no-key"


def import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError as exc:
        raise LLMConfigError("litellm:... specs need the litellm package: `pip install litellm`") from exc
    litellm.suppress_debug_info = True
    return litellm


class LiteLLM(LLM):
    backend = "litellm"
    credentials_hint = (
        "Set the provider's API key variable (e.g. OPENAI_API_KEY, ANTHROPIC_API_KEY) or pass api_key=."
    )

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        response_format: str = "auto",
        **options: Any,
    ) -> None:
        if "/" not in model:
            raise LLMConfigError(
                f"litellm spec needs PROVIDER/MODEL (e.g. litellm:anthropic/claude-3-5-haiku-latest), got {model!r}"
            )
        self.api_base = api_base or base_url
        self._litellm = import_litellm()
        if api_key is None and self.api_base is not None and model.startswith("openai/"):
            api_key = os.environ.get("OPENAI_API_KEY") or NO_KEY
        if api_key is None and self.api_base is None:
            check = self._litellm.validate_environment(model=model)
            missing = check.get("missing_keys") or []
            if missing:
                raise LLMConfigError(
                    f"litellm:{model} needs {', '.join(missing)}: set it in the environment (or pass api_key=)"
                )
        self._api_key = api_key
        mode = check_mode(response_format)
        if mode == "auto":
            mode = "json_schema" if self.api_base is None else "json_object_schema"
        self.response_format_mode = mode
        options.setdefault("spec", f"litellm:{model}")
        super().__init__(model, **options)

    @property
    def cache_identity(self) -> str:
        return "litellm" if self.api_base is None else f"litellm@{self.api_base}"

    def _default_price(self) -> tuple[float, float] | None:
        return price_per_token(self.model) if self.api_base is None else None

    def count_tokens(self, text: str) -> int:
        if self.api_base is None and self.model.startswith("openai/"):
            return count_openai_tokens(text, self.model)
        return heuristic_tokens(text)

    def _kwargs(self, request: Request) -> dict[str, Any]:
        kwargs = chat_kwargs(request, self.model)
        kwargs.update(timeout=self.timeout, num_retries=0, max_retries=0)
        if self.api_base is not None:
            kwargs["api_base"] = self.api_base
        if self._api_key is not None:
            kwargs["api_key"] = self._api_key
        if request.schema is not None:
            fmt = response_format(self.response_format_mode, request.schema, request.schema_name)
            if fmt is not None:
                kwargs["response_format"] = fmt
        return kwargs

    def _raw(self, request: Request) -> RawReply:
        resp = self._litellm.completion(**self._kwargs(request))
        return reply_from_response(resp, request, self.model, self.count_tokens)

    async def _araw(self, request: Request) -> RawReply:
        resp = await self._litellm.acompletion(**self._kwargs(request))
        return reply_from_response(resp, request, self.model, self.count_tokens)
