"""The Ray executor on a local instance gives the same records as the local executor."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_support import problem, program_printing

from optotrace.benchmarks.reference import reference_program
from optotrace.benchmarks.runner import evaluate

ray = pytest.importorskip("ray")


def _problems() -> list:
    items = []
    for i in range(6):
        results = {"x": float(i), "Total cost": 2.5 * i}
        printed = dict(results) if i % 3 else {"x": float(i) + 1, "Total cost": 2.5 * i}
        items.append(problem(results, index=i, code=program_printing(printed) if i != 4 else "import nope\n"))
    return items


def _essence(summary) -> list:  # type: ignore[no-untyped-def]
    return [(r.index, r.correct, r.grade.code_ok, [(k.key, k.got) for k in r.grade.keys], r.output) for r in summary.records]


def test_ray_equals_local(tmp_path: Path) -> None:
    problems = _problems()
    local = evaluate(reference_program, problems, concurrency=2, run_dir=tmp_path / "local", progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = evaluate(reference_program, problems, concurrency=3, run_dir=tmp_path / "ray", executor="ray", progress=False)
    finally:
        ray.shutdown()
    assert _essence(remote) == _essence(local)
    assert remote.correct == local.correct == 3
    assert (tmp_path / "ray" / "records.jsonl").read_text().count("\n") == 6
