"""The one executor: threads, processes, serial and Ray; bounded work in flight; order; failures recorded."""

from __future__ import annotations

import math
import threading
import time

import pytest

from optotrace.runtime import Executor, ExecutorError


class Gauge:
    """Counts calls running at once (threads)."""

    def __init__(self) -> None:
        self.now = self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, x: int) -> int:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(0.01 * (x % 3))
        with self.lock:
            self.now -= 1
        if x == 7:
            raise ValueError("seven is bad")
        return x * x


def test_threads_give_results_in_order_and_record_failures() -> None:
    gauge = Gauge()
    with Executor("threads", workers=4) as ex:
        outs = list(ex.map(gauge, range(20)))
    assert [o.index for o in outs] == list(range(20))
    assert [o.value for o in outs if o.ok] == [x * x for x in range(20) if x != 7]
    bad = [o for o in outs if not o.ok]
    assert len(bad) == 1 and bad[0].item == 7 and isinstance(bad[0].error, ValueError)
    assert gauge.peak <= 4


def test_unordered_yields_as_items_finish() -> None:
    def slow_first(x: int) -> int:
        time.sleep(0.5 if x == 0 else 0.0)
        return x

    with Executor("threads", workers=4) as ex:
        order = [o.item for o in ex.map(slow_first, range(6), ordered=False)]
    assert sorted(order) == list(range(6)) and order[-1] == 0


def test_work_in_flight_is_bounded_even_behind_a_slow_first_item() -> None:
    submitted: list[int] = []
    gate = threading.Event()

    def fn(x: int) -> int:
        submitted.append(x)
        if x == 0:
            gate.wait(10)
        return x

    with Executor("threads", workers=3, max_in_flight=3) as ex:
        stream = ex.map(fn, range(100))
        timer = threading.Timer(0.5, gate.set)
        timer.start()
        first = next(stream)
        assert first.index == 0
        assert len(submitted) <= 3 + 1  # nothing ran ahead past the bound while item 0 held the line
        rest = [o.item for o in stream]
    assert rest == list(range(1, 100))


def test_processes_run_picklable_work_and_record_failures() -> None:
    with Executor("processes", workers=2) as ex:
        outs = list(ex.map(math.sqrt, [4.0, -1.0, 9.0]))
    assert [o.value for o in outs] == [2.0, None, 3.0]
    assert isinstance(outs[1].error, ValueError)


def test_serial_runs_in_the_callers_thread() -> None:
    seen: list[str] = []
    with Executor("serial") as ex:
        outs = list(ex.map(lambda x: seen.append(threading.current_thread().name) or 1 / x, [1, 0, 2]))
    assert set(seen) == {threading.current_thread().name}
    assert [o.ok for o in outs] == [True, False, True]


def test_an_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ExecutorError, match="unknown executor 'gpu'"):
        Executor("gpu")  # type: ignore[arg-type]


def test_ray_tasks_on_a_local_instance() -> None:
    pytest.importorskip("ray")
    import ray

    was_running = ray.is_initialized()
    with Executor("ray", workers=2, max_in_flight=2, ray_num_cpus=2) as ex:
        outs = list(ex.map(math.sqrt, [16.0, -4.0, 25.0]))
    assert [o.value for o in outs] == [4.0, None, 5.0]
    assert outs[1].error is not None and "math domain error" in str(outs[1].error)
    assert ray.is_initialized() == was_running  # an instance it started is shut down again
