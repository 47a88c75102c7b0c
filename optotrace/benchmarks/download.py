"""OptiBench for a new user: the data files fetched from the ReSocratic repository (pinned commits, checked by
sha256) into a cache directory, used when neither OPTIBENCH_PATH nor ../shared provides them.

    cache:    OPTOTRACE_DATA_DIR/optibench, else $XDG_CACHE_HOME/optotrace/optibench (~/.cache/...)
    source:   raw.githubusercontent.com at the pinned commit; OPTOTRACE_OPTIBENCH_BASE_URL replaces it
              (a mirror serving BASE/OptiBench.json and BASE/e-opt.json)
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from optotrace.benchmarks.errors import DataSourceError

log = logging.getLogger("optotrace.benchmarks.download")

BASE_URL_ENV = "OPTOTRACE_OPTIBENCH_BASE_URL"
DATA_DIR_ENV = "OPTOTRACE_DATA_DIR"
REPOSITORY = "https://raw.githubusercontent.com/yangzhch6/ReSocratic"


@dataclass(frozen=True)
class PinnedFile:
    name: str
    commit: str  # the ReSocratic commit the file is taken from
    sha256: str
    size: int

    def url(self) -> str:
        base = os.environ.get(BASE_URL_ENV)
        if base:
            return f"{base.rstrip('/')}/{self.name}"
        return f"{REPOSITORY}/{self.commit}/data/{self.name}"


PINNED = {
    # data/OptiBench.json at the repository's HEAD of 2025-03-25: 605 items {index, question, type, results}
    "OptiBench.json": PinnedFile("OptiBench.json", "56a638f689abbfd67650121cd4fdbe044e69e86c",
                                 "0378fab2065e084563913340bc4cff6818a891dc06c5adc83452b40fbd18e85b", 610820),
    # data/e-opt.json as first uploaded (2024-06-14): the same items with the reference programs (`code`)
    "e-opt.json": PinnedFile("e-opt.json", "4578550e31ca6cd404e4f8bb2077edb50ee5a437",
                             "165f82217296bdca60dca7ef11a20b8f778caa60175b07808b6cbdfa4a4cbd29", 1988987),
}


def cache_dir() -> Path:
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser() / "optibench"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "optotrace" / "optibench"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_file(name: str, timeout: float = 60.0) -> Path:
    """The verified local copy of pinned file `name`, downloaded into the cache when it is not there yet."""
    pinned = PINNED.get(name)
    if pinned is None:
        raise DataSourceError(f"no pinned download for {name!r}; known files: {', '.join(PINNED)}")
    target = cache_dir() / name
    if target.is_file():
        found = sha256_of(target)
        if found == pinned.sha256:
            return target
        log.warning("%s has sha256 %s, expected %s: downloading it again", target, found, pinned.sha256)
    return _download(pinned, target, timeout)


def _how_to_fix(pinned: PinnedFile, target: Path) -> str:
    return (f"download {pinned.url()} and save it as {target} (sha256 {pinned.sha256}), or set OPTIBENCH_PATH "
            f"to a folder holding {pinned.name}")


def _download(pinned: PinnedFile, target: Path, timeout: float) -> Path:
    url = pinned.url()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataSourceError(f"cannot create the data cache {target.parent}: {exc}; set {DATA_DIR_ENV} to a "
                              "writable folder") from exc
    log.info("downloading %s to %s", url, target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{pinned.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310
            for block in iter(lambda: resp.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != pinned.sha256:
            raise DataSourceError(
                f"the file downloaded from {url} has sha256 {digest.hexdigest()}, not the pinned "
                f"{pinned.sha256}; it was not used. {_how_to_fix(pinned, target)}")
        os.replace(tmp, target)
        return target
    except OSError as exc:
        raise DataSourceError(f"no OptiBench data found and the download failed ({exc}): "
                              f"{_how_to_fix(pinned, target)}") from exc
    finally:
        tmp.unlink(missing_ok=True)
