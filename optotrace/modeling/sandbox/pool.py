"""Sandbox: a pool of warm worker processes that run untrusted Python programs under limits."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from optotrace.modeling.errors import SandboxError
from optotrace.modeling.sandbox.isolation import LEVELS
from optotrace.modeling.sandbox.limits import GiB, Limits, MiB, scrubbed_env
from optotrace.modeling.sandbox.preview import ISOLATION_ENV, requested_level
from optotrace.modeling.sandbox.result import RunResult
from optotrace.modeling.sandbox.sweep import kill_cgroup, kill_processes_of, remove_ipc_of
from optotrace.modeling.sandbox.writable import find_world_writable

log = logging.getLogger("optotrace.sandbox")
_warned: set[str] = set()

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])
# The worker loads only the sandbox modules: light, and independent of the rest of optotrace importing.
_BOOTSTRAP = """
import sys, types
root = sys.argv[1]
for name in ("optotrace", "optotrace.modeling"):
    package = types.ModuleType(name)
    package.__path__ = [root + "/" + name.replace(".", "/")]
    sys.modules[name] = package
from optotrace.modeling.sandbox.worker import main
main()
"""
#: What each level needs and how to get it; quoted in the warning and in the refusal.
_HOW = {
    "full": "run as root with CAP_SYS_ADMIN (e.g. `docker run --cap-add SYS_ADMIN`)",
    "uid": "run as root",
}
#: Time the worker may take beyond the job's own limit (killing, sweeping, cleaning up) before we call it hung.
_SUPERVISION_GRACE = 30.0


class _NotSent(Exception):
    """The worker was dead before the job reached it."""


class _WorkerProcess:
    """One warm worker, spoken to over JSON lines on its stdin/stdout."""

    def __init__(self, python: str, start_timeout: float, config: str | None = None) -> None:
        self.python = python
        self.proc = subprocess.Popen(
            [python, "-I", "-c", _BOOTSTRAP, _PACKAGE_ROOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=scrubbed_env(),
            cwd="/",
            start_new_session=True,
        )
        self._buffer = b""
        self.eof = False
        self.start_timeout = start_timeout
        self.info: dict[str, Any] | None = None
        if config is not None:
            self.configure(config)

    def configure(self, config: str) -> None:
        """The worker's first input line: the isolation asked for and the world-writable places."""
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):  # a worker that died already is reported by wait_ready
            self.proc.stdin.write(config.encode() + b"\n")
            self.proc.stdin.flush()

    def wait_ready(self) -> dict[str, Any]:
        if self.info is None:
            message = self._read_line(self.start_timeout)
            if message is None or not message.get("ready"):
                self.kill()
                raise SandboxError(
                    "a sandbox worker did not start (optotrace.modeling.sandbox.worker); check that "
                    "optotrace imports in this interpreter and that the machine is not out of memory"
                )
            self.info = message
        return self.info

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read_line(self, timeout: float) -> dict[str, Any] | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    return None
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    self.eof = True
                    return None
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The worker's answer, or None when it died or hung (the caller replaces it).

        Raises _NotSent when the worker was already gone before it got the job (the job can be retried)."""
        self.wait_ready()
        assert self.proc.stdin is not None
        if not self.alive:
            raise _NotSent
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            raise _NotSent from None
        return self._read_line(timeout)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        iso = (self.info or {}).get("isolation", {})
        if iso.get("uid") is not None:  # the running job (a session of its own) and whatever it started
            with contextlib.suppress(OSError):
                kill_processes_of(int(iso["uid"]))
            remove_ipc_of(int(iso["uid"]))
        if iso.get("cgroup"):
            kill_cgroup(iso["cgroup"])
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[union-attr]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.stdin.close()  # type: ignore[union-attr]  # end of input: the worker exits
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(Exception):
            self.proc.stdout.close()  # type: ignore[union-attr]


class Sandbox:
    """Runs Python programs (typically LLM-written solver code) in warm, isolated worker processes.

    >>> with Sandbox(pool_size=2, time_limit=30) as sb:
    ...     sb.run("print(6 * 7)").stdout
    '42\\n'

    Each worker has numpy, pulp, pyomo (with its HiGHS and SCIP interfaces), pyscipopt and highspy imported
    once; each program runs in a fresh fork of a worker, so programs share nothing. Limits per program: wall
    time (`time_limit`, seconds; the whole process tree is killed), CPU time (rlimit, wall limit + 1 s),
    address space (`memory_limit`, bytes), output (`output_limit` bytes of stdout+stderr together; the program
    is stopped there), processes (`max_processes`), a fresh working directory that is removed afterwards, and
    an environment without any variable whose name contains KEY, TOKEN, SECRET or PASSWORD.

    `isolation` ("auto" by default, or the OPTOTRACE_SANDBOX_ISOLATION variable) picks the containment level
    (docs/SANDBOX.md): "full" (root with CAP_SYS_ADMIN: namespaces, private uid), "uid" (root: private uid,
    seccomp instead of the network namespace, sweeps instead of private mounts) or "basic" (the caller's uid,
    rlimits only). "auto" takes the strongest the machine allows and logs a warning when that is below
    "full"; naming a level refuses to start (SandboxError) when the machine cannot provide it, and "basic"
    is the explicit opt-in to weak isolation. `self.isolation` reports what is in force (level, network,
    IPC, memory per job or per process, world-writable places); `describe_isolation()` says it in a line.
    """

    def __init__(
        self,
        pool_size: int = 2,
        time_limit: float = 60.0,
        memory_limit: int = 4 * GiB,
        output_limit: int = 1 * MiB,
        max_processes: int = 128,
        python: str | None = None,
        start_timeout: float = 180.0,
        isolation: str | None = None,
    ) -> None:
        if pool_size < 1:
            raise SandboxError(f"pool_size must be at least 1, got {pool_size}")
        requested = self.requested_isolation = requested_level(isolation)
        self._config: str | None = None
        self.limits = Limits(
            time_limit=float(time_limit),
            memory_limit=int(memory_limit),
            output_limit=int(output_limit),
            max_processes=int(max_processes),
        )
        self.pool_size = pool_size
        self._python = python or sys.executable
        self._start_timeout = start_timeout
        self._closed = False
        self._lock = threading.Lock()
        self._all: list[_WorkerProcess] = []
        self._idle: queue.Queue[_WorkerProcess] = queue.Queue()
        self.replaced = 0  # how many workers died or hung and were replaced
        workers = [self._spawn() for _ in range(pool_size)]
        # Found while the workers import their libraries (the first call in a process walks the file system).
        places = list(find_world_writable()) if requested != "basic" and os.geteuid() == 0 else []
        self._config = json.dumps({"isolation": requested, "places": places})
        for w in workers:
            w.configure(self._config)
        try:
            infos = [w.wait_ready() for w in workers]
        except SandboxError:
            self.close()
            raise
        self.isolation: dict[str, Any] = infos[0]["isolation"]
        weakest = min((info["isolation"] for info in infos), key=lambda iso: LEVELS.index(iso["level"]))
        if weakest["level"] != self.isolation["level"]:
            self.isolation = weakest
        for w in workers:
            self._idle.put(w)
        self._check_isolation()

    def _check_isolation(self) -> None:
        level, requested = self.isolation["level"], self.requested_isolation
        why = "; ".join(self.isolation.get("notes", [])) or "no reason recorded"
        if requested in LEVELS and LEVELS.index(level) < LEVELS.index(requested):
            self.close()
            raise SandboxError(
                f"sandbox isolation {requested!r} is not available here (got {level!r}: {why}). To get it, "
                f"{_HOW[requested]}; or accept weaker isolation explicitly with isolation="
                f"{level!r} ({ISOLATION_ENV}={level})."
            )
        if requested == "auto" and level != "full" and level not in _warned:
            _warned.add(level)
            log.warning(
                "SANDBOX ISOLATION IS WEAKER THAN FULL: untrusted programs run with isolation level %r (%s). "
                "Missing: %s. For full isolation %s; to accept this level and silence this warning pass "
                "isolation=%r (or set %s=%s). See docs/SANDBOX.md.",
                level, self.describe_isolation(), why, _HOW["full"], level, ISOLATION_ENV, level,
            )

    @property
    def limits_in_force(self) -> dict[str, str]:
        """Each limit and how it is enforced on this machine (what `isolation` could not provide shows here)."""
        lim, iso = self.limits, self.isolation
        processes = (
            f"{lim.max_processes} (RLIMIT_NPROC of the private uid)" if iso.get("max_processes")
            else "not enforced: jobs share the caller's uid and its RLIMIT_NPROC"
        )
        return {
            "time": f"{lim.time_limit:g} s wall (the job's processes are killed), {lim.cpu_seconds()} s CPU",
            "memory": f"{lim.memory_limit} bytes {iso.get('memory', 'per process (RLIMIT_AS)')}"
            + ("" if str(iso.get("memory", "")).startswith("per job") else ", RLIMIT_AS on each process"),
            "output": f"{lim.output_limit} bytes of stdout and stderr together",
            "file_size": f"{lim.max_file_size} bytes per file (RLIMIT_FSIZE)",
            "processes": processes,
        }

    def describe_isolation(self) -> str:
        """One line: the level in force and what it contains (printed once per run by the CLI)."""
        iso = self.isolation
        uid = f"private uid {iso['uid']}" if iso.get("uid") is not None else f"the caller's uid {os.geteuid()}"
        network = f"no network ({iso.get('network_block')})" if not iso.get("network", True) else "NETWORK REACHABLE"
        writable = iso.get("writable", {})
        contained = sum(1 for how in writable.values() if "not contained" not in how)
        return (
            f"sandbox isolation {iso['level']}: {uid}, {network}, IPC {iso.get('ipc', 'shared')}, "
            f"memory limit {iso.get('memory', 'per process (RLIMIT_AS)')}, "
            f"{contained}/{len(writable)} world-writable places contained"
        )

    def _spawn(self) -> _WorkerProcess:
        worker = _WorkerProcess(self._python, self._start_timeout, self._config)
        with self._lock:
            self._all.append(worker)
        return worker

    def _retire(self, worker: _WorkerProcess) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            self.replaced += 1

    # -- running ---------------------------------------------------------------------------------
    def run(self, source: str, time_limit: float | None = None) -> RunResult:
        """Run `source` as a program's __main__ and return what happened (never raises for program errors)."""
        if self._closed:
            raise SandboxError("this Sandbox is closed; create a new one")
        limits = (
            self.limits if time_limit is None else Limits(**{**asdict(self.limits), "time_limit": time_limit})
        )
        request = {"source": source, "limits": asdict(limits)}
        worker = self._idle.get()
        start = time.monotonic()
        try:
            try:
                answer = worker.call(request, limits.time_limit + _SUPERVISION_GRACE)
            except _NotSent:  # died while idle (killed from outside): the job never started, so retry it once
                self._retire(worker)
                worker = self._spawn()
                try:
                    answer = worker.call(request, limits.time_limit + _SUPERVISION_GRACE)
                except _NotSent:
                    answer = None
            if answer is not None:
                return RunResult.from_dict(answer)
            hung = not worker.eof
            self._retire(worker)
            worker = self._spawn()
            what = "stopped answering" if hung else "died"
            return RunResult(
                stdout="",
                stderr="",
                returncode=None,
                wall_time=time.monotonic() - start,
                error=f"the sandbox worker {what} while running this program; it was replaced",
            )
        except SandboxError:
            self._retire(worker)
            worker = self._spawn()
            raise
        finally:
            if self._closed:
                worker.close()
            else:
                self._idle.put(worker)

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (for monitoring and tests)."""
        with self._lock:
            return [w.proc.pid for w in self._all]

    def run_many(self, sources: Iterable[str], time_limit: float | None = None) -> list[RunResult]:
        """Run many programs, all workers busy; results in the order of `sources`."""
        items = list(sources)
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(self.pool_size, len(items))) as ex:
            return list(ex.map(lambda s: self.run(s, time_limit=time_limit), items))

    # -- lifetime --------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every worker. Idempotent."""
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), []
        for w in workers:
            w.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if not self._closed:
                self.close()
