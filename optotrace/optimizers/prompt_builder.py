"""OptoPrime's prompt: the parameters' subgraphs and their feedback, in sections, within a token budget.

The variables, the feedback and the outputs are always shown. The other nodes are ranked by their distance
(in edges) to the nearest variable or output, and the nearest are kept while the budget allows; runs of
left-out operations become one `# ... N operations omitted (add x40, ...)` line, so the model knows what it
does not see. Long values are cut in the middle with a note of how much was cut.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optotrace.optimizers.schema import VariableSpec, reply_format
from optotrace.optimizers.templates import render
from optotrace.optimizers.validate import kind_of

__all__ = ["BuiltPrompt", "PromptBuilder", "show_value", "clip", "example_value", "feedback_direction",
           "show_signature", "tried_lines"]

CHARS_PER_TOKEN = 3.2  # conservative for code and JSON-ish text; the final count uses the model's tokenizer


def clip(text: str, limit: int) -> str:
    """`text` cut in the middle to about `limit` characters, saying how many were left out."""
    if limit <= 0 or len(text) <= limit:
        return text
    keep = max(limit - 40, 16)
    head, tail = text[: keep * 2 // 3], text[-(keep // 3) :]
    return f"{head} ...[{len(text) - len(head) - len(tail)} characters omitted]... {tail}"


def show_value(value: Any, limit: int) -> str:
    """A value as the prompt shows it: text quoted when on one line, verbatim when on several."""
    if isinstance(value, str):
        if "\n" in value:
            return clip(value, limit)
        return clip(json.dumps(value, ensure_ascii=False), limit)
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the step
        text = f"<{type(value).__name__}: repr failed: {exc}>"
    return clip(text, limit)


def _line(kind: str, name: str, text: str) -> str:
    if "\n" in text:
        return f"({kind}) {name}:\n{text}"
    return f"({kind}) {name} = {text}"


def example_value(spec: VariableSpec) -> str:
    return {
        "int": "<new integer>",
        "float": "<new number>",
        "bool": "<true or false>",
        "list": "<new list>",
        "dict": "<new object>",
        "code": '"<complete new source of the function>"',
        "str": '"<new text>"',
    }.get(spec.kind, "<new value>")


_EMPTY_SECTION_RE = re.compile(r"^#[A-Z][a-z]+\n\(none\)\n\n?", re.M)
_ENDING_RE = re.compile(r"\nReply with one JSON object and nothing else:\n.*\Z", re.S)


def show_signature(p: Any, code_name: str) -> str:
    """`name(params) -> ret` as written in the function's current source (annotations unquoted, as the
    user wrote them), falling back to the recorded signature with its string annotations unquoted."""
    try:
        tree = ast.parse(textwrap.dedent(str(p.data)))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name == code_name:
                returns = f" -> {ast.unparse(fn.returns)}" if fn.returns is not None else ""
                return f"{code_name}({ast.unparse(fn.args)}){returns}"
    except (SyntaxError, ValueError, TypeError, RecursionError):
        pass
    recorded = getattr(p, "code_signature", "") or "(...)"
    return code_name + re.sub(r"(:\s*|->\s*)'([^'\n]*)'", r"\1\2", recorded)


_UP_RE = re.compile(r"too (?:small|low|short|few)|should be (?:larger|higher|bigger|greater|more)|\bincrease", re.I)
_DOWN_RE = re.compile(r"too (?:large|high|big|long|many)|should be (?:smaller|lower|less|fewer)|\bdecrease", re.I)


def feedback_direction(feedback: str) -> str | None:
    """'up' when the feedback only asks for larger outputs, 'down' when it only asks for smaller ones."""
    up, down = bool(_UP_RE.search(feedback)), bool(_DOWN_RE.search(feedback))
    return "up" if up and not down else "down" if down and not up else None


def _num(value: Any) -> str:
    return repr(value) if isinstance(value, (int, float)) else str(value)


def tried_lines(name: str, entries: Sequence[Mapping[str, Any]]) -> tuple[list[str], str]:
    """The values of the numeric variable `name` already tried, one line each with its feedback, and a hint:
    the interval the feedback brackets when it turned from 'too small' to 'too large' (either way round)."""
    lines = [f"{name} = {_num(e['value'])}: {e['feedback']}" for e in entries]
    up = [e["value"] for e in entries if feedback_direction(str(e["feedback"])) == "up"]
    down = [e["value"] for e in entries if feedback_direction(str(e["feedback"])) == "down"]
    hint = ""
    if up and down and max(up) < min(down):
        hint = (f" The outputs were too small at {name} = {_num(max(up))} and too large at {name} = "
                f"{_num(min(down))}, so the right {name} is between them.")
    elif up and down and max(down) < min(up):
        hint = (f" The outputs were too large at {name} = {_num(max(down))} and too small at {name} = "
                f"{_num(min(up))}, so the right {name} is between them.")
    return lines, hint


_HISTORY_RE = re.compile(r"\n#History\n.*?(?=\nReply with one JSON object)", re.S)


def _compact(user: str, specs: Sequence[VariableSpec], shown: Sequence[Any],
             tried: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> tuple[str, str | None]:
    """The prompt for a small local model: no empty sections, and a plain request at the end. A single code
    variable is asked for as a ```python block (a small model writes code far better there than inside a JSON
    string, where every newline must be escaped); other values as JSON, with no placeholder text to copy.
    Numeric variables with values already tried (`tried`: name -> [{value, feedback}], from the optimizer's
    memory) get those values listed with their feedback, and the request asks for a value not tried yet."""
    user = _EMPTY_SECTION_RE.sub("", user)
    if len(specs) == 1 and specs[0].kind == "code" and specs[0].code_name:
        signature = show_signature(shown[0], specs[0].code_name)
        ending = (f"\nReply with the complete fixed function `{signature}` in one ```python code block. Keep its "
                  "name and parameters; change its body so that the feedback improves.")
        return _ENDING_RE.sub(lambda _: ending, user), specs[0].name
    fields = ", ".join(f'"{s.name}": {_COMPACT_EXAMPLE.get(s.kind, "...")}' for s in specs)
    names = ", ".join(s.name for s in specs)
    request = f"Replace ... with the new value of {names}: a different value that fixes the feedback."
    numeric = [s for s in specs if s.kind in ("int", "float") and (tried or {}).get(s.name)]
    if numeric:
        section, asks = [], []
        for s in numeric:
            lines, hint = tried_lines(s.name, (tried or {})[s.name])
            section.extend(lines)
            values = ", ".join(_num(e["value"]) for e in (tried or {})[s.name])
            asks.append(f"{s.name} must not be {values}.{hint}")
        tried_text = "\n#Tried\nValues already tried, with their feedback (oldest first):\n" + "\n".join(section) + "\n"
        if len(numeric) == len(specs):  # the tried values say what the JSON history said, more plainly
            user = _HISTORY_RE.sub("", user)
        user = _ENDING_RE.sub(lambda m: tried_text + m.group(0), user)
        request = (f"Replace ... with the new value of {names}: a value not tried yet, moved the way the feedback "
                   "asks. " + " ".join(asks))
    ending = f"\nReply with one JSON object and nothing else: {{\"suggestion\": {{{fields}}}}}\n{request}"
    return _ENDING_RE.sub(lambda _: ending, user), None


_COMPACT_EXAMPLE = {"str": '"..."', "code": '"..."'}


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
class _Graph:
    nodes: list[Any]
    outputs: list[Any]
    feedback: list[tuple[Any, Any]]  # (output node, feedback)
    names: dict[int, str]  # id(node) -> prompt name
    rank: dict[int, int]  # id(node) -> distance to the nearest variable or output


def _feedback_items(params: Sequence[Any]) -> list[Any]:
    return [item for p in params for item in getattr(p, "feedback", ())]


def _union_subgraph(params: Sequence[Any], items: Sequence[Any]) -> list[Any]:
    try:
        from optotrace.trace import union_subgraph
    except ImportError:  # an older trace package: merge the items' subgraphs here
        union_subgraph = None
    if union_subgraph is not None:
        return list(union_subgraph(list(params)))
    seen: dict[int, Any] = {}
    for item in items:
        for n in item.subgraph:
            seen.setdefault(id(n), n)
    return sorted(seen.values(), key=lambda n: n.id)


def _name_nodes(nodes: Sequence[Any], fixed: Mapping[int, str]) -> dict[int, str]:
    """Prompt names: the variables keep theirs; every other node its own name, with a suffix `_k` only
    when names collide."""
    names = dict(fixed)
    taken = set(fixed.values())
    next_suffix: dict[str, int] = {}
    for n in nodes:
        if id(n) in names:
            continue
        base = (str(getattr(n, "name", "") or n.kind)).replace(" ", "_").replace("\n", "_")
        if base not in taken:
            names[id(n)] = base
            taken.add(base)
            continue
        k = next_suffix.get(base, 2)
        while f"{base}_{k}" in taken:
            k += 1
        names[id(n)] = f"{base}_{k}"
        taken.add(names[id(n)])
        next_suffix[base] = k + 1
    return names


def _ranks(nodes: Sequence[Any], sources: Sequence[Any], outputs: Sequence[Any]) -> dict[int, int]:
    """Distance (edges) from each node to the nearest variable (downstream) or output (upstream)."""
    inside = {id(n) for n in nodes}
    kids: dict[int, list[Any]] = {}
    for n in nodes:
        for p in n.parents:
            if id(p) in inside:
                kids.setdefault(id(p), []).append(n)
    rank: dict[int, int] = {}

    def bfs(starts: Sequence[Any], step: Callable[[Any], Sequence[Any]]) -> None:
        queue: deque[tuple[Any, int]] = deque((s, 0) for s in starts if id(s) in inside)
        seen: set[int] = set()
        while queue:
            n, d = queue.popleft()
            if id(n) in seen:
                continue
            seen.add(id(n))
            if d < rank.get(id(n), 1 << 30):
                rank[id(n)] = d
            for m in step(n):
                if id(m) in inside and id(m) not in seen:
                    queue.append((m, d + 1))

    bfs(sources, lambda n: kids.get(id(n), ()))
    bfs(outputs, lambda n: n.parents)
    return rank


def _constraint_text(p: Any) -> str | None:
    c = getattr(p, "constraint", None)
    if c is None:
        return None
    if isinstance(c, str):
        return c
    doc = (getattr(c, "__doc__", None) or "").strip().splitlines()
    label = doc[0] if doc and getattr(c, "__name__", "") != "<lambda>" else getattr(c, "__name__", "a check")
    return f"must pass the check {label}" if label != "<lambda>" else "must pass a check (values that fail are rejected)"


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

    # -- graph ---------------------------------------------------------------------------------------------
    def _graph(self, variables: Sequence[Any], names: Mapping[int, str]) -> _Graph:
        items = _feedback_items(variables)
        nodes = _union_subgraph(variables, items)
        outputs: dict[int, Any] = {}
        feedback: dict[int, tuple[Any, Any]] = {}
        for item in items:
            for out in getattr(item, "outputs", None) or (item.output,):
                outputs.setdefault(id(out), out)
            out = item.output
            feedback.setdefault(id(out), (out, item.feedback))
        ids = {id(n) for n in nodes}
        extra = [o for k, o in outputs.items() if k not in ids]
        ids.update(id(o) for o in extra)
        # The other inputs of the operations shown (constants, values not on a path from a variable).
        for n in [*nodes, *extra]:
            for parent in n.parents:
                if id(parent) not in ids:
                    ids.add(id(parent))
                    extra.append(parent)
        nodes = sorted([*nodes, *extra], key=lambda n: n.id) if extra else list(nodes)
        out_list = sorted(outputs.values(), key=lambda n: n.id)
        return _Graph(
            nodes=nodes,
            outputs=out_list,
            feedback=[feedback[id(o)] for o in out_list if id(o) in feedback],
            names=_name_nodes(nodes, names),
            rank=_ranks(nodes, variables, out_list),
        )

    # -- build ---------------------------------------------------------------------------------------------
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
        graph = self._graph(variables, names)
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
        g: _Graph,
        notes: Sequence[str],
        history: Sequence[Mapping[str, Any]],
        step: int,
        budget_tokens: int,
        tried: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> BuiltPrompt:
        budget = int(budget_tokens * CHARS_PER_TOKEN)
        system = render("optoprime_system_short" if self.compact else "optoprime_system")
        budget -= len(system) + 900  # the fixed parts of the user template

        # Variables: all of them unless they alone would take most of the budget; then a window that moves
        # with the step number, so every variable comes up in turn.
        var_lines: list[tuple[Any, str]] = []
        for p in variables:
            var_lines.append((p, _line(kind_of(p.data, p.is_code), g.names[id(p)], show_value(p.data, 1 << 30))))
        hidden = 0
        var_budget = int(budget * 0.6)
        if sum(len(t) + 1 for _, t in var_lines) > var_budget:
            start = (step * max(1, len(var_lines) // 4)) % len(var_lines)
            rotated = var_lines[start:] + var_lines[:start]
            kept, used = [], 0
            for p, t in rotated:
                if used + len(t) + 1 > var_budget and kept:
                    continue
                kept.append((p, t))
                used += len(t) + 1
            hidden = len(var_lines) - len(kept)
            keep_ids = {id(p) for p, _ in kept}
            var_lines = [(p, t) for p, t in var_lines if id(p) in keep_ids]
        shown = [p for p, _ in var_lines]
        var_text = "\n".join(t for _, t in var_lines)
        if hidden:
            var_text += f"\n({hidden} more variables are not shown in this step; they come up in later steps.)"
        constraints = "\n".join(
            f"{g.names[id(p)]}: {c}" for p in shown if (c := _constraint_text(p)) is not None
        )
        budget -= len(var_text) + len(constraints)

        # Feedback, then notes about rejected suggestions.
        many = len(g.feedback) > 1
        fb_limit = self.feedback_chars if not many else max(200, min(self.feedback_chars, budget // (4 * len(g.feedback))))
        fb_lines = []
        for out, fb in g.feedback:
            text = clip(fb if isinstance(fb, str) else show_value(fb, fb_limit), fb_limit)
            fb_lines.append(f"{g.names[id(out)]}: {text}" if many else text)
        fb_lines.extend(notes)
        feedback_text = "\n".join(fb_lines)
        budget -= len(feedback_text)

        history_text = self._history(history, max(0, budget // 5))
        budget -= len(history_text)

        # Every other node: the outputs always, then the nearest first while the budget lasts.
        var_ids = {id(p) for p in variables}
        out_ids = {id(o) for o in g.outputs}
        others = [n for n in g.nodes if id(n) not in var_ids]
        value_limit = self.value_chars if budget > 20 * self.value_chars else max(60, budget // 40)
        cost: dict[int, int] = {}
        lines: dict[int, tuple[str | None, str]] = {}
        for n in others:
            code = self._code_line(n, g.names) if n.kind in ("message", "exception") else None
            value = _line(kind_of(n.data), g.names[id(n)], show_value(n.data, value_limit))
            lines[id(n)] = (code, value)
            cost[id(n)] = len(value) + (len(code) + 1 if code else 0) + 1
        keep: set[int] = set(out_ids)
        budget -= sum(cost[i] for i in out_ids if i in cost)
        docs_seen: set[str] = set()
        for n in sorted(others, key=lambda n: (g.rank.get(id(n), 1 << 30), -n.id)):
            if id(n) in keep:
                continue
            c = cost[id(n)]
            if c > budget:
                continue
            keep.add(id(n))
            budget -= c
        for n in others:  # the documentation of every kept operation
            if id(n) in keep and n.kind in ("message", "exception"):
                docs_seen.add(getattr(n, "op_name", n.name))

        code_out: list[str] = []
        inputs_out: list[str] = []
        others_out: list[str] = []
        outputs_out: list[str] = []
        docs: dict[str, str] = {}
        skipped_ops: Counter[str] = Counter()
        omitted: Counter[str] = Counter()

        def flush() -> None:
            if skipped_ops:
                total = sum(skipped_ops.values())
                top = ", ".join(f"{op} x{k}" for op, k in skipped_ops.most_common(4))
                code_out.append(f"# ... {total} operations omitted ({top})")
                skipped_ops.clear()

        # Variables' own code lines come from the nodes they feed; the code parameter's op is in #Variables.
        for n in g.nodes:
            if id(n) in var_ids:
                continue
            is_op = n.kind in ("message", "exception")
            code, value = lines[id(n)]
            if id(n) not in keep:
                if is_op:
                    skipped_ops[getattr(n, "op_name", n.name)] += 1
                    omitted["operations"] += 1
                else:
                    omitted["inputs"] += 1
                continue
            if is_op:
                flush()
                code_out.append(code or "")
                op = getattr(n, "op_name", n.name)
                if op in docs_seen and op not in docs:
                    docs[op] = (getattr(n, "op_description", "") or "").strip() or f"[{op}]"
            if id(n) in out_ids:
                outputs_out.append(value)
            elif is_op:
                others_out.append(value)
            else:
                inputs_out.append(value)
        flush()
        if omitted.get("inputs"):
            inputs_out.append(f"# ... {omitted['inputs']} inputs omitted")
        if omitted.get("operations"):
            others_out.append(f"# ... the values of {omitted['operations']} omitted operations are not shown")

        specs = [
            VariableSpec(g.names[id(p)], kind_of(p.data, p.is_code), p.description or "", p.code_name)
            for p in shown
        ]
        example = ", ".join(f'"{s.name}": {example_value(s)}' for s in specs)
        user = render(
            "optoprime_user",
            instruction=self.objective,
            code="\n".join(code_out) or "(none)",
            documentation="\n".join(f"{k}: {clip(v, 300)}" for k, v in docs.items()) or "(none)",
            variables=var_text,
            constraints=constraints or "(none)",
            inputs="\n".join(inputs_out) or "(none)",
            others="\n".join(others_out) or "(none)",
            outputs="\n".join(outputs_out) or "(none)",
            feedback=feedback_text or "(none)",
            history=history_text,
            reply_format=reply_format(example, self.reasoning_first),
            names=", ".join(s.name for s in specs),
        )
        code_fence = None
        if self.compact:
            user, code_fence = _compact(user, specs, shown, tried)
        return BuiltPrompt(
            system=system,
            user=user,
            code_fence=code_fence,
            variables=specs,
            by_name={g.names[id(p)]: p for p in shown},
            omitted=dict(omitted),
            hidden_variables=hidden,
        )

    @staticmethod
    def _code_line(n: Any, names: Mapping[int, str]) -> str:
        inputs = getattr(n, "inputs", {}) or {}
        args = ", ".join(f"{k}={names.get(id(v), getattr(v, 'name', '?'))}" for k, v in inputs.items())
        line = f"{names[id(n)]} = {getattr(n, 'op_name', n.name)}({args})"
        if n.kind == "exception":
            exc = getattr(n, "exception", None)
            line += f"  # raised {type(exc).__name__}" if exc is not None else "  # raised an error"
        return line

    @staticmethod
    def _history(history: Sequence[Mapping[str, Any]], limit: int) -> str:
        if not history or limit < 200:
            return ""
        per = max(150, limit // len(history))
        entries = [clip(json.dumps(h, ensure_ascii=False, default=str), per) for h in history]
        while entries and sum(len(e) + 1 for e in entries) > limit:
            entries.pop(0)  # the oldest go first
        return render("optoprime_history", entries="\n".join(entries)) if entries else ""
