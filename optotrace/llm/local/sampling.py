"""Each sequence's own sampler: llama-cpp-python's chat-completion defaults (top_k 40, top_p 0.95, min_p 0.05,
then the temperature and a seeded draw), greedy at temperature 0, and a GBNF grammar first when the request
has a schema. A plain greedy sequence needs no sampler at all: the scheduler takes the argmax of its logits,
which is what llama.cpp's greedy sampler picks (the first of equal maxima)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optotrace.llm.grammar import GrammarError

TOP_K, TOP_P, MIN_P = 40, 0.95, 0.05


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.0
    seed: int | None = None
    grammar: str | None = None  # GBNF, root rule "root"
    top_k: int = TOP_K
    top_p: float = TOP_P
    min_p: float = MIN_P


def make_sampler(model: Any, sampling: Sampling) -> Any | None:
    """A llama.cpp sampler chain for `sampling`, or None where argmax over the logits is the same thing."""
    if sampling.grammar is None and sampling.temperature <= 0:
        return None
    import llama_cpp
    from llama_cpp import _internals as internals

    chain = internals.LlamaSampler()
    if sampling.grammar is not None:
        grammar = llama_cpp.llama_sampler_init_grammar(model.vocab, sampling.grammar.encode("utf-8"), b"root")
        if not grammar:
            chain.close()
            raise GrammarError(f"llama.cpp could not parse the grammar: {sampling.grammar[:300]}")
        llama_cpp.llama_sampler_chain_add(chain.sampler, grammar)
    if sampling.temperature <= 0:
        chain.add_greedy()
    else:
        chain.add_top_k(sampling.top_k)
        chain.add_typical(1.0, 1)
        chain.add_top_p(sampling.top_p, 1)
        chain.add_min_p(sampling.min_p, 1)
        chain.add_temp(sampling.temperature)
        chain.add_dist(llama_cpp.LLAMA_DEFAULT_SEED if sampling.seed is None else int(sampling.seed) & 0xFFFFFFFF)
    return chain
