"""Which isolation a Sandbox will get on this machine, without starting one (the CLI prints it once per run).

The same checks the worker makes at start-up, in throw-away children: root or not, whether a mount and a
network namespace can be unshared (CAP_SYS_ADMIN), whether the seccomp filter works, whether a memory cgroup
can be created.
"""

from __future__ import annotations

import os

from optotrace.modeling.errors import SandboxError
from optotrace.modeling.sandbox import netfilter
from optotrace.modeling.sandbox.cgroup import JobCgroup
from optotrace.modeling.sandbox.isolation import CLONE_NEWNET, CLONE_NEWNS, LEVELS, _works_in_child, unshare

#: The isolation level a Sandbox asks for when none is given ("auto", "full", "uid" or "basic").
ISOLATION_ENV = "OPTOTRACE_SANDBOX_ISOLATION"


def requested_level(isolation: str | None = None) -> str:
    """`isolation`, else $OPTOTRACE_SANDBOX_ISOLATION, else "auto"; a clear error for anything else."""
    requested = (isolation or os.environ.get(ISOLATION_ENV) or "auto").strip().lower()
    if requested not in ("auto", *LEVELS):
        source = "isolation=" if isolation else ISOLATION_ENV
        raise SandboxError(
            f"unknown sandbox isolation {requested!r} (from {source}); use one of: auto, {', '.join(reversed(LEVELS))}"
        )
    return requested


def expected_isolation(isolation: str | None = None) -> dict[str, str]:
    """{"requested", "level", "network", "memory", "why"} as a Sandbox started now would report them."""
    requested = requested_level(isolation)
    why = ""
    if requested == "basic":
        level, why = "basic", "asked for"
    elif os.geteuid() != 0:
        level, why = "basic", "not root"
    elif requested == "uid":
        level = "uid"
    else:
        failure = _works_in_child(lambda: unshare(CLONE_NEWNS | CLONE_NEWNET))
        level, why = ("uid", f"no namespaces ({failure}; needs CAP_SYS_ADMIN)") if failure else ("full", "")
    if level == "full":
        network = "no network (namespace)"
    elif level == "uid" and not netfilter.probe():
        network = "no network (seccomp)"
    else:
        network = "NETWORK REACHABLE"
    group, reason = JobCgroup.create(f"optotrace-preview-{os.getpid()}")
    if group is not None:
        group.remove()
        memory = f"per job (cgroup {group.version})"
    else:
        memory = f"per process only ({reason})"
    return {"requested": requested, "level": level, "network": network, "memory": memory, "why": why}


def isolation_line(isolation: str | None = None) -> str:
    """One line for a run's log: the sandbox isolation level in force here and what it lacks."""
    try:
        e = expected_isolation(isolation)
    except SandboxError as exc:
        return f"sandbox isolation: {exc}"
    line = f"sandbox isolation: {e['level']} (asked: {e['requested']}), {e['network']}, memory limit {e['memory']}"
    if e["requested"] in LEVELS and LEVELS.index(e["level"]) < LEVELS.index(e["requested"]):
        line += f"; REFUSED: {e['requested']!r} is not available here ({e['why']}), programs will not run"
    elif e["level"] != "full":
        line += f"; WEAKER THAN FULL: {e['why'] or 'asked for'}, see docs/SANDBOX.md"
    return line
