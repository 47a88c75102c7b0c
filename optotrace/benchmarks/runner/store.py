"""The run directory: records.jsonl (appended and fsynced per problem; the runtime's JSONL store, with its
torn-line repair and last-wins load) and meta.json (written atomically)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optotrace.benchmarks.errors import BenchmarkError
from optotrace.benchmarks.runner.record import ProblemRecord
from optotrace.runtime import JsonlStore, atomic_write_text, clean_stale_temps

log = logging.getLogger(__name__)
RECORDS = "records.jsonl"
META = "meta.json"


class RunStore:
    """Append-only JSONL of ProblemRecords. A torn last line (a killed run) is ignored and cut off."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / RECORDS
        self._records = JsonlStore(self.path, key="index", repair=False)

    def load(self) -> list[ProblemRecord]:
        """Every complete record (the last one wins for a repeated index)."""
        by_index: dict[int, ProblemRecord] = {}
        for row in self._records.rows():
            try:
                rec = ProblemRecord.model_validate(row)
            except ValidationError:
                log.warning("%s: a record of index %s is invalid; ignoring it", self.path, row.get("index"))
                continue
            by_index[rec.index] = rec
        return list(by_index.values())

    def repair(self) -> None:
        """Cut a torn last line so the next append starts on a fresh line; drop stale temporary files."""
        self._records.repair()
        clean_stale_temps(self.dir, recursive=False)

    def append(self, record: ProblemRecord) -> None:
        self._records.append(record.model_dump_json())

    def reset(self) -> None:
        self._records.reset()

    def write_meta(self, meta: dict[str, Any]) -> None:
        atomic_write_text(self.dir / META, json.dumps(meta, indent=2, default=str))

    def read_meta(self) -> dict[str, Any]:
        path = self.dir / META
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BenchmarkError(f"{path} is not valid JSON ({exc}); delete it or start a new run") from exc
