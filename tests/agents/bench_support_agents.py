"""Helpers for the agent tests (not a test module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from optotrace.benchmarks.sources import shared_data_dir


def shared_or_skip() -> Path:
    shared = shared_data_dir()
    if shared is None or not (shared / "OptiBench.json").is_file():
        pytest.skip("../shared/data/optibench is absent (OptiBench data); set it up beside the repository to run this")
    return shared
