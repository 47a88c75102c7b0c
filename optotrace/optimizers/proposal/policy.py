"""`ProposalPolicy`: how an LLM optimizer asks for a proposal, retries it, and what it refuses, in one object.

The tactics that suit a small model (a compact prompt, the suggestion before any reasoning, more retries) and
the checks run on a proposed instruction live here instead of in each optimizer's arguments. An optimizer
given no policy takes `ProposalPolicy.for_llm(llm)`, chosen from the model's declared size (`llm.small_model`);
pass `policy=` to choose yourself:

    opt = OptoPrime(params, llm=llm)                                         # the policy for llm's size
    opt = OptoPrime(params, llm=llm, policy=ProposalPolicy(retry_unchanged=False))
    opt = OptoPrime(params, llm=llm, policy=ProposalPolicy.for_llm(llm, max_retries=3))
    opt = InstructionInduction([instruction], llm=llm, answers={"yes", "no"})   # the task's answer space

`answers` (on the policy, or `answers=` on any LLM optimizer, which wins) is the answer space the TASK
declares: a collection of label strings, or a validator `str -> bool`. A proposed instruction that is one of
the answers is refused with the reason; without it only the generic checks run (checks.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from optotrace.optimizers.proposal.checks import DEFAULT_CHECKS, Answers, Check, check_instructions

__all__ = ["RETRY_WORDING", "ProposalPolicy"]

# The notes added to a retry's #Feedback, by why the first reply applied nothing ($-free str.format fields).
RETRY_WORDING: Mapping[str, str] = {
    "tried": "Your previous suggestion {name} = {value!r} was already tried (see #Tried). Suggest a value not "
             "tried yet.",
    "unchanged": "Your previous suggestion {name} = {value!r} is the current value and changes nothing. Suggest a "
                 "different value.",
    "cut_off": "Your previous reply was {error}; reply with the JSON object first and keep any reasoning short.",
    "unusable": "Your previous reply held no usable new value. Reply in the format asked for below.",
}


@dataclass(frozen=True)
class ProposalPolicy:
    """The tactics of asking for a proposal. Every field has the capable-model default; `for_llm` (or
    `small()`) gives the small-model ones."""

    compact: bool = False  # the short prompt: no empty sections, no placeholder to copy, one code var as a fence
    reasoning_first: bool = True  # reasoning before the suggestion (a small model under a grammar spends its
    # tokens on the reasoning string and never writes the suggestion, so it gets the suggestion first)
    use_schema: bool = True  # ask through the structured-output path first
    require_all_up_to: int = 8  # the schema requires every variable when there are at most this many
    max_prompt_tokens: int = 8000  # OptoPrime's prompt budget
    candidate_temperature: float = 0.8  # extra candidates (variant > 0): hotter, so that they differ
    retry_unchanged: bool = True  # a reply that applies nothing is asked again in the same step, told why
    max_retries: int = 1  # at most this many such retries per step
    retry_temperature: float = 1.0  # a retry runs hotter with a new seed (a small model at 0 repeats itself)
    code_retry_temperature: float = 0.7  # CodeRewrite: rewriting its own failed source
    retry_wording: Mapping[str, str] = field(default_factory=lambda: dict(RETRY_WORDING), repr=False)
    checks: tuple[Check, ...] = DEFAULT_CHECKS  # run on values of parameters with role "instruction"
    answers: Answers | None = None  # the task's answer space (labels, or a validator str -> bool)

    # -- choosing one ---------------------------------------------------------------------------------------
    @classmethod
    def small(cls, **overrides: Any) -> ProposalPolicy:
        """For a small model (a few billion parameters or less): compact prompt, suggestion first, two retries."""
        return cls(**{"compact": True, "reasoning_first": False, "max_retries": 2, **overrides})

    @classmethod
    def capable(cls, **overrides: Any) -> ProposalPolicy:
        """For a capable model: the full prompt, reasoning first, one retry."""
        return cls(**overrides)

    @classmethod
    def for_llm(cls, llm: Any, **overrides: Any) -> ProposalPolicy:
        """The policy for `llm`'s declared size (`llm.small_model`; an object without it counts as capable),
        with `overrides` (any field) applied."""
        return cls.small(**overrides) if is_small(llm) else cls.capable(**overrides)

    def replace(self, **changes: Any) -> ProposalPolicy:
        """A copy with `changes` applied (the policy is frozen: share one between optimizers freely)."""
        return replace(self, **changes)

    def with_answers(self, answers: Answers | None) -> ProposalPolicy:
        """This policy, checking proposals against the task's answer space (unchanged when `answers` is None)."""
        return self if answers is None else replace(self, answers=answers)

    # -- using it -------------------------------------------------------------------------------------------
    def retries(self) -> int:
        return self.max_retries if self.retry_unchanged else 0

    def retry_note(self, kind: str, **values: Any) -> str:
        return self.retry_wording.get(kind, RETRY_WORDING[kind]).format(**values)

    def check(self, checked: dict[Any, Any], names: Mapping[int, str], params: Sequence[Any]) -> dict[str, str]:
        """Remove from `checked` the instruction values the checks refuse; {name: reason} for each."""
        return check_instructions(checked, dict(names), params, answers=self.answers, checks=self.checks)


def is_small(llm: Any) -> bool:
    """The LLM's declared size class (`llm.small_model`); False for an object that declares none."""
    return bool(getattr(llm, "small_model", False))
