"""The run directory: records.jsonl (appended and fsynced per problem) and meta.json."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optotrace.benchmarks.errors import BenchmarkError
from optotrace.benchmarks.runner.record import ProblemRecord

log = logging.getLogger(__name__)
RECORDS = "records.jsonl"
META = "meta.json"


class RunStore:
    """Append-only JSONL of ProblemRecords. A torn last line (a killed run) is ignored and cut off."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / RECORDS
        self._lock = threading.Lock()

    def load(self) -> list[ProblemRecord]:
        """Every complete record (the last one wins for a repeated index)."""
        if not self.path.exists():
            return []
        by_index: dict[int, ProblemRecord] = {}
        with self.path.open("rb") as fh:
            data = fh.read()
        for no, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                rec = ProblemRecord.model_validate_json(raw)
            except (ValidationError, ValueError):
                log.warning("%s: line %d is incomplete or invalid; ignoring it", self.path, no)
                continue
            by_index[rec.index] = rec
        return list(by_index.values())

    def repair(self) -> None:
        """Cut a torn last line so the next append starts on a fresh line."""
        if not self.path.exists():
            return
        with self.path.open("rb+") as fh:
            data = fh.read()
            if not data or data.endswith(b"\n"):
                return
            cut = data.rfind(b"\n") + 1
            fh.truncate(cut)
            fh.flush()
            os.fsync(fh.fileno())

    def append(self, record: ProblemRecord) -> None:
        line = record.model_dump_json() + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def reset(self) -> None:
        if self.path.exists():
            self.path.unlink()

    def write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self.dir / (META + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, self.dir / META)

    def read_meta(self) -> dict[str, Any]:
        path = self.dir / META
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BenchmarkError(f"{path} is not valid JSON ({exc}); delete it or start a new run") from exc
