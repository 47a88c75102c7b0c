"""SynthConfig: the settings of one ReSocratic run besides the model and the seeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optotrace.modeling.resocratic.dedup import DEFAULT_THRESHOLD
from optotrace.modeling.resocratic.synthesize import SynthesisPlan
from optotrace.modeling.resocratic.verify import DEFAULT_ATOL, DEFAULT_RTOL


@dataclass
class SynthConfig:
    """Everything a run needs besides the model and the seeds."""

    plan: SynthesisPlan = field(default_factory=SynthesisPlan)
    framework: str = "pyomo"
    concurrency: int = 8  # LLM calls in flight
    workers: int = 2  # sandbox processes; Ray CPUs
    executor: str = "local"
    ray_address: str | None = None
    dedup_threshold: float = DEFAULT_THRESHOLD
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    min_number_coverage: float = 0.8
    validation_fraction: float = 0.1
    program_time_limit: float = 60.0
    solve_time_limit: float = 60.0
    codegen_max_tokens: int = 1536
    backtranslate_max_tokens: int = 1024
    backtranslate_temperature: float = 0.0
    codegen_temperature: float = 0.0
    progress: bool = True
    retry_failed: bool = False  # on resume, call the LLM again for items whose call failed (e.g. a timeout)

    def identity(self) -> dict[str, Any]:
        """What must match for a rerun to resume (the rest, like concurrency, may change)."""
        return {"plan": self.plan.to_dict(), "framework": self.framework}
