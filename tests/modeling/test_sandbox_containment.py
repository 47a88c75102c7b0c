"""Sandbox containment: each hostile program is its own test, and the pool keeps serving afterwards.

Everything is bounded: short time limits, the fork bomb stops at max_processes tasks of a private uid, the
10 GB allocation fails at the address-space limit, and 100 MB of output is cut at output_limit.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from optotrace.modeling import RunResult, Sandbox
from optotrace.modeling.sandbox.isolation import _zombie as _is_zombie
from optotrace.modeling.sandbox.isolation import processes_of

REPO = Path(__file__).resolve().parents[2]


# Every hostile program also runs at the "uid" level (root without namespaces, as in a default Docker container).
LEVELS = ["auto", pytest.param("uid", marks=pytest.mark.skipif(os.geteuid() != 0, reason="'uid' needs root"))]


@pytest.fixture(scope="module", params=LEVELS)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with Sandbox(pool_size=2, time_limit=20, output_limit=256 * 1024, max_processes=64,
                 isolation=request.param) as sb:
        yield sb


def full_isolation(sb: Sandbox) -> bool:
    """Jobs run under a private uid ("full" or "uid" level): RLIMIT_NPROC, the uid sweep, no signals out."""
    return sb.isolation["uid"] is not None


def assert_pool_serves(sb: Sandbox) -> None:
    """Both workers still answer correctly (more jobs than workers, so every worker takes one)."""
    results = sb.run_many([f"print(sum(range({n})))" for n in (10, 100, 1000, 10000)])
    assert [r.stdout for r in results] == ["45\n", "4950\n", "499500\n", "49995000\n"], results
    assert all(r.ok for r in results)


def test_plain_program(sandbox: Sandbox) -> None:
    r = sandbox.run("import sys\nprint('hello')\nprint('oops', file=sys.stderr)")
    assert r.ok and r.returncode == 0 and r.stdout == "hello\n" and r.stderr == "oops\n"
    assert not r.timed_out and not r.memory_exceeded and r.wall_time > 0


def test_exception_and_exit_codes(sandbox: Sandbox) -> None:
    r = sandbox.run("raise ValueError('bad input')")
    assert not r.ok and r.returncode == 1 and "ValueError: bad input" in r.stderr
    assert 'File "' in r.stderr and "job.py" not in r.stderr  # the program's traceback, not ours
    assert sandbox.run("import sys; sys.exit(0)").ok
    assert sandbox.run("import sys; sys.exit(7)").returncode == 7
    assert sandbox.run("x = (").returncode == 1


def test_infinite_loop(sandbox: Sandbox) -> None:
    r = sandbox.run("while True:\n    pass", time_limit=1)
    assert r.timed_out and not r.ok and r.returncode == -signal.SIGKILL
    assert r.wall_time < 15
    assert_pool_serves(sandbox)


def test_fork_bomb(sandbox: Sandbox) -> None:
    if not full_isolation(sandbox):
        pytest.skip(f"needs root for a private uid with RLIMIT_NPROC: {sandbox.isolation['notes']}")
    bomb = (
        "import os, sys\n"
        "print(os.getuid(), flush=True)\n"
        "while True:\n"
        "    try:\n"
        "        os.fork()\n"
        "    except OSError:\n"
        "        pass\n"
    )
    r = sandbox.run(bomb, time_limit=2)
    assert r.timed_out and not r.ok
    uid = int(r.stdout.split()[0])
    assert uid != 0 and processes_of(uid) == []  # every process of the bomb is gone
    assert_pool_serves(sandbox)


def test_escaped_background_processes_are_killed(sandbox: Sandbox) -> None:
    program = (
        "import os, time\n"
        "print(os.getuid(), flush=True)\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        time.sleep(600)\n"
        "print('parent done')\n"
    )
    r = sandbox.run(program, time_limit=5)
    assert r.returncode == 0 and "parent done" in r.stdout
    if full_isolation(sandbox):
        assert processes_of(int(r.stdout.split()[0])) == []
    assert_pool_serves(sandbox)


@pytest.mark.parametrize(
    "program",
    ["x = bytearray(10 * 1024**3)", "import numpy as np\nx = np.ones(10 * 1024**3 // 8)"],
    ids=["bytearray", "numpy"],
)
def test_ten_gigabyte_allocation(sandbox: Sandbox, program: str) -> None:
    r = sandbox.run(program)
    assert r.memory_exceeded and not r.ok and r.returncode != 0
    assert not r.timed_out
    assert_pool_serves(sandbox)


def test_api_key_in_the_environment_is_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "OPENAI_API_KEY": "sk-test-very-secret-1",
        "GITHUB_TOKEN": "ghp-very-secret-2",
        "DB_PASSWORD": "very-secret-3",
        "AWS_SECRET_ACCESS_KEY": "very-secret-4",
        "my_api_key": "very-secret-5",
    }
    for k, v in secrets.items():
        monkeypatch.setenv(k, v)
    program = (
        "import os\n"
        "print(sorted(os.environ.items()))\n"
        "for path in ('/proc/%d/environ' % os.getppid(), '/proc/1/environ'):\n"
        "    try:\n"
        "        print(open(path, 'rb').read())\n"
        "    except OSError as e:\n"
        "        print('denied', e.errno)\n"
    )
    with Sandbox(pool_size=1, time_limit=10) as sb:
        r = sb.run(program)
        assert r.returncode == 0
        for name, value in secrets.items():
            assert value not in r.stdout and name not in r.stdout
        assert_pool_serves_single(sb)


def assert_pool_serves_single(sb: Sandbox) -> None:
    assert sb.run("print(2 + 2)").stdout == "4\n"


def test_writing_outside_the_working_directory(sandbox: Sandbox) -> None:
    if not full_isolation(sandbox):
        pytest.skip(f"needs root to run jobs under a private uid: {sandbox.isolation['notes']}")
    targets = [
        REPO / "sandbox_escape_probe.txt",
        Path("/root/sandbox_escape_probe.txt"),
        Path("/etc/sandbox_escape_probe"),
    ]
    program = (
        "import os\n"
        f"targets = {[str(t) for t in targets]!r}\n"
        "for t in targets:\n"
        "    try:\n"
        "        open(t, 'w').write('escaped')\n"
        "        print('WROTE', t)\n"
        "    except OSError as e:\n"
        "        print('blocked', t, e.errno)\n"
        "open('inside.txt', 'w').write('fine')\n"
        "print('inside ok', os.path.exists('inside.txt'), os.getcwd())\n"
    )
    r = sandbox.run(program)
    assert r.ok, r.stderr
    assert "WROTE" not in r.stdout and "inside ok True" in r.stdout
    for t in targets:
        assert not t.exists()
    workdir = r.stdout.strip().split()[-1]
    assert sandbox.run(f"import os; print(os.path.exists({workdir!r}))").stdout == "False\n"  # removed
    # /tmp is writable, but private to the worker and wiped after each job: harmless
    marker = f"sandbox-tmp-probe-{os.getpid()}"
    for _ in range(2):
        assert sandbox.run(f"open('/tmp/{marker}', 'w').write('x'); open('../{marker}.2', 'w').write('x')").ok
    assert not Path("/tmp", marker).exists() and not Path("/tmp", marker + ".2").exists()
    seen = sandbox.run_many([f"import os; print(os.path.exists('/tmp/{marker}'))"] * 2)
    assert [s.stdout for s in seen] == ["False\n"] * 2
    assert_pool_serves(sandbox)


def test_no_state_leaks_between_jobs(sandbox: Sandbox) -> None:
    first = "import pulp, os\npulp.LEAK = 1\nopen('/dev/shm/leak.txt', 'w').write('x')\nprint('set')"
    second = "import pulp, os\nprint(hasattr(pulp, 'LEAK'), os.path.exists('/dev/shm/leak.txt'))"
    for _ in range(2):  # whichever worker runs it
        assert sandbox.run(first).stdout == "set\n"
    results = sandbox.run_many([second] * 2)
    assert [r.stdout for r in results] == ["False False\n"] * 2


def test_hundred_megabytes_of_output(sandbox: Sandbox) -> None:
    start = time.monotonic()
    r = sandbox.run(
        "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(100):\n    sys.stdout.write(chunk)\n"
    )
    assert r.output_truncated and not r.ok
    assert len(r.stdout) + len(r.stderr) <= sandbox.limits.output_limit
    assert time.monotonic() - start < 15
    assert_pool_serves(sandbox)


def test_one_huge_print(sandbox: Sandbox) -> None:
    r = sandbox.run("print('y' * (100 * 1024 * 1024))")
    assert r.output_truncated and len(r.stdout) <= sandbox.limits.output_limit
    assert_pool_serves(sandbox)


def test_killing_the_parent(sandbox: Sandbox) -> None:
    r = sandbox.run("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('still here')")
    assert not r.ok
    if full_isolation(sandbox):
        assert "PermissionError" in r.stderr  # a private uid may not signal the worker
    assert_pool_serves(sandbox)


def test_worker_killed_from_outside_is_replaced(sandbox: Sandbox) -> None:
    before = sandbox.replaced
    os.kill(sandbox.worker_pids()[0], signal.SIGKILL)
    time.sleep(0.2)
    assert_pool_serves(sandbox)
    assert sandbox.replaced == before + 1


def test_worker_killed_during_a_job_reports_and_is_replaced(sandbox: Sandbox) -> None:
    import threading

    pids = sandbox.worker_pids()
    results: list[RunResult] = []
    program = "import os, time\nprint(os.getuid(), flush=True)\ntime.sleep(30)"
    t = threading.Thread(target=lambda: results.append(sandbox.run(program, time_limit=25)))
    t.start()
    time.sleep(1.0)
    for pid in pids:  # one of them runs the job; the idle one is replaced transparently
        os.kill(pid, signal.SIGKILL)
    t.join(timeout=60)
    time.sleep(0.3)
    assert results and results[0].error and "died" in results[0].error and results[0].returncode is None
    if full_isolation(sandbox):  # the orphaned job was killed with its worker
        leftovers = [p for uid in {sandbox.isolation["uid"]} for p in processes_of(uid)]
        assert all(_is_zombie(p) for p in leftovers)
    assert_pool_serves(sandbox)


def test_os_exit(sandbox: Sandbox) -> None:
    r = sandbox.run("import os\nprint('bye', flush=True)\nos._exit(3)")
    assert r.returncode == 3 and not r.ok and r.stdout == "bye\n"
    assert_pool_serves(sandbox)


def test_program_that_never_prints_and_hangs(sandbox: Sandbox) -> None:
    r = sandbox.run("import time\ntime.sleep(3600)", time_limit=1)
    assert r.timed_out and r.stdout == "" and r.stderr == ""
    assert_pool_serves(sandbox)


def test_program_that_never_prints_and_ends(sandbox: Sandbox) -> None:
    r = sandbox.run("x = 1 + 1")
    assert r.ok and r.stdout == "" and r.stderr == ""
    r = sandbox.run("input()")  # stdin is empty
    assert r.returncode == 1 and "EOFError" in r.stderr


def test_no_network(sandbox: Sandbox) -> None:
    if sandbox.isolation["network"]:
        pytest.skip(f"jobs can reach the network here: {sandbox.isolation['notes']}")
    r = sandbox.run(  # at the "uid" level the seccomp filter already refuses to create the socket
        "import socket\n"
        "try:\n    s = socket.socket()\n    s.settimeout(2)\n    s.connect(('1.1.1.1', 80))\n    print('connected')\n"
        "except OSError as e:\n    print('no network', e.errno)"
    )
    assert r.stdout.startswith("no network")


def test_run_many_keeps_order(sandbox: Sandbox) -> None:
    programs = [f"import time\ntime.sleep({(7 * i) % 5 / 20})\nprint({i})" for i in range(10)]
    results = sandbox.run_many(programs)
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(10)]
    assert sandbox.run_many([]) == []


def test_closed_sandbox_refuses() -> None:
    from optotrace.modeling import SandboxError

    sb = Sandbox(pool_size=1)
    sb.close()
    sb.close()
    with pytest.raises(SandboxError, match="closed"):
        sb.run("print(1)")
