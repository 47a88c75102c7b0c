"""OptoPrime's prompt: the parameters' subgraphs and their feedback, in sections, within a token budget.

Three jobs, three modules: prompt_graph.py selects and names the nodes, prompt_budget.py fits the sections
into the budget, prompt_render.py writes values and lines; the words are templates in prompts/. This module
puts them together: the full prompt (`optoprime_user`) for capable models, the compact one
(`optoprime_user_compact`: no empty section, a plain request at the end, no placeholder to copy) for small
ones. Runs of left-out operations become one `# ... N operations omitted (add x40, ...)` line, so the model
knows what it does not see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optotrace.optimizers.proposal.cast import kind_of
from optotrace.optimizers.proposal.prompt_budget import (
    CHARS_PER_TOKEN,
    feedback_limit,
    fit_history,
    fit_nodes,
    fit_variables,
    value_limit,
)
from optotrace.optimizers.proposal.prompt_graph import StepGraph, step_graph
from optotrace.optimizers.proposal.prompt_render import (
    clip,
    code_line,
    compact_ending,
    constraint_text,
    example_value,
    feedback_direction,
    show_signature,
    show_value,
    tried_lines,
    value_line,
)
from optotrace.optimizers.proposal.schema import VariableSpec, reply_format
from optotrace.optimizers.proposal.templates import render

__all__ = ["BuiltPrompt", "PromptBuilder", "clip", "example_value", "feedback_direction", "show_signature",
           "show_value", "tried_lines"]

FIXED_USER_CHARS = 900  # the user template's own text, reserved before the sections are fitted


@dataclass
class BuiltPrompt:
    system: str
    user: str
    variables: list[VariableSpec]
    by_name: dict[str, Any]  # prompt name -> ParameterNode
    omitted: dict[str, int] = field(default_factory=dict)
    tokens: int = 0
    hidden_variables: int = 0
    code_fence: str | None = None  # the code variable asked for as a ```python block (compact prompts)

    @property
    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    @property
    def chars(self) -> int:
        return len(self.system) + len(self.user)


@dataclass
class _Sections:
    code: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    docs: dict[str, str] = field(default_factory=dict)
    omitted: Counter[str] = field(default_factory=Counter)


class PromptBuilder:
    """Builds OptoPrime's prompt. `count_tokens` is the model's tokenizer (used once or twice per build)."""

    def __init__(
        self,
        objective: str,
        max_prompt_tokens: int = 8000,
        count_tokens: Callable[[str], int] | None = None,
        value_chars: int = 400,
        feedback_chars: int = 2000,
        reasoning_first: bool = True,
        compact: bool = False,
    ) -> None:
        self.reasoning_first = reasoning_first
        self.compact = compact
        self.objective = objective
        self.max_prompt_tokens = int(max_prompt_tokens)
        self.count_tokens = count_tokens
        self.value_chars = value_chars
        self.feedback_chars = feedback_chars

    def build(
        self,
        params: Sequence[Any],
        names: Mapping[int, str],
        *,
        notes: Sequence[str] = (),
        history: Sequence[Mapping[str, Any]] = (),
        step: int = 0,
        tried: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> BuiltPrompt | None:
        """The prompt for the trainable `params` that received feedback (None when none did). `names` maps
        id(param) to its stable prompt name; `notes` go under #Feedback (rejected suggestions); `tried` lists the
        values of numeric variables already tried (shown in compact prompts only)."""
        variables = [p for p in params if getattr(p, "trainable", True) and p.feedback]
        if not variables:
            return None
        graph = step_graph(variables, names)
        budget = self.max_prompt_tokens
        built: BuiltPrompt | None = None
        for _ in range(4):
            built = self._render(variables, graph, notes, history, step, budget, tried)
            built.tokens = self.count_tokens(built.system + "\n" + built.user) if self.count_tokens else int(
                built.chars / CHARS_PER_TOKEN
            )
            if built.tokens <= self.max_prompt_tokens:
                break
            budget = int(budget * self.max_prompt_tokens / built.tokens * 0.9)
        assert built is not None
        return built

    def _render(
        self,
        variables: Sequence[Any],
        g: StepGraph,
        notes: Sequence[str],
        history: Sequence[Mapping[str, Any]],
        step: int,
        budget_tokens: int,
        tried: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> BuiltPrompt:
        budget = int(budget_tokens * CHARS_PER_TOKEN)
        system = render("optoprime_system_short" if self.compact else "optoprime_system")
        budget -= len(system) + FIXED_USER_CHARS

        lines = [(p, value_line(kind_of(p.data, p.is_code), g.names[id(p)], show_value(p.data, 1 << 30)))
                 for p in variables]
        var_lines, hidden = fit_variables(lines, budget, step)
        shown = [p for p, _ in var_lines]
        var_text = "\n".join(t for _, t in var_lines)
        if hidden:
            var_text += f"\n({hidden} more variables are not shown in this step; they come up in later steps.)"
        constraints = "\n".join(f"{g.names[id(p)]}: {c}" for p in shown if (c := constraint_text(p)) is not None)
        budget -= len(var_text) + len(constraints)

        many = len(g.feedback) > 1
        fb_limit = feedback_limit(budget, len(g.feedback), self.feedback_chars)
        fb_lines = []
        for out, fb in g.feedback:
            text = clip(fb if isinstance(fb, str) else show_value(fb, fb_limit), fb_limit)
            fb_lines.append(f"{g.names[id(out)]}: {text}" if many else text)
        feedback_text = "\n".join([*fb_lines, *notes])
        budget -= len(feedback_text)

        history_text = fit_history(history, max(0, budget // 5))
        budget -= len(history_text)
        sections = self._node_sections(variables, g, budget)

        specs = [VariableSpec.of(p, g.names[id(p)]) for p in shown]
        values = {
            "instruction": self.objective,
            "code": "\n".join(sections.code),
            "documentation": "\n".join(f"{k}: {clip(v, 300)}" for k, v in sections.docs.items()),
            "variables": var_text,
            "constraints": constraints,
            "inputs": "\n".join(sections.inputs),
            "others": "\n".join(sections.others),
            "outputs": "\n".join(sections.outputs),
            "feedback": feedback_text,
        }
        code_fence = None
        if self.compact:
            user, code_fence = self._compact_user(values, specs, shown, history_text, tried)
        else:
            example = ", ".join(f'"{s.name}": {example_value(s)}' for s in specs)
            user = render(
                "optoprime_user",
                **{k: v or "(none)" for k, v in values.items()},
                history=history_text,
                reply_format=reply_format(example, self.reasoning_first),
                names=", ".join(s.name for s in specs),
            )
        return BuiltPrompt(
            system=system,
            user=user,
            code_fence=code_fence,
            variables=specs,
            by_name={g.names[id(p)]: p for p in shown},
            omitted=dict(sections.omitted),
            hidden_variables=hidden,
        )

    def _compact_user(self, values: Mapping[str, str], specs: Sequence[VariableSpec], shown: Sequence[Any],
                      history_text: str, tried: Mapping[str, Sequence[Mapping[str, Any]]] | None
                      ) -> tuple[str, str | None]:
        """The compact prompt: only the sections that have something, then the compact request."""
        ending, tried_text, code_fence = compact_ending(specs, shown, tried)
        if tried_text and all(s.kind in ("int", "float") and (tried or {}).get(s.name) for s in specs):
            history_text = ""  # the tried values say what the JSON history said, more plainly
        sections = "\n\n".join(f"#{key.capitalize()}\n{text}" for key, text in values.items() if text)
        user = render("optoprime_user_compact", sections=sections, history=history_text, tried=tried_text,
                      ending=ending)
        return user, code_fence

    def _node_sections(self, variables: Sequence[Any], g: StepGraph, budget: int) -> _Sections:
        """#Code, #Documentation, #Inputs, #Others and #Outputs: the outputs always, then the nodes nearest to
        a variable or output while the budget lasts; what is left out is counted."""
        var_ids = {id(p) for p in variables}
        out_ids = {id(o) for o in g.outputs}
        others = [n for n in g.nodes if id(n) not in var_ids]
        limit = value_limit(budget, self.value_chars)
        lines: dict[int, tuple[str | None, str]] = {}
        cost: dict[int, int] = {}
        for n in others:
            code = code_line(n, g.names) if n.kind in ("message", "exception") else None
            value = value_line(kind_of(n.data), g.names[id(n)], show_value(n.data, limit))
            lines[id(n)] = (code, value)
            cost[id(n)] = len(value) + (len(code) + 1 if code else 0) + 1
        keep = fit_nodes(others, out_ids, cost, g.rank, budget)

        out = _Sections()
        skipped: Counter[str] = Counter()

        def flush() -> None:
            if skipped:
                top = ", ".join(f"{op} x{k}" for op, k in skipped.most_common(4))
                out.code.append(f"# ... {sum(skipped.values())} operations omitted ({top})")
                skipped.clear()

        for n in others:
            is_op = n.kind in ("message", "exception")
            if id(n) not in keep:
                if is_op:
                    skipped[getattr(n, "op_name", n.name)] += 1
                out.omitted["operations" if is_op else "inputs"] += 1
                continue
            code, value = lines[id(n)]
            op = getattr(n, "op_name", n.name)
            if is_op:
                flush()
                out.code.append(code or "")
                out.docs.setdefault(op, (getattr(n, "op_description", "") or "").strip() or f"[{op}]")
            if id(n) in out_ids:
                out.outputs.append(value)
            elif is_op:
                out.others.append(value)
            else:
                out.inputs.append(value)
        flush()
        if out.omitted.get("inputs"):
            out.inputs.append(f"# ... {out.omitted['inputs']} inputs omitted")
        if out.omitted.get("operations"):
            out.others.append(f"# ... the values of {out.omitted['operations']} omitted operations are not shown")
        return out
