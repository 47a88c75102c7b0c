"""Imports from a closed directory without a mount namespace (the "uid" level).

When Python lives below a directory other users may not enter (pyenv under /root, a common Docker layout), a
job under the private uid cannot import a module the worker had not loaded yet. The "full" level covers the
closed directory with a tmpfs and binds the needed paths back; without CAP_SYS_ADMIN the worker instead opens
a handle (O_PATH) on each needed path while still root, and the job, after it became the private uid,
reaches them through /proc/self/fd/N: a path through that link starts at the opened directory, so only the
permissions below it are checked. sys.path and the __path__ of every loaded package are rewritten to those
links. The job must be "dumpable" to use its own /proc/self/fd after setuid (only processes of its own uid
can then inspect it). Everything else below the closed directory stays out of reach.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import sys

PR_SET_DUMPABLE = 4
#: The job's copies of the handles are moved to FIRST_FD, FIRST_FD + 1, ...
FIRST_FD = 4
_HIGH_FD = 1000


def open_handles(paths: list[str]) -> dict[str, int]:
    """In the worker (root): a path handle per directory, on a high descriptor the job setup never touches."""
    handles: dict[str, int] = {}
    for path in paths:
        fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            handles[path] = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _HIGH_FD)
        finally:
            os.close(fd)
    return handles


def move_handles(handles: dict[str, int]) -> dict[str, int]:
    """In the job (before closing the worker's descriptors): the handles at FIRST_FD..; the first free fd."""
    moved = {}
    for i, (path, fd) in enumerate(sorted(handles.items())):
        os.dup2(fd, FIRST_FD + i, inheritable=False)
        moved[path] = FIRST_FD + i
    return moved


def _rewrite(entry: str, links: dict[str, str]) -> str:
    for real, link in links.items():
        if entry == real or entry.startswith(real + "/"):
            return link + entry[len(real):]
    return entry


def package_paths_below(paths: list[str]) -> list[list[str]]:
    """In the worker, once after preloading: the __path__ lists of loaded packages that lie below `paths`.

    Found before the fork so that the job rewrites only these: walking every module in the job would touch
    (and copy) thousands of the worker's shared pages."""
    lists = []
    for module in list(sys.modules.values()):
        # Not getattr: some packages answer a missing attribute through a slow module __getattr__.
        path = getattr(module, "__dict__", {}).get("__path__")
        if isinstance(path, list) and any(p == r or p.startswith(r + "/") for p in path for r in paths):
            lists.append(path)
    return lists


def redirect_imports(moved: dict[str, int], package_paths: list[list[str]]) -> None:
    """In the job, after it became the private uid: import from the handles instead of the closed paths."""
    if not moved:
        return
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE)")
    # Longest first, so that a nested needed path wins over its parent.
    links = {real: f"/proc/self/fd/{fd}" for real, fd in sorted(moved.items(), key=lambda kv: -len(kv[0]))}
    sys.path[:] = [_rewrite(os.path.realpath(p) if p else p, links) for p in sys.path]
    for path in package_paths:
        path[:] = [_rewrite(p, links) for p in path]
    # The new paths get finders of their own on first use; the worker's warm caches for the others stay valid.
