"""Where benchmark data comes from: a local path or a URL, and the default OptiBench location."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

from optotrace.benchmarks.errors import DataSourceError

ENV_VAR = "OPTIBENCH_PATH"
_SHARED = Path("shared") / "data" / "optibench"


def shared_data_dir() -> Path | None:
    """The ../shared/data/optibench directory beside the repository (or inside it), when present."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        for candidate in (parent / _SHARED, parent.parent / _SHARED):
            if candidate.is_dir():
                return candidate
    return None


def default_source(filename: str = "OptiBench.json") -> str:
    """`OPTIBENCH_PATH` when set, else the copy in ../shared, else the pinned download from the ReSocratic
    repository in the cache (fetched once, checked by sha256). Offline, the error names the URL to download
    and where to put the file."""
    env = os.environ.get(ENV_VAR)
    if env:
        if "://" in env:
            return env
        p = Path(env)
        if p.is_dir():
            p = p / filename
        elif filename != "OptiBench.json":
            p = p.with_name(filename)
        return str(p)
    shared = shared_data_dir()
    if shared is not None and (shared / filename).is_file():
        return str(shared / filename)
    from optotrace.benchmarks.download import PINNED, cached_file

    if filename in PINNED:
        return str(cached_file(filename))
    raise DataSourceError(
        f"no OptiBench data found: set {ENV_VAR} to a path or URL of {filename}, or pass the source explicitly"
    )


def read_text(source: str | os.PathLike[str], timeout: float = 60.0) -> str:
    """The text of a local file or of an http(s)/file URL."""
    s = str(source)
    if "://" in s:
        try:
            with urllib.request.urlopen(s, timeout=timeout) as resp:  # noqa: S310 - user-given URL
                return resp.read().decode("utf-8")
        except OSError as exc:
            raise DataSourceError(f"could not fetch {s}: {exc}; check the URL or download the file") from exc
    path = Path(s).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataSourceError(f"could not read {path}: {exc}; check the path") from exc
