"""Helpers shared by the benchmark tests (not a test module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from optotrace.benchmarks.problem import OptiBenchProblem, Problem
from optotrace.benchmarks.sources import shared_data_dir

DATA = Path(__file__).parent / "data"


def output(name: str) -> str:
    return (DATA / f"output_{name}.txt").read_text(encoding="utf-8")


def shared_or_skip() -> Path:
    shared = shared_data_dir()
    if shared is None or not (shared / "e-opt.json").is_file():
        pytest.skip("../shared/data/optibench is absent (OptiBench data); set it up beside the repository to run this")
    return shared


def problem(results: dict[str, float], index: int = 0, type_: str = "linear-notable", code: str | None = None) -> Problem:
    return OptiBenchProblem(index=index, question="q", type=type_, results=results, code=code)


def program_printing(lines: dict[str, float]) -> str:
    return "".join(f"print({label!r} + ':', {value!r})\n" for label, value in lines.items())
