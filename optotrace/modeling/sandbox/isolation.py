"""Linux isolation for the warm worker: namespaces, hidden directories, a private uid, the process sweep.

How a job is contained when the worker runs as root (the usual case in our containers):

* The worker unshares a mount namespace and a network namespace once, at start-up. Jobs inherit both: they see
  only a loopback interface that is down (no network) and private tmpfs mounts on /tmp, /var/tmp and /dev/shm,
  which the worker wipes after every job: what a job writes there never reaches the machine's /tmp nor the
  next job. The job's working directory (also its TMPDIR and HOME) is /tmp/job-*, owned by the job's uid.
* Directories that other users may not traverse (typically /root, which holds the Python installation) are
  covered by a tmpfs in that namespace, and only the paths the interpreter needs are bind-mounted back. The job
  can import the standard library and the solver packages, and sees nothing else under /root.
* Every job runs under a private, otherwise unused uid (picked at random per worker). As that uid it cannot
  write outside its working directory (everything else belongs to root) and cannot signal the worker or any
  other process on the machine. RLIMIT_NPROC, which the kernel never applies to root, is enforced for that uid,
  so a fork bomb stops at `max_processes` tasks.
* After the job, `sweep_uid` kills every process that still runs under that uid (escapees that called
  setsid() included) and the worker, a child subreaper, reaps them.

Without root none of this is possible; the worker then runs jobs under its own uid with the rlimits, a fresh
working directory, the scrubbed environment and a process-group kill only (`Isolation.level == "basic"`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import random
import signal
import stat
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_CHILD_SUBREAPER = 36

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return None if s is None else s.encode()

    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(value), 0, 0, 0), "prctl")


@dataclass
class Isolation:
    """What the worker managed to set up; reported back to the pool (and visible as `Sandbox.isolation`)."""

    level: str = "basic"  # "full" (private uid + namespaces) or "basic"
    uid: int | None = None
    network: bool = True  # True: jobs can reach the network (no private network namespace)
    private_tmp: bool = False
    hidden: list[str] = field(default_factory=list)
    revealed: list[str] = field(default_factory=list)  # read-only binds inside the private temp dirs: never wiped
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _uid_in_use(uid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    return True
            except OSError:
                continue
    return False


def pick_private_uid() -> int:
    """A uid no account and no running process uses (random, so that concurrent sandboxes never share one)."""
    rng = random.SystemRandom()
    for _ in range(100):
        uid = rng.randrange(1_000_000, 2_000_000_000)
        if not _uid_in_use(uid):
            return uid
    raise RuntimeError("could not find an unused uid")


def _closed_ancestor(path: str) -> str | None:
    """The top-most ancestor of `path` that other users may not traverse, or None."""
    parts = path.strip("/").split("/")
    current = ""
    for part in parts[:-1] if len(parts) > 1 else []:
        current = f"{current}/{part}"
        try:
            mode = os.stat(current).st_mode
        except OSError:
            return None
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return current
    return None


def needed_paths() -> list[str]:
    """Directories a job's interpreter must reach: the installation, the venv and everything on sys.path."""
    candidates: set[str] = set()
    package_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for p in [sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(sys.executable), package_dir,
              *sys.path]:
        if p and os.path.isdir(p):
            candidates.add(os.path.realpath(p))
    # Keep only the outermost of nested paths.
    result: list[str] = []
    for p in sorted(candidates, key=len):
        if not any(p == q or p.startswith(q + "/") for q in result):
            result.append(p)
    return result


def reveal_through_tmpfs(paths: Iterable[str], iso: Isolation) -> None:
    """Cover each closed ancestor with a tmpfs and bind-mount the needed paths below it back into place."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        top = _closed_ancestor(p)
        if top is not None:
            groups.setdefault(top, []).append(p)
    for top, inner in sorted(groups.items()):
        fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in inner}
        try:
            mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
            for p, fd in fds.items():
                os.makedirs(p, mode=0o755, exist_ok=True)
                mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
        finally:
            for fd in fds.values():
                os.close(fd)
        iso.hidden.append(top)


def setup_worker_isolation() -> Isolation:
    """Called once by the worker at start-up, before any job; never raises (falls back to "basic")."""
    iso = Isolation()
    try:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    except OSError as exc:
        iso.notes.append(f"no subreaper: {exc}")
    if os.geteuid() != 0:
        iso.notes.append("not root: jobs run under the worker's uid (rlimits and process-group kill only)")
        return iso
    try:
        unshare(CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError as exc:
        iso.notes.append(f"no mount namespace ({exc}): jobs run under the worker's uid")
        return iso
    try:
        unshare(CLONE_NEWNET)
        iso.network = False
    except OSError as exc:
        iso.notes.append(f"no network namespace: {exc}")
    try:
        # World-writable like the real ones (libraries cache "/tmp" at import time, PuLP among them), but
        # private to this worker's namespace and wiped after each job.
        needed = needed_paths()
        private = [t for t in ("/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(t)]
        # A checkout or venv under /tmp (CI clones there) must stay reachable: keep a handle on it before the
        # tmpfs covers it, then bind it back read-only.
        inside = [p for p in needed if any(p.startswith(t + "/") for t in private)]
        fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in inside}
        try:
            for target, size in zip(private, ("512m", "64m", "64m"), strict=False):
                mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size}")
            iso.private_tmp = True
            for p, fd in fds.items():
                os.makedirs(p, mode=0o755, exist_ok=True)
                mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
                iso.revealed.append(p)
                mount(None, p, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
        finally:
            for fd in fds.values():
                os.close(fd)
        reveal_through_tmpfs([p for p in needed if p not in inside], iso)
        iso.uid = pick_private_uid()
        iso.level = "full"
    except (OSError, RuntimeError) as exc:
        iso.notes.append(f"isolation incomplete ({exc}): jobs run under the worker's uid")
        iso.uid = None
    return iso


def drop_privileges(uid: int) -> None:
    """In the job's process: become the private uid (group too), with no supplementary groups."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def reap_children() -> None:
    """Collect every exited child (the worker is a subreaper: orphaned job processes end up here)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def processes_of(uid: int) -> list[int]:
    """Pids of the processes (zombies included) whose owner is `uid`."""
    pids = []
    with os.scandir("/proc") as entries:
        for entry in entries:
            if entry.name.isdigit():
                try:
                    if entry.stat(follow_symlinks=False).st_uid == uid:
                        pids.append(int(entry.name))
                except OSError:
                    continue
    return pids


def sweep_uid(uid: int, attempts: int = 50) -> bool:
    """Kill every process running under `uid`; True when none is left.

    A helper forked from the worker becomes `uid` and sends SIGKILL to -1, that is to every process it may
    signal: every process of that uid, and no other. The kernel walks the task list under the lock that fork()
    needs, so no process of the uid escapes by forking during the kill. The worker, a child subreaper, then
    reaps the victims (unreaped zombies still show up in /proc).
    """
    reap_children()
    for _ in range(attempts):
        if not processes_of(uid):
            return True
        pid = os.fork()
        if pid == 0:  # the helper
            code = 0
            try:
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            except BaseException:
                code = 1
            os._exit(code)
        os.waitpid(pid, 0)
        time.sleep(0.001)
        reap_children()
    return not processes_of(uid)


def kill_processes_of(uid: int, rounds: int = 20) -> None:
    """From the pool (root, without forking): SIGKILL every process of `uid`, e.g. after its worker died."""
    if os.geteuid() != 0:
        return
    for _ in range(rounds):
        pids = [p for p in processes_of(uid) if os.path.exists(f"/proc/{p}/stat") and not _zombie(p)]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True


def kill_group(pgid: int) -> None:
    for target in (-pgid, pgid):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError as exc:
            if exc.errno not in (errno.ESRCH, errno.EPERM):
                raise
