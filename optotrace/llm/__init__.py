"""optotrace.llm: one client over openai, litellm and the embedded local model.

    from optotrace.llm import get_llm
    llm = get_llm("openai:gpt-4o-mini")            # or "local", "local:smollm2", "litellm:anthropic/...", "scripted:replies.jsonl"
    reply = llm.complete("Name a prime.", response_model=Answer)
    reply.parsed, reply.cached, llm.usage

Heavy libraries (openai, litellm, llama-cpp-python) load only when their backend is used.
"""

from optotrace.llm.backends.scripted import ScriptedLLM
from optotrace.llm.base import LLM
from optotrace.llm.embedded import embedded_model_path, local_model_path
from optotrace.llm.errors import (
    BudgetExceeded,
    LLMConfigError,
    LLMError,
    StructuredOutputError,
    TransientLLMError,
)
from optotrace.llm.registry import get_llm
from optotrace.llm.results import Completion, Usage
from optotrace.llm.run_budget import RunBudget, RunBudgetExhausted, budget_phase
from optotrace.llm.usage import UsageTotals

__all__ = [
    "LLM",
    "BudgetExceeded",
    "Completion",
    "LLMConfigError",
    "LLMError",
    "RunBudget",
    "RunBudgetExhausted",
    "ScriptedLLM",
    "StructuredOutputError",
    "TransientLLMError",
    "Usage",
    "UsageTotals",
    "budget_phase",
    "embedded_model_path",
    "get_llm",
    "local_model_path",
]
