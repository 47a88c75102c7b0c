"""No network without a network namespace: a seccomp filter that refuses to create any socket.

Unsharing a network namespace needs CAP_SYS_ADMIN; installing a seccomp filter needs none once the process
has set no_new_privs. The filter answers EACCES to socket() whatever the address family: no TCP/UDP, no raw,
packet or netlink sockets, and no Unix socket either, since without a mount namespace the host's Unix sockets
(a Ray session's under /tmp/ray, D-Bus, X11, abstract ones) would otherwise be reachable. socketpair() stays
allowed (a connected pair inside the job: multiprocessing and asyncio use it). io_uring_setup is refused too
(io_uring can open sockets without the socket() system call), and calls from another ABI (32-bit or x32 on
x86-64) are refused altogether, so the filter cannot be sidestepped through a different system-call table.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import socket

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

_LD_ABS_W = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_DENY = 0x00050000 | errno.EACCES  # SECCOMP_RET_ERRNO

# machine -> (AUDIT_ARCH_*, socket, io_uring_setup, first number of a foreign ABI sharing this arch or None)
_ARCHES = {
    "x86_64": (0xC000003E, 41, 425, 0x40000000),
    "aarch64": (0xC00000B7, 198, 425, None),
}

_libc = ctypes.CDLL(None, use_errno=True)


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def supported() -> bool:
    return platform.machine() in _ARCHES


def _program() -> list[tuple[int, int, int, int]]:
    arch, nr_socket, nr_io_uring, foreign = _ARCHES[platform.machine()]
    # Jump offsets count the instructions skipped after the current one.
    code = [
        (_LD_ABS_W, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 1, 0, arch),
        (_RET, 0, 0, _DENY),
        (_LD_ABS_W, 0, 0, 0),  # seccomp_data.nr
    ]
    if foreign is not None:
        code.append((_JGE, 0, 1, foreign))
        code.append((_RET, 0, 0, _DENY))
    code += [
        (_JEQ, 1, 0, nr_io_uring),
        (_JEQ, 0, 1, nr_socket),
        (_RET, 0, 0, _DENY),
        (_RET, 0, 0, _ALLOW),
    ]
    return code


def no_new_privs() -> None:
    """From now on exec() never grants privileges (setuid bits and file capabilities are ignored)."""
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"no_new_privs: {os.strerror(err)}")


def install() -> None:
    """Install the filter in the calling process (inherited by every child); raises OSError on failure."""
    if not supported():
        raise OSError(errno.ENOSYS, f"no seccomp filter for {platform.machine()}")
    code = _program()
    filters = (_Filter * len(code))(*[_Filter(*ins) for ins in code])
    prog = _Program(len(code), filters)
    no_new_privs()
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {os.strerror(err)}")


def probe() -> str:
    """"" when the filter works here (checked in a throw-away child), else why not."""
    if not supported():
        return f"no seccomp filter for {platform.machine()}"
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            install()
            try:
                socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
                code = 2
            except PermissionError:
                for end in socket.socketpair():
                    end.close()
                code = 0
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return {0: "", 1: "seccomp filters are refused here", 2: "the seccomp filter did not block sockets"}.get(
        code, "the seccomp filter broke socketpair()"
    )
