"""Finding the longest prompt prefix a new sequence shares with one already in the KV cache (or about to be).

An evaluation sends the same instruction and demos with every example; the sequences that share them share
the prefix's KV cells (llama_memory_seq_cp), so the prefix is computed once instead of once per example.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")
MIN_SHARE = 8  # fewer shared tokens are not worth waiting for another sequence's prefill


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def best_donor(prompt: Sequence[int], candidates: Iterable[tuple[T, Sequence[int]]]) -> tuple[T | None, int]:
    """The candidate whose tokens share the longest prefix with `prompt`, and that length. At least the
    prompt's last token is left to compute (its logits give the first reply token)."""
    cap = len(prompt) - 1
    best: T | None = None
    best_n = 0
    for candidate, tokens in candidates:
        n = min(common_prefix(prompt, tokens), cap)
        if n > best_n:
            best, best_n = candidate, n
    if best_n < MIN_SHARE:
        return None, 0
    return best, best_n
