"""The numeric optimizers' error type."""

from __future__ import annotations

from optotrace.errors import OptotraceError


class NumericOptimizerError(OptotraceError, ValueError):
    """A numeric optimizer was built or called wrongly; the message says what to change."""
