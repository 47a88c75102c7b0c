"""World-writable places: the only spots outside its working directory where a job under a private uid can
leave something for the host or for a later job.

`find_world_writable` walks the file system once per process (pruned: /proc, /sys, directories other users
cannot enter, a depth limit and a time budget) and always includes the usual temporary directories. With a
mount namespace each place is covered by a private tmpfs (sticky, temp-like directories, wiped after every job)
or made read-only (anything else); without one, `remove_owned_by` deletes after every job whatever the job's
uid left in them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import time
from collections import deque
from collections.abc import Iterable
from functools import lru_cache

log = logging.getLogger("optotrace.sandbox")
#: Always treated as world-writable temporary places when they exist (/var/lock is usually a link to /run/lock).
KNOWN = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue", "/run/shm")
_SKIP = ("/proc", "/sys")
_MAX_DEPTH = 5
_BUDGET_S = 3.0


def _world_writable(mode: int) -> bool:
    return bool(mode & stat.S_IWOTH) and (stat.S_ISDIR(mode) or stat.S_ISREG(mode))


@lru_cache(maxsize=1)
def find_world_writable(max_depth: int = _MAX_DEPTH, budget_s: float = _BUDGET_S) -> tuple[str, ...]:
    """Real paths of world-writable directories and regular files a process of another uid can reach."""
    found: set[str] = set()
    for path in KNOWN:
        with contextlib.suppress(OSError):
            real = os.path.realpath(path)
            if _world_writable(os.stat(real).st_mode):
                found.add(real)
    deadline = time.monotonic() + budget_s
    queue = deque([("/", 0)])  # breadth first: a cut by the budget leaves out the deepest levels
    while queue and time.monotonic() < deadline:
        top, depth = queue.popleft()
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if _world_writable(st.st_mode):
                found.add(entry.path)
            if (
                stat.S_ISDIR(st.st_mode)
                and depth + 1 < max_depth
                and st.st_mode & stat.S_IXOTH
                and entry.path not in _SKIP
            ):
                queue.append((entry.path, depth + 1))
    if queue:
        log.warning("the search for world-writable places stopped after %.0f s; deeper ones are not contained",
                    budget_s)
    return tuple(sorted(found))


def outermost(paths: Iterable[str]) -> list[str]:
    result: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p == q or p.startswith(q + "/") for q in result):
            result.append(p)
    return sorted(result)


def is_temp_like(path: str) -> bool:
    """A sticky world-writable directory (/tmp and its kind): gets a private, wiped tmpfs."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISDIR(mode) and bool(mode & stat.S_ISVTX)


def wipe(base: str, keep: Iterable[str] = ()) -> None:
    """Empty a private tmpfs, never deleting through a read-only bind of a needed path (`keep`)."""
    keep = list(keep)
    with contextlib.suppress(OSError):
        for entry in os.listdir(base):
            full = os.path.join(base, entry)
            if any(k == full or k.startswith(full + "/") for k in keep):
                continue
            _remove(full)


def remove_owned_by(uid: int, places: Iterable[str]) -> list[str]:
    """Delete every entry of `places` owned by `uid` (with its subtree); the paths removed."""
    removed = []
    for base in places:
        try:
            entries = list(os.scandir(base))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
            except OSError:
                continue
            _remove(entry.path)
            removed.append(entry.path)
    return removed


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)
