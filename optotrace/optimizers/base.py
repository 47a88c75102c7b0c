"""`Optimizer`: the torch.optim-style base of the LLM optimizers.

    opt = OptoPrime(params, llm=llm)
    opt.zero_feedback(); output.backward(feedback); update = opt.step()   # {param: new value}

`step()` is `propose()` (ask the model; raw suggested values by variable name) then `update()` (validate and
apply). A suggestion that fails validation is logged, kept in `rejected`, and shown to the model in the next
step's feedback. `state_dict()` is plain JSON: step count, logs, rejections, pending notes, memory.

Under the Trainer the step is split (the contract in contract.py): `propose_candidates(context)` asks for
`num_candidates` replies and validates them without applying anything; the Trainer scores them and calls
`apply(update)` for the one it keeps (if any), then `end_step(result)` logs the step and turns rejections and
candidates that scored no better into notes for the next prompt.
"""

from __future__ import annotations

import copy
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optotrace.optimizers.contract import Candidate, StepContext, StepResult
from optotrace.optimizers.errors import OptimizerError, SuggestionRejected
from optotrace.optimizers.proposal.policy import ProposalPolicy
from optotrace.optimizers.proposal.templates import render
from optotrace.optimizers.proposal.validate import validate_suggestion

if TYPE_CHECKING:
    from optotrace.llm import LLM, UsageTotals
    from optotrace.optimizers.proposal.checks import Answers

log = logging.getLogger("optotrace.optimizers")

__all__ = ["Optimizer", "Proposal", "collect_parameters", "stable_names"]

REPLY_LOG_CHARS = 4000


def collect_parameters(params: Any) -> list[Any]:
    """ParameterNodes from a node, a Module (anything with .parameters()), or an iterable of either;
    each parameter once, in order."""
    out: dict[int, Any] = {}

    def add(p: Any) -> None:
        if hasattr(p, "parameters") and callable(p.parameters) and not hasattr(p, "set"):
            for q in p.parameters():
                add(q)
        elif hasattr(p, "set") and hasattr(p, "feedback"):
            out.setdefault(id(p), p)
        elif getattr(p, "parameter", None) is not None and hasattr(p.parameter, "set"):  # a bundled function
            out.setdefault(id(p.parameter), p.parameter)
        elif isinstance(p, Iterable) and not isinstance(p, (str, bytes, Mapping)):
            for q in p:
                add(q)
        else:
            raise OptimizerError(
                f"{p!r} is not a trainable parameter; pass ParameterNodes (node(..., trainable=True)), "
                "bundled functions' .parameter, or a Module"
            )

    add(params)
    return list(out.values())


def stable_names(params: Iterable[Any]) -> dict[int, str]:
    """id(param) -> the name the user gave it; `_2`, `_3`... only when two names collide (trace's rule)."""
    from optotrace.trace import unique_names

    return {id(p): name for p, name in unique_names(list(params)).items()}


@dataclass
class Proposal:
    """What the model suggested in one call: raw values by variable name, and how they were read."""

    values: dict[str, Any] = field(default_factory=dict)
    reply: str = ""
    via: str = "none"  # schema | text | none (nothing readable) | nochange (the model chose none) | error
    error: str | None = None
    prompt_tokens: int = 0
    prompt_chars: int = 0
    names: list[str] = field(default_factory=list)  # the variables the prompt showed
    retried: list[str] = field(default_factory=list)  # why a first attempt in the same step applied nothing
    rejected: dict[str, str] = field(default_factory=dict)  # name -> why a value was refused while reading
    # (a value cut off at the token limit); applied never, reported like any other rejection

    @property
    def no_change(self) -> bool:
        """True when the model explicitly chose to change nothing (distinct from an unreadable reply)."""
        return self.via == "nochange"


class Optimizer(ABC):
    """Base class. Subclasses implement `propose()`; `update()` validates and applies. Implements the
    CandidateOptimizer contract (contract.py).

    `policy` (a ProposalPolicy) holds the tactics of asking and the checks run on proposed instructions; None
    takes `ProposalPolicy.for_llm(llm)` (from the model's declared size). `answers` is the task's answer space
    (label strings, or a validator `str -> bool`): a proposed value for a parameter declared
    `role="instruction"` that is one of them is refused; it wins over the policy's `answers`."""

    num_candidates: int = 1

    def __init__(self, params: Any, llm: LLM | str | None = None, *, policy: ProposalPolicy | None = None,
                 answers: Answers | None = None) -> None:
        self.params = collect_parameters(params)
        if not self.params:
            raise OptimizerError("the optimizer got no parameters; pass node(..., trainable=True) values")
        if policy is not None and not isinstance(policy, ProposalPolicy):
            raise OptimizerError(f"policy= takes a ProposalPolicy, not a {type(policy).__name__}")
        self._llm = llm
        self._policy = policy
        self.answers = answers
        self.names = stable_names(self.params)
        self.by_name = {self.names[id(p)]: p for p in self.params}
        self.step_count = 0
        self.logs: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.pending_notes: list[str] = []
        self._step_proposals: list[Proposal] = []  # between propose_candidates() and end_step()
        self._step_usage0: tuple[int, float] = (0, 0.0)

    # -- the model ---------------------------------------------------------------------------------------
    @property
    def llm(self) -> Any:
        if self._llm is None or isinstance(self._llm, str):
            from optotrace.llm import get_llm

            self._llm = get_llm(self._llm)
        return self._llm

    @property
    def policy(self) -> ProposalPolicy:
        """The policy in use: the one passed, else the one for the LLM's declared size; `answers` applied."""
        if self._policy is None:
            self._policy = ProposalPolicy.for_llm(self.llm)
        return self._policy.with_answers(self.answers)

    @policy.setter
    def policy(self, value: ProposalPolicy | None) -> None:
        self._policy = value

    def _check_policy(self) -> ProposalPolicy:
        """The policy for checking values: it does not depend on the model, so the LLM is not created for it."""
        chosen = self._policy if self._policy is not None else ProposalPolicy()
        return chosen.with_answers(self.answers)

    @property
    def usage(self) -> UsageTotals | None:
        """The model's usage so far; None before the model is created (a spec string not yet resolved)."""
        if self._llm is None or isinstance(self._llm, str):
            return None
        return self._llm.usage

    def _usage(self) -> tuple[int, float]:
        u = self.usage
        return (0, 0.0) if u is None else (int(u.total_tokens), float(u.cost_usd))

    # -- the torch.optim surface -------------------------------------------------------------------------
    def zero_feedback(self) -> None:
        for p in self.params:
            p.zero_feedback()

    @abstractmethod
    def propose(self, **kwargs: Any) -> Proposal:
        """Ask the model for new values; each subclass builds its own prompt. Under the Trainer it is called
        with `context=` (the StepContext) and `variant=` (0 for the main reply, 1, 2... for extra candidates,
        which should differ: another seed, a higher temperature)."""

    def step(self, **kwargs: Any) -> dict[Any, Any]:
        """Ask for a suggestion, validate it, apply what passes; the applied update {param: new value}."""
        tokens0, cost0 = self._usage()
        proposal = self.propose(**kwargs)
        update = self.update(proposal)
        tokens1, cost1 = self._usage()
        self._log_step(proposal, update, tokens1 - tokens0, cost1 - cost0)
        return update

    # -- the contract's split step (contract.py) ---------------------------------------------------------
    def proposals(self, n: int, context: StepContext | None = None) -> list[Proposal]:
        """`n` replies for this step, nothing applied. The default asks `propose(variant=i)`; a subclass
        gives variants > 0 a higher temperature and another seed so that they differ."""
        return [self.propose(context=context, variant=i) for i in range(max(1, n))]

    def propose_candidates(self, context: StepContext | None = None) -> list[Candidate]:
        """Validated candidate updates, one per reply, none applied (an update holds only real changes)."""
        self._step_usage0 = self._usage()
        self._step_proposals = self.proposals(self.num_candidates, context)
        candidates = []
        for proposal in self._step_proposals:
            checked, rejections = self.check(proposal.values)
            changed = {p: v for p, v in checked.items() if not same_value(p.data, v)}
            candidates.append(Candidate(changed, source=proposal.via, rejections=rejections,
                                        info={"proposal": proposal}))
        return candidates

    def end_step(self, result: StepResult | None = None) -> None:
        """Close a step begun by propose_candidates: notes for the next prompt, the step's log entry."""
        proposals = self._step_proposals or [Proposal(error="no proposal")]
        result = result or StepResult()
        chosen = result.chosen
        index = next((i for i, c in enumerate(result.candidates) if c is chosen), 0)
        proposal = proposals[index] if index < len(proposals) else proposals[0]
        rejections = chosen.rejections if chosen is not None else (
            result.candidates[0].rejections if result.candidates else {})
        self.note_rejections(rejections)
        if chosen is None:
            self._note_not_kept(result)
        tokens0, cost0 = self._step_usage0
        tokens1, cost1 = self._usage()
        self._log_step(proposal, dict(result.applied), tokens1 - tokens0, cost1 - cost0)
        if len(result.candidates) > 1 or result.current_score is not None:
            self.logs[-1]["candidates"] = [  # the run report lists them: what each changed, its score, the kept one
                {"via": c.source, "valid": bool(c.update), "score": s, "score_on": c.score_on, "kept": c is chosen,
                 "values": {self.names[id(p)]: _log_value(v) for p, v in c.update.items()}}
                for c, s in zip(result.candidates, list(result.scores) + [None] * len(result.candidates),
                                strict=False)
            ]
            self.logs[-1]["current_score"] = result.current_score
        self._step_proposals = []

    def _note_not_kept(self, result: StepResult) -> None:
        """A scored candidate that did not beat the current values becomes a note for the next prompt."""
        scored = [(s, c) for c, s in zip(result.candidates, result.scores, strict=False) if s is not None and c.update]
        if not scored or result.current_score is None:
            return
        score, cand = max(scored, key=lambda t: t[0])
        changes = ", ".join(f"{self.names[id(p)]} = {_preview(v)}" for p, v in cand.update.items())
        fb = cand.info.get("feedback") or []
        feedback = (" With it the program got this feedback: " + " | ".join(fb) + ".") if fb else ""
        current = cand.info.get("current_score", result.current_score)
        self.pending_notes.append(render("not_kept", changes=changes, score=f"{score:.3g}",
                                         current=f"{current:.3g}", feedback=feedback).strip())

    def update(self, proposal: Proposal | Mapping[str, Any]) -> dict[Any, Any]:
        """Validate each suggested value and apply the ones that pass; rejections become notes."""
        values = proposal.values if isinstance(proposal, Proposal) else dict(proposal)
        checked, rejections = self.check(values)
        if isinstance(proposal, Proposal):
            rejections = {**proposal.rejected, **rejections}
        changed = self.apply(checked)
        self.note_rejections(rejections)
        return changed

    def apply(self, checked: Mapping[Any, Any]) -> dict[Any, Any]:
        """Set the validated values; the ones equal to the current value are no change and left out."""
        changed = {p: v for p, v in checked.items() if not same_value(p.data, v)}
        for p, value in changed.items():
            p.set(value)
        return changed

    def check(self, values: Mapping[str, Any]) -> tuple[dict[Any, Any], dict[str, str]]:
        """({param: validated value}, {name: reason}) for the suggested values, without applying anything."""
        checked: dict[Any, Any] = {}
        rejections: dict[str, str] = {}
        for name, raw in values.items():
            p = self.by_name.get(name)
            if p is None:
                rejections[name] = f"there is no variable named {name!r}; use the names in #Variables"
                continue
            try:
                checked[p] = validate_suggestion(p, raw)
            except SuggestionRejected as exc:
                rejections[name] = exc.reason
        # A parameter declared an instruction given an answer instead (to one example, or one of the task's
        # answers): refused, with why (the policy's checks; see proposal/checks.py).
        rejections.update(self._check_policy().check(checked, self.names, self.params))
        return checked, rejections

    def note_rejections(self, rejections: Mapping[str, str], values: Mapping[str, Any] | None = None) -> None:
        for name, reason in rejections.items():
            log.info("step %d: suggestion for %s rejected: %s", self.step_count + 1, name, reason)
            self.rejected.append({"step": self.step_count + 1, "name": name, "reason": reason})
            self.pending_notes.append(render("rejected", variable=name, reason=reason).strip())

    def take_notes(self) -> list[str]:
        """The notes for the next prompt (rejections of the previous step), cleared once taken."""
        notes, self.pending_notes = self.pending_notes, []
        return notes

    def _log_step(self, proposal: Proposal, update: Mapping[Any, Any], tokens: int, cost: float) -> None:
        self.step_count += 1
        step_rejections = {r["name"]: r["reason"] for r in self.rejected if r["step"] == self.step_count}
        entry = {
            "step": self.step_count,
            "via": proposal.via,
            "error": proposal.error,
            "prompt_tokens": proposal.prompt_tokens,
            "prompt_chars": proposal.prompt_chars,
            "suggested": sorted(proposal.values),
            "unchanged": sorted(set(proposal.values) - {self.names[id(p)] for p in update}
                                - {r["name"] for r in self.rejected if r["step"] == self.step_count}),
            "applied": {self.names[id(p)]: _jsonable(v) for p, v in update.items()},
            "rejected": step_rejections,
            "tokens": tokens,
            "cost_usd": cost,
            "reply": proposal.reply[:REPLY_LOG_CHARS],
        }
        if proposal.retried:
            entry["first_attempt"] = proposal.retried
        self.logs.append(entry)
        if not update:
            log.info("step %d: no update applied (%s)", self.step_count, proposal.error or proposal.via)

    # -- state -------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "step_count": self.step_count,
            "logs": self.logs,
            "rejected": self.rejected,
            "pending_notes": self.pending_notes,
            "parameters": list(self.by_name),
            **self._extra_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("type") not in (None, type(self).__name__):
            raise OptimizerError(
                f"this state belongs to a {state.get('type')}, not a {type(self).__name__}; load it into the "
                "same kind of optimizer"
            )
        saved = state.get("parameters")
        if saved is not None and list(saved) != list(self.by_name):
            raise OptimizerError(
                f"the state was saved for parameters {saved}, but this optimizer has {list(self.by_name)}; "
                "build the optimizer over the same parameters, in the same order"
            )
        self.step_count = int(state.get("step_count", 0))
        self.logs = list(state.get("logs", []))
        self.rejected = list(state.get("rejected", []))
        self.pending_notes = list(state.get("pending_notes", []))
        self._load_extra_state(state)

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, step {self.step_count})"

    def __deepcopy__(self, memo: dict[int, Any]) -> Optimizer:
        """A deep copy, parameters included: copy an agent together with its optimizer (`deepcopy((agent, opt))`)
        so that the copy optimizes the copy's parameters. The LLM client is copied as `LLM.__deepcopy__` says
        (usage and budgets shared with the original)."""
        new = object.__new__(type(self))
        memo[id(self)] = new
        for name, value in vars(self).items():
            if name != "names":  # keyed by id(param): rebuilt for the copied parameters below
                setattr(new, name, copy.deepcopy(value, memo))
        new.names = {id(copy.deepcopy(p, memo)): self.names[id(p)] for p in self.params}
        return new


def same_value(a: Any, b: Any) -> bool:
    """True when `b` would change nothing: the same type and an equal value."""
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # arrays and other values without a plain truth value: treat as changed
        return False


def _preview(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", " ")
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _log_value(value: Any) -> Any:
    """A candidate's value for the step log: JSON, long text cut to REPLY_LOG_CHARS."""
    value = _jsonable(value)
    return value if not isinstance(value, str) or len(value) <= REPLY_LOG_CHARS else value[:REPLY_LOG_CHARS] + "..."


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)
