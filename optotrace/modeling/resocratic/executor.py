"""Where per-item work runs: a local thread pool (default) or Ray tasks on a local instance (`--executor ray`).

`imap(fn, items)` yields `(item, result, error)` as items finish, so the caller records each one at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from optotrace.modeling.resocratic.errors import ResocraticError

Outcome = tuple[Any, Any, BaseException | None]


class LocalExecutor:
    """Threads; `serial_lock` is for in-process work that must not run concurrently (e.g. solver calls)."""

    name = "local"

    def __init__(self, workers: int = 4) -> None:
        self.workers = max(1, int(workers))
        self.serial_lock = threading.Lock()

    def imap(
        self, fn: Callable[[Any], Any], items: Iterable[Any], workers: int | None = None
    ) -> Iterator[Outcome]:
        todo = list(items)
        if not todo:
            return
        n = max(1, min(workers or self.workers, len(todo)))
        with ThreadPoolExecutor(n, thread_name_prefix="optotrace-reso") as pool:
            futures: dict[Future[Any], Any] = {pool.submit(fn, it): it for it in todo}
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        exc = f.exception()
                        yield futures[f], (None if exc else f.result()), exc
            finally:
                for f in pending:
                    f.cancel()

    def close(self) -> None:
        return None


class RayExecutor(LocalExecutor):
    """Ray tasks for `imap_remote` (picklable module-level functions); threads for the rest."""

    name = "ray"

    def __init__(self, workers: int = 4, address: str | None = None) -> None:
        super().__init__(workers)
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - ray is a dependency
            raise ResocraticError("--executor ray needs the ray package: pip install ray") from exc
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            ray.init(
                address=address,
                num_cpus=None if address else self.workers,
                include_dashboard=False,
                ignore_reinit_error=True,
                log_to_driver=False,
            )
            self._started = True

    def imap_remote(
        self, fn: Callable[..., Any], items: Iterable[tuple[Any, tuple[Any, ...]]]
    ) -> Iterator[Outcome]:
        """`fn(*args)` as one Ray task per (item, args); at most 2 x workers in flight."""
        ray = self._ray
        remote = ray.remote(fn)
        queue = list(items)
        inflight: dict[Any, Any] = {}
        limit = 2 * self.workers
        while queue or inflight:
            while queue and len(inflight) < limit:
                item, args = queue.pop(0)
                inflight[remote.remote(*args)] = item
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                item = inflight.pop(ref)
                try:
                    yield item, ray.get(ref), None
                except Exception as exc:  # a task that raised: recorded by the caller
                    yield item, None, exc

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()


def local_imap_remote(
    executor: LocalExecutor, fn: Callable[..., Any], items: Iterable[tuple[Any, tuple[Any, ...]]]
) -> Iterator[Outcome]:
    """The local counterpart of `RayExecutor.imap_remote`: in-process, one at a time (solvers are not
    guaranteed thread-safe)."""
    for item, args in items:
        try:
            yield item, fn(*args), None
        except Exception as exc:
            yield item, None, exc


def make_executor(name: str, workers: int = 4, address: str | None = None) -> LocalExecutor:
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(workers, address)
    raise ResocraticError(f"unknown executor {name!r}; use 'local' or 'ray'")
