"""get_llm(spec, **options): one entry point for every backend.

Specs: "local" (the default embedded model; "local:smollm2", "local:qwen1.5b" or "local:PATH.gguf"), "openai:MODEL", "litellm:PROVIDER/MODEL", "scripted" (options
replies=, rules=, fn=) or "scripted:PATH.jsonl". No spec: OPTOTRACE_MODEL, else "local".
"""

from __future__ import annotations

import inspect
import os
from typing import Any

from optotrace.llm.base import LLM
from optotrace.llm.errors import LLMConfigError

SPEC_FORMS = (
    "'local', 'local:NAME' (qwen0.5b, qwen1.5b, smollm2), 'local:PATH.gguf', 'openai:MODEL', 'litellm:PROVIDER/MODEL', 'scripted', 'scripted:PATH.jsonl'"
)


def get_llm(spec: str | LLM | None = None, **options: Any) -> LLM:
    if isinstance(spec, LLM):
        return spec
    spec = (spec or os.environ.get("OPTOTRACE_MODEL") or "local").strip()
    kind, _, rest = spec.partition(":")
    try:
        if kind == "local":
            from optotrace.llm.backends.local_backend import LocalLLM

            return LocalLLM(rest or None, **options)
        if kind == "scripted":
            from optotrace.llm.backends.scripted import ScriptedLLM

            return ScriptedLLM.from_jsonl(rest, **options) if rest else ScriptedLLM(**options)
        if kind in ("openai", "litellm") and not rest:
            raise LLMConfigError(f"spec {spec!r} names no model; use {kind}:MODEL")
        if kind == "openai":
            from optotrace.llm.backends.openai_backend import OpenAILLM

            return OpenAILLM(rest, **options)
        if kind == "litellm":
            from optotrace.llm.backends.litellm_backend import LiteLLM

            return LiteLLM(rest, **options)
    except TypeError as exc:  # an option this backend does not take
        if "argument" not in str(exc):
            raise
        raise LLMConfigError(f"get_llm({spec!r}): {exc}; {_options_hint()}") from exc
    raise LLMConfigError(f"unknown LLM spec {spec!r}; use one of {SPEC_FORMS} (or set OPTOTRACE_MODEL)")


def _options_hint() -> str:
    names = [p for p in inspect.signature(LLM.__init__).parameters if p not in ("self", "model", "spec")]
    return f"options every backend takes: {', '.join(names)}"
