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

from optotrace.modeling.sandbox.isolation import drop_privileges
from optotrace.modeling.sandbox.limits import Limits, apply_rlimits

STATUS_FD = 3
MEMORY_MARK = b"M"


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
    uid: int | None,
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
        os.closerange(STATUS_FD + 1, 65536)  # the worker's protocol pipes among them
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = _text_stream(1)
        sys.stderr = _text_stream(2)
        os.chdir(workdir)
        apply_rlimits(limits, limit_processes=uid is not None)
        if uid is not None:
            drop_privileges(uid)
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
    """The traceback as the program's author expects it: without the sandbox's own frame on top."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_next is not None and tb.tb_frame.f_code is _execute.__code__:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)
