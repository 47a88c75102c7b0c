"""Loading OptiBench (path, URL) and objective-only benchmarks; malformed records are reported, not fatal."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench_support import shared_or_skip

from optotrace.benchmarks.errors import DataSourceError
from optotrace.benchmarks.loaders import load_objective_benchmark, load_optibench, load_reference

GOOD = {"index": 0, "question": "Max x.", "type": "linear-notable", "results": {"Total profit": "3.5"}}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_full_optibench_and_reference() -> None:
    shared = shared_or_skip()
    bench = load_optibench(shared / "OptiBench.json")
    assert len(bench) == 605 and not bench.issues
    assert {p.type for p in bench} == {"linear-notable", "linear-table", "nonlinear-notable", "nonlinear-table"}
    ref = load_reference()
    assert len(ref) == 605 and all(p.code for p in ref)
    assert [p.results for p in ref] == [p.results for p in bench]


def test_default_source_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "OptiBench.json"
    path.write_text(json.dumps([GOOD]))
    monkeypatch.setenv("OPTIBENCH_PATH", str(path))
    assert load_optibench()[0].results == {"Total profit": 3.5}


def test_from_url(tmp_path: Path, served: str) -> None:
    (tmp_path / "bench.json").write_text(json.dumps([GOOD, {**GOOD, "index": 1}]))
    assert [p.index for p in load_optibench(f"{served}/bench.json")] == [0, 1]
    with pytest.raises(DataSourceError, match="could not fetch"):
        load_optibench(f"{served}/missing.json")


def test_malformed_records_are_reported_with_index_and_field(tmp_path: Path) -> None:
    records = [
        GOOD,
        {**GOOD, "index": 1, "results": {"x": "abc"}},
        {**GOOD, "index": 2, "type": "quadratic"},
        {"index": 3, "type": "linear-table", "results": {"x": 1}},
        "not an object",
        {**GOOD, "index": 5},
    ]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(records))
    ds = load_optibench(path)
    assert [p.index for p in ds] == [0, 5]
    where = {(i.index, i.field) for i in ds.issues}
    assert {(1, "results"), (2, "type"), (3, "question")} <= where
    assert any(i.position == 4 for i in ds.issues)
    assert "index 1" in str(next(i for i in ds.issues if i.index == 1))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="could not read"):
        load_optibench(tmp_path / "nope.json")


def test_objective_only_jsonl_with_custom_fields(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": 7, "en_question": "Min cost.", "en_answer": "1,200.5"}),
        "{torn",
        json.dumps({"id": 8, "en_question": "Max profit."}),
        json.dumps({"id": 9, "en_question": "Max.", "en_answer": 3}),
    ]
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n")
    ds = load_objective_benchmark(path, question_field="en_question", answer_field="en_answer", index_field="id")
    assert [(p.index, p.results) for p in ds] == [(7, {"objective": 1200.5}), (9, {"objective": 3.0})]
    assert all(p.objective_key == "objective" for p in ds)
    assert {i.field for i in ds.issues} == {"<json>", "en_answer"}


def test_objective_only_nested_json(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"data": [{"input": {"text": "Q"}, "output": {"value": -4}}]}))
    ds = load_objective_benchmark(path, question_field="input.text", answer_field="output.value")
    assert ds[0].question == "Q" and ds[0].results == {"objective": -4.0}
