"""One executor: map a function over items with threads, processes or Ray tasks.

    with Executor("threads", workers=8) as ex:
        for out in ex.map(fn, items, ordered=False):   # Outcome(index, item, value, error)
            record(out)

At most `max_in_flight` items are submitted and not yet handed back (2 x workers by default), so a long
item list never floods memory or a cluster. `ordered=True` gives the outcomes in the order of `items`;
`ordered=False` as they finish, so a caller that records each at once loses nothing to one slow item.
A failing item is an Outcome with `error` set, never an exception out of `map` (KeyboardInterrupt and
other BaseExceptions still stop the run). Processes need a picklable `fn` and items; Ray tasks too, and
the function is shipped to the cluster once (`ray.put`).
"""

from __future__ import annotations

import heapq
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures import Executor as _PoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

__all__ = ["Executor", "ExecutorError", "Kind", "Outcome", "ensure_ray"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Kind = Literal["threads", "processes", "ray", "serial"]
KINDS = ("threads", "processes", "ray", "serial")


class ExecutorError(ValueError):
    """A bad executor setting (unknown kind, Ray missing)."""


@dataclass
class Outcome(Generic[T]):
    index: int  # position in the items given to map()
    item: T
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> tuple[Any, bool]:
    """(the ray module, whether this call started it). A local instance unless `address` is given."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a dependency
        raise ExecutorError("the Ray executor needs the ray package: pip install ray") from exc
    if ray.is_initialized():
        return ray, False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True}
    if address:
        kwargs["address"] = address
    elif num_cpus:
        kwargs["num_cpus"] = num_cpus
    ray.init(**kwargs)
    return ray, True


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    return fn(item)


class Executor:
    """`kind`: "threads" (default; for work that waits on LLMs), "processes" (CPU-bound, picklable work),
    "ray" (tasks on a local instance or `address`), or "serial" (in the caller's thread, one at a time).
    A Ray instance this executor started (`ray_num_cpus` CPUs) is shut down by `close()` when
    `shutdown_ray`; one that was running already is left alone."""

    def __init__(
        self,
        kind: Kind = "threads",
        workers: int | None = None,
        max_in_flight: int | None = None,
        address: str | None = None,
        cpus_per_task: float | None = None,
        ray_num_cpus: int | None = None,
        shutdown_ray: bool = True,
        name: str = "optotrace",
    ) -> None:
        if kind not in KINDS:
            raise ExecutorError(f"unknown executor {kind!r}; use one of {', '.join(KINDS)}")
        self.kind = kind
        self.workers = max(1, int(workers or os.cpu_count() or 2))
        self.max_in_flight = max(1, int(max_in_flight or 2 * self.workers))
        self.address = address
        self.cpus_per_task = cpus_per_task
        self.ray_num_cpus = ray_num_cpus
        self.shutdown_ray = shutdown_ray
        self.name = name
        self._pool: _PoolExecutor | None = None
        self._size = 0
        self._ray: Any = None
        self._started_ray = False

    # -- lifecycle ------------------------------------------------------------------------------------
    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._started_ray and self.shutdown_ray and self._ray is not None and self._ray.is_initialized():
            self._ray.shutdown()
            self._started_ray = False

    def _local_pool(self, size: int) -> _PoolExecutor:
        if self._pool is not None and self.kind == "threads" and size > self._size:
            self._pool.shutdown(wait=False)  # idle between map() calls: grow it for a wider call
            self._pool = None
        if self._pool is None:
            self._size = max(self.workers, size) if self.kind == "threads" else self.workers
            if self.kind == "processes":
                ctx = multiprocessing.get_context("spawn")  # fork would copy locks held by other threads
                self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
            else:
                self._pool = ThreadPoolExecutor(self._size, thread_name_prefix=self.name)
        return self._pool

    # -- map --------------------------------------------------------------------------------------------
    def map(
        self, fn: Callable[[T], Any], items: Iterable[T], ordered: bool = True, workers: int | None = None
    ) -> Iterator[Outcome[T]]:
        """Outcomes of `fn(item)`. `workers` sets this call's concurrency and its bound on items in flight."""
        limit = self.max_in_flight if workers is None else max(1, int(workers))
        if self.kind == "serial":
            yield from self._serial(fn, items)
        elif self.kind == "ray":
            yield from _drive(*self._ray_ops(fn), items, limit, ordered)
        else:
            yield from _drive(*self._pool_ops(fn, workers or self.workers), items, limit, ordered)

    @staticmethod
    def _serial(fn: Callable[[T], Any], items: Iterable[T]) -> Iterator[Outcome[T]]:
        for i, item in enumerate(items):
            try:
                yield Outcome(i, item, fn(item))
            except Exception as exc:
                yield Outcome(i, item, error=exc)

    def _pool_ops(self, fn: Callable[[Any], Any], width: int) -> tuple[Submit, Collect, Cancel]:
        pool = self._local_pool(width)

        def collect(handles: list[Any]) -> Iterator[tuple[Any, Any, BaseException | None]]:
            done, _ = wait(handles, return_when=FIRST_COMPLETED)
            for fut in done:
                exc = fut.exception()
                if exc is not None and not isinstance(exc, Exception):
                    raise exc
                yield fut, (None if exc else fut.result()), exc

        return (lambda item: pool.submit(fn, item)), collect, (lambda fut: fut.cancel())

    def _ray_ops(self, fn: Callable[[Any], Any]) -> tuple[Submit, Collect, Cancel]:
        if self._ray is None:
            self._ray, self._started_ray = ensure_ray(self.address, self.ray_num_cpus)
        ray = self._ray
        options: dict[str, Any] = {"max_retries": 1}
        if self.cpus_per_task is not None:
            options["num_cpus"] = self.cpus_per_task
        remote = ray.remote(**options)(_call)
        fn_ref = ray.put(fn)

        def collect(handles: list[Any]) -> Iterator[tuple[Any, Any, BaseException | None]]:
            done, _ = ray.wait(handles, num_returns=1)
            for ref in done:
                try:
                    yield ref, ray.get(ref), None
                except Exception as exc:  # the task raised, or its worker died
                    yield ref, None, exc

        def cancel(ref: Any) -> None:
            try:
                ray.cancel(ref)
            except Exception as exc:  # best effort: the task may be finished already
                log.debug("could not cancel a Ray task: %s", exc)

        return (lambda item: remote.remote(fn_ref, item)), collect, cancel


Submit = Callable[[Any], Any]
Collect = Callable[[list[Any]], Iterator[tuple[Any, Any, "BaseException | None"]]]
Cancel = Callable[[Any], None]


def _drive(
    submit: Submit, collect: Collect, cancel: Cancel, items: Iterable[T], limit: int, ordered: bool
) -> Iterator[Outcome[T]]:
    """Keep at most `limit` items between submission and hand-back; in ordered mode an item finished ahead
    of an earlier one still counts against the limit until it is handed back."""
    queue = enumerate(items)
    pending: dict[Any, tuple[int, T]] = {}
    held: list[tuple[int, Outcome[T]]] = []
    submitted = released = 0
    try:
        while True:
            while submitted - released < limit:
                nxt = next(queue, None)
                if nxt is None:
                    break
                pending[submit(nxt[1])] = nxt
                submitted += 1
            if not pending:
                return
            for handle, value, error in list(collect(list(pending))):
                index, item = pending.pop(handle)
                out = Outcome(index, item, value, error)
                if not ordered:
                    released += 1
                    yield out
                    continue
                heapq.heappush(held, (index, out))
                while held and held[0][0] == released:
                    yield heapq.heappop(held)[1]
                    released += 1
    finally:
        for handle in pending:
            cancel(handle)
