"""Context-local tracing state (contextvars): each thread and asyncio task sees its own switches.

There is no global graph: a graph is simply the nodes reachable from an output through `.parents`.
What lives here is only the per-context state of the recorder.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# Whether operators and bundled calls record nodes (False inside stop_tracing() and inside a bundled call).
_TRACING: ContextVar[bool] = ContextVar("optotrace_tracing", default=True)
# While a bundled function runs: the list that collects every node whose `.data` the function reads, so
# that reading a node which is not one of its inputs (an external dependency) is noticed.
_READS: ContextVar[list[Any] | None] = ContextVar("optotrace_reads", default=None)

# Node ids: unique and increasing in creation order across all contexts, so a parent's id is always
# smaller than its children's ids (sorting by id is a topological order). next() on count is atomic.
_ids = itertools.count()
next_id = _ids.__next__


def is_tracing() -> bool:
    """True when operators and bundled calls record graph nodes in the current context."""
    return _TRACING.get()


@contextmanager
def stop_tracing() -> Iterator[None]:
    """Within this block, bundled calls and operators on nodes return plain values and record nothing."""
    token = _TRACING.set(False)
    try:
        yield
    finally:
        _TRACING.reset(token)
