"""Code rewrite: a code parameter's new source asked for in plain text, in a short prompt.

The counterpart of InstructionInduction for code: the prompt holds only the function's current source, the
feedback its runs received and the goal, and the reply is the complete new source in a ```python block, the
form code models are trained to answer in (a 0.5B model asked for JSON with the source inside a string writes
broken escapes or a bare value). Each code parameter with feedback gets its own call, in turn. The new source
is checked like any other (it compiles, keeps the function's name and signature) before it can be used.

    opt = CodeRewrite([solve], llm=llm, objective="pass all the tests")   # solve: @bundle(trainable=True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optotrace.optimizers.base import Optimizer, Proposal
from optotrace.optimizers.contract import StepContext
from optotrace.optimizers.errors import OptimizerError
from optotrace.optimizers.proposal.ask import ask_plain
from optotrace.optimizers.proposal.policy import ProposalPolicy
from optotrace.optimizers.proposal.prompt_render import clip
from optotrace.optimizers.proposal.templates import render

__all__ = ["CodeRewrite"]

SYSTEM = "You are an expert Python programmer. You fix functions so that they do what their feedback asks."
DEFAULT_OBJECTIVE = "the function works correctly on every input."


class CodeRewrite(Optimizer):
    def __init__(self, params: Any, llm: Any = None, *, objective: str | None = None, max_tokens: int | None = 700,
                 feedback_chars: int = 1500, temperature: float = 0.0, num_candidates: int = 1,
                 seed: int | None = 0, policy: ProposalPolicy | None = None) -> None:
        super().__init__(params, llm, policy=policy)
        if not [p for p in self.params if getattr(p, "is_code", False)]:
            raise OptimizerError("CodeRewrite rewrites code parameters (@bundle(trainable=True)); none was given")
        self.objective = objective or DEFAULT_OBJECTIVE
        self.max_tokens = max_tokens
        self.feedback_chars = int(feedback_chars)
        self.temperature = temperature
        self._written: set[int] = set()  # parameters whose current source this optimizer wrote
        self.num_candidates = max(1, int(num_candidates))
        self.seed = seed
        self._turn = 0

    def propose(self, context: StepContext | None = None, variant: int = 0, **kwargs: Any) -> Proposal:
        targets = [p for p in self.params if p.trainable and getattr(p, "is_code", False) and p.feedback]
        if not targets:
            return Proposal(error="no code parameter has feedback this step")
        param = targets[(self._turn + variant) % len(targets)]
        if variant == 0:
            self._turn += 1
        name = self.names[id(param)]
        notes = self.take_notes() if variant == 0 else []
        user = render("code_rewrite_user", name=getattr(param, "code_name", None) or name,
                      source=param.data, feedback=clip(_feedback(param), self.feedback_chars),
                      objective=self.objective, notes=("\n" + "\n".join(notes)) if notes else "")
        from optotrace.llm.replies import extract_program

        reply, failed = ask_plain(self.llm, SYSTEM, user, name=name, temperature=self._temperature(param, variant),
                                  max_tokens=self.max_tokens,
                                  seed=None if self.seed is None else self.seed + self.step_count + 7919 * variant)
        if failed is not None:
            return failed
        proposal = Proposal(reply=reply.text, names=[name], prompt_chars=len(user))
        code = extract_program(reply.text)
        if getattr(reply, "finish_reason", None) == "length" and (code is None or "```" not in reply.text[-5:]):
            proposal.rejected[name] = "the reply was cut off at the token limit before the code ended"
        elif code:
            proposal.values, proposal.via = {name: code}, "text"
        else:
            proposal.error = "the reply held no ```python block"
        return proposal

    def _temperature(self, param: Any, variant: int) -> float:
        """The first rewrite at `temperature`; a rewrite of a source this optimizer wrote (which failed, since it
        has feedback again) at the policy's `code_retry_temperature`: at temperature 0 a model repeats its code."""
        if variant:
            return self.policy.candidate_temperature
        return self.policy.code_retry_temperature if id(param) in self._written else self.temperature

    def apply(self, checked: Mapping[Any, Any]) -> dict[Any, Any]:
        changed = super().apply(checked)
        self._written.update(id(p) for p in changed)
        return changed

    def _extra_state(self) -> dict[str, Any]:
        return {"objective": self.objective, "turn": self._turn}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        self._turn = int(state.get("turn", 0))


def _feedback(param: Any) -> str:
    texts: list[str] = []
    for item in param.feedback:
        text = item.feedback if isinstance(item.feedback, str) else repr(item.feedback)
        if text not in texts:
            texts.append(text)
    return "\n".join(texts) or "(none)"
