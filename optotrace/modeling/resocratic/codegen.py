"""Solver programs: the prompt (Pyomo by default, PySCIPOpt as an option), extracting the code from a reply, and
reading what the program printed when it ran in the sandbox."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from optotrace.llm.replies import extract_program as extract_program  # re-exported: the one reader
from optotrace.modeling.resocratic import templates
from optotrace.modeling.resocratic.expand import Problem

Framework = Literal["pyomo", "pyscipopt"]
FRAMEWORKS: tuple[Framework, ...] = ("pyomo", "pyscipopt")
_STATUS = re.compile(r"^\s*status\s*[:=]\s*(.+?)\s*$", re.I | re.M)
_OBJECTIVE = re.compile(
    r"^\s*objective(?:\s+value)?\s*[:=]\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$", re.I | re.M
)
_GOOD_STATUS = ("optimal", "globally optimal", "locally optimal", "convergencecriteriasatisfied", "feasible")


def messages_for(problem: Problem, framework: Framework, linear: bool) -> list[dict[str, str]]:
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    solver = "appsi_highs" if linear else "scip_direct"
    user = templates.render(f"codegen_{framework}", scenario=problem.text.strip(), solver=solver)
    return [
        {"role": "system", "content": templates.template_text("codegen_system")},
        {"role": "user", "content": user},
    ]


@dataclass(frozen=True)
class ProgramOutcome:
    """What a program's run says: ok, or the reason it is rejected; the status and objective it printed."""

    ok: bool
    reason: str  # "" when ok
    status: str | None
    objective: float | None
    detail: str = ""


def read_outcome(run: Any) -> ProgramOutcome:
    """Classify a sandbox RunResult (anything with stdout, stderr, returncode, timed_out, memory_exceeded, ...)."""
    stderr_tail = (getattr(run, "stderr", "") or "")[-600:]
    if getattr(run, "error", ""):
        return ProgramOutcome(False, "sandbox_error", None, None, str(run.error))
    if getattr(run, "timed_out", False):
        return ProgramOutcome(False, "program_timeout", None, None, stderr_tail)
    if getattr(run, "memory_exceeded", False):
        return ProgramOutcome(False, "program_memory", None, None, stderr_tail)
    if getattr(run, "output_truncated", False):
        return ProgramOutcome(False, "program_output_limit", None, None, "")
    if run.returncode != 0:
        reason = "program_syntax_error" if "SyntaxError" in stderr_tail else "program_error"
        return ProgramOutcome(False, reason, None, None, stderr_tail)
    stdout = run.stdout or ""
    statuses = _STATUS.findall(stdout)
    objectives = _OBJECTIVE.findall(stdout)
    status = statuses[-1].strip() if statuses else None
    if not objectives:
        return ProgramOutcome(False, "program_no_objective", status, None, stdout[-600:])
    value = float(objectives[-1])
    if not math.isfinite(value):
        return ProgramOutcome(False, "program_no_objective", status, None, stdout[-600:])
    norm = re.sub(r"[^a-z ]", "", (status or "").lower()).replace("terminationcondition", "").strip()
    if status is not None and not any(norm.replace(" ", "") == g.replace(" ", "") for g in _GOOD_STATUS):
        return ProgramOutcome(False, "program_not_optimal", status, value, stdout[-600:])
    return ProgramOutcome(True, "", status or "unknown", value)
