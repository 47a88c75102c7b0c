"""Merge the runs under a results folder into one report (a later run's row replaces an earlier one's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import report


def merge_runs(results_dir: Path) -> dict[str, Any]:
    prompt: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    code: dict[str, dict[str, dict[str, Any]]] = {}
    conditions: list[dict[str, Any]] = []
    for path in sorted(results_dir.glob("run-*/quality.json")):
        data = json.loads(path.read_text())
        conditions.append({"run": path.parent.name, **data.get("conditions", {})})
        for column, tasks in data.get("prompt", {}).items():
            for task, rows in tasks.items():
                for row in rows:
                    prompt.setdefault(column, {}).setdefault(task, {})[row["system"]] = row
        for column, rows in data.get("humaneval", {}).items():
            for row in rows:
                code.setdefault(column, {})[row["system"]] = row
    merged: dict[str, Any] = {
        "conditions": {"runs": [c["run"] for c in conditions]},
        "prompt": {c: {t: list(rows.values()) for t, rows in tasks.items()} for c, tasks in prompt.items()},
        "humaneval": {c: list(rows.values()) for c, rows in code.items()},
        "goals": {},
    }
    for column in set(merged["prompt"]) | set(merged["humaneval"]):
        rows = [r for rs in merged["prompt"].get(column, {}).values() for r in rs]
        merged["goals"][column] = report.goals(rows, merged["humaneval"].get(column, []))
    merged["runs"] = conditions
    return merged
