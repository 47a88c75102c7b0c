"""The warm worker: imports the solver libraries once, then runs each job in a fresh forked child.

Started by the pool (see pool._BOOTSTRAP). Protocol: JSON lines. The pool's first line is the configuration,
{"isolation": the level asked for, "places": the machine's world-writable places}; the worker answers
{"ready": true, "isolation": {...}}; then for every job line {"source", "limits"} it answers with one RunResult
as a dict. End of input (the pool closed or died) ends the worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import json
import os
import selectors
import shutil
import sys
import tempfile
import time
from typing import Any, BinaryIO

from optotrace.modeling.sandbox.cgroup import JobCgroup
from optotrace.modeling.sandbox.isolation import PRIVATE, SWEPT, Isolation, setup_worker_isolation
from optotrace.modeling.sandbox.job import MEMORY_MARK, SETUP_MARK, run_child
from optotrace.modeling.sandbox.limits import Limits, scrubbed_env
from optotrace.modeling.sandbox.reach import open_handles, package_paths_below
from optotrace.modeling.sandbox.result import RunResult
from optotrace.modeling.sandbox.sweep import kill_group, sweep_descendants, sweep_uid
from optotrace.modeling.sandbox.writable import remove_owned_by, wipe

#: Imported once in the worker, so a job's `import pyomo.environ` costs nothing.
PRELOAD = (
    "numpy",
    "pulp",
    "pyomo.environ",
    "pyomo.contrib.solver.solvers.highs",
    "pyomo.contrib.appsi.solvers.highs",
    "pyomo.solvers.plugins.solvers.SCIPDirect",
    "pyscipopt",
    "highspy",
)

_MEMORY_HINTS = ("MemoryError", "std::bad_alloc", "Unable to allocate", "Cannot allocate memory")
_GRACE_AFTER_EXIT = 0.2


def preload() -> list[str]:
    loaded = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:  # a missing optional library only makes the first job that needs it slower
            continue
    with contextlib.suppress(Exception):
        import pulp  # noqa: F401  (warm PuLP's solver discovery)

        pulp.PULP_CBC_CMD(msg=False).available()
    return loaded


class Worker:
    def __init__(self, iso: Isolation, group: JobCgroup | None = None) -> None:
        self.iso = iso
        self.group = group
        self.handles = open_handles(iso.reached)
        self.packages = package_paths_below(iso.reached)
        self.counter = 0

    # -- the working directory -------------------------------------------------------------------
    def make_workdir(self) -> str:
        self.counter += 1
        if self.iso.private_tmp:
            path = f"/tmp/job-{os.getpid()}-{self.counter}"
            os.mkdir(path, 0o700)
        else:
            path = tempfile.mkdtemp(prefix="optotrace-job-")
        if self.iso.uid is not None:
            os.chown(path, self.iso.uid, self.iso.uid)
        return path

    def clean_up(self, workdir: str) -> None:
        shutil.rmtree(workdir, ignore_errors=True)
        for place, how in self.iso.writable.items():
            if how == PRIVATE:  # whatever the job left in the private /tmp, /var/tmp, /dev/shm, /run/lock...
                wipe(place, keep=self.iso.revealed)
            elif how == SWEPT and self.iso.uid is not None:
                remove_owned_by(self.iso.uid, [place])

    # -- one job ---------------------------------------------------------------------------------
    def run(self, source: str, limits: Limits) -> RunResult:
        start = time.monotonic()
        workdir = self.make_workdir()
        env = scrubbed_env(HOME=workdir, TMPDIR=workdir, MPLBACKEND="Agg")
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        st_r, st_w = os.pipe()
        ooms = 0
        if self.group is not None:
            self.group.set_limit(limits.memory_limit)
            ooms = self.group.oom_kills()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            run_child(source, workdir, limits, env, self.iso, self.group, self.handles, self.packages, out_w, err_w, st_w)
        for fd in (out_w, err_w, st_w):
            os.close(fd)
        try:
            result = self._supervise(pid, start, limits, out_r, err_r, st_r)
            if self.group is not None and self.group.oom_kills() > ooms and not result.memory_exceeded:
                result = dataclasses.replace(result, memory_exceeded=True)  # the job as a whole hit the limit
            return result
        finally:
            for fd in (out_r, err_r, st_r):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self.clean_up(workdir)

    def _kill_all(self, pid: int, status: int | None) -> int:
        """Kill the job's process group and every process of the job's uid; the job's wait status."""
        kill_group(pid)
        if status is None:
            _, status = os.waitpid(pid, 0)
        if self.iso.uid is not None:
            sweep_uid(self.iso.uid)
        else:
            sweep_descendants()
        return status

    def _supervise(
        self, pid: int, start: float, limits: Limits, out_r: int, err_r: int, st_r: int
    ) -> RunResult:
        deadline = start + limits.time_limit
        buffers: dict[int, bytearray] = {out_r: bytearray(), err_r: bytearray()}
        total = 0
        timed_out = truncated = False
        status: int | None = None
        exited_at: float | None = None
        sel = selectors.DefaultSelector()
        for fd in buffers:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        open_fds = set(buffers)
        pidfd = _pidfd(pid)  # readable when the child exits: no polling delay
        if pidfd is not None:
            sel.register(pidfd, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if status is None:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status, exited_at = st, now
                    if pidfd is not None:
                        sel.unregister(pidfd)
            if status is not None and (not open_fds or now - (exited_at or now) > _GRACE_AFTER_EXIT):
                break  # exited and its output is drained (or stragglers hold the pipes: they get killed)
            if now >= deadline:
                timed_out = status is None
                break
            wait = min(0.05 if pidfd is None else 1.0, max(0.0, deadline - now))
            if status is not None:
                wait = min(wait, _GRACE_AFTER_EXIT)
            for key, _ in sel.select(timeout=wait):
                fd = int(key.fd)  # type: ignore[arg-type]
                if fd == pidfd:
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(fd)
                    open_fds.discard(fd)
                    continue
                room = limits.output_limit - total
                if len(chunk) > room:
                    chunk, truncated = chunk[: max(room, 0)], True
                buffers[fd] += chunk
                total += len(chunk)
            if truncated:
                break
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
        status = self._kill_all(pid, status)
        if not truncated:  # whatever arrived between the last read and the kill
            for fd in buffers:
                with contextlib.suppress(OSError):
                    while chunk := os.read(fd, 65536):
                        room = limits.output_limit - total
                        buffers[fd] += chunk[: max(room, 0)]
                        total += min(len(chunk), max(room, 0))
                        if len(chunk) > room:
                            truncated = True
                            break
        returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        marks = b""
        os.set_blocking(st_r, False)  # a surviving grandchild may still hold the write end
        with contextlib.suppress(OSError):
            marks = os.read(st_r, 4096)
        if marks.startswith(SETUP_MARK):
            return RunResult(
                stdout="", stderr="", returncode=None, wall_time=time.monotonic() - start,
                error=f"the sandbox could not set this job up: {marks[1:].decode(errors='replace')}",
            )
        stderr = buffers[err_r].decode("utf-8", errors="replace")
        tail = stderr[-4000:]
        memory = MEMORY_MARK in marks or (returncode != 0 and any(h in tail for h in _MEMORY_HINTS))
        if returncode == -24:  # SIGXCPU: the CPU-time limit
            timed_out = True
        return RunResult(
            stdout=buffers[out_r].decode("utf-8", errors="replace"),
            stderr=stderr,
            returncode=returncode,
            timed_out=timed_out,
            memory_exceeded=memory,
            output_truncated=truncated,
            wall_time=time.monotonic() - start,
        )


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _send(out: BinaryIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message).encode() + b"\n")
    out.flush()


def main() -> None:
    # Private copies of the protocol pipes; fds 0 and 1 then point elsewhere so stray prints cannot corrupt it.
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    loaded = preload()
    config = json.loads(proto_in.readline() or "{}")
    iso, group = setup_worker_isolation(config.get("isolation", "auto"), config.get("places", ()))
    # Everything imported so far is shared with every job; frozen, the job's garbage collector never walks
    # (and so never copies) those pages.
    gc.collect()
    gc.freeze()
    worker = Worker(iso, group)
    _send(proto_out, {"ready": True, "pid": os.getpid(), "preloaded": loaded, "isolation": iso.to_dict()})
    for line in proto_in:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            limits = Limits(**request["limits"])
            result = worker.run(request["source"], limits)
        except Exception as exc:  # the worker itself failed: report it, keep serving
            result = RunResult(stdout="", stderr="", returncode=None, error=f"sandbox worker error: {exc!r}")
        _send(proto_out, result.to_dict())
    if group is not None:
        group.remove()


if __name__ == "__main__":
    main()
