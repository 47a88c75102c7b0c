"""The job side: what runs inside the fresh child the warm worker forks for each program."""

from __future__ import annotations

import builtins
import ctypes
import io
import os
import sys
import tempfile
import traceback
import types

from optotrace.modeling.sandbox import netfilter, reach
from optotrace.modeling.sandbox.cgroup import JobCgroup
from optotrace.modeling.sandbox.isolation import CLONE_NEWIPC, Isolation, drop_privileges, unshare
from optotrace.modeling.sandbox.limits import Limits, apply_rlimits

STATUS_FD = 3
MEMORY_MARK = b"M"
#: Written on the status pipe, followed by the reason, when the sandbox could not set the job up.
SETUP_MARK = b"S"


class _SetupError(Exception):
    pass


def _contain(
    iso: Isolation, group: JobCgroup | None, limits: Limits, handles: dict[str, int], packages: list[list[str]]
) -> None:
    """Everything the job's process does as root before it runs the program (fails closed)."""
    steps = []
    if group is not None:
        steps.append(("enter the job's memory cgroup", group.join))
    if iso.ipc == "namespace per job":
        steps.append(("unshare an IPC namespace", lambda: unshare(CLONE_NEWIPC)))
    steps.append(("set the rlimits", lambda: apply_rlimits(limits, limit_processes=iso.max_processes)))
    if iso.uid is not None:
        steps.append(("switch to the private uid", lambda: drop_privileges(iso.uid)))  # type: ignore[arg-type]
    # No setuid program (su, mount, ...) may give the job back privileges; the seccomp filter needs it too.
    steps.append(("set no_new_privs", netfilter.no_new_privs))
    if handles:
        steps.append(("reach the interpreter's closed directories", lambda: reach.redirect_imports(handles, packages)))
    if iso.network_block == "seccomp":
        steps.append(("install the no-network seccomp filter", netfilter.install))
    for what, step in steps:
        try:
            step()
        except Exception as exc:
            raise _SetupError(f"could not {what}: {exc}") from None


def _text_stream(fd: int) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(
        io.BufferedWriter(raw), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    try:
        ctypes.CDLL(None).fflush(None)  # solver libraries write through C stdio
    except Exception:
        pass


def run_child(
    source: str,
    workdir: str,
    limits: Limits,
    env: dict[str, str],
    iso: Isolation,
    group: JobCgroup | None,
    handles: dict[str, int],
    packages: list[list[str]],
    out_w: int,
    err_w: int,
    status_w: int,
) -> None:
    """Never returns: sets the child up, runs `source` as __main__, and leaves with os._exit."""
    code = 1
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(status_w, STATUS_FD)
        handles = reach.move_handles(handles)
        os.closerange(STATUS_FD + 1 + len(handles), 65536)  # the worker's protocol pipes among them
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = _text_stream(1)
        sys.stderr = _text_stream(2)
        os.chdir(workdir)
        os.umask(0o077)
        _contain(iso, group, limits, handles, packages)
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = None
        path = os.path.join(workdir, "main.py")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(source)
        main = types.ModuleType("__main__")
        main.__dict__.update({"__file__": path, "__builtins__": builtins})
        sys.modules["__main__"] = main
        sys.argv = [path]
        sys.path[0:0] = [workdir]
        code = _execute(source, path, main.__dict__)
    except _SetupError as exc:
        try:
            os.write(STATUS_FD, SETUP_MARK + str(exc).encode(errors="replace")[:2000])
        except OSError:
            pass
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
    finally:
        _flush_all()
        os._exit(code)


def _execute(source: str, path: str, namespace: dict[str, object]) -> int:
    try:
        program = compile(source, path, "exec", dont_inherit=True)
        exec(program, namespace)  # noqa: S102 - this is the sandboxed child, the one place programs run
        return 0
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code & 0xFF
        print(exc.code, file=sys.stderr)
        return 1
    except MemoryError as exc:
        try:
            os.write(STATUS_FD, MEMORY_MARK)
        except OSError:
            pass
        _print_program_traceback(exc)
        return 1
    except BaseException as exc:
        _print_program_traceback(exc)
        return 1


def _print_program_traceback(exc: BaseException) -> None:
    """The traceback as `python main.py` would print it: the sandbox's own frames are not shown.

    A SyntaxError raised by compile() has only the sandbox's frame: it is printed as Python prints a script
    that does not compile (file, line, caret, message) without a traceback header."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)
