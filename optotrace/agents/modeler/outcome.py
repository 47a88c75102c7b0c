"""What one attempt produced, and what to tell the model when it is not usable."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

_BAD_OUTPUT = ("could not be solved", "infeasible", "unbounded", "no solution")


class Outcome(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    ok: bool = False  # usable: ran (or solved) and reported something
    ran: bool = False  # the program ran cleanly / the model solved to a solution
    output: str = ""
    problem: str | None = None  # why the attempt is not usable (fed back to the model)
    program: str | None = None
    spec: Any = None
    values: dict[str, float | None] | None = None
    run_s: float = 0.0

    def __str__(self) -> str:  # what the optimizer sees for this node
        head = "ok" if self.ok else f"failed: {self.problem}"
        return f"{head}\noutput:\n{self.output[-1500:]}"


def program_problem(ok: bool, stdout: str, stderr: str, failure: str | None, labels: list[str]) -> str | None:
    """None when the program's run is usable; else a short reason for the repair prompt."""
    from optotrace.modeling.printed_values import extract_values

    if not ok:
        tail = "\n".join(stderr.strip().splitlines()[-12:])
        return f"{failure or 'the program failed'}\n{tail}".strip()
    low = stdout.lower()
    if any(marker in low for marker in _BAD_OUTPUT) and not extract_values(stdout, labels):
        return "the solver found no optimal solution (infeasible, unbounded or failed); check the constraints and bounds"
    found = extract_values(stdout, labels)
    missing = [label for label in labels if label not in found or found[label].value is None]
    if labels and len(missing) == len(labels):
        return "the program printed none of the requested values; print each as `<label>: <value>`: " + ", ".join(labels)
    return None
