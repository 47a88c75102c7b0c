"""Checks of the user's paths before a command writes anything: a run directory is never replaced unasked."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from optotrace.cli.errors import fail


def existing_input(path: str | Path, option: str, what: str = "file") -> Path:
    """A path the command reads: it must exist (and be a file or directory as `what` says)."""
    p = Path(path)
    if not p.exists():
        fail(f"{option} {p}: no such {what}; check the path")
    if what == "file" and p.is_dir():
        fail(f"{option} {p} is a directory; give the {what} itself")
    if what == "directory" and not p.is_dir():
        fail(f"{option} {p} is a file; give a directory")
    return p


def writable_dir(path: str | Path, option: str) -> Path:
    """A directory the command will create or write to: not a file, and writable where it exists."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        fail(f"{option} {p} is a file, not a directory; choose another {option}")
    probe = p
    while not probe.exists():
        parent = probe.parent
        if parent == probe:
            break
        probe = parent
    if probe.exists() and not probe.is_dir():
        fail(f"{option} {p}: {probe} is a file, so the directory cannot be created; choose another {option}")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        fail(f"{option} {p}: {probe} is not writable; choose a writable location or fix its permissions")
    return p


def holds_results(path: Path, markers: Iterable[str]) -> bool:
    """Whether `path` already holds any of the named files or directories of an earlier run."""
    return path.is_dir() and any((path / name).exists() for name in markers)


def guard_run_dir(path: str | Path, option: str, *, markers: Iterable[str], resume: bool, overwrite: bool,
                  resumable: bool = True) -> Path:
    """Refuse to start a new run over an earlier one unless --overwrite (or --resume, where it exists) says so."""
    p = writable_dir(path, option)
    if resume and overwrite:
        fail("--resume and --overwrite contradict each other: choose one")
    if not resume and not overwrite and holds_results(p, markers):
        continue_hint = "pass --resume to continue it, " if resumable else ""
        fail(f"{option} {p} already holds an earlier run; {continue_hint}pass --overwrite to replace it, or choose "
             f"another {option}")
    return p
