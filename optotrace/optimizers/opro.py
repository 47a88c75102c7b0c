"""OPRO (Yang et al., "Large Language Models as Optimizers"): show the model earlier values with their
scores, lowest to highest, and ask for new values that should score higher. No graph is shown.

The score of the current values comes from the step's context (the Trainer's minibatch mean), from
`observe(score)`, or, failing that, from numeric feedback; text feedback is shown as the latest feedback.
With `num_candidates=k` a step draws k replies (the first at `temperature`, the others at the policy's
`candidate_temperature` with other seeds); the Trainer keeps one only when it scores better. The reply format
(reasoning first or not) is the policy's (a ProposalPolicy; by default the one for the LLM's declared size).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from numbers import Number
from typing import Any

from optotrace.optimizers.base import Optimizer, Proposal
from optotrace.optimizers.contract import StepContext
from optotrace.optimizers.proposal.ask import ask_for_suggestion
from optotrace.optimizers.proposal.checks import Answers
from optotrace.optimizers.proposal.policy import ProposalPolicy
from optotrace.optimizers.proposal.prompt_render import clip, constraint_text, example_value, show_value
from optotrace.optimizers.proposal.schema import VariableSpec, reply_format, suggestion_model
from optotrace.optimizers.proposal.templates import render

__all__ = ["OPRO"]

DEFAULT_OBJECTIVE = "Find values of the variables that maximise the score."


class OPRO(Optimizer):
    def __init__(
        self,
        params: Any,
        llm: Any = None,
        *,
        objective: str | None = None,
        history_size: int = 20,
        value_chars: int = 600,
        max_tokens: int | None = 1024,
        temperature: float = 0.0,
        seed: int | None = 0,
        num_candidates: int = 1,
        policy: ProposalPolicy | None = None,
        answers: Answers | None = None,
    ) -> None:
        super().__init__(params, llm, policy=policy, answers=answers)
        self.num_candidates = max(1, int(num_candidates))
        self.objective = objective or DEFAULT_OBJECTIVE
        self.history_size = int(history_size)
        self.value_chars = value_chars
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.seed = seed
        self.history: list[dict[str, Any]] = []
        self._score: float | None = None
        self._last_feedback = ""

    def observe(self, score: float) -> None:
        """The score (higher is better) of the current values, used by the next step."""
        self._score = float(score)

    def _feedback(self) -> tuple[float | None, str]:
        numbers: list[float] = []
        texts: list[str] = []
        for p in self.params:
            for item in p.feedback:
                fb = item.feedback
                if isinstance(fb, Number) and not isinstance(fb, bool):
                    numbers.append(float(fb))  # type: ignore[arg-type]
                elif fb is not None:
                    text = fb if isinstance(fb, str) else json.dumps(fb, default=str)
                    if text not in texts:
                        texts.append(text)
        score = self._score if self._score is not None else (sum(numbers) / len(numbers) if numbers else None)
        return score, clip("\n".join(texts), 2000)

    def propose(self, context: StepContext | None = None, variant: int = 0, **kwargs: Any) -> Proposal:
        if context is not None and context.batch_score is not None and variant == 0:
            self._score = float(context.batch_score)
        score, feedback = self._feedback() if variant == 0 else (None, self._last_feedback)
        variables = [p for p in self.params if p.trainable]
        if variant == 0:  # the current values enter the history once per step, not once per candidate
            self._score = None
            self._last_feedback = feedback
            current = {self.names[id(p)]: p.data for p in variables}
            self.history.append({"values": {k: _plain(v) for k, v in current.items()}, "score": score})
        specs = [
            VariableSpec.of(p, self.names[id(p)])
            for p in variables
        ]
        scored = [h for h in self.history if h["score"] is not None]
        scored.sort(key=lambda h: h["score"])
        shown = scored[-self.history_size :]
        history_text = "\n".join(
            f"score {h['score']:.4g}: {clip(json.dumps(h['values'], ensure_ascii=False, default=str), self.value_chars)}"
            for h in shown
        )
        policy = self.policy
        first = policy.reasoning_first
        user = render(
            "opro_user",
            instruction=self.objective,
            variables="\n".join(
                f"({s.kind}) {s.name} = {show_value(p.data, 1 << 30)}" for s, p in zip(specs, variables, strict=False)
            ),
            constraints="\n".join(f"{s.name}: {c}" for s, p in zip(specs, variables, strict=False) if (c := constraint_text(p)))
            or "(none)",
            history=history_text or "(no scores yet)",
            feedback="\n".join([feedback, *self.take_notes()]).strip() or "(none)",
            reply_format=reply_format(", ".join(f'"{s.name}": {example_value(s)}' for s in specs), first),
            names=", ".join(s.name for s in specs),
        )
        messages = [{"role": "system", "content": render("opro_system").strip()}, {"role": "user", "content": user}]
        names = [s.name for s in specs]
        proposal = ask_for_suggestion(
            self.llm,
            messages,
            names,
            suggestion_model(specs, "OproReply", require_all=len(specs) <= policy.require_all_up_to,
                             reasoning_first=first),
            code_names={s.name: s.code_name for s in specs if s.code_name},
            kinds={s.name: s.kind for s in specs},
            temperature=self.temperature if variant == 0 else policy.candidate_temperature,
            max_tokens=self.max_tokens,
            seed=None if self.seed is None else self.seed + self.step_count + 7919 * variant,
        )
        proposal.prompt_chars = len(user)
        proposal.prompt_tokens = self.llm.count_tokens(user)
        proposal.names = names
        return proposal

    def _extra_state(self) -> dict[str, Any]:
        return {"history": self.history, "objective": self.objective}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        self.history = list(state.get("history", []))


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
