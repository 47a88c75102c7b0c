"""Shared pytest fixtures.

- Every test session gets its own LLM cache directory (OPTOTRACE_CACHE_DIR), unless one is set on purpose,
  so tests never read or write the user's ~/.cache/optotrace.
- `llama_server` (session): the base URL (http://127.0.0.1:PORT/v1) of llama.cpp's OpenAI-compatible server
  running SmolLM2-135M (`local:smollm2`: small and fast; one test runs the default 0.5B model in-process,
  tests/llm/test_llm_default_model.py). Mark tests that use it `@pytest.mark.xdist_group("llama_server")` so that,
  under `pytest -n 2 --dist loadgroup`, one worker starts one server for all of them.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest
from llm_servers import start_llama_server


@pytest.fixture(scope="session", autouse=True)
def _isolated_llm_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if os.environ.get("OPTOTRACE_CACHE_DIR"):
        yield
        return
    os.environ["OPTOTRACE_CACHE_DIR"] = str(tmp_path_factory.mktemp("llm-cache"))
    try:
        yield
    finally:
        os.environ.pop("OPTOTRACE_CACHE_DIR", None)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from optotrace.llm import LLMConfigError, local_model_path

    try:
        model = local_model_path("smollm2")
    except LLMConfigError as exc:
        pytest.skip(f"no embedded model: {exc}")
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("uvicorn") is None:
        pytest.skip(
            "llama.cpp's server is not installed: pip install 'llama-cpp-python[server]' (make install)"
        )
    server = start_llama_server(model, tmp_path_factory.mktemp("llama-server") / "server.log")
    try:
        yield server.base_url
    finally:
        server.stop()
