"""One OptoPrime step with the embedded model through llama.cpp's real OpenAI-compatible server."""

from __future__ import annotations

import pytest

import optotrace as ot
from optotrace.llm import get_llm
from optotrace.optimizers import OptoPrime


@pytest.mark.xdist_group("llama_server")
def test_one_step_with_the_embedded_model_applies_a_valid_update(llama_server: str) -> None:
    # The server runs SmolLM2-135M: declared small, so OptoPrime uses its compact prompt.
    llm = get_llm("openai:smollm2", base_url=llama_server, cache=False, timeout=600, max_retries=1, small_model=True)
    x = ot.node(3.0, name="x", trainable=True, description="the unknown number")
    y = x * ot.node(2, name="k") + 5
    opt = OptoPrime([x], llm=llm, max_tokens=256)
    y.backward(f"y = {y.data:g} is too small: it should be larger.")
    update = opt.step()
    log = opt.logs[-1]
    assert update, f"no update applied: {log}"
    assert set(update) == {x} and isinstance(x.data, float)
    assert log["via"] in ("schema", "text") and not log["rejected"]
    assert llm.usage.calls >= 1
