"""Grading one answer, kept importable here; it lives in optotrace.modeling.grading (agents score with it too)."""

from optotrace.modeling.grading import (
    ABS_TOL,
    NOT_OPTIMAL,
    REL_TOLS,
    Grade,
    KeyGrade,
    close_abs,
    close_rel,
    grade,
)

__all__ = ["ABS_TOL", "NOT_OPTIMAL", "REL_TOLS", "Grade", "KeyGrade", "close_abs", "close_rel", "grade"]
