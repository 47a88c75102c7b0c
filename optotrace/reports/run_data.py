"""Reading a run directory as the Trainer writes it, tolerant of missing files, extra fields and unknown kinds.

What is read: config.json, state.json (history, optimizer logs with replies and rejections), summary.json,
steps/step_NNNNN.json (per-step records), params/step_NNNNN.json (values after each step; 00000 is the start),
steps/graph_NNNNN.json (one traced step's graph), best_params.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optotrace.errors import OptotraceError

__all__ = ["RunData", "ReportError", "load_run"]


class ReportError(OptotraceError):
    """The directory is not a run directory, or a report cannot be written."""


@dataclass
class StepView:
    """One step: the Trainer's record, the optimizers' log entries for it, and parameter values around it."""

    step: int
    record: dict[str, Any]
    logs: list[dict[str, Any]] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunData:
    run_dir: Path
    config: dict[str, Any]
    state: dict[str, Any]
    summary: dict[str, Any]
    steps: list[StepView]
    initial_params: dict[str, Any]
    final_params: dict[str, Any]
    graph: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)  # files that could not be read, shown in the report

    @property
    def best_step(self) -> int | None:
        value = self.summary.get("best_step", self.state.get("best_step"))
        return int(value) if isinstance(value, (int, float)) else None

    @property
    def history(self) -> list[dict[str, Any]]:
        return [s.record for s in self.steps]


def _read_json(path: Path, problems: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        problems.append(f"{path.name}: {exc}")
        return None


def param_values(saved: Any) -> dict[str, Any]:
    """{name: value} from a parameters file (`{"parameters": {name: {"type", "value"}}}`) or a plain dict."""
    if not isinstance(saved, dict):
        return {}
    params = saved.get("parameters", saved)
    if not isinstance(params, dict):
        return {}
    return {str(k): (v.get("value") if isinstance(v, dict) and "value" in v else v) for k, v in params.items()}


def _step_files(folder: Path, prefix: str) -> dict[int, Path]:
    out: dict[int, Path] = {}
    for path in folder.glob(f"{prefix}_*.json"):
        digits = path.stem[len(prefix) + 1:]
        if digits.isdigit():
            out[int(digits)] = path
    return out


def _optimizer_logs(state: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    by_step: dict[int, list[dict[str, Any]]] = {}
    for i, opt in enumerate(state.get("optimizers") or []):
        if not isinstance(opt, dict):
            continue
        for entry in opt.get("logs") or []:
            if isinstance(entry, dict) and isinstance(entry.get("step"), int):
                by_step.setdefault(entry["step"], []).append({"optimizer": opt.get("type", f"optimizer {i}"),
                                                              **entry})
    return by_step


def load_run(run_dir: str | Path) -> RunData:
    """Everything a report shows about the run in `run_dir`; ReportError when it is not a run directory."""
    root = Path(run_dir)
    if not root.is_dir():
        raise ReportError(f"{root} is not a directory; pass the --run-dir of a training run")
    problems: list[str] = []
    state = _read_json(root / "state.json", problems)
    records = {s: _read_json(p, problems) for s, p in sorted(_step_files(root / "steps", "step").items())}
    if not isinstance(state, dict) and not records:
        raise ReportError(f"{root} has no state.json and no steps/: not a training run directory (or no step "
                          "finished yet)")
    state = state if isinstance(state, dict) else {}
    history = {h["step"]: h for h in state.get("history") or [] if isinstance(h, dict) and "step" in h}
    params = {s: param_values(_read_json(p, problems)) for s, p in _step_files(root / "params", "step").items()}
    logs = _optimizer_logs(state)
    numbers = sorted(set(history) | {s for s, r in records.items() if isinstance(r, dict)})
    steps = []
    for n in numbers:
        record = {**history.get(n, {}), **(records.get(n) or {})}
        before = params.get(n - 1, {})
        after = params.get(n, {})
        steps.append(StepView(n, record, logs.get(n, []), before, after))
    graphs = _step_files(root / "steps", "graph")
    graph = _read_json(graphs[min(graphs)], problems) if graphs else None
    final = param_values(_read_json(root / "best_params.json", problems))
    summary = _read_json(root / "summary.json", problems)
    return RunData(
        run_dir=root,
        config=_dict(_read_json(root / "config.json", problems)),
        state=state,
        summary=_dict(summary),
        steps=steps,
        initial_params=params.get(0, {}),
        final_params=final or (params[max(params)] if params else {}),
        graph=graph if isinstance(graph, dict) else None,
        problems=problems,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
