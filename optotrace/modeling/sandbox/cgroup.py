"""A memory cgroup per worker: limits a job's processes together, not one by one.

RLIMIT_AS bounds each process; a job that forks four children of 200 MiB passes a 512 MiB rlimit. A cgroup's
memory limit counts every page the job's processes (and its files on the private tmpfs) use. The worker creates
one cgroup below its own (cgroup v2 when the memory controller is available there, else the v1 memory
hierarchy), sets the job's limit before each fork, and the job moves itself in before it runs anything.
Where no hierarchy is writable (a default Docker container mounts /sys/fs/cgroup read-only, a non-root user
owns no cgroup) `JobCgroup.create` returns None with the reason, and only the per-process rlimit applies.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass


def _own_cgroups() -> dict[str, str]:
    """Controller ("" for cgroup v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    with open("/proc/self/cgroup", encoding="utf-8") as fh:
        for line in fh:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    return paths


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount root inside the hierarchy, mount point, fs type, super options) of each cgroup mount."""
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if tail and tail[0] in ("cgroup", "cgroup2"):
                found.append((fields[3], fields[4], tail[0], set(tail[2].split(",")) if len(tail) > 2 else set()))
    return found


def _join(mount_point: str, mount_root: str, path: str) -> str:
    rel = os.path.relpath(path, mount_root) if path.startswith(mount_root) else path.lstrip("/")
    return os.path.normpath(os.path.join(mount_point, rel))


def _write(path: str, value: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(value)


def _candidates() -> list[tuple[str, str]]:
    """(version, directory of our own cgroup) for each hierarchy that could hold a memory limit."""
    own = _own_cgroups()
    result = []
    for root, point, fstype, options in _mounts():
        if fstype == "cgroup2" and "" in own:
            base = _join(point, root, own[""])
            try:
                with open(os.path.join(base, "cgroup.controllers"), encoding="ascii") as fh:
                    if "memory" in fh.read().split():
                        result.append(("v2", base))
            except OSError:
                continue
        elif fstype == "cgroup" and "memory" in options and "memory" in own:
            result.append(("v1", _join(point, root, own["memory"])))
    return result


@dataclass
class JobCgroup:
    version: str  # "v2" or "v1"
    path: str
    limit: int = 0

    @classmethod
    def create(cls, name: str) -> tuple[JobCgroup | None, str]:
        """A new cgroup `name` below ours with a memory limit we can set, or None and why not."""
        reasons = []
        try:
            candidates = _candidates()
        except OSError as exc:
            return None, f"cannot read this process's cgroups: {exc}"
        if not candidates:
            return None, "no cgroup hierarchy with the memory controller is mounted for this process"
        for version, base in candidates:
            path = os.path.join(base, name)
            _remove_stale(base)
            try:
                if version == "v2":
                    _enable_memory_v2(base)
                os.mkdir(path, 0o755)
            except OSError as exc:
                reasons.append(f"cgroup {version} at {base}: {exc.strerror or exc}")
                continue
            group = cls(version, path)
            try:
                group.set_limit(1 << 40)
                if version == "v2":
                    with contextlib.suppress(OSError):
                        _write(os.path.join(path, "memory.oom.group"), "1")
                return group, ""
            except OSError as exc:
                reasons.append(f"cgroup {version} at {base}: cannot set memory limit ({exc.strerror or exc})")
                group.remove()
        return None, "; ".join(reasons)

    def set_limit(self, limit: int) -> None:
        if limit == self.limit:
            return
        if self.version == "v2":
            _write(os.path.join(self.path, "memory.max"), str(limit))
            with contextlib.suppress(OSError):  # no swap accounting: nothing to bound
                _write(os.path.join(self.path, "memory.swap.max"), "0")
        else:
            # memsw (memory + swap) must stay >= the memory limit: raise it first when growing, last when
            # shrinking; the current limit may be "unlimited", which is why both orders are tried.
            leaves = ["memory.limit_in_bytes"]
            if os.path.exists(os.path.join(self.path, "memory.memsw.limit_in_bytes")):
                leaves.append("memory.memsw.limit_in_bytes")
            try:
                for leaf in leaves:
                    _write(os.path.join(self.path, leaf), str(limit))
            except OSError:
                for leaf in reversed(leaves):
                    _write(os.path.join(self.path, leaf), str(limit))
        self.limit = limit

    def join(self) -> None:
        """Move the calling process in (the job, before it runs anything)."""
        _write(os.path.join(self.path, "cgroup.procs"), str(os.getpid()))

    def oom_kills(self) -> int:
        """How many processes the kernel killed for this cgroup's limit so far."""
        leaf = "memory.events" if self.version == "v2" else "memory.oom_control"
        try:
            with open(os.path.join(self.path, leaf), encoding="ascii") as fh:
                for line in fh:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            pass
        return 0  # kernels before 4.13 have no oom_kill counter: the job then sees only SIGKILL

    def pids(self) -> list[int]:
        try:
            with open(os.path.join(self.path, "cgroup.procs"), encoding="ascii") as fh:
                return [int(p) for p in fh.read().split()]
        except OSError:
            return []

    def remove(self, wait: float = 2.0) -> bool:
        """Delete the cgroup once its processes are gone (killed by whoever owns them); True when removed."""
        deadline = time.monotonic() + wait
        while True:
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)

    def describe(self) -> str:
        return f"cgroup {self.version} {self.path}"


def _enable_memory_v2(base: str) -> None:
    with open(os.path.join(base, "cgroup.subtree_control"), encoding="ascii") as fh:
        if "memory" in fh.read().split():
            return
    # Fails with EBUSY when our cgroup holds processes and is not the root: the controller is not delegated.
    _write(os.path.join(base, "cgroup.subtree_control"), "+memory")


def _remove_stale(base: str) -> None:
    """Empty cgroups of workers that died without cleaning up (their pool was killed with them)."""
    with contextlib.suppress(OSError), os.scandir(base) as entries:
        for entry in entries:
            prefix, _, pid = entry.name.rpartition("-")
            if prefix == "optotrace-sandbox" and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                with contextlib.suppress(OSError):
                    os.rmdir(entry.path)
