"""Code rewrite: the new source of a code parameter asked for as a ```python block, checked before use."""

from __future__ import annotations

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import CodeRewrite, OptimizerError, StepResult
from optotrace.optimizers.proposal.policy import ProposalPolicy

FIXED = "```python\ndef is_even(n: int) -> bool:\n    return n % 2 == 0\n```"


def traced_failure() -> tuple[object, object]:
    @ot.bundle(trainable=True)
    def is_even(n: int) -> bool:
        return n % 3 == 0

    out = is_even(ot.node(4, name="n"))
    out.backward("is_even(4) returned False; expected True")
    return is_even, out


def test_the_reply_block_becomes_the_new_source_after_it_is_checked() -> None:
    fn, _ = traced_failure()
    llm = ScriptedLLM(["Here is the fix:\n" + FIXED])
    opt = CodeRewrite([fn.parameter], llm=llm, objective="pass the tests")
    opt.step()
    assert fn(6).data is True and fn(3).data is False
    prompt = llm.requests[0]["messages"][-1]["content"]
    assert "return n % 3 == 0" in prompt and "expected True" in prompt and "pass the tests" in prompt


def test_a_changed_signature_is_refused_with_the_reason_and_the_next_prompt_says_why() -> None:
    fn, _ = traced_failure()
    llm = ScriptedLLM(["```python\ndef is_even(n, m):\n    return True\n```", FIXED])
    opt = CodeRewrite([fn.parameter], llm=llm)
    [cand] = opt.propose_candidates()
    assert cand.update == {} and cand.rejections
    opt.end_step(StepResult([cand]))
    fn(4).backward("still wrong")
    [cand] = opt.propose_candidates()
    assert cand.update and "rejected" in llm.requests[1]["messages"][-1]["content"]


def test_no_code_parameter_is_a_clear_error() -> None:
    with pytest.raises(OptimizerError, match="code parameters"):
        CodeRewrite([ot.node("text", trainable=True)], llm=ScriptedLLM([]))


def test_a_rewrite_of_its_own_failed_source_is_drawn_at_the_retry_temperature() -> None:
    fn, _ = traced_failure()
    llm = ScriptedLLM(["```python\ndef is_even(n: int) -> bool:\n    return n % 4 == 0\n```", FIXED])
    opt = CodeRewrite([fn.parameter], llm=llm, policy=ProposalPolicy(code_retry_temperature=0.6))
    opt.step()
    fn(6).backward("is_even(6) returned False; expected True")
    opt.step()
    assert [r["temperature"] for r in llm.requests] == [0.0, 0.6]
    assert fn(6).data is True
