"""Linux isolation for the warm worker: namespaces, hidden directories, a private uid, the process sweep.

Three levels (docs/SANDBOX.md has the threat model and what each one does not contain):

* "full" (root with CAP_SYS_ADMIN): the worker unshares a mount and a network namespace once; jobs inherit
  both: a loopback interface that is down (no network), a private tmpfs on every sticky world-writable
  directory (/tmp, /var/tmp, /dev/shm, /run/lock, ...; wiped after every job) and a read-only view of every
  other world-writable place. Each job also gets its own IPC namespace (System V objects and POSIX message
  queues die with it). Directories other users may not traverse (typically /root, which holds the Python
  installation) are covered by a tmpfs and only the paths the interpreter needs are bind-mounted back.
* "uid" (root without CAP_SYS_ADMIN, e.g. a default Docker container): no namespaces, but every other
  containment: the private uid, RLIMIT_NPROC, the uid sweep (which also removes the uid's System V IPC
  objects), a seccomp filter instead of the network namespace, and after each job the removal of whatever the
  uid left in a world-writable place.
* "basic" (not root, or asked for): jobs run under the worker's uid with the rlimits, a fresh working
  directory, the scrubbed environment and a sweep of the worker's descendants (the worker is a subreaper).

In both root levels every job runs under a private, otherwise unused uid (picked at random per worker): it
cannot write outside its working directory and the world-writable places, cannot signal other processes, and
RLIMIT_NPROC (never applied to uid 0) stops a fork bomb at `max_processes` tasks. A memory cgroup per worker,
where the machine lets us create one (cgroup.py), bounds the job's processes together.
"""

from __future__ import annotations

import ctypes
import os
import random
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from optotrace.modeling.sandbox import netfilter
from optotrace.modeling.sandbox.cgroup import JobCgroup
from optotrace.modeling.sandbox.sweep import processes_of, zombie
from optotrace.modeling.sandbox.writable import is_temp_like, outermost

_zombie = zombie  # re-exported for callers of the former location
__all__ = ["Isolation", "drop_privileges", "processes_of", "setup_worker_isolation"]

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWIPC = 0x08000000
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


PRIVATE = "private tmpfs, wiped after each job"
READ_ONLY = "read-only"
SWEPT = "shared; whatever the job's uid leaves there is removed after each job"
UNCONTAINED = "shared world-writable file: not contained"
#: Weakest to strongest.
LEVELS = ("basic", "uid", "full")


@dataclass
class Isolation:
    """What the worker managed to set up; reported back to the pool (and visible as `Sandbox.isolation`)."""

    level: str = "basic"  # one of LEVELS
    requested: str = "auto"
    uid: int | None = None
    network: bool = True  # True: jobs can reach the network
    network_block: str = ""  # "namespace" or "seccomp"
    private_tmp: bool = False  # the sticky world-writable directories are private tmpfs mounts
    ipc: str = "shared"  # "namespace per job", "swept after each job" or "shared"
    memory: str = "per process (RLIMIT_AS)"  # or "per job (cgroup v1|v2)"
    cgroup: str | None = None
    max_processes: bool = False  # RLIMIT_NPROC applies (private uid)
    processes_swept: str = "descendants"  # or "uid"
    writable: dict[str, str] = field(default_factory=dict)  # world-writable place -> how it is contained
    hidden: list[str] = field(default_factory=list)
    revealed: list[str] = field(default_factory=list)  # read-only binds inside the private temp dirs: never wiped
    reached: list[str] = field(default_factory=list)  # "uid" level: needed paths below a closed dir (reach.py)
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


def _works_in_child(action: Callable[[], None]) -> str:
    """"" when `action` succeeds in a throw-away child, else the error it raised."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        message = b""
        try:
            action()
        except BaseException as exc:
            message = str(exc).encode()[:500] or b"failed"
        os.write(w, message)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        message = fh.read().decode(errors="replace")
    os.waitpid(pid, 0)
    return message


def _privatize_writable(places: Iterable[str], needed: list[str], iso: Isolation) -> None:
    """In the worker's mount namespace: a wiped tmpfs on temp-like places, a read-only view of the others."""
    places = outermost(places)
    temp = [p for p in places if is_temp_like(p) or p in ("/tmp", "/var/tmp", "/dev/shm")]
    # A checkout or venv under /tmp (CI clones there) must stay reachable: keep a handle on it before the
    # tmpfs covers it, then bind it back read-only.
    inside = [p for p in needed if any(p.startswith(t + "/") for t in temp)]
    fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in inside}
    try:
        for target in temp:
            size = "512m" if target == "/tmp" else "64m"
            # World-writable like the real ones (libraries cache "/tmp" at import time, PuLP among them).
            mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size}")
            iso.writable[target] = PRIVATE
        iso.private_tmp = True
        for p, fd in fds.items():
            os.makedirs(p, mode=0o755, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
            iso.revealed.append(p)
            mount(None, p, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    finally:
        for fd in fds.values():
            os.close(fd)
    for target in places:
        if target not in temp:
            try:
                mount(target, target, None, MS_BIND | MS_REC)
                mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
                iso.writable[target] = READ_ONLY
            except OSError as exc:
                iso.notes.append(f"{target} stays writable ({exc}); the job's files there are removed")


def _namespaces(iso: Isolation, places: Iterable[str]) -> None:
    """The "full" level's mount/network namespaces; raises OSError when the kernel refuses the first."""
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    try:
        unshare(CLONE_NEWNET)
        iso.network, iso.network_block = False, "namespace"
    except OSError as exc:
        iso.notes.append(f"no network namespace: {exc}")
    needed = needed_paths()
    _privatize_writable(places, needed, iso)
    reveal_through_tmpfs([p for p in needed if p not in iso.revealed], iso)


def setup_worker_isolation(requested: str = "auto", places: Iterable[str] = ()) -> tuple[Isolation, JobCgroup | None]:
    """Called once by the worker at start-up, before any job: the strongest level `requested` allows.

    `places` are the machine's world-writable places (writable.find_world_writable). Never raises: what could
    not be set up is recorded in `notes` and the pool decides whether the result is acceptable."""
    iso = Isolation(requested=requested)
    try:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    except OSError as exc:
        iso.notes.append(f"no subreaper: {exc}")
    group, why = JobCgroup.create(f"optotrace-sandbox-{os.getpid()}")
    if group is not None:
        iso.memory, iso.cgroup = f"per job (cgroup {group.version})", group.path
    else:
        iso.notes.append(f"memory is limited per process only: no memory cgroup ({why})")
    if requested == "basic":
        iso.notes.append("basic isolation was asked for: jobs run under the worker's uid")
        return iso, group
    if os.geteuid() != 0:
        iso.notes.append("not root: jobs run under the worker's uid (rlimits and a sweep of descendants only)")
        return iso, group
    places = list(places)
    try:
        iso.uid = pick_private_uid()
    except RuntimeError as exc:
        iso.notes.append(f"{exc}: jobs run under the worker's uid")
        return iso, group
    iso.level, iso.max_processes, iso.processes_swept = "uid", True, "uid"
    iso.ipc = "swept after each job"
    if requested != "uid":
        try:
            _namespaces(iso, places)
            iso.level = "full"
        except OSError as exc:
            iso.notes.append(f"no mount namespace ({exc}; needs CAP_SYS_ADMIN): isolation level 'uid'")
        if iso.level == "full":
            failure = _works_in_child(lambda: unshare(CLONE_NEWIPC))
            if failure:
                iso.notes.append(f"no IPC namespace ({failure}): System V objects are swept after each job")
            else:
                iso.ipc = "namespace per job"
    if iso.level == "uid":
        iso.reached = [p for p in needed_paths() if _closed_ancestor(p) is not None]
    if iso.network:
        failure = netfilter.probe()
        if failure:
            iso.notes.append(f"jobs can reach the network: no network namespace and {failure}")
        else:
            iso.network, iso.network_block = False, "seccomp"
    for place in places:
        covered = [p for p, how in iso.writable.items() if how in (PRIVATE, READ_ONLY)]
        if not any(place == p or place.startswith(p + "/") for p in covered):
            iso.writable[place] = SWEPT if os.path.isdir(place) else UNCONTAINED
    return iso, group


def drop_privileges(uid: int) -> None:
    """In the job's process: become the private uid (group too), with no supplementary groups."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
