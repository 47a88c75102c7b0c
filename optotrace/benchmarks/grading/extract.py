"""The deterministic extractor, kept importable here; it lives in optotrace.modeling.printed_values."""

from optotrace.modeling.printed_values import (
    Found,
    Pair,
    extract_values,
    labelled_pairs,
    normalize,
    parse_number,
    split_pair,
)

__all__ = ["Found", "Pair", "extract_values", "labelled_pairs", "normalize", "parse_number", "split_pair"]
