"""The run directory: the configuration, one append-only JSONL record per stage (what resume reads), and the
outputs. A record is written (and fsynced) as soon as its item finishes, so an interrupted run loses at most
the items in flight. The stage files are the runtime's JSONL store: a torn last line (a crash mid-write) is
cut when the run resumes, so the next record starts on a fresh line, and that item is simply done again.
Temporary files of interrupted atomic writes are removed on resume."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from optotrace.modeling.resocratic.errors import ResocraticError
from optotrace.runtime import JsonlStore, atomic_write_text, clean_stale_temps

log = logging.getLogger(__name__)

CONFIG = "run.json"


class RunStore:
    """Files under one run directory; safe to append from many threads."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.stages = self.root / "stages"
        self.stages.mkdir(parents=True, exist_ok=True)
        for path in clean_stale_temps(self.root) + clean_stale_temps(self.stages):
            log.info("removed %s, left by an interrupted write", path)
        self._lock = threading.Lock()
        self._stores: dict[str, JsonlStore] = {}

    # -- configuration ---------------------------------------------------------------------------------
    def read_config(self) -> dict[str, Any] | None:
        path = self.root / CONFIG
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ResocraticError(f"{path} is not valid JSON ({exc}); remove it or use a new --out") from exc

    def bind_config(self, config: dict[str, Any], keys: Iterable[str]) -> bool:
        """Write the configuration, or check it against the one already there (resume). True when resuming.

        Only `keys` must match: they decide what the stage records mean (model, plan, seeds, prompts)."""
        old = self.read_config()
        if old is None:
            self.write_json(CONFIG, config)
            return False
        diff = [k for k in keys if old.get(k) != config.get(k)]
        if diff:
            raise ResocraticError(
                f"{self.root} holds a run with a different {', '.join(diff)}; resume it with the same settings, "
                "or pass a new --out directory (or --overwrite to start again)"
            )
        return True

    # -- stage records ---------------------------------------------------------------------------------
    def _stage(self, stage: str) -> JsonlStore:
        with self._lock:
            if stage not in self._stores:
                self._stores[stage] = JsonlStore(self.stages / f"{stage}.jsonl", key=lambda row: str(row["key"]))
            return self._stores[stage]

    def records(self, stage: str) -> dict[str, dict[str, Any]]:
        """key -> record for a stage (the last record of a key wins; torn lines are skipped)."""
        return self._stage(stage).load()

    def append(self, stage: str, key: str, record: dict[str, Any]) -> None:
        self._stage(stage).append({"key": key, **record})

    # -- outputs ----------------------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.root / name

    def write_json(self, name: str, data: Any) -> Path:
        return self.write_text(name, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")

    def write_jsonl(self, name: str, rows: Iterable[dict[str, Any]]) -> Path:
        text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
        return self.write_text(name, text)

    def write_text(self, name: str, text: str) -> Path:
        """Atomic: a reader sees the old file or the new one, never half of one."""
        return atomic_write_text(self.root / name, text)


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ResocraticError(f"{path}, line {n}: not JSON ({exc})") from exc
    return rows
