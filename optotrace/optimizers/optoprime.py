"""OptoPrime: show the model the parameters' subgraphs and feedback, ask for new values in one call.

The reply is read through the structured-output path first (a response model built for this step's
variables); when the backend ignores the schema or the reply fails validation, `read_suggestion` reads the
raw text. A value the reply was cut off in (max_tokens) is never applied: it is rejected with the reason. An
explicit "no change" (an empty suggestion) is an answer, not a fault: it is logged as `nochange` and not
retried; an unreadable reply is retried. With `num_candidates=k`, k replies are drawn and `step(evaluate=fn)` keeps the one that scores
best on the current minibatch (`fn(update) -> float`, higher is better).

The tactics are the `policy` (a ProposalPolicy; by default the one for the LLM's declared size,
`llm.small_model`). With `policy.retry_unchanged` (default), a step whose reply would apply nothing (every
suggestion rejected, or every value equal to the current one) asks again in the same step, with the reasons
added to #Feedback, at `policy.retry_temperature` with a new seed each, at most `policy.max_retries` times.
With `policy.compact` (a small model's policy) the prompt drops empty sections, shows no placeholder value to
copy, and asks for a single code variable as a ```python block instead of a JSON string.
With a memory (`memory_size` > 0), the compact prompt also lists the values each numeric variable already took
with their feedback and asks for one not tried yet; a suggestion that repeats a tried value is asked again.

    opt = OptoPrime(params, llm=llm, policy=ProposalPolicy.for_llm(llm, retry_unchanged=False))
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from optotrace.optimizers.base import Optimizer, Proposal, log, same_value
from optotrace.optimizers.proposal.ask import ask_for_suggestion
from optotrace.optimizers.proposal.checks import Answers
from optotrace.optimizers.proposal.policy import ProposalPolicy
from optotrace.optimizers.proposal.prompt_builder import BuiltPrompt, PromptBuilder, clip
from optotrace.optimizers.proposal.schema import suggestion_model
from optotrace.optimizers.proposal.templates import render

__all__ = ["OptoPrime"]

DEFAULT_OBJECTIVE = (
    "Change the values of the variables in #Variables so that the outputs get better feedback. "
    "Use the #Code, #Documentation, #Inputs and #Others to understand how the variables led to the outputs."
)
MEMORY_VALUE_CHARS = 300
TRIED_PER_VARIABLE = 12  # numeric values remembered per variable for the compact prompt


class OptoPrime(Optimizer):
    def __init__(
        self,
        params: Any,
        llm: Any = None,
        *,
        memory_size: int = 0,
        objective: str | None = None,
        num_candidates: int = 1,
        max_tokens: int | None = 1024,
        temperature: float = 0.0,
        seed: int | None = 0,
        policy: ProposalPolicy | None = None,
        answers: Answers | None = None,
    ) -> None:
        super().__init__(params, llm, policy=policy, answers=answers)
        self.tried: dict[str, list[dict[str, Any]]] = {}  # numeric variable -> [{value, feedback}], oldest first
        self.objective = objective or DEFAULT_OBJECTIVE
        self.memory_size = int(memory_size)
        self.memory: deque[dict[str, Any]] = deque(maxlen=self.memory_size or None)
        self.num_candidates = max(1, int(num_candidates))
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.seed = seed
        self.last_prompt: BuiltPrompt | None = None

    # -- prompt --------------------------------------------------------------------------------------------
    def is_compact(self) -> bool:
        """The compact prompt (the policy's choice; a small model's policy has it)."""
        return self.policy.compact

    def _builder(self) -> PromptBuilder:
        policy = self.policy
        return PromptBuilder(self.objective, policy.max_prompt_tokens, self.llm.count_tokens,
                             reasoning_first=policy.reasoning_first, compact=policy.compact)

    def build_prompt(self, notes: list[str] | None = None) -> BuiltPrompt | None:
        """This step's prompt (None when no parameter received feedback). Does not change any state."""
        history = list(self.memory) if self.memory_size else []
        return self._builder().build(
            self.params, self.names, notes=notes if notes is not None else self.pending_notes,
            history=history, step=self.step_count, tried=self._tried_now() if self.memory_size else None,
        )

    def _tried_now(self) -> dict[str, list[dict[str, Any]]]:
        """The remembered numeric values, with each variable's current value and feedback as the last entry."""
        out = {}
        for p in self.params:
            if not _is_number(p.data) or not p.feedback:
                continue
            name = self.names[id(p)]
            entries = [e for e in self.tried.get(name, []) if not _same_number(e["value"], p.data)]
            out[name] = [*entries, {"value": p.data, "feedback": clip(_feedback_text(p), 300)}][-TRIED_PER_VARIABLE:]
        return out

    def _tried_values(self, p: Any) -> list[Any]:
        """Values of numeric parameter `p` already tried in earlier steps (not its current value)."""
        return [e["value"] for e in self.tried.get(self.names[id(p)], []) if not _same_number(e["value"], p.data)]

    def _remember(self, prompt: BuiltPrompt) -> None:
        if not self.memory_size:
            return
        variables = {n: _short(p.data) for n, p in prompt.by_name.items()}
        fb: list[str] = []
        for p in prompt.by_name.values():
            for item in p.feedback:
                text = item.feedback if isinstance(item.feedback, str) else json.dumps(item.feedback, default=str)
                if text not in fb:
                    fb.append(text)
        self.memory.append({"variables": variables, "feedback": clip(" | ".join(fb), 600)})
        self.tried.update(self._tried_now())

    # -- step ----------------------------------------------------------------------------------------------
    def propose(self, **kwargs: Any) -> Proposal:
        return self._propose_many(1, retry_unchanged=self.policy.retry_unchanged)[0]

    def _rank(self, proposal: Proposal) -> int:
        """0: applies nothing; 1: changes only to values already tried (compact prompts); 2: a new value."""
        checked, _ = self.check(proposal.values)
        changed = {p: v for p, v in checked.items() if not same_value(p.data, v)}
        if not changed:
            return 0
        tried_only = self.is_compact() and all(
            _is_number(v) and any(_same_number(v, t) for t in self._tried_values(p)) for p, v in changed.items()
        )
        return 1 if tried_only else 2

    def _retry_notes(self, proposal: Proposal) -> list[str]:
        """Why the proposal applies nothing (or, in a compact prompt, only repeats numeric values already tried),
        as notes for another attempt ([] when it brings something new, or when the model explicitly chose no
        change: that is an answer, not a fault)."""
        if proposal.via in ("error", "nochange"):
            return []
        policy = self.policy
        checked, rejections = self.check(proposal.values)
        rejections = {**proposal.rejected, **rejections}
        changed = {p: v for p, v in checked.items() if not same_value(p.data, v)}
        if changed:
            if self._rank(proposal) == 2:
                return []
            return [policy.retry_note("tried", name=self.names[id(p)], value=_short(v)) for p, v in changed.items()]
        notes = [render("rejected", variable=n, reason=r).strip() for n, r in rejections.items()]
        for p, v in checked.items():
            notes.append(policy.retry_note("unchanged", name=self.names[id(p)], value=_short(v)))
        if not notes and proposal.error and "cut off" in proposal.error:
            notes.append(policy.retry_note("cut_off", error=proposal.error.removeprefix("the reply was ")))
        if not notes:
            notes.append(policy.retry_note("unusable"))
        return notes

    def _ask(self, prompt: BuiltPrompt, model: Any, names: list[str], code_names: dict[str, str],
             **kw: Any) -> Proposal:
        fence = prompt.code_fence
        prop = ask_for_suggestion(
            self.llm, prompt.messages, names, model, code_names=code_names,
            kinds={v.name: v.kind for v in prompt.variables}, max_tokens=self.max_tokens,
            use_schema=self.policy.use_schema and fence is None, **kw,
        )
        if (fence is not None and not prop.values and not prop.rejected and prop.reply.strip()
                and prop.via == "none"):
            # Asked for a ```python block and got code without one: the validator's repair step finds the
            # function in the reply or rejects it with the reason.
            prop = Proposal({fence: prop.reply}, prop.reply, "text")
        prop.prompt_tokens, prop.prompt_chars, prop.names = prompt.tokens, prompt.chars, names
        return prop

    def _propose_many(self, k: int, retry_unchanged: bool = False) -> list[Proposal]:
        notes = self.take_notes()
        prompt = self.build_prompt(notes)
        self.last_prompt = prompt
        if prompt is None:
            log.warning(
                "step %d: none of the %d parameters received feedback; call output.backward(feedback) before "
                "step()", self.step_count + 1, len(self.params)
            )
            return [Proposal(error="no feedback")]
        self._remember(prompt)
        names = [v.name for v in prompt.variables]
        policy = self.policy
        model = suggestion_model(prompt.variables, require_all=len(prompt.variables) <= policy.require_all_up_to,
                                 reasoning_first=policy.reasoning_first)
        code_names = {v.name: v.code_name for v in prompt.variables if v.code_name}
        base_seed = None if self.seed is None else self.seed + self.step_count * 1000
        proposals = []
        for i in range(k):  # sequential: the embedded model runs one request at a time anyway
            proposals.append(self._ask(
                prompt, model, names, code_names,
                temperature=self.temperature if i == 0 else policy.candidate_temperature,
                seed=None if base_seed is None else base_seed + i,
            ))
        first_notes: list[str] = []
        for attempt in range(policy.max_retries if retry_unchanged and k == 1 else 0):
            retry_notes = self._retry_notes(proposals[0])
            if not retry_notes:
                break
            # Every suggestion was rejected, none changes anything (small models often copy the current value
            # at temperature 0), or (compact) it only repeats a tried value: another attempt in the same step,
            # told why, hotter and with a new seed. Bounded by policy.max_retries.
            again_prompt = self.build_prompt([*notes, *retry_notes]) or prompt
            again = self._ask(again_prompt, model, names, code_names, temperature=policy.retry_temperature,
                              seed=None if base_seed is None else base_seed + 1 + 17 * attempt)
            first_notes = first_notes or retry_notes
            for note in retry_notes:  # the earlier attempt's faults are logged, never silent
                log.warning("step %d, attempt %d: %s", self.step_count + 1, attempt + 1, note)
            if again.values and (not proposals[0].values or self._rank(again) > self._rank(proposals[0])):
                again.via = again.via.split("+")[0] + "+retry"
                again.retried = first_notes
                proposals[0] = again
        return proposals

    # -- the optimizer contract (contract.py): replies for the Trainer to score, none applied -------------
    def proposals(self, n: int, context: Any = None) -> list[Proposal]:
        return self._propose_many(n, retry_unchanged=self.policy.retry_unchanged and n == 1)

    def step(self, evaluate: Callable[[dict[Any, Any]], float] | None = None, **kwargs: Any) -> dict[Any, Any]:
        """Propose, validate, apply. With num_candidates > 1 and `evaluate`, the best-scoring valid
        candidate is applied (`evaluate(update)` runs the current minibatch with that update in place)."""
        if self.num_candidates == 1:
            return super().step()
        tokens0, cost0 = self._usage()
        proposals = self._propose_many(self.num_candidates)
        checked = [self.check(p.values) for p in proposals]
        valid = [(i, upd) for i, (upd, _) in enumerate(checked) if upd]
        chosen = valid[0][0] if valid else 0
        scores: list[float | None] = [None] * len(proposals)
        if evaluate is not None and len(valid) > 1:
            for i, upd in valid:
                try:
                    scores[i] = float(evaluate(upd))
                except Exception as exc:  # a crashing evaluation disqualifies the candidate, not the run
                    log.warning("evaluating candidate %d failed: %s", i, exc)
            scored = [(s, i) for i, s in enumerate(scores) if s is not None]
            if scored:
                chosen = max(scored, key=lambda t: (t[0], -t[1]))[1]
        update, rejections = checked[chosen]
        rejections = {**proposals[chosen].rejected, **rejections}
        update = self.apply(update)
        self.note_rejections(rejections)
        tokens1, cost1 = self._usage()
        self._log_step(proposals[chosen], update, tokens1 - tokens0, cost1 - cost0)
        self.logs[-1]["candidates"] = [
            {"via": p.via, "valid": bool(checked[i][0]), "score": scores[i]} for i, p in enumerate(proposals)
        ]
        return update

    # -- state ---------------------------------------------------------------------------------------------
    def _extra_state(self) -> dict[str, Any]:
        return {"memory": list(self.memory), "objective": self.objective, "tried": self.tried}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        self.memory.clear()
        self.memory.extend(state.get("memory", []))
        self.tried = {k: list(v) for k, v in (state.get("tried") or {}).items()}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_number(a: Any, b: Any) -> bool:
    return _is_number(a) and _is_number(b) and float(a) == float(b)


def _feedback_text(p: Any) -> str:
    texts: list[str] = []
    for item in p.feedback:
        text = item.feedback if isinstance(item.feedback, str) else json.dumps(item.feedback, default=str)
        if text not in texts:
            texts.append(text)
    return " | ".join(texts)


def _short(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = value if isinstance(value, str) else repr(value)
    return clip(text, MEMORY_VALUE_CHARS)
