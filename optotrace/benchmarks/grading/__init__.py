"""Grading: the deterministic extractor, the optional LLM extractor, and the per-problem verdict."""

from optotrace.benchmarks.grading.extract import Found, extract_values, normalize, parse_number
from optotrace.benchmarks.grading.grade import ABS_TOL, REL_TOLS, Grade, KeyGrade, grade

__all__ = ["ABS_TOL", "REL_TOLS", "Found", "Grade", "KeyGrade", "extract_values", "grade", "normalize", "parse_number"]
