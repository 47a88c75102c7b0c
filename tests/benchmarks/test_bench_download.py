"""OptiBench without ../shared: the pinned files downloaded (from a local HTTP server standing in for GitHub)
into the cache and checked by sha256; a changed file refused; offline, an error naming the URL and the place."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench_support import shared_or_skip
from typer.testing import CliRunner

from optotrace.benchmarks import sources
from optotrace.benchmarks.download import PINNED, REPOSITORY, cached_file, sha256_of
from optotrace.benchmarks.errors import DataSourceError
from optotrace.benchmarks.loaders import load_optibench, load_reference


@pytest.fixture()
def fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ../shared, no OPTIBENCH_PATH, an empty cache under tmp_path."""
    monkeypatch.setattr(sources, "shared_data_dir", lambda: None)
    monkeypatch.delenv("OPTIBENCH_PATH", raising=False)
    monkeypatch.delenv("OPTOTRACE_OPTIBENCH_BASE_URL", raising=False)
    monkeypatch.setenv("OPTOTRACE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data" / "optibench"


@pytest.fixture()
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    """A local HTTP server on 127.0.0.1 serving a folder; OPTOTRACE_OPTIBENCH_BASE_URL points at it."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OPTOTRACE_OPTIBENCH_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/data")
    try:
        yield folder, requests
    finally:
        server.shutdown()
        server.server_close()


def test_pinned_hashes_are_the_shared_copies() -> None:
    shared = shared_or_skip()
    for name, pinned in PINNED.items():
        assert sha256_of(shared / name) == pinned.sha256 and (shared / name).stat().st_size == pinned.size
        assert pinned.url() == f"{REPOSITORY}/{pinned.commit}/data/{name}"


def test_download_into_the_cache_once(fresh_clone: Path, mirror: tuple[Path, list[str]]) -> None:
    shared = shared_or_skip()
    folder, requests = mirror
    (folder / "data").mkdir()
    for name in PINNED:
        shutil.copy(shared / name, folder / "data" / name)
    bench = load_optibench()
    assert len(bench) == 605 and Path(bench.source) == fresh_clone / "OptiBench.json"
    assert len(load_reference()) == 605 and (fresh_clone / "e-opt.json").exists()
    load_optibench()  # from the cache: no new request
    assert sorted(requests) == ["/data/OptiBench.json", "/data/e-opt.json"]


def test_a_changed_file_is_refused(fresh_clone: Path, mirror: tuple[Path, list[str]]) -> None:
    folder, _ = mirror
    (folder / "data").mkdir()
    (folder / "data" / "OptiBench.json").write_text(json.dumps([{"index": 0, "question": "q", "type": "linear-table",
                                                                 "results": {"x": 1}}]))
    with pytest.raises(DataSourceError, match="sha256") as info:
        load_optibench()
    assert "not the pinned" in str(info.value) and not (fresh_clone / "OptiBench.json").exists()
    assert not list(fresh_clone.glob("*.part"))  # no half-written file left in the cache


def test_offline_error_names_the_url_and_the_place(fresh_clone: Path) -> None:
    with pytest.raises(DataSourceError) as info:
        cached_file("e-opt.json", timeout=5)  # raw.githubusercontent.com is unreachable here
    text = str(info.value)
    assert PINNED["e-opt.json"].url() in text and str(fresh_clone / "e-opt.json") in text


def test_offline_cli_says_what_to_download(fresh_clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from optotrace.cli import app

    monkeypatch.setenv("OPTOTRACE_OPTIBENCH_BASE_URL", "http://127.0.0.1:9/data")  # nothing listens there
    result = CliRunner().invoke(app, ["optibench", "reference", "--limit", "1"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "http://127.0.0.1:9/data/e-opt.json" in result.output and str(fresh_clone / "e-opt.json") in result.output


def test_a_file_put_in_the_cache_by_hand_is_used(fresh_clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = shared_or_skip()
    fresh_clone.mkdir(parents=True)
    shutil.copy(shared / "OptiBench.json", fresh_clone / "OptiBench.json")
    monkeypatch.setenv("OPTOTRACE_OPTIBENCH_BASE_URL", "http://127.0.0.1:9/data")
    assert len(load_optibench()) == 605


def test_optibench_path_and_explicit_paths_still_win(fresh_clone: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "own.json"
    own.write_text(json.dumps([{"index": 7, "question": "q", "type": "linear-table", "results": {"x": 1}}]))
    monkeypatch.setenv("OPTOTRACE_OPTIBENCH_BASE_URL", "http://127.0.0.1:9/data")
    assert [p.index for p in load_optibench(own)] == [7]
    monkeypatch.setenv("OPTIBENCH_PATH", str(own))
    assert [p.index for p in load_optibench()] == [7]
    assert not fresh_clone.exists()


def test_offline_eval_says_what_to_download(fresh_clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from optotrace.cli import app

    monkeypatch.setenv("OPTOTRACE_OPTIBENCH_BASE_URL", "http://127.0.0.1:9/data")
    result = CliRunner().invoke(app, ["optibench", "eval", "--model", "scripted", "--limit", "1"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "http://127.0.0.1:9/data/OptiBench.json" in result.output
