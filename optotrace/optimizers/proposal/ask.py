"""Asking the model for one proposal: `ask_for_suggestion` (a reply of variable values, through the schema or
the text) for OptoPrime, OPRO and TextGrad; `ask_plain` (one plain-text request) for the rewriting optimizers
(InstructionInduction, CodeRewrite). A run budget that refuses the call is raised, not recorded."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from optotrace.optimizers.base import Proposal
from optotrace.optimizers.proposal.parse import ReadSuggestion, match_names, read_suggestion
from optotrace.optimizers.proposal.schema import suggestion_values

__all__ = ["ask_for_suggestion", "ask_plain"]

log = logging.getLogger("optotrace.optimizers")


def ask_for_suggestion(
    llm: Any,
    messages: list[dict[str, str]],
    names: list[str],
    response_model: Any,
    *,
    code_names: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    seed: int | None = None,
    use_schema: bool = True,
) -> Proposal:
    """One model call; the suggested values by variable name, through the schema or, failing that, the text.

    `via` says how the reply was read: "schema" or "text" (values), "nochange" (the model explicitly chose no
    change), "none" (nothing readable; `error` says why) or "error" (the call failed). A value the reply was
    cut off in (token limit) is never among the values: it is in `rejected` with the reason."""
    from optotrace.llm import BudgetExceeded, LLMError, StructuredOutputError

    def read(text: str, finish_reason: str | None) -> ReadSuggestion:
        return read_suggestion(text, names, code_names=code_names, kinds=kinds, finish_reason=finish_reason)

    try:
        reply = llm.complete(
            messages,
            response_model=response_model if use_schema else None,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
        )
    except StructuredOutputError as exc:
        raw = exc.raw or ""
        return _proposal(read(raw, None), {}, raw)
    except BudgetExceeded:
        raise
    except LLMError as exc:
        log.warning("the optimizer's model call failed: %s", exc)
        return Proposal({}, "", "error", f"model call failed: {exc}")
    finish = getattr(reply, "finish_reason", None)
    schema_values = suggestion_values(reply.parsed) if reply.parsed is not None else {}
    matched = match_names(schema_values, names)
    schema_values = {matched[k]: v for k, v in schema_values.items() if k in matched}
    # The LLM layer reads replies with json-repair, which can mangle what is not strict JSON (a code string
    # with unescaped quotes, a triple-quoted literal); read_suggestion reads strict JSON identically and the
    # rest more carefully, so its reading wins when it finds anything.
    return _proposal(read(reply.text, finish), schema_values, reply.text)


def _proposal(found: ReadSuggestion, schema_values: dict[str, Any], text: str) -> Proposal:
    rejected = dict(found.cut)
    if found.values:
        via = "schema" if schema_values == found.values else "text"
        return Proposal(found.values, text, via, rejected=rejected)
    # json-repair completes a cut reply as if it were whole: a schema value the text shows cut is not used.
    schema_values = {k: v for k, v in schema_values.items() if k not in rejected}
    if schema_values and not found.truncated:
        return Proposal(schema_values, text, "schema", rejected=rejected)
    if found.no_change and not rejected:
        return Proposal({}, text, "nochange")
    if found.truncated:
        error = "the reply was cut off at the token limit (max_tokens) before a complete value"
    else:
        error = "unusable reply: no value could be read"
    return Proposal({}, text, "none", error, rejected=rejected)


def ask_plain(llm: Any, system: str, user: str, *, name: str, temperature: float, max_tokens: int | None,
              seed: int | None) -> tuple[Any, Proposal | None]:
    """(the completion, None), or (None, a Proposal holding the error) when the model call failed."""
    from optotrace.llm import BudgetExceeded, LLMError

    try:
        reply = llm.complete([{"role": "system", "content": system}, {"role": "user", "content": user}],
                             temperature=temperature, max_tokens=max_tokens, seed=seed)
    except BudgetExceeded:
        raise
    except LLMError as exc:
        return None, Proposal(error=f"{type(exc).__name__}: {exc}", via="error", names=[name])
    return reply, None
