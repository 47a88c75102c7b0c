"""The default embedded model (`local`: Qwen2.5-Coder-0.5B-Instruct, assembled from its chunk packages and
verified) runs one real OptoPrime step in-process. The only test that uses it: the others use SmolLM2."""

from __future__ import annotations

import importlib.util

import pytest

import optotrace as ot
from optotrace.llm import LLMConfigError, get_llm
from optotrace.llm.model_catalog import CATALOG, DEFAULT_MODEL
from optotrace.llm.model_files import is_verified
from optotrace.optimizers import OptoPrime


@pytest.mark.slow
@pytest.mark.xdist_group("llama_server")
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed")
def test_one_step_with_the_default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTOTRACE_LOCAL_MODEL", raising=False)
    try:
        llm = get_llm("local", cache=False, n_threads=2, max_retries=1)
    except LLMConfigError as exc:
        pytest.skip(f"the default model is not installed: {exc}")
    entry = CATALOG[DEFAULT_MODEL]
    assert llm.model_path.name == entry.filename and llm.spec == "local"
    assert is_verified(llm.model_path, entry.size, entry.sha256)

    x = ot.node(3.0, name="x", trainable=True, description="the unknown number")
    y = x * ot.node(2, name="k") + 5
    opt = OptoPrime([x], llm=llm, max_tokens=256)
    y.backward(f"y = {y.data:g} is too small: it should be at least 20, so x must grow.")
    update = opt.step()
    assert update, f"no update applied: {opt.logs[-1]}"
    assert set(update) == {x} and isinstance(x.data, float)
    assert llm.usage.calls >= 1
