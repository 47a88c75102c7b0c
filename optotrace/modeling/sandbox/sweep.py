"""After a job: kill whatever it left running and remove the System V IPC objects it created."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import signal
import subprocess
import time

IPC_RMID = 0
_libc = ctypes.CDLL(None, use_errno=True)
# /proc/sysvipc file -> (column of the owner uid, column of the creator uid), and how to remove an id.
_SYSV = {
    "shm": (7, 9, lambda ident: _libc.shmctl(ident, IPC_RMID, None)),
    "msg": (7, 9, lambda ident: _libc.msgctl(ident, IPC_RMID, None)),
    "sem": (4, 6, lambda ident: _libc.semctl(ident, 0, IPC_RMID)),
}


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


def ipc_objects_of(uid: int) -> dict[str, list[int]]:
    """System V shared memory, message queues and semaphores that `uid` owns or created, by kind."""
    found: dict[str, list[int]] = {}
    for kind, (owner_col, creator_col, _) in _SYSV.items():
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii") as fh:
                next(fh, None)
                for line in fh:
                    cols = line.split()
                    if len(cols) > creator_col and uid in (int(cols[owner_col]), int(cols[creator_col])):
                        found.setdefault(kind, []).append(int(cols[1]))
        except (OSError, ValueError):
            continue
    return found


def _remove_ipc_as_owner(uid: int) -> None:
    for kind, ids in ipc_objects_of(uid).items():
        for ident in ids:
            _SYSV[kind][2](ident)


def sweep_uid(uid: int, attempts: int = 50) -> bool:
    """Kill every process running under `uid` and remove its System V IPC objects; True when none is left.

    A helper forked from the worker becomes `uid` and sends SIGKILL to -1, that is to every process it may
    signal: every process of that uid, and no other. The kernel walks the task list under the lock that fork()
    needs, so no process of the uid escapes by forking during the kill. The worker, a child subreaper, then
    reaps the victims (unreaped zombies still show up in /proc). As the owner the helper may also remove the
    uid's IPC objects, which root without CAP_SYS_ADMIN may not.
    """
    reap_children()
    for _ in range(attempts):
        ipc = ipc_objects_of(uid)
        if not processes_of(uid) and not ipc:
            return True
        pid = os.fork()
        if pid == 0:  # the helper
            code = 0
            try:
                os.setuid(uid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(-1, signal.SIGKILL)
                _remove_ipc_as_owner(uid)
            except BaseException:
                code = 1
            os._exit(code)
        os.waitpid(pid, 0)
        time.sleep(0.001)
        reap_children()
    return not processes_of(uid) and not ipc_objects_of(uid)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    with os.scandir("/proc") as entries:
        for entry in entries:
            if entry.name.isdigit():
                try:
                    with open(f"/proc/{entry.name}/stat", "rb") as fh:
                        ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    children = _children_map()
    result, stack = [], list(children.get(pid, []))
    while stack:
        p = stack.pop()
        result.append(p)
        stack.extend(children.get(p, []))
    return result


def sweep_descendants(rounds: int = 50) -> bool:
    """Kill every descendant of this process (a subreaper: daemons that called setsid() are among them)."""
    me = os.getpid()
    for _ in range(rounds):
        reap_children()
        victims = [p for p in descendants(me) if not zombie(p)]
        if not victims:
            return True
        for pid in victims:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.001)
    reap_children()
    return not [p for p in descendants(me) if not zombie(p)]


def kill_processes_of(uid: int, rounds: int = 20) -> None:
    """From the pool (root, without forking): SIGKILL every process of `uid`, e.g. after its worker died."""
    if os.geteuid() != 0:
        return
    for _ in range(rounds):
        pids = [p for p in processes_of(uid) if os.path.exists(f"/proc/{p}/stat") and not zombie(p)]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def zombie(pid: int) -> bool:
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


_IPCRM_FLAG = {"shm": "-m", "msg": "-q", "sem": "-s"}


def remove_ipc_of(uid: int) -> None:
    """From the pool (threads running: no fork): remove `uid`'s System V objects after its worker died.

    Root with CAP_SYS_ADMIN removes them directly; without it only their owner may, so `ipcrm` (a static
    path, unlike an interpreter that may live below /root) runs as that uid."""
    if os.geteuid() != 0:
        return
    for kind, ids in ipc_objects_of(uid).items():
        for ident in ids:
            _SYSV[kind][2](ident)
    args = [x for kind, ids in ipc_objects_of(uid).items() for ident in ids for x in (_IPCRM_FLAG[kind], str(ident))]
    ipcrm = shutil.which("ipcrm", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if args and ipcrm:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([ipcrm, *args], user=uid, group=uid, extra_groups=[], env={}, cwd="/", timeout=30,
                           check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_cgroup(path: str, rounds: int = 20) -> None:
    """SIGKILL every process in the cgroup at `path`, then remove it (after its worker died)."""
    for _ in range(rounds):
        try:
            with open(os.path.join(path, "cgroup.procs"), encoding="ascii") as fh:
                pids = [int(p) for p in fh.read().split()]
        except OSError:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.rmdir(path)
            return
        time.sleep(0.02)
