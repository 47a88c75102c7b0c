"""What one system's run gets: the task, its dev split, the budget, and clients that talk through the proxy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optotrace.benchmarks.tasks import PromptTask

from .proxy import OPTIMIZER_MODEL, CountingProxy

WORKFLOW_MODEL = "workflow"


def proxy_llm(proxy: CountingProxy, role: str = "workflow", optimizer_split: bool = False) -> Any:
    """An optotrace client for the workflow's or the optimizer's model, through the proxy, uncached
    (the proxy caches, so every system's calls are counted the same on a rerun)."""
    from optotrace.llm import get_llm

    model = OPTIMIZER_MODEL if role == "optimizer" and optimizer_split else WORKFLOW_MODEL
    return get_llm(f"openai:{model}", base_url=proxy.base_url, cache=False, timeout=600, max_retries=1)


@dataclass
class RunContext:
    task: PromptTask
    dev: list[dict[str, Any]]  # the part of train used to select among candidates (every system gets it)
    budget: int
    proxy: CountingProxy
    run_dir: Path
    optimizer_split: bool  # True: the optimizer's calls go to a second, larger model
    peers_python: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def llm(self, role: str = "workflow") -> Any:
        return proxy_llm(self.proxy, role, self.optimizer_split)

    def calls_used(self) -> int:
        return self.proxy.tally().calls


@dataclass
class SystemOutcome:
    instruction: str | None = None
    before: float | None = None  # set by the system only when it scores in its own format (DSPy)
    after: float | None = None
    steps: int = 0
    error: str | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
