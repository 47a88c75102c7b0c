"""The run directory: the configuration, one append-only JSONL record per stage (what resume reads), and the
outputs. A record is written as soon as its item finishes, so an interrupted run loses at most the items in
flight; a torn last line (a crash mid-write) is ignored and that item is simply done again."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from optotrace.modeling.resocratic.errors import ResocraticError

CONFIG = "run.json"


class RunStore:
    """Files under one run directory; safe to append from many threads."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.stages = self.root / "stages"
        self.stages.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

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
    def _stage_path(self, stage: str) -> Path:
        return self.stages / f"{stage}.jsonl"

    def records(self, stage: str) -> dict[str, dict[str, Any]]:
        """key -> record for a stage (the last record of a key wins; torn lines are skipped)."""
        path = self._stage_path(stage)
        out: dict[str, dict[str, Any]] = {}
        if not path.is_file():
            return out
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict) and "key" in row:
                    out[str(row["key"])] = row
        return out

    def append(self, stage: str, key: str, record: dict[str, Any]) -> None:
        line = json.dumps({"key": key, **record}, ensure_ascii=False, default=str)
        with self._lock, self._stage_path(stage).open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()

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
        target = self.root / name
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        return target


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
