"""How each problem is run and graded (picklable, so Ray tasks get the same settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EvalSettings:
    time_limit: float = 120.0  # seconds per program in the sandbox
    memory_limit: int = 4 * 1024**3
    output_limit: int = 16 * 1024**2  # solver logs (CBC, SCIP) can be long
    extract: str = "deterministic"  # or "llm": the paper's LLM-based extraction
    extract_model: str | None = None  # LLM spec for extract="llm" (default: OPTOTRACE_MODEL / local)
    extract_options: dict[str, Any] = field(default_factory=dict)
    sandbox_pool: int = 2
    exec_cache: str | None = None  # path of a SQLite cache of program runs (None: always run)
