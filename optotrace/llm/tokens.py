"""Token counts without the network: tiktoken when its encoding is already on disk, else ~4 characters a token.

tiktoken downloads its BPE files on first use; `offline_encoding` only loads one whose file is already cached,
so counting never waits on (or fails for) the network.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import tempfile
from collections.abc import Iterable
from typing import Any

from optotrace.llm.results import Message

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
MESSAGE_OVERHEAD = 4  # role markers and separators the chat template adds around each message


def heuristic_tokens(text: str) -> int:
    """About four characters per token: good enough for budgets and estimates."""
    return math.ceil(len(text) / 4) if text else 0


def _tiktoken_cache_dir() -> str:
    return (
        os.environ.get("TIKTOKEN_CACHE_DIR")
        or os.environ.get("DATA_GYM_CACHE_DIR")
        or os.path.join(tempfile.gettempdir(), "data-gym-cache")
    )


@functools.lru_cache(maxsize=8)
def offline_encoding(name: str) -> Any | None:
    """The tiktoken encoding `name` if tiktoken is installed and its file is cached locally, else None."""
    key = hashlib.sha1(_BLOB.format(name).encode()).hexdigest()
    if not os.path.exists(os.path.join(_tiktoken_cache_dir(), key)):
        return None
    try:
        import tiktoken

        return tiktoken.get_encoding(name)
    except Exception:  # a broken cache file or an old tiktoken: fall back to the heuristic
        return None


def openai_encoding_name(model: str) -> str:
    base = model.rsplit("/", 1)[-1]
    return (
        "o200k_base" if base.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")) else "cl100k_base"
    )


def count_openai_tokens(text: str, model: str) -> int:
    enc = offline_encoding(openai_encoding_name(model))
    return len(enc.encode(text, disallowed_special=())) if enc is not None else heuristic_tokens(text)


def messages_tokens(messages: Iterable[Message], count: Any) -> int:
    """Prompt tokens of a chat, given a per-text counter."""
    return sum(count(m["content"]) + MESSAGE_OVERHEAD for m in messages) + 2
