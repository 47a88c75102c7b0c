"""The Trainer's checkpoints: parameters and optimizer states per step, resume, and the closing summary.

Written through the run files (run_files.py): `state.json` is written last at each step and is what resume
trusts; `params/step_NNNNN.json` holds the parameters after each step; optimizer states are JSON.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from optotrace.optimizers.errors import TrainerError
from optotrace.optimizers.train.run_files import RunFiles, plot_learning_curve

log = logging.getLogger("optotrace.optimizers.train.trainer")

__all__ = ["Checkpoints", "short"]


class Checkpoints:
    """Saving and loading one Trainer run's parameters and optimizer states in its run directory."""

    def __init__(self, run_dir: str | Path, named: Mapping[str, Any], optimizers: Sequence[Any]) -> None:
        self.store = RunFiles(run_dir)
        self.named = named
        self.optimizers = optimizers

    @property
    def dir(self) -> Path:
        return self.store.dir

    def save_params(self, step: int) -> None:
        if self.named:
            from optotrace.trace import save_parameters

            save_parameters(dict(self.named), self.store.params_path(step))

    def load_params(self, step: int) -> None:
        if self.named:
            from optotrace.trace import load_parameters

            load_parameters(dict(self.named), self.store.params_path(step))

    def optimizer_states(self) -> list[Any]:
        """Each optimizer's state_dict, which the contract requires to be JSON (tensors included: the numeric
        bridge encodes them); the run state is never pickled."""
        states = []
        for opt in self.optimizers:
            state = opt.state_dict()
            try:
                json.dumps(state)
            except (TypeError, ValueError) as exc:
                raise TrainerError(
                    f"{type(opt).__name__}.state_dict() is not JSON ({exc}); an optimizer's state must be plain "
                    "JSON so that a run can resume (see optotrace.optimizers.contract)") from None
            states.append(state)
        return states

    def load_optimizer_states(self, states: list[Any]) -> None:
        if len(states) != len(self.optimizers):
            raise TrainerError(
                f"the run in {self.store.dir} was saved with {len(states)} optimizers, this trainer has "
                f"{len(self.optimizers)}; resume with the same set-up or start a new run directory"
            )
        for opt, state in zip(self.optimizers, states, strict=True):
            if state is not None:
                opt.load_state_dict(state)

    def start(self, config: dict[str, Any], resume: bool) -> dict[str, Any] | None:
        """The saved state to resume from, or None after clearing the directory for a new run."""
        saved = self.store.load_state() if resume else None
        if saved is not None:
            return self._restore(saved)
        if not resume and (self.store.dir / "state.json").exists():
            log.warning("replacing the earlier run in %s (pass resume=True to continue it instead)", self.store.dir)
        self.store.clear()
        self.store.write_json("config.json", config)
        return None

    def _restore(self, saved: dict[str, Any]) -> dict[str, Any]:
        config = self.store.read_json("config.json")
        saved_names = config.get("parameters") if isinstance(config, dict) else None
        if isinstance(saved_names, list) and sorted(saved_names) != sorted(self.named):
            raise TrainerError(
                f"the run in {self.store.dir} optimized the parameters {saved_names}, this trainer has "
                f"{list(self.named)}: it is a different workflow; resume it with the same parameters, or choose "
                "another run directory"
            )
        step = saved.get("step")
        if not isinstance(step, int) or step < 0:
            raise TrainerError(f"{self.store.dir / 'state.json'} has no valid 'step'; restore it or start over")
        self.load_params(step)
        self.load_optimizer_states(saved.get("optimizers", []))
        saved["history"] = [h for h in saved.get("history", []) if h["step"] <= step]
        log.info("resuming %s after step %d", self.store.dir, step)
        return saved

    def write_initial(self, state: dict[str, Any]) -> None:
        self.save_params(0)
        state["optimizers"] = self.optimizer_states()
        self.store.write_json("state.json", state)

    def write_step(self, state: dict[str, Any], record: dict[str, Any]) -> None:
        step = state["step"]
        self.store.write_json(self.store.step_path(step).relative_to(self.store.dir), record)
        self.save_params(step)
        state["optimizers"] = self.optimizer_states()
        self.store.write_json("state.json", state)  # last: this is what resume trusts
        self.store.write_metrics(state["history"])

    def write_summary(self, state: dict[str, Any], agent: Any, final: float | None, seconds: float) -> None:
        history = state["history"]
        self.store.write_json("state.json", state)  # the spending of a step the budget cut short, for resume
        self.store.write_metrics(history)
        self._save_best(agent)
        if history:
            try:
                plot_learning_curve(history, self.store.dir / "learning_curve.png",
                                    {"val_score": state.get("initial_val_score")})
            except Exception as exc:  # a plotting problem must not lose the run
                log.warning("could not draw the learning curve: %s", exc)
        self.store.write_json("summary.json", {
            "steps": state["step"],
            "initial_val_score": state.get("initial_val_score"),
            "final_score": final,
            "best_score": state["best_score"],
            "best_step": state["best_step"],
            "seconds": round(seconds, 2),
            "stopped": state.get("stopped"),
            "spent": state.get("spent"),
            "parameters": {k: short(p.data, 2000) for k, p in self.named.items()},
        })

    def _save_best(self, agent: Any) -> None:
        path = self.store.dir / "best_params.json"
        from optotrace.trace import Module, save_parameters

        if isinstance(agent, Module):
            agent.save(path)
        elif self.named:
            save_parameters(dict(self.named), path)


def short(value: Any, limit: int = 500) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
