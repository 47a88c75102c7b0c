"""Concurrent requests on an embedded model are decoded together (optotrace/llm/local/): each keeps its own
sampling, stop strings, max_tokens and grammar; one failing or cancelled request leaves the others alone and
frees its slot; at temperature 0 most batched replies equal the one-by-one replies (llama.cpp sums in another
order when the batch or the cache layout changes, which can flip a near-tie late in a reply)."""

from __future__ import annotations

import importlib.util
import time

import pytest
from pydantic import BaseModel

from optotrace.llm import get_llm
from optotrace.llm.local.sequence import Cancelled, Sequence

pytestmark = [
    pytest.mark.xdist_group("llama_server"),
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"),
]

INSTRUCTION = "You are a terse assistant. Answer in one short sentence."
QUESTIONS = [f"Name a fruit whose name starts with the letter {c}." for c in "ABCDEFGH"]


class Fruit(BaseModel):
    name: str
    color: str


@pytest.fixture(scope="module")
def local():
    try:
        llm = get_llm("local:smollm2", cache=False, n_threads=1)
        llm.complete("hi", max_tokens=1)
        return llm
    except Exception as exc:
        pytest.skip(f"embedded model unavailable: {exc}")


def _messages(q: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": q}]


def _sequence(local, q: str, **kw) -> Sequence:
    prompt, stop = local._loaded().model.chat_prompt(_messages(q))
    return Sequence(prompt, max_tokens=kw.pop("max_tokens", 16), n_ctx=local.n_ctx, stop=kw.pop("stop", stop),
                    sampler=kw.pop("sampler", None))


def test_batched_replies_match_one_by_one_at_temperature_zero(local) -> None:
    one = [local.complete(_messages(q), max_tokens=16) for q in QUESTIONS]
    many = local.complete_many([{"messages": _messages(q), "max_tokens": 16} for q in QUESTIONS], concurrency=8)
    same = sum(a.text == b.text for a, b in zip(one, many, strict=True))
    assert same >= 6, [(a.text, b.text) for a, b in zip(one, many, strict=True)]  # measured: 7 or 8 of 8
    for a, b in zip(one, many, strict=True):  # usage per request is unchanged by batching
        assert a.usage.prompt_tokens == b.usage.prompt_tokens
    assert local._loaded().scheduler.active() == 0


def test_each_request_keeps_its_own_limits_and_grammar(local) -> None:
    requests = [
        {"messages": _messages("Count from one to twenty."), "max_tokens": 5},
        {"messages": _messages("Invent a fruit: its name and its color."), "response_model": Fruit, "max_tokens": 64},
        {"messages": _messages("Count from one to twenty."), "max_tokens": 40, "temperature": 0.8, "seed": 7},
    ]
    short, structured, sampled = local.complete_many(requests, concurrency=3)
    assert short.usage.completion_tokens == 5 and short.finish_reason == "length"
    assert isinstance(structured.parsed, Fruit)
    assert 0 < sampled.usage.completion_tokens <= 40


def test_a_stop_string_ends_only_its_own_sequence(local) -> None:
    scheduler = local._loaded().scheduler
    plain = _sequence(local, QUESTIONS[1], max_tokens=24)
    stopped = _sequence(local, QUESTIONS[1], max_tokens=24, stop=[" "])
    for seq in (plain, stopped):
        scheduler.submit(seq)
    a, b = plain.future.result(60), stopped.future.result(60)
    assert " " in a.text.strip()  # the other sequence's stop string does not end this one
    assert " " not in b.text and b.finish_reason == "stop" and len(b.text) < len(a.text)


class _Broken:
    def sample(self, ctx, index):  # noqa: ARG002
        raise RuntimeError("this sampler is broken")

    def reset(self) -> None:
        pass


def test_a_failing_request_does_not_stop_the_others(local) -> None:
    scheduler = local._loaded().scheduler
    seqs = [_sequence(local, q) for q in QUESTIONS[:3]]
    seqs.insert(1, _sequence(local, QUESTIONS[3], sampler=_Broken()))
    for seq in seqs:
        scheduler.submit(seq)
    with pytest.raises(RuntimeError, match="broken"):
        seqs[1].future.result(60)
    for seq in seqs[:1] + seqs[2:]:
        assert seq.future.result(60).completion_tokens > 0
    assert scheduler.active() == 0 and scheduler.used_ids() == 0


def test_a_cancelled_sequence_frees_its_slot(local) -> None:
    scheduler = local._loaded().scheduler
    seq = scheduler.submit(_sequence(local, "Write a long story about a dragon.", max_tokens=400))
    deadline = time.monotonic() + 60
    while seq.generated < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    seq.cancel()
    with pytest.raises(Cancelled):
        seq.future.result(60)
    assert scheduler.active() == 0 and scheduler.used_ids() == 0
    assert local.complete(_messages(QUESTIONS[0]), max_tokens=4).text  # the engine goes on
