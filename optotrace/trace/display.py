"""Compatibility only: optimizers/graph_snapshot.py still imports `graph_record` from here. The lead removes
this file when that import reads `from optotrace.trace.render import graph_record`."""

from optotrace.trace.render import graph_record

__all__ = ["graph_record"]
