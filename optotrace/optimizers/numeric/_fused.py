"""The fused fast path: each optimizer's whole per-parameter update as one compiled kernel.

A foreach step on CPU is a chain of single-tensor kernels, each streaming its operands through memory; even
cache-blocked (see `_foreach`) it pays the Python and dispatch cost of every op on every block. The fused path
writes the update once, as a plain function of flat tensors, and lets `torch.compile` (inductor) turn it into
one loop per parameter: C++/OpenMP built with the machine's compiler on CPU, a Triton kernel on CUDA. Each
parameter's buffers then cross memory once per step, which is the bandwidth bound `perf/numeric.py` reports.

How it is kept cheap and safe:
- One compiled function per optimizer kind, shared at module level by every optimizer and param group. It is
  compiled with dynamic shapes over flat 1-D views, so one graph serves every tensor size (sizes 0 and 1 are
  never sent: tensors under `MIN_TENSOR_NUMEL` elements take the foreach/reference path, where a compiled
  call's fixed cost of ~25 us would not pay). Graphs differ only by dtype, device and thread count.
- Every number that may change during a run (lr, weight decay, betas, bias corrections) travels in one small
  tensor of scalars, never as a Python float, so an LR schedule never triggers a recompile.
- Generated CPU code reads the thread count at run time (`cpp.dynamic_threads`).
- `compile_count(kind)` counts the graphs compiled per kind (tests assert it stays put on an LR change). Past
  `MAX_GRAPHS` graphs for one kind, or when compiling fails (no C++ compiler, no Triton, an inductor error),
  the kind is switched off for the process with one logged warning and the optimizers use their foreach path
  for it: a training run never stops over the fast path.

Default (`fused=None`): fused when the group's eligible tensors hold at least `AUTO_MIN_NUMEL` elements, are
float32 or float64 and live on a CPU with a C++ compiler or on CUDA with Triton. The first step then pays a
one-off compile (seconds; inductor's on-disk cache makes later processes faster); pass `fused=False` to keep the
foreach path, or `fused=True` to force the compiled path for any floating dtype and size.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

logger = logging.getLogger(__name__)

MIN_TENSOR_NUMEL = 1 << 14
"""Tensors smaller than this take the foreach/reference path (a compiled call has a fixed cost of ~25 us)."""

AUTO_MIN_NUMEL = 1 << 20
"""`fused=None` turns the compiled path on for a group whose eligible tensors hold at least this many elements."""

MAX_GRAPHS = 6
"""Graphs one kind may compile (dtypes x devices x thread counts) before it is switched off as a storm."""

_compiled: dict[str, Callable[..., None]] = {}
_graphs: Counter[str] = Counter()
_disabled: dict[str, str] = {}
_warned_devices: set[str] = set()


def compile_count(kind: str | None = None) -> int:
    """Graphs compiled so far for `kind` (all kinds when None), in this process."""
    return sum(_graphs.values()) if kind is None else _graphs[kind]


def disabled_reason(kind: str) -> str | None:
    """Why the compiled path of `kind` was switched off in this process, or None while it is on."""
    return _disabled.get(kind)


def reset(kind: str | None = None) -> None:
    """Forget the switch-off of `kind` (all kinds when None), so the next step tries to compile again."""
    if kind is None:
        _disabled.clear()
    else:
        _disabled.pop(kind, None)


@functools.cache
def _has_cxx() -> bool:
    names = [os.environ.get("CXX"), "g++", "clang++", "c++"]
    return any(shutil.which(n) for n in names if n)


@functools.cache
def _has_triton() -> bool:
    try:
        from torch.utils._triton import has_triton
    except ImportError:
        return False
    return bool(has_triton())


def backend_available(device: torch.device) -> bool:
    """Whether inductor can build kernels for `device` here: a C++ compiler for CPU, Triton for CUDA."""
    if device.type == "cpu":
        return _has_cxx()
    if device.type == "cuda":
        return _has_triton()
    return False


def eligible(tensors: Sequence[Tensor]) -> bool:
    """One row (a parameter and its grad and state) can go through a kernel: big enough, dense, one device."""
    first = tensors[0]
    if first.numel() < MIN_TENSOR_NUMEL or not first.dtype.is_floating_point:
        return False
    return all(
        t.layout == torch.strided and t.is_contiguous() and t.device == first.device and t.numel() == first.numel()
        for t in tensors
    )


def use_fused(flag: bool | None, kind: str, rows: Sequence[Sequence[Tensor]]) -> bool:
    """Resolve a group's `fused` option for the rows (parameter, grad, state...) that are `eligible`."""
    if flag is False or not rows or torch.compiler.is_compiling() or kind in _disabled:
        return False
    device, dtype = rows[0][0].device, rows[0][0].dtype
    if any(r[0].device != device or r[0].dtype != dtype for r in rows):
        return False  # one scalars tensor per call: a group mixing devices or dtypes keeps the foreach path
    if flag is None:
        if dtype not in (torch.float32, torch.float64):
            return False
        if sum(r[0].numel() for r in rows) < AUTO_MIN_NUMEL:
            return False
    if not backend_available(device):
        if device.type not in _warned_devices:
            _warned_devices.add(device.type)
            what = "C++ compiler" if device.type == "cpu" else "Triton" if device.type == "cuda" else "backend"
            logger.warning("optotrace numeric: no %s for %s, fused steps use foreach there", what, device.type)
        return False
    return True


def split_rows(
    lists: Sequence[list[Tensor]], flag: bool | None = None
) -> tuple[list[list[Tensor]], list[list[Tensor]]]:
    """Split parallel tensor lists into the rows a kernel can take and the remaining lists (parallel again);
    with `flag` False (the group's `fused` option) no row is taken."""
    if flag is False:
        return [], list(lists)
    rows: list[list[Tensor]] = []
    rest: list[list[Tensor]] = [[] for _ in lists]
    for i in range(len(lists[0])):
        row = [lst[i] for lst in lists]
        if eligible(row):
            rows.append(row)
        else:
            for j, t in enumerate(row):
                rest[j].append(t)
    return rows, rest


def scalars(values: Sequence[float], like: Tensor) -> Tensor:
    """The step's numbers as one tensor on `like`'s device (float64 for float64 parameters, else float32)."""
    dtype = torch.float64 if like.dtype == torch.float64 else torch.float32
    return torch.tensor(list(values), dtype=dtype, device=like.device)


def call(kind: str, *args: Tensor) -> bool:
    """Run kernel `kind` once on `args`; False (and the kind switched off) when it cannot be built or run."""
    fn = _kernel(kind)
    if fn is None:
        return False
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - any compile/run failure: warn once, the caller falls back
        _switch_off(kind, f"{type(exc).__name__}: {exc}")
        return False
    if _graphs[kind] > MAX_GRAPHS:
        _switch_off(kind, f"{_graphs[kind]} graphs compiled (dtypes, devices or thread counts keep changing)")
    return True


def run_rows(
    kind: str, rows: list[list[Tensor]], extra: Sequence[Tensor], fallback: Callable[[list[list[Tensor]]], None]
) -> None:
    """Call kernel `kind` on each row's flat views (then `extra`, e.g. the scalars); when the kernel cannot be
    built or run, hand the rows not yet done, as parallel lists, to `fallback`."""
    for i, row in enumerate(rows):
        if not call(kind, *(t.detach().view(-1) for t in row), *extra):
            fallback([list(col) for col in zip(*rows[i:], strict=True)])
            return


def _switch_off(kind: str, reason: str) -> None:
    if kind not in _disabled:
        _disabled[kind] = reason
        logger.warning("optotrace numeric: fused %s path switched off, using foreach instead (%s)", kind, reason)
        _compiled.pop(kind, None)


def _kernel(kind: str) -> Callable[..., None] | None:
    if kind in _disabled:
        return None
    fn = _compiled.get(kind)
    if fn is None:
        fn = torch.compile(KERNELS[kind], backend=_backend(kind), fullgraph=True, dynamic=True)
        _compiled[kind] = fn
    return fn


@contextlib.contextmanager
def _broken_modules_hidden() -> Iterator[None]:
    """Pyomo leaves placeholder modules for its missing optional dependencies in sys.modules, and any attribute
    lookup on them raises; pickle's module search inside inductor's cache key then fails. Hide them meanwhile."""
    hidden = {}
    for name, module in list(sys.modules.items()):
        try:
            getattr(module, "__optotrace_probe__", None)
        except Exception:
            hidden[name] = module
    for name in hidden:
        sys.modules.pop(name, None)
    try:
        yield
    finally:
        for name, module in hidden.items():
            sys.modules.setdefault(name, module)


def _backend(kind: str) -> Callable:
    def compile_graph(gm: torch.fx.GraphModule, example_inputs: list) -> Callable:
        from torch._inductor.compile_fx import compile_fx

        _graphs[kind] += 1
        with _broken_modules_hidden():
            return compile_fx(gm, example_inputs, config_patches={"cpp.dynamic_threads": True})

    return compile_graph


# -- the kernels: flat tensors of one size, then one tensor of scalars `s` ------------------------------------------
# Each mirrors its optimizer's reference path operation by operation (same lerp form, same clamps), so the two
# agree to float rounding.


def _lion(p: Tensor, g: Tensor, m: Tensor, s: Tensor) -> None:
    """s = [1 - lr * wd, lr, 1 - beta1, 1 - beta2]."""
    update = torch.sign(m + s[2] * (g - m))
    p.copy_(p * s[0] - s[1] * update)
    m.copy_(m + s[3] * (g - m))


def _sophia(p: Tensor, g: Tensor, m: Tensor, h: Tensor, s: Tensor) -> None:
    """s = [1 - lr * wd, lr, 1 - beta1, rho, eps]."""
    m_new = m + s[2] * (g - m)
    ratio = torch.clamp(m_new / torch.maximum(h * s[3], s[4]), -1.0, 1.0)
    m.copy_(m_new)
    p.copy_(p * s[0] - s[1] * ratio)


def _adahessian(p: Tensor, g: Tensor, d: Tensor, m: Tensor, v: Tensor, s: Tensor) -> None:
    """hessian_power 1. s = [1 - lr * wd, 1 - beta1, beta2, 1 - beta2, eps * sqrt(bc2), lr * sqrt(bc2) / bc1].
    Only d * d enters, so d may be the raw Hessian-vector product H z (z Rademacher: |z * Hz| = |Hz|)."""
    m_new = m + s[1] * (g - m)
    v_new = v * s[2] + s[3] * d * d
    m.copy_(m_new)
    v.copy_(v_new)
    p.copy_(p * s[0] - s[5] * (m_new / (torch.sqrt(v_new) + s[4])))


def _adahessian_power(p: Tensor, g: Tensor, d: Tensor, m: Tensor, v: Tensor, s: Tensor) -> None:
    """Any hessian_power k. s = [1 - lr * wd, 1 - beta1, beta2, 1 - beta2, eps, lr / bc1, sqrt(bc2), k]."""
    m_new = m + s[1] * (g - m)
    v_new = v * s[2] + s[3] * d * d
    m.copy_(m_new)
    v.copy_(v_new)
    denom = torch.pow(torch.sqrt(v_new) / s[6], s[7]) + s[4]
    p.copy_(p * s[0] - s[5] * (m_new / denom))


def _rademacher(raw: Tensor, shifts: Tensor, out: Tensor) -> None:
    """out (8 * len(raw), float) = +-1 from the bits of the random bytes `raw`, low bit first."""
    bits = torch.bitwise_and(torch.bitwise_right_shift(raw.unsqueeze(1), shifts), 1)
    out.view(-1, 8).copy_(bits.to(out.dtype) * 2.0 - 1.0)


KERNELS: dict[str, Callable[..., None]] = {
    "lion": _lion,
    "sophia": _sophia,
    "adahessian": _adahessian,
    "adahessian_power": _adahessian_power,
    "rademacher": _rademacher,
}
