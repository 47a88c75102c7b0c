"""Context-local tracing: threads and asyncio tasks trace independently; stop_tracing() is local too."""

from __future__ import annotations

import asyncio
import threading

import optotrace as ot
from optotrace.trace import Node, ancestors, is_tracing


@ot.bundle
def double(x):
    return x * 2


def _chain(p: Node, steps: int) -> Node:
    y = p
    for _ in range(steps):
        y = double(y) + 1
    return y


def test_stop_tracing_nests_and_restores() -> None:
    assert is_tracing()
    with ot.stop_tracing():
        assert not is_tracing()
        with ot.stop_tracing():
            assert not is_tracing()
        assert not is_tracing()
    assert is_tracing()


def test_two_threads_build_independent_graphs() -> None:
    shared = ot.node(1, name="shared", trainable=True)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def work(tag: str, untraced: bool) -> None:
        try:
            barrier.wait(timeout=10)
            if untraced:
                with ot.stop_tracing():
                    barrier.wait(timeout=10)  # the other thread traces while this one is untraced
                    results[tag] = _chain(shared, 50)
                    barrier.wait(timeout=10)
            else:
                barrier.wait(timeout=10)
                results[tag] = _chain(shared, 50)
                barrier.wait(timeout=10)
                results[tag + "-after"] = _chain(shared, 50)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=("a", False)), threading.Thread(target=work, args=("b", True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    a, after, b = results["a"], results["a-after"], results["b"]
    assert isinstance(a, Node) and isinstance(after, Node) and not isinstance(b, Node)
    assert len(ancestors(a)) == 1 + 50 * 3 and len(ancestors(after)) == 1 + 50 * 3
    assert set(ancestors(a)) & set(ancestors(after)) == {shared}
    a.backward("a")
    after.backward("after")
    assert [i.output for i in shared.feedback] == [a, after]


def test_many_threads_share_a_parameter_safely() -> None:
    shared = ot.node(0, name="shared", trainable=True)
    outputs: list[Node] = []
    lock = threading.Lock()

    def work() -> None:
        ys = [_chain(shared, 5) for _ in range(40)]
        with lock:
            outputs.extend(ys)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outputs) == 160
    first_ops = {y for out in outputs for y in ancestors(out) if shared in y.parents}
    assert set(shared.children) == first_ops  # no child reference was lost to a race


async def test_asyncio_tasks_trace_independently() -> None:
    shared = ot.node(1, name="shared", trainable=True)
    order: list[str] = []

    async def traced() -> Node:
        y = shared
        for _ in range(20):
            y = y + 1
            order.append("t")
            await asyncio.sleep(0)
        return y

    async def untraced() -> object:
        with ot.stop_tracing():
            y = shared
            for _ in range(20):
                y = y + 1
                order.append("u")
                await asyncio.sleep(0)
            return y

    a, b = await asyncio.gather(traced(), untraced())
    assert "tu" in "".join(order) or "ut" in "".join(order)  # they really interleaved
    assert isinstance(a, Node) and a.data == 21 and b == 21 and not isinstance(b, Node)
    assert len(ancestors(a)) == 1 + 20 * 2
    assert is_tracing()
