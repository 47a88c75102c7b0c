"""TextGrad-style optimization (Yuksekgonul et al.): textual gradients flow backward through the graph.

Each output's feedback is its gradient. Going backward through the union of the parameters' subgraphs,
for every edge input -> operation the model is asked how that input should change given the operation and
the gradient of its result (one LLM call per edge, up to `max_gradient_calls`; past that an operation's
gradient passes to its inputs unchanged). Then each parameter gets one update call with its gradients.
With `num_candidates=k` a step asks k update calls per parameter (the gradients are computed once; the extra
calls run at the policy's `candidate_temperature` with other seeds); the Trainer keeps a candidate only when it
scores better. The reply format (reasoning first or not) is the policy's (a ProposalPolicy; by default the one
for the LLM's declared size).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from optotrace.optimizers.base import Optimizer, Proposal, log
from optotrace.optimizers.contract import StepContext
from optotrace.optimizers.proposal.ask import ask_for_suggestion
from optotrace.optimizers.proposal.checks import Answers
from optotrace.optimizers.proposal.policy import ProposalPolicy
from optotrace.optimizers.proposal.prompt_graph import prompt_names
from optotrace.optimizers.proposal.prompt_render import clip, constraint_text, example_value, show_value
from optotrace.optimizers.proposal.schema import VariableSpec, reply_format, suggestion_model
from optotrace.optimizers.proposal.templates import render

__all__ = ["TextGrad"]

DEFAULT_OBJECTIVE = "Improve the variable so that the program's outputs get better feedback."


class TextGrad(Optimizer):
    def __init__(
        self,
        params: Any,
        llm: Any = None,
        *,
        objective: str | None = None,
        max_gradient_calls: int = 32,
        value_chars: int = 600,
        max_tokens: int | None = 1024,
        gradient_max_tokens: int | None = 256,
        seed: int | None = 0,
        num_candidates: int = 1,
        policy: ProposalPolicy | None = None,
        answers: Answers | None = None,
    ) -> None:
        super().__init__(params, llm, policy=policy, answers=answers)
        self.num_candidates = max(1, int(num_candidates))
        self._grads: dict[int, list[str]] = {}
        self._notes: list[str] = []
        self.objective = objective or DEFAULT_OBJECTIVE
        self.max_gradient_calls = int(max_gradient_calls)
        self.value_chars = value_chars
        self.max_tokens = max_tokens
        self.gradient_max_tokens = gradient_max_tokens
        self.seed = seed
        self.last_gradients: dict[str, list[str]] = {}

    # -- backward: textual gradients ----------------------------------------------------------------------
    def gradients(self) -> dict[int, list[str]]:
        """id(node) -> the textual gradients it received, for every node between the parameters and outputs."""
        from optotrace.trace import union_subgraph

        variables = [p for p in self.params if getattr(p, "trainable", True) and p.feedback]
        if not variables:
            return {}
        nodes = list(union_subgraph(variables))
        grads: dict[int, list[str]] = {}
        for p in variables:
            for item in p.feedback:
                for out in getattr(item, "outputs", None) or (item.output,):
                    text = item.feedback if isinstance(item.feedback, str) else json.dumps(item.feedback, default=str)
                    bucket = grads.setdefault(id(out), [])
                    if text not in bucket:
                        bucket.append(text)
                    if all(id(n) != id(out) for n in nodes):
                        nodes.append(out)
        nodes.sort(key=lambda n: n.id)
        inside = {id(n) for n in nodes}
        names = prompt_names(nodes, self.names)
        calls = 0
        for n in reversed(nodes):
            g = grads.get(id(n))
            if not g or n.kind not in ("message", "exception"):
                continue
            feedback = clip("\n".join(g), 2000)
            for parent in n.parents:
                if id(parent) not in inside:
                    continue
                if calls >= self.max_gradient_calls:
                    grads.setdefault(id(parent), []).append(feedback)  # passed through unchanged
                    continue
                calls += 1
                grads.setdefault(id(parent), []).append(self._edge_gradient(n, parent, feedback, names))
        return grads

    def _edge_gradient(self, n: Any, parent: Any, feedback: str, names: Mapping[int, str]) -> str:
        from optotrace.llm import BudgetExceeded, LLMError

        inputs = getattr(n, "inputs", {}) or {}
        args = ", ".join(f"{k}={names.get(id(v), v.name)}" for k, v in inputs.items())
        op = f"{names[id(n)]} = {getattr(n, 'op_name', n.name)}({args})"
        code = getattr(n, "code_parameter", None)
        input_lines = [f"{names.get(id(v), v.name)} = {show_value(v.data, self.value_chars)}" for v in inputs.values()]
        if code is not None:
            input_lines.append(f"{names.get(id(code), code.name)} (the function's code):\n{clip(code.data, 3000)}")
        prompt = render(
            "textgrad_gradient",
            operation=op,
            documentation=clip(getattr(n, "op_description", "") or "", 400),
            inputs="\n".join(input_lines) or "(none)",
            output=show_value(n.data, self.value_chars),
            feedback=feedback,
            target=names.get(id(parent), parent.name),
        )
        messages = [{"role": "system", "content": render("textgrad_system").strip()}, {"role": "user", "content": prompt}]
        try:
            reply = self.llm.complete(messages, max_tokens=self.gradient_max_tokens, seed=self.seed)
        except BudgetExceeded:
            raise
        except LLMError as exc:
            log.warning("a textual-gradient call failed (%s); passing the feedback through", exc)
            return feedback
        return reply.text.strip() or feedback

    # -- update: one call per parameter -------------------------------------------------------------------
    def propose(self, context: StepContext | None = None, variant: int = 0, **kwargs: Any) -> Proposal:
        if variant == 0:  # the textual gradients are computed once per step, shared by every candidate
            self._grads, self._notes = self.gradients(), self.take_notes()
        grads, notes = self._grads, self._notes
        merged = Proposal(via="none")
        self.last_gradients = {}
        policy = self.policy
        first = policy.reasoning_first
        for p in self.params:
            g = grads.get(id(p))
            if not g:
                continue
            name = self.names[id(p)]
            self.last_gradients[name] = g
            spec = VariableSpec.of(p, name)
            mine = [n for n in notes if name in n]
            user = render(
                "textgrad_update",
                instruction=self.objective,
                variable=f"({spec.kind}) {name} = {show_value(p.data, 1 << 30)}",
                constraints=constraint_text(p) or "(none)",
                gradients=clip("\n---\n".join([*g, *mine]), 6000),
                name=name,
                kind=spec.kind,
                reply_format=reply_format(f'"{name}": {example_value(spec)}', first),
            )
            messages = [{"role": "system", "content": render("opro_system").strip()}, {"role": "user", "content": user}]
            prop = ask_for_suggestion(
                self.llm, messages, [name], suggestion_model([spec], "TextGradReply", require_all=True, reasoning_first=first),
                code_names={name: p.code_name} if p.code_name else None, kinds={name: spec.kind},
                max_tokens=self.max_tokens,
                temperature=0.0 if variant == 0 else policy.candidate_temperature,
                seed=None if self.seed is None else self.seed + self.step_count + 7919 * variant,
            )
            merged.values.update(prop.values)
            merged.rejected.update(prop.rejected)  # a value cut off at max_tokens: never applied, reported
            merged.reply += prop.reply + "\n"
            merged.prompt_chars += len(user)
            if prop.values:
                merged.via = prop.via
            elif prop.error:
                merged.error = prop.error
        if not grads:
            merged.error = "no feedback"
        return merged

    def _extra_state(self) -> dict[str, Any]:
        return {"objective": self.objective}
