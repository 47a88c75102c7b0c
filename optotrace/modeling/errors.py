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
        shown, at = _window(expression, column)
        lines = [f"{item}: {problem}", f"    {shown}"]
        if at is not None:
            lines.append("    " + " " * at + "^")
        super().__init__("\n".join(lines))


_WINDOW = 160


def _window(text: str, column: int | None) -> tuple[str, int | None]:
    """A long expression is shown around the offending column only (a sum of thousands of terms stays readable)."""
    text = text.replace("\n", " ")
    if len(text) <= _WINDOW:
        return text, column
    centre = min(max(column or 0, 0), len(text))
    start = max(0, min(centre - _WINDOW // 2, len(text) - _WINDOW))
    end = start + _WINDOW
    shown = ("... " if start else "") + text[start:end] + (" ..." if end < len(text) else "")
    return shown, None if column is None else centre - start + (4 if start else 0)


class SolverError(ModelingError):
    """A solver is missing or was asked for something it cannot do (not raised for infeasible/unbounded)."""


class SandboxError(OptotraceError):
    """The sandbox itself failed (workers cannot start, or it was used after close())."""
