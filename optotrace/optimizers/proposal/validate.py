"""Check a suggested value before it is applied: code goes through code_check.py (compiles, keeps the
function's name and signature), every other value through cast.py (the parameter's type); then the
parameter's constraint. Every refusal carries a reason the model reads in the next step."""

from __future__ import annotations

from typing import Any

from optotrace.optimizers.errors import SuggestionRejected
from optotrace.optimizers.proposal.cast import cast_like, check_constraint, kind_of, reject_placeholder
from optotrace.optimizers.proposal.code_check import check_code, def_header, repair_candidates

__all__ = [
    "SuggestionRejected", "cast_like", "check_code", "check_constraint", "def_header", "kind_of",
    "reject_placeholder", "repair_candidates", "validate_suggestion",
]


def validate_suggestion(param: Any, value: Any) -> Any:
    """The value to apply to `param` (a ParameterNode or anything with .data), or SuggestionRejected."""
    if getattr(param, "is_code", False):
        if not isinstance(value, str):
            raise SuggestionRejected(f"code must be a string of Python source, got {type(value).__name__}")
        new = check_code(value, getattr(param, "code_name", None), getattr(param, "code_signature", None),
                         original=param.data if isinstance(param.data, str) else None)
    else:
        reject_placeholder(value)
        new = cast_like(value, param.data)
    check_constraint(new, getattr(param, "constraint", None))
    return new
