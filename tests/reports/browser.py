"""Headless Chromium from Debian's packages, for the report's browser tests: found, installed when missing and
we are root (apt-get), or the test is skipped with the reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


def chromium_or_skip() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("Chromium is not installed and this user cannot install it (needs root and apt-get): "
                    "apt-get install -y chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, timeout=900,
                       check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"Chromium is not installed and `apt-get install -y chromium` failed: {exc}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("apt-get installed chromium but no `chromium` program is on PATH")
    return found


@dataclass
class PageLoad:
    dom: str
    console: list[str]  # every console line the page produced (the report itself logs nothing)
    stderr: str


def load(chromium: str, url: str, *extra: str, timeout: float = 120) -> PageLoad:
    """Load `url` in a fresh profile; the DOM after scripts ran (--dump-dom) or what `extra` asks for."""
    with tempfile.TemporaryDirectory(prefix="ot-chromium-") as profile:
        args = [chromium, *FLAGS, f"--user-data-dir={profile}", *(extra or ("--dump-dom",)), url]
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return PageLoad(done.stdout, console, done.stderr)


def screenshot(chromium: str, url: str, path: Path, size: str = "1280,1800") -> PageLoad:
    return load(chromium, url, f"--screenshot={path}", f"--window-size={size}", "--hide-scrollbars")
