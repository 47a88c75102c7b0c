"""Isolation levels: root without CAP_SYS_ADMIN (a default Docker container) keeps every containment it can
have, says so loudly, and refuses a level it cannot provide; "basic" is an explicit opt-in.

The CAP_SYS_ADMIN case runs a child Python whose capability bounding set lost CAP_SYS_ADMIN
(prctl(PR_CAPBSET_DROP) before exec, which removes it from the root child's capabilities), so it runs on any
machine where the tests run as root, and skips with the reason elsewhere.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from optotrace.modeling import Sandbox, SandboxError
from optotrace.modeling.sandbox.sweep import zombie

PR_CAPBSET_DROP = 24
CAP_SYS_ADMIN = 21
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the private uid and the capability drop")

# Runs in the child without CAP_SYS_ADMIN; prints one JSON object.
CHILD = textwrap.dedent(
    """
    import json, logging, sys
    from optotrace.modeling import Sandbox, SandboxError

    warnings = []
    class Grab(logging.Handler):
        def emit(self, record):
            warnings.append(record.getMessage())
    logging.getLogger("optotrace.sandbox").addHandler(Grab())
    port = int(sys.argv[1])
    out = {"caps": open("/proc/self/status").read().split("CapEff:")[1].split()[0]}
    try:
        Sandbox(pool_size=1, isolation="full").close()
        out["full"] = "started"
    except SandboxError as exc:
        out["full"] = str(exc)
    sb = Sandbox(pool_size=1, time_limit=20, max_processes=8)
    out["warnings"], out["isolation"], out["line"] = list(warnings), sb.isolation, sb.describe_isolation()
    def run(src):
        r = sb.run(src)
        return {"stdout": r.stdout, "stderr": r.stderr[-2000:], "rc": r.returncode, "error": r.error}
    out["who"] = run("import os; print(os.getuid(), os.getgid(), os.stat('.').st_uid)")
    out["net"] = run(
        "import socket\\n"
        "try:\\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=3); print('connected')\\n"
        "except OSError as exc:\\n"
        "    print('refused', type(exc).__name__)\\n"
        "try:\\n"
        "    socket.socket(socket.AF_UNIX).connect('/tmp/anything'); print('unix socket')\\n"
        "except PermissionError:\\n"
        "    print('no unix socket')\\n"
        "print(len(socket.socketpair()))\\n"
    )
    out["bomb"] = run(
        "import os, time\\n"
        "n = 0\\n"
        "for _ in range(40):\\n"
        "    try:\\n"
        "        if os.fork() == 0:\\n"
        "            time.sleep(30); os._exit(0)\\n"
        "        n += 1\\n"
        "    except OSError:\\n"
        "        break\\n"
        "print(n)\\n"
    )
    out["daemon"] = run(
        "import os, sys, time\\n"
        "r, w = os.pipe()\\n"
        "if os.fork() == 0:\\n"
        "    os.setsid()\\n"
        "    if os.fork() == 0:\\n"
        "        os.write(w, str(os.getpid()).encode()); time.sleep(120); os._exit(0)\\n"
        "    os._exit(0)\\n"
        "os.close(w); print(os.read(r, 32).decode())\\n"
    )
    out["imports"] = run("import fractions, decimal, statistics, email.mime.text; print('ok')")
    sb.close()
    warnings.clear()
    with Sandbox(pool_size=1, isolation="uid") as quiet:
        out["uid_level"] = quiet.isolation["level"]
    out["quiet_warnings"] = list(warnings)
    print(json.dumps(out))
    """
)


def _drop_cap_sys_admin() -> None:
    if ctypes.CDLL(None, use_errno=True).prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0:
        os._exit(97)


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}") and not zombie(pid)


@needs_root
def test_root_without_cap_sys_admin_keeps_private_uid_no_network_and_sweeps(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    with socket.socket() as listener:  # the parent's 127.0.0.1: the job must not reach it
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, str(script), str(port)], capture_output=True, text=True, timeout=300,
            preexec_fn=_drop_cap_sys_admin,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not int(out["caps"], 16) & (1 << CAP_SYS_ADMIN)
    iso = out["isolation"]
    assert iso["level"] == "uid", iso
    # Asking for "full" is refused with what to do about it.
    assert "CAP_SYS_ADMIN" in out["full"] and "isolation='uid'" in out["full"]
    # "auto" says loudly that it is weaker, and what in force; "uid" asked for explicitly is quiet.
    assert any("WEAKER THAN FULL" in w and "CAP_SYS_ADMIN" in w for w in out["warnings"]), out["warnings"]
    assert out["uid_level"] == "uid" and out["quiet_warnings"] == []
    assert out["line"].startswith("sandbox isolation uid: private uid")
    # A private uid owns the working directory; nothing runs as root.
    uid, gid, owner = map(int, out["who"]["stdout"].split())
    assert uid == gid == owner == iso["uid"] and uid != 0
    # No network: the parent's 127.0.0.1 is out of reach.
    assert out["net"]["stdout"] == "refused PermissionError\nno unix socket\n2\n", out["net"]
    assert iso["network"] is False and iso["network_block"] == "seccomp"
    # max_processes=8 holds (RLIMIT_NPROC applies to the private uid).
    assert int(out["bomb"]["stdout"]) < 8, out["bomb"]
    # The setsid()'d daemon died with the job; the sandbox's uid has no process left.
    daemon = int(out["daemon"]["stdout"])
    assert not _alive(daemon)
    assert not [p for p in map(int, filter(str.isdigit, os.listdir("/proc")))
                if os.path.exists(f"/proc/{p}") and _owner(p) == uid and not zombie(p)]
    # The interpreter below a closed /root (pyenv) stays importable for the private uid.
    assert out["imports"]["stdout"] == "ok\n", out["imports"]


def _owner(pid: int) -> int:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return -1


def test_unknown_isolation_level_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SandboxError, match="unknown sandbox isolation 'paranoid'.*auto, full, uid, basic"):
        Sandbox(pool_size=1, isolation="paranoid")
    monkeypatch.setenv("OPTOTRACE_SANDBOX_ISOLATION", "bogus")
    with pytest.raises(SandboxError, match="OPTOTRACE_SANDBOX_ISOLATION"):
        Sandbox(pool_size=1)


def test_basic_is_an_explicit_opt_in_and_still_kills_daemons(caplog: pytest.LogCaptureFixture) -> None:
    program = (
        "import os, time\n"
        "r, w = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.write(w, str(os.getpid()).encode()); time.sleep(120); os._exit(0)\n"
        "    os._exit(0)\n"
        "os.close(w); print(os.getuid(), os.read(r, 32).decode())\n"
    )
    with caplog.at_level("WARNING", logger="optotrace.sandbox"), Sandbox(pool_size=1, isolation="basic") as sb:
        assert sb.isolation["level"] == "basic"
        r = sb.run(program, time_limit=10)
        assert r.ok, r
        uid, daemon = map(int, r.stdout.split())
        assert uid == os.geteuid()
        assert not _alive(daemon)  # the worker, a subreaper, swept its descendants
        assert sb.describe_isolation().startswith("sandbox isolation basic: the caller's uid")
    assert not [rec for rec in caplog.records if "WEAKER" in rec.getMessage()]


def test_default_level_is_reported() -> None:
    with Sandbox(pool_size=1) as sb:
        iso = sb.isolation
        assert iso["level"] in ("full", "uid", "basic")
        assert iso["memory"].startswith(("per job", "per process"))
        assert sb.describe_isolation().startswith(f"sandbox isolation {iso['level']}:")
        if os.geteuid() != 0:
            assert iso["level"] == "basic" and any("not root" in n for n in iso["notes"])


def test_setuid_programs_cannot_give_privileges_back() -> None:
    with Sandbox(pool_size=1) as sb:
        r = sb.run("print(open('/proc/self/status').read().split('NoNewPrivs:')[1].split()[0])")
        assert r.stdout == "1\n", r


def test_cli_prints_the_isolation_once_per_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import optotrace.cli.optibench  # noqa: F401  (registers the optibench commands)
    from optotrace.benchmarks.sources import shared_data_dir
    from optotrace.cli import app

    shared = shared_data_dir()
    if shared is None or not (shared / "e-opt.json").is_file():
        pytest.skip("../shared/data/optibench is absent (OptiBench data); set it up beside the repository")
    result = CliRunner().invoke(app, ["optibench", "reference", "--limit", "2", "--run-dir", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("sandbox isolation:")]
    assert len(lines) == 1, result.output
    level = "full" if os.geteuid() == 0 else "basic"
    assert lines[0].startswith(f"sandbox isolation: {level} (asked: auto)") or "WEAKER THAN FULL" in lines[0]


def test_limits_in_force_say_how_each_limit_is_enforced() -> None:
    with Sandbox(pool_size=1, memory_limit=256 * 1024**2, max_processes=16) as sb:
        limits = sb.limits_in_force
        assert set(limits) == {"time", "memory", "output", "file_size", "processes"}
        assert limits["memory"].startswith(f"{256 * 1024**2} bytes per ")
        assert ("cgroup" in limits["memory"]) == sb.isolation["memory"].startswith("per job")
        assert limits["processes"].startswith("16 (RLIMIT_NPROC") == (sb.isolation["uid"] is not None)
