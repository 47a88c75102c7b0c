"""Instruction induction: a new instruction written from worked examples, in plain text, in a short prompt.

For instruction parameters (prompts, system messages) and small optimizer models. OptoPrime shows the model
the program's graph and asks for JSON; a 0.5B model shown that copies the current value, a line of the
graph, or one example's answer. Here the prompt is only the current instruction, a few of the step's
examples (the input, what came out, the feedback, which names the right answer) and the goal, and the
reply is the new instruction as text. Each parameter with feedback gets its own call. The value is checked
like any other: for a parameter declared `role="instruction"`, answer-like values are refused with the reason
(and the reason is shown next time); `answers=` gives the task's answer space (labels or a validator).

    instruction = ot.node("Answer the question.", trainable=True, role="instruction")
    opt = InstructionInduction([instruction], llm=llm, objective="... answer with a single number")
    # under the Trainer, GEPA or ProposeRace (a CandidateOptimizer); num_candidates=k draws k at temperature

The examples come from the step's outcomes (the StepContext: failing ones first), or, stepped on its own,
from the feedback the parameter holds (the inputs and outputs of its subgraphs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from optotrace.optimizers.base import Optimizer, Proposal
from optotrace.optimizers.contract import StepContext
from optotrace.optimizers.errors import OptimizerError
from optotrace.optimizers.proposal.ask import ask_plain
from optotrace.optimizers.proposal.checks import Answers, examples_of
from optotrace.optimizers.proposal.policy import ProposalPolicy
from optotrace.optimizers.proposal.prompt_render import clip
from optotrace.optimizers.proposal.templates import render

__all__ = ["InstructionInduction"]

SYSTEM = "You write clear, general instructions for language models."
DEFAULT_OBJECTIVE = "the model answers every input of this kind correctly."
# A heading: a line that ends in ':' ("Here is the rewritten text:", "**Answer format:**").
_HEADING_RE = re.compile(r"^[ \t]*(?:#+[ \t]*)?(?:\*\*|__)?[^\n]*?(?::[ \t]*(?:\*\*|__)?|(?:\*\*|__)[ \t]*:)[ \t]*$")
# A bold label that starts a line, with the value after it on the same line: "**Label:** value".
_BOLD_LABEL_RE = re.compile(r"^[ \t]*(?:\*\*|__)[^\n*_]{1,60}?(?::[ \t]*(?:\*\*|__)|(?:\*\*|__)[ \t]*:)[ \t]*(?=\S)")
# A plain label of one to three words that starts the reply: "Label: value" (stripped only when the value is
# quoted whole, or the label names the parameter: otherwise "Note: ..." may be the instruction's own text).
_PLAIN_LABEL_RE = re.compile(r"^[ \t]*(?P<label>[A-Za-z][\w-]*(?:[ \t]+[\w-]+){0,2})[ \t]*:[ \t]+(?=\S)")
_LIST_ITEM_RE = re.compile(r"^[ \t]*(?:\d+[.)]|[-*\u2022])[ \t]")


class InstructionInduction(Optimizer):
    def __init__(self, params: Any, llm: Any = None, *, objective: str | None = None, max_examples: int = 4,
                 example_chars: int = 500, max_tokens: int | None = 160, temperature: float = 0.0,
                 num_candidates: int = 1, seed: int | None = 0, policy: ProposalPolicy | None = None,
                 answers: Answers | None = None) -> None:
        super().__init__(params, llm, policy=policy, answers=answers)
        texts = [p for p in self.params if p.trainable and isinstance(p.data, str) and not getattr(p, "is_code", False)]
        if not texts:
            raise OptimizerError("InstructionInduction rewrites text parameters (instructions); none was given")
        self.objective = objective or DEFAULT_OBJECTIVE
        self.max_examples = max(1, int(max_examples))
        self.example_chars = int(example_chars)
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.num_candidates = max(1, int(num_candidates))
        self.seed = seed
        self._turn = 0

    def propose(self, context: StepContext | None = None, variant: int = 0, **kwargs: Any) -> Proposal:
        targets = [p for p in self.params if p.trainable and isinstance(p.data, str)
                   and not getattr(p, "is_code", False) and (p.feedback or context is not None)]
        if not targets:
            return Proposal(error="no instruction parameter has feedback this step")
        param = targets[(self._turn + variant) % len(targets)]  # one parameter per call, in turn
        if variant == 0:
            self._turn += 1
        name = self.names[id(param)]
        examples = self._examples(param, context)
        notes = self.take_notes() if variant == 0 else []
        user = render("induction_user", current=clip(param.data, 2000), examples=examples or "(none shown)",
                      objective=self.objective,
                      notes=("\n" + "\n".join(notes)) if notes else "")
        temperature = self.temperature if variant == 0 else self.policy.candidate_temperature
        reply, failed = ask_plain(self.llm, SYSTEM, user, name=name, temperature=temperature,
                                  max_tokens=self.max_tokens,
                                  seed=None if self.seed is None else self.seed + self.step_count + 7919 * variant)
        if failed is not None:
            return failed
        cut = getattr(reply, "finish_reason", None) == "length"
        text = read_instruction(complete_part(reply.text) if cut else reply.text, name=name)
        proposal = Proposal(reply=reply.text, names=[name], prompt_chars=len(user))
        if not text and cut:
            proposal.rejected[name] = "the reply was cut off at the token limit; write a shorter instruction"
            proposal.via = "none"
        elif text:
            proposal.values, proposal.via = {name: text}, "text"
        else:
            proposal.error = "the reply held no instruction"
        return proposal

    def _examples(self, param: Any, context: StepContext | None) -> str:
        rows: list[tuple[float, str, str, str]] = []
        if context is not None and context.outcomes:
            for outcome, raw in zip(context.outcomes, context.inputs, strict=False):
                output = getattr(outcome.output, "data", outcome.output)
                rows.append((outcome.score, _text(raw), _text(output), str(outcome.feedback or "")))
        else:
            seen = examples_of([param])
            for inp, out, fb in zip(seen.inputs, seen.outputs, seen.feedback, strict=False):
                rows.append((0.0, inp, out, fb))
        rows.sort(key=lambda r: r[0])  # the failures first
        c = self.example_chars
        return "\n\n".join(f"Input: {clip(i, c)}\nOutput: {clip(o, c // 2)}\nFeedback: {clip(f, c // 2)}"
                           for _, i, o, f in rows[: self.max_examples])

    def _extra_state(self) -> dict[str, Any]:
        return {"objective": self.objective, "turn": self._turn}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        self._turn = int(state.get("turn", 0))


def complete_part(reply: str) -> str:
    """What a reply cut off at the token limit said completely: its whole paragraphs, else its whole
    sentences, else nothing (a small model often states the rule first and then works through an example)."""
    text = reply.strip()
    paragraphs = [p for p in re.split(r"\n\s*\n", text)]
    if len(paragraphs) > 1:
        return "\n\n".join(paragraphs[:-1]).strip()
    sentences = re.findall(r".+?[.!?](?=\s|$)", text, re.S)
    return "".join(sentences).strip()


def read_instruction(reply: str, name: str | None = None) -> str:
    """The instruction in a plain-text reply, without what frames it: code fences; a preface that ends in ':'
    (a first paragraph such as "Here is the rewritten text:") followed by headed sections, in which case the
    first section's text is the value, up to the next heading; a bold "**Label:**" before the value; a plain
    "Label:" of one to three words before it when the value is quoted whole or the label names the parameter
    (`name`); the quotes around the whole of it. Nothing here names a particular model's phrasing."""
    from optotrace.llm.replies import unfence

    text = unfence(reply).strip()
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    if len(blocks) > 1 and _HEADING_RE.match(blocks[0].splitlines()[-1]):
        section = _first_section(blocks[1:])
        if section and not _LIST_ITEM_RE.match(section):  # a list after "Do this:" is the instruction's own text
            text = section
    text = _strip_label(text, name)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return text


def _first_section(blocks: list[str]) -> str:
    """The text under the first heading of `blocks` (or the first block, when it has none), up to the next."""
    lines: list[str] = []
    for block in blocks:
        for line in block.splitlines():
            if _HEADING_RE.match(line):
                if lines:
                    return "\n".join(lines).strip()
                continue
            lines.append(line)
        if lines:
            return "\n".join(lines).strip()
    return ""


def _strip_label(text: str, name: str | None) -> str:
    """`text` without a label before its value (see read_instruction)."""
    bold = _BOLD_LABEL_RE.match(text)
    if bold:
        return text[bold.end():].strip()
    plain = _PLAIN_LABEL_RE.match(text)
    if plain is None:
        return text
    rest = text[plain.end():].strip()
    quoted = len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "\"'`"
    label = plain.group("label").lower().replace("_", " ")
    names_it = bool(name) and name.lower().replace("_", " ") in label
    return rest if quoted or names_it else text


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)
