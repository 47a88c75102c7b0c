"""Load a .gguf model with one llama.cpp context that holds several sequences in a single (unified) KV cache.

The KV cache has `kv_cells` cells shared by every sequence; a sequence may use up to `n_ctx` of them (the
per-request context, as before). Sequences that share a prompt prefix share its cells (see prefix.py).
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optotrace.llm.errors import LLMConfigError


@dataclass(frozen=True)
class EngineConfig:
    n_ctx: int = 4096  # the most tokens one sequence may hold (prompt and reply)
    n_threads: int = 1
    max_seqs: int = 16  # sequences decoded together
    kv_cells: int = 8192  # KV cache cells shared by all sequences
    n_batch: int = 512  # tokens per llama_decode call
    keep_finished: int = 4  # finished sequences kept in the cache for their prefix


class LoadedModel:
    """The weights, the context and the chat template of one model file; used from the scheduler thread
    (decoding) and from any thread (tokenizing, which reads only the vocabulary)."""

    def __init__(self, path: Path, config: EngineConfig) -> None:
        try:
            import llama_cpp
            from llama_cpp import _internals as internals
        except ImportError as exc:
            raise LLMConfigError(
                "the local backend needs llama-cpp-python: `pip install 'optotrace[local]'` (or `make install`)"
            ) from exc
        from llama_cpp._logger import set_verbose

        set_verbose(False)  # llama.cpp logs every graph it builds otherwise, and printing them costs more than decoding
        self.path = path
        self.config = config
        self.lib = llama_cpp
        try:
            self.model = internals.LlamaModel(
                path_model=str(path), params=llama_cpp.llama_model_default_params(), verbose=False
            )
        except Exception as exc:  # llama.cpp reports a bad file as a ValueError
            raise LLMConfigError(f"cannot load the model {path}: {exc}") from exc
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = config.kv_cells
        params.n_batch = params.n_ubatch = config.n_batch
        params.n_threads = params.n_threads_batch = config.n_threads
        # one id per running sequence, one per kept finished sequence, and one spare for a preempted one
        params.n_seq_max = min(config.max_seqs + config.keep_finished + 1, llama_cpp.llama_max_parallel_sequences())
        params.kv_unified = True  # one cache: a shared prefix's cells belong to several sequences at once
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.no_perf = True
        try:
            self.context = internals.LlamaContext(model=self.model, params=params, verbose=False)
        except Exception as exc:
            self.model.close()
            raise LLMConfigError(f"cannot create a llama.cpp context for {path}: {exc}") from exc
        self.n_seq_ids = int(params.n_seq_max)
        self.n_vocab = self.model.n_vocab()
        self.memory = llama_cpp.llama_get_memory(self.context.ctx)
        self.formatter = _chat_formatter(self.model)
        self.lock = threading.Lock()  # held by the scheduler for each decode step, and by close()
        self.closed = False

    # -- tokens ------------------------------------------------------------------------------------------
    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        return list(self.model.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def chat_prompt(self, messages: list[dict[str, str]]) -> tuple[list[int], list[str]]:
        """The prompt tokens for `messages` and the template's stop strings, as llama-cpp-python's chat
        completion builds them (so answers match what the model gave before batching)."""
        result = self.formatter(messages=messages)
        tokens = self.model.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        stop = result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        return list(tokens), [s for s in stop if s]

    def piece(self, token: int) -> bytes:
        buf = (ctypes.c_char * 64)()
        n = self.lib.llama_token_to_piece(self.model.vocab, token, buf, 64, 0, False)
        return bytes(buf[: max(n, 0)])

    def is_end(self, token: int) -> bool:
        return bool(self.lib.llama_vocab_is_eog(self.model.vocab, token))

    # -- the KV cache --------------------------------------------------------------------------------------
    def kv_bytes(self) -> int:
        """Bytes of the KV cache the batch shares: keys and values (f16) of every layer for every cell."""
        lib, m = self.lib, self.model.model
        head_dim = lib.llama_model_n_embd(m) // max(1, lib.llama_model_n_head(m))
        per_cell = lib.llama_model_n_layer(m) * lib.llama_model_n_head_kv(m) * head_dim * 2 * 2
        return int(self.config.kv_cells) * per_cell

    def forget(self, seq_id: int) -> None:
        self.lib.llama_memory_seq_rm(self.memory, seq_id, -1, -1)

    def share(self, src: int, dst: int, n_tokens: int) -> None:
        """Let `dst` use `src`'s cells for positions [0, n_tokens): no copy, the cells gain a sequence id."""
        self.lib.llama_memory_seq_cp(self.memory, src, dst, 0, n_tokens)

    def close(self) -> None:
        with self.lock:
            if not self.closed:
                self.closed = True
                self.context.close()
                self.model.close()


def _chat_formatter(model: Any) -> Any:
    from llama_cpp import llama_chat_format

    metadata = model.metadata()
    template = metadata.get("tokenizer.chat_template")
    if not template:
        return llama_chat_format.format_chatml
    eos, bos = model.token_eos(), model.token_bos()
    return llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=model.token_get_text(eos) if eos != -1 else "",
        bos_token=model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )
