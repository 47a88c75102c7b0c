"""Grading: the deterministic extractor and the per-problem verdict (both in optotrace.modeling, re-exported
here), and the optional LLM extractor."""

from optotrace.modeling.grading import ABS_TOL, REL_TOLS, Grade, KeyGrade, grade
from optotrace.modeling.printed_values import Found, extract_values, normalize, parse_number

__all__ = ["ABS_TOL", "REL_TOLS", "Found", "Grade", "KeyGrade", "extract_values", "grade", "normalize", "parse_number"]
