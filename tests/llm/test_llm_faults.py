"""The openai backend against a fault-injecting OpenAI-compatible server: retries, repair, no-retry cases."""

from __future__ import annotations

import logging

import pytest
from llm_servers import FakeOpenAIServer, hang, raw, reply, status
from pydantic import BaseModel

from optotrace.llm import LLMConfigError, LLMError, TransientLLMError, get_llm


class Suggestion(BaseModel):
    value: int
    reason: str


GOOD = {"value": 7, "reason": "seven is prime"}


def client(server: FakeOpenAIServer, **options: object):
    options = {"cache": False, "timeout": 1.0, "max_retries": 4, "retry_initial_wait": 0.01, **options}
    return get_llm("openai:any-model", base_url=server.base_url, **options)


def fault_sequence() -> list:
    return [
        status(429, "slow down", headers={"Retry-After": "1"}),
        status(500, "boom"),
        hang(5.0),
        raw('{"choices": [ this is not json'),
        raw("<html>Bad gateway</html>", content_type="text/html"),
        reply('{"value": "seven"}'),
        reply(GOOD),
    ]


def test_every_fault_then_the_right_object(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="optotrace.llm")
    with FakeOpenAIServer(fault_sequence()) as server:
        result = client(server, max_retries=5).complete("Suggest a value.", response_model=Suggestion)
    assert result.parsed == Suggestion(**GOOD)
    assert len(server.requests) == 7
    assert result.attempts == 7
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 5
    assert "retrying in 1.00 s" in retries[0]  # the server's Retry-After, not the backoff
    repair = server.requests[-1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"value": "seven"}'}
    assert "value" in repair[-1]["content"] and "reason" in repair[-1]["content"]


async def test_async_twin_survives_the_same_faults() -> None:
    with FakeOpenAIServer(fault_sequence()) as server:
        result = await client(server, max_retries=5).acomplete("Suggest a value.", response_model=Suggestion)
    assert result.parsed == Suggestion(**GOOD)
    assert len(server.requests) == 7


def test_auth_error_is_not_retried_and_says_what_to_set() -> None:
    server = FakeOpenAIServer([status(401, "invalid api key"), reply("never")])
    with server, pytest.raises(LLMConfigError, match="OPENAI_API_KEY"):
        client(server).complete("hi")
    assert len(server.requests) == 1


def test_bad_request_is_not_retried() -> None:
    server = FakeOpenAIServer([status(400, "unknown parameter"), reply("never")])
    with server, pytest.raises(LLMError, match="400") as info:
        client(server).complete("hi")
    assert not isinstance(info.value, TransientLLMError)
    assert len(server.requests) == 1


def test_gives_up_after_max_retries() -> None:
    server = FakeOpenAIServer([status(503)] * 5)
    with server, pytest.raises(LLMError, match="failed 3 times"):
        client(server, max_retries=2).complete("hi")
    assert len(server.requests) == 3


def test_plain_completion_reports_server_usage() -> None:
    with FakeOpenAIServer() as server:
        result = client(server).complete([{"role": "user", "content": "echo me"}])
    assert result.text == "echo me"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (11, 7)
    assert not result.cached


def test_litellm_backend_retries_through_the_same_faults() -> None:
    steps = [status(429, "slow down", headers={"Retry-After": "0"}), status(500), reply(GOOD)]
    with FakeOpenAIServer(steps) as server:
        llm = get_llm(
            "litellm:openai/any-model",
            api_base=server.base_url,
            cache=False,
            timeout=2.0,
            retry_initial_wait=0.01,
        )
        result = llm.complete("Suggest a value.", response_model=Suggestion)
    assert result.parsed == Suggestion(**GOOD)
    assert len(server.requests) == 3


def test_litellm_auth_error_is_not_retried() -> None:
    with FakeOpenAIServer([status(401, "invalid api key"), reply("never")]) as server:
        llm = get_llm(
            "litellm:openai/any-model", api_base=server.base_url, cache=False, retry_initial_wait=0.01
        )
        with pytest.raises(LLMConfigError, match="API key"):
            llm.complete("hi")
    assert len(server.requests) == 1
