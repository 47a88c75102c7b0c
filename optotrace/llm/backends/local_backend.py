"""local — the embedded model run in-process by llama-cpp-python.

A structured request is held to its schema by a GBNF grammar (grammar.py). The model is loaded once per process
(per file and engine settings), lazily on first use, with as many threads as the machine has cores. Calls from
any number of threads (complete_many, evaluation workers) are decoded together by the model's scheduler
(optotrace/llm/local/): one batch of sequences per decode step, a shared prompt prefix computed once.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optotrace.llm.base import LLM
from optotrace.llm.embedded import local_model_path
from optotrace.llm.grammar import compile_grammar
from optotrace.llm.local.model import EngineConfig, LoadedModel
from optotrace.llm.local.sampling import Sampling, make_sampler
from optotrace.llm.local.scheduler import Scheduler
from optotrace.llm.local.sequence import Sequence
from optotrace.llm.results import RawReply, Request

DEFAULT_MAX_TOKENS = 512  # a tiny model can ramble until the context is full; cap it unless told otherwise


@dataclass
class _Loaded:
    model: LoadedModel
    scheduler: Scheduler


_models: dict[tuple[str, EngineConfig], _Loaded] = {}
_models_lock = threading.Lock()


def load_model(path: Path, config: EngineConfig) -> _Loaded:
    key = (str(path), config)
    with _models_lock:
        if key not in _models:
            model = LoadedModel(path, config)
            if not _models:
                atexit.register(close_models)
            _models[key] = _Loaded(model, Scheduler(model))
        return _models[key]


def close_models() -> None:
    """Free every loaded model (at exit, before interpreter teardown makes llama.cpp's finalizers fail)."""
    with _models_lock:
        for loaded in _models.values():
            loaded.scheduler.close()
            loaded.model.close()
        _models.clear()


class LocalLLM(LLM):
    """Options beyond LLM's: n_ctx (tokens one request may hold), n_threads, default_max_tokens, max_batch
    (sequences decoded together) and kv_cells (KV cache cells the batch shares; default n_ctx, the memory one sequence had before)."""

    backend = "local"
    small_by_default = True  # the embedded models are small: compact prompts unless declared otherwise

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        max_batch: int = 16,
        kv_cells: int | None = None,
        **options: Any,
    ) -> None:
        self.model_path = local_model_path(model_path)
        self.n_ctx = int(n_ctx)
        self.n_threads = int(n_threads or os.cpu_count() or 1)
        self.default_max_tokens = default_max_tokens
        self.engine_config = EngineConfig(
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            max_seqs=max(1, int(max_batch)),
            kv_cells=max(self.n_ctx, int(kv_cells or self.n_ctx)),
        )
        options.setdefault("spec", "local" if model_path is None else f"local:{model_path}")
        super().__init__(self.model_path.stem, **options)

    @property
    def cache_identity(self) -> str:
        return f"local@{self.model_path.name}"

    def _default_price(self) -> tuple[float, float] | None:
        return (0.0, 0.0)  # runs on this machine: free

    def _loaded(self) -> _Loaded:
        return load_model(self.model_path, self.engine_config)

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        return len(self._loaded().model.tokenize(text))

    def _sequence(self, request: Request) -> Sequence:
        model = self._loaded().model
        prompt, stop = model.chat_prompt(request.messages)
        grammar = compile_grammar(request.schema) if request.schema is not None else None
        sampler = make_sampler(model.model, Sampling(request.temperature, request.seed, grammar))
        return Sequence(
            prompt,
            max_tokens=request.max_tokens or self.default_max_tokens,
            n_ctx=self.n_ctx,
            stop=stop,
            sampler=sampler,
            label=request.schema_name or "",
        )

    def _raw(self, request: Request) -> RawReply:
        seq = self._sequence(request)
        reply = self._loaded().scheduler.run(seq)
        return RawReply(reply.text, reply.prompt_tokens, reply.completion_tokens, self.model, reply.finish_reason)
