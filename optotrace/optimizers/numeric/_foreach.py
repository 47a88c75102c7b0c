"""Helpers for the multi-tensor (foreach) fast paths.

On CUDA a `torch._foreach_*` call is one fused multi-tensor kernel, so the fast paths hand it whole tensors. On
CPU a foreach call is a loop of single-tensor kernels: a chain of k such calls streams every buffer through
memory k times. There `blocks()` cuts the tensors into views of about `BLOCK_NUMEL` elements and the optimizer
runs its whole chain of foreach calls on one block at a time, so the block's buffers stay in the L2 cache between
the calls and the step costs close to one pass over memory (what the perf script calls the bandwidth bound).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

BLOCK_NUMEL = 1 << 15
"""Elements per buffer in one CPU block: with 4-6 float32 buffers the block's working set stays under 1 MiB."""


def default_foreach(params: Sequence[Tensor]) -> bool:
    """The foreach default: True when every tensor is dense, on CPU or CUDA, and all share one device and dtype."""
    if not params:
        return False
    first = params[0]
    if first.device.type not in ("cpu", "cuda"):
        return False
    return all(
        p.device == first.device and p.dtype == first.dtype and not p.is_sparse and p.layout == torch.strided
        for p in params
    )


def use_foreach(flag: bool | None, params: Sequence[Tensor]) -> bool:
    """Resolve a group's `foreach` option against the tensors it will step."""
    return default_foreach(params) if flag is None else flag


def group_by_device_dtype(lists: Sequence[list[Tensor]]) -> list[list[list[Tensor]]]:
    """Split parallel tensor lists by the first list's (device, dtype): foreach calls need one of each."""
    buckets: dict[tuple[torch.device, torch.dtype], list[list[Tensor]]] = {}
    for i, t in enumerate(lists[0]):
        bucket = buckets.setdefault((t.device, t.dtype), [[] for _ in lists])
        for j, lst in enumerate(lists):
            bucket[j].append(lst[i])
    return list(buckets.values())


def blocks(lists: Sequence[list[Tensor]], block_numel: int = BLOCK_NUMEL) -> Iterator[list[list[Tensor]]]:
    """Yield the parallel tensor lists in cache-sized blocks of flat views (CPU), or whole (other devices).

    All lists must hold tensors of matching shapes; a tuple of tensors that are not all contiguous is kept whole
    (a flat view would not line their elements up).
    """
    if not lists or not lists[0]:
        return
    if lists[0][0].device.type != "cpu":
        yield [list(lst) for lst in lists]
        return
    current: list[list[Tensor]] = [[] for _ in lists]
    filled = 0
    for i in range(len(lists[0])):
        tensors = [lst[i] for lst in lists]
        n = tensors[0].numel()
        if n == 0:
            continue
        if n <= block_numel or not all(t.is_contiguous() for t in tensors):
            for j, t in enumerate(tensors):
                current[j].append(t)
            filled += n
        else:
            flats = [t.view(-1) for t in tensors]
            start = 0
            while start < n:
                take = min(block_numel - filled, n - start)
                for j, f in enumerate(flats):
                    current[j].append(f[start : start + take])
                filled += take
                start += take
                if filled >= block_numel:
                    yield current
                    current = [[] for _ in lists]
                    filled = 0
            continue
        if filled >= block_numel:
            yield current
            current = [[] for _ in lists]
            filled = 0
    if filled:
        yield current
