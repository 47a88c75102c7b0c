"""Nothing a job leaves behind outlives it (world-writable places, System V IPC), memory is limited for the job
as a whole, and a program's traceback starts with the program.

Each state test runs at the strongest level the machine gives ("auto") and at "uid" (what a root process
without CAP_SYS_ADMIN gets: no mount or IPC namespaces, sweeps instead), where the tests run as root.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from optotrace.modeling import Sandbox
from optotrace.modeling.sandbox.limits import MiB
from optotrace.modeling.sandbox.writable import find_world_writable

LEVELS = ["auto", pytest.param("uid", marks=pytest.mark.skipif(os.geteuid() != 0, reason="'uid' needs root"))]


@pytest.fixture(scope="module", params=LEVELS)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with Sandbox(pool_size=1, time_limit=20, isolation=request.param) as sb:
        yield sb


def _shm_keys() -> set[int]:
    with open("/proc/sysvipc/shm", encoding="ascii") as fh:
        next(fh)
        return {int(line.split()[0]) for line in fh}


SHM = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
key, create = {key}, {create}
ident = libc.shmget(key, 4096, (0o1000 | 0o600) if create else 0)
print(ident, ctypes.get_errno())
"""


def test_files_in_world_writable_places_do_not_outlive_the_job(sandbox: Sandbox) -> None:
    places = [p for p, how in sandbox.isolation["writable"].items() if os.path.isdir(p)]
    assert "/tmp" in places or os.path.realpath("/tmp") in places
    name = f"optotrace-probe-{secrets.token_hex(4)}"
    write = (
        "import os\n"
        f"for place in {places!r}:\n"
        "    try:\n"
        f"        open(os.path.join(place, {name!r}), 'w').write('left behind')\n"
        "        print('wrote', place)\n"
        "    except OSError as exc:\n"
        "        print('refused', place, exc.errno)\n"
    )
    r = sandbox.run(write)
    assert r.ok, r
    for place in places:
        assert not os.path.exists(os.path.join(place, name)), f"{place} kept the job's file on the host"
    read = f"import os\nprint([p for p in {places!r} if os.path.exists(os.path.join(p, {name!r}))])\n"
    assert sandbox.run(read).stdout == "[]\n"


@pytest.mark.skipif(not os.path.isdir("/run/lock"), reason="this machine has no /run/lock")
def test_run_lock_is_contained(sandbox: Sandbox) -> None:
    assert os.path.realpath("/run/lock") in sandbox.isolation["writable"]
    name = f"/run/lock/optotrace-{secrets.token_hex(4)}"
    r = sandbox.run(f"open({name!r}, 'w').write('x'); print('ok')")
    assert r.ok and not os.path.exists(name)
    assert sandbox.run(f"import os; print(os.path.exists({name!r}))").stdout == "False\n"


def test_shared_memory_segment_does_not_outlive_the_job() -> None:
    key = secrets.randbelow(1 << 30) + 1
    for level in ["auto"] + (["uid"] if os.geteuid() == 0 else []):
        with Sandbox(pool_size=1, time_limit=20, isolation=level) as sb:
            created = sb.run(SHM.format(key=key, create=True))
            ident, _ = map(int, created.stdout.split())
            assert created.ok and ident >= 0, created
            assert key not in _shm_keys(), f"{level}: the segment outlived the job"
            again = sb.run(SHM.format(key=key, create=False))
            assert int(again.stdout.split()[0]) == -1, f"{level}: a later job found the segment"
        assert key not in _shm_keys()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a world-writable directory under /var")
def test_any_world_writable_directory_is_found_and_contained() -> None:
    place = Path("/var") / f"optotrace-shared-{secrets.token_hex(4)}"
    place.mkdir()
    try:
        place.chmod(0o777)  # world-writable, not sticky: made read-only (full) or swept (uid)
        find_world_writable.cache_clear()
        for level in ("auto", "uid"):
            with Sandbox(pool_size=1, time_limit=20, isolation=level) as sb:
                assert str(place) in sb.isolation["writable"], sb.isolation["writable"]
                target = place / "left-behind"
                sb.run(f"open({str(target)!r}, 'w').write('x')")
                assert not target.exists(), f"{level}: the job's file stayed in {place}"
    finally:
        shutil.rmtree(place, ignore_errors=True)
        find_world_writable.cache_clear()


FOUR_CHILDREN = """
import os, time
pids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        block = b"x" * ({size} * 1024 * 1024)  # touches every page
        time.sleep(1.5)
        os._exit(0)
    pids.append(pid)
ok = sum(os.waitpid(pid, 0)[1] == 0 for pid in pids)
print(ok)
raise SystemExit(0 if ok == 4 else 1)
"""


def test_memory_limit_holds_for_the_job_as_a_whole() -> None:
    with Sandbox(pool_size=1, time_limit=30, memory_limit=512 * MiB) as sb:
        if not sb.isolation["memory"].startswith("per job"):
            pytest.skip(f"no memory cgroup here, memory is limited per process: {sb.isolation['notes']}")
        fits = sb.run(FOUR_CHILDREN.format(size=60))
        assert fits.ok and fits.stdout == "4\n", fits  # 240 MiB together: within the job's 512 MiB
        r = sb.run(FOUR_CHILDREN.format(size=200))
        assert not r.ok and r.memory_exceeded, r  # 800 MiB together: over, though each child is under
        assert int(r.stdout or "0") < 4
        assert sb.run("print(1)").ok  # the pool keeps serving


def test_compile_error_shows_the_program_first(sandbox: Sandbox) -> None:
    r = sandbox.run("import math\nx = (1,\nprint(x)\n")
    assert r.returncode == 1 and not r.ok
    assert r.stderr.startswith('  File "') and "main.py" in r.stderr.splitlines()[0], r.stderr
    assert "SyntaxError" in r.stderr and "job.py" not in r.stderr and "sandbox" not in r.stderr


def test_runtime_error_traceback_starts_with_the_program(sandbox: Sandbox) -> None:
    r = sandbox.run("def f():\n    return 1 / 0\n\nf()\n")
    lines = r.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):", r.stderr
    assert "main.py" in lines[1] and "line 4" in lines[1]
    assert "job.py" not in r.stderr and lines[-1] == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize("level", LEVELS)
def test_shared_memory_is_removed_when_the_worker_dies_mid_job(level: str) -> None:
    key = secrets.randbelow(1 << 30) + 1
    holds = SHM.format(key=key, create=True) + "import time\ntime.sleep(30)\n"
    with Sandbox(pool_size=1, time_limit=20, isolation=level) as sb:
        worker = sb.worker_pids()[0]
        killer = threading.Timer(2.0, os.kill, (worker, signal.SIGKILL))
        killer.start()
        r = sb.run(holds)
        killer.join()
        assert r.error and "died" in r.error, r
        assert key not in _shm_keys(), "the dead worker's job left its segment behind"
        assert sb.run("print(1)").stdout == "1\n"
