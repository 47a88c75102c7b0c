"""Errors raised by the benchmark layer (all rooted in OptotraceError)."""

from __future__ import annotations

from optotrace.errors import OptotraceError


class BenchmarkError(OptotraceError):
    """Something about a benchmark run was wrong (bad arguments, an unusable run directory)."""


class DataSourceError(BenchmarkError):
    """A benchmark file could not be found, fetched or parsed as a whole."""
