"""local — the embedded model run in-process by llama-cpp-python.

A structured request is held to its schema by a GBNF grammar (grammar.py). The model is loaded once per process (per file and context size), lazily on first use, with as many threads
as the machine has cores. llama.cpp contexts are not thread-safe, so calls into one model take its lock.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optotrace.llm.base import LLM
from optotrace.llm.embedded import local_model_path
from optotrace.llm.errors import LLMConfigError
from optotrace.llm.grammar import compile_grammar
from optotrace.llm.results import RawReply, Request
from optotrace.llm.tokens import messages_tokens

DEFAULT_MAX_TOKENS = 512  # a tiny model can ramble until the context is full; cap it unless told otherwise


@dataclass
class _Loaded:
    model: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


_models: dict[tuple[str, int, int], _Loaded] = {}
_models_lock = threading.Lock()


def load_model(path: Path, n_ctx: int, n_threads: int) -> _Loaded:
    key = (str(path), n_ctx, n_threads)
    with _models_lock:
        if key not in _models:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise LLMConfigError(
                    "the local backend needs llama-cpp-python: `pip install 'optotrace[local]'` (or `make install`)"
                ) from exc
            try:
                model = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
            except Exception as exc:  # llama.cpp reports a bad file as a ValueError
                raise LLMConfigError(f"cannot load the model {path}: {exc}") from exc
            if not _models:
                atexit.register(close_models)
            _models[key] = _Loaded(model)
        return _models[key]


def close_models() -> None:
    """Free every loaded model (at exit, before interpreter teardown makes llama.cpp's finalizers fail)."""
    with _models_lock:
        for loaded in _models.values():
            with loaded.lock:
                loaded.model.close()
        _models.clear()


class LocalLLM(LLM):
    backend = "local"
    small_by_default = True  # the embedded models are small: compact prompts unless declared otherwise

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        **options: Any,
    ) -> None:
        self.model_path = local_model_path(model_path)
        self.n_ctx = int(n_ctx)
        self.n_threads = int(n_threads or os.cpu_count() or 1)
        self.default_max_tokens = default_max_tokens
        options.setdefault("spec", "local" if model_path is None else f"local:{model_path}")
        super().__init__(self.model_path.stem, **options)

    @property
    def cache_identity(self) -> str:
        return f"local@{self.model_path.name}"

    def _default_price(self) -> tuple[float, float] | None:
        return (0.0, 0.0)  # runs on this machine: free

    def _loaded(self) -> _Loaded:
        return load_model(self.model_path, self.n_ctx, self.n_threads)

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        loaded = self._loaded()
        with loaded.lock:
            return len(loaded.model.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _raw(self, request: Request) -> RawReply:
        kwargs: dict[str, Any] = {
            "messages": request.messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens or self.default_max_tokens,
        }
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.schema is not None:
            # our own grammar, not response_format: llama-cpp-python falls back to free JSON when its
            # conversion fails; compile_grammar raises instead
            from llama_cpp import LlamaGrammar

            kwargs["grammar"] = LlamaGrammar.from_string(compile_grammar(request.schema), verbose=False)
        loaded = self._loaded()
        with loaded.lock:
            resp = loaded.model.create_chat_completion(**kwargs)
        text = resp["choices"][0]["message"].get("content") or ""
        usage = resp.get("usage") or {}
        return RawReply(
            text,
            int(usage.get("prompt_tokens") or messages_tokens(request.messages, self.count_tokens)),
            int(usage.get("completion_tokens") or self.count_tokens(text)),
            self.model,
            resp["choices"][0].get("finish_reason"),
        )
