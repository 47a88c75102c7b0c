"""copy.deepcopy of optimizers: a copy taken together with its agent optimizes the copy's parameters."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import OPRO, OptoPrime, TextGrad


def _llm() -> ScriptedLLM:
    counter = itertools.count(1)

    def script(messages: list[dict[str, Any]]) -> str:
        n = next(counter)
        return json.dumps({"reasoning": "change it", "suggestion": {"prompt": f"version {n}"}})

    return ScriptedLLM(script)


@pytest.mark.parametrize("kind", [OptoPrime, OPRO, TextGrad])
def test_deepcopy_of_an_optimizer_with_its_parameters(kind) -> None:
    prompt = ot.node("draft", name="prompt", trainable=True)
    llm = _llm()
    opt = kind([prompt], llm=llm)
    opt.zero_feedback()
    (prompt + "!").backward("make it better")
    assert prompt in opt.step()
    twin_prompt, twin = copy.deepcopy((prompt, opt))
    assert twin is not opt and twin.params == [twin_prompt] and twin_prompt is not prompt
    assert twin.by_name == {"prompt": twin_prompt} and twin.names == {id(twin_prompt): "prompt"}
    assert twin.llm is not llm and twin.step_count == 1 and twin.logs == opt.logs and twin.logs is not opt.logs
    before = prompt.data
    twin.zero_feedback()
    (twin_prompt + "?").backward("again")
    update = twin.step()
    assert list(update) == [twin_prompt] and twin_prompt.data.startswith("version") and prompt.data == before
    assert twin.step_count == 2 and opt.step_count == 1
    assert json.loads(json.dumps(twin.state_dict()))["parameters"] == ["prompt"]
    opt.zero_feedback()
    (prompt + "!").backward("and the original still works")
    assert prompt in opt.step()


def test_deepcopy_of_an_optimizer_alone_copies_its_parameters() -> None:
    prompt = ot.node("draft", name="prompt", trainable=True)
    opt = OptoPrime([prompt], llm=_llm(), memory_size=3)
    twin = copy.deepcopy(opt)
    assert twin.params[0] is not prompt and twin.params[0].data == "draft" and twin.memory.maxlen == 3


def test_deepcopy_of_the_numeric_adapter() -> None:
    torch = pytest.importorskip("torch")
    from optotrace.optimizers.numeric import Lion, NumericOptimizerAdapter

    w = ot.node(0.0, name="w", trainable=True)
    opt = NumericOptimizerAdapter([w], Lion, lr=0.1)
    opt.zero_feedback()
    y = w * 2.0
    y.backward((y.data - 4.0) ** 2)
    opt.step()
    twin_w, twin = copy.deepcopy((w, opt))
    assert twin.params == [twin_w] and twin_w is not w
    for _ in range(3):
        twin.zero_feedback()
        z = twin_w * 2.0
        z.backward((z.data - 4.0) ** 2)
        twin.step()
    assert twin_w.data == pytest.approx(0.4) and w.data == pytest.approx(0.1)
    assert isinstance(twin.optimizer.param_groups[0]["params"][0], torch.Tensor)
