"""Resource limits and the scrubbed environment a sandboxed job runs under."""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Mapping
from dataclasses import dataclass

GiB = 1024**3
MiB = 1024**2

#: A variable whose name contains one of these (case-insensitive) never reaches a job.
SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD")

#: Variables a job keeps from the parent environment (besides the ones the sandbox sets itself).
_KEPT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED", "PYTHONPATH", "VIRTUAL_ENV")

#: Thread counts pinned to one: numerical libraries otherwise start a thread per core in every job.
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class Limits:
    """Per-job limits. Sizes in bytes, times in seconds."""

    time_limit: float = 60.0
    memory_limit: int = 4 * GiB
    output_limit: int = 1 * MiB
    max_processes: int = 128
    max_file_size: int = 512 * MiB

    def cpu_seconds(self) -> int:
        """The RLIMIT_CPU soft limit: the wall-time limit rounded up plus one second of slack."""
        return max(1, math.ceil(self.time_limit) + 1)


def is_secret(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def scrubbed_env(source: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment for a job: a few harmless variables of `source`, never a secret-looking one."""
    source = os.environ if source is None else source
    env = {k: v for k, v in source.items() if k in _KEPT and not is_secret(k)}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(SINGLE_THREAD_ENV)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: v for k, v in extra.items() if not is_secret(k)})
    return env


def apply_rlimits(limits: Limits, *, limit_processes: bool) -> None:
    """Set the job's rlimits (called in the job's process before it drops privileges).

    RLIMIT_NPROC is only meaningful for a non-root uid: the kernel never enforces it for uid 0, which is why
    the worker runs jobs under a private uid when it is root.
    """

    def set_limit(kind: int, soft: int, hard: int | None = None) -> None:
        hard = soft if hard is None else hard
        try:
            resource.setrlimit(kind, (soft, hard))
        except (ValueError, OSError):
            cur_soft, cur_hard = resource.getrlimit(kind)
            if cur_hard == resource.RLIM_INFINITY or soft <= cur_hard:
                resource.setrlimit(kind, (min(soft, cur_hard), cur_hard))

    set_limit(resource.RLIMIT_AS, limits.memory_limit)
    cpu = limits.cpu_seconds()
    set_limit(resource.RLIMIT_CPU, cpu, cpu + 2)
    set_limit(resource.RLIMIT_CORE, 0)
    set_limit(resource.RLIMIT_FSIZE, limits.max_file_size)
    if limit_processes:
        set_limit(resource.RLIMIT_NPROC, limits.max_processes)
