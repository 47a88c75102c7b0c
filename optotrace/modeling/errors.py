"""Errors of optotrace.modeling (all OptotraceError)."""

from __future__ import annotations

from optotrace.errors import OptotraceError


class ModelingError(OptotraceError):
    """Base class of the modeling errors."""


class SpecError(ModelingError):
    """A ModelSpec is inconsistent: unknown names, wrong domains, bounds that contradict each other."""


class ExpressionError(SpecError):
    """An expression in a ModelSpec cannot be parsed or uses something the modeling language does not allow.

    `item` names the spec item ("constraint 'capacity'"), `expression` is the text, `column` the 0-based
    position of the offending token (None when not known).
    """

    def __init__(self, item: str, expression: str, problem: str, column: int | None = None) -> None:
        self.item = item
        self.expression = expression
        self.problem = problem
        self.column = column
        lines = [f"{item}: {problem}", f"    {expression}"]
        if column is not None:
            lines.append("    " + " " * column + "^")
        super().__init__("\n".join(lines))


class SolverError(ModelingError):
    """A solver is missing or was asked for something it cannot do (not raised for infeasible/unbounded)."""


class SandboxError(OptotraceError):
    """The sandbox itself failed (workers cannot start, or it was used after close())."""
