"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The text goes to a temporary file in the same directory (`.NAME.XXXX.tmp`), is fsynced, then renamed over
the target. A process killed between the two leaves only the temporary file, which `clean_stale_temps`
removes when a run resumes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["TEMP_SUFFIX", "atomic_write_bytes", "atomic_write_text", "clean_stale_temps", "is_stale_temp"]

TEMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def is_stale_temp(path: Path) -> bool:
    """A temporary file of an atomic write: `.NAME.XXXX.tmp` (ours), or `NAME.EXT.tmp` for a data file (the
    form older writers used). Other `.tmp` files are not ours to remove."""
    name = path.name
    if not name.endswith(TEMP_SUFFIX):
        return False
    if name.startswith("."):
        return True
    return Path(name[: -len(TEMP_SUFFIX)]).suffix in _DATA_SUFFIXES


_DATA_SUFFIXES = {".json", ".jsonl", ".md", ".csv", ".png", ".svg", ".txt", ".pt"}


def clean_stale_temps(directory: str | os.PathLike[str], recursive: bool = False) -> list[Path]:
    """Remove what interrupted atomic writes left in a run directory (see `is_stale_temp`), when the run
    resumes. Returns what was removed."""
    root = Path(directory)
    if not root.is_dir():
        return []
    removed: list[Path] = []
    for path in root.rglob(f"*{TEMP_SUFFIX}") if recursive else root.glob(f"*{TEMP_SUFFIX}"):
        if path.is_file() and not path.is_symlink() and is_stale_temp(path):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed
