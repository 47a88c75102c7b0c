"""Run a peer's runner script (perf/quality_peers/NAME.py) in the peers' interpreter and read its JSON."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from .context import WORKFLOW_MODEL, RunContext, SystemOutcome
from .proxy import OPTIMIZER_MODEL

PEERS_DIR = Path(__file__).resolve().parents[1] / "quality_peers"


def peer_system(script: str, *args: str, timeout_s: float = 3600) -> Callable[[RunContext], SystemOutcome]:
    def run(ctx: RunContext) -> SystemOutcome:
        if not ctx.peers_python:
            return SystemOutcome(error="no peers interpreter (create .venv-peers or pass --peers-python)")
        ctx.run_dir.mkdir(parents=True, exist_ok=True)
        spec_path, out_path = ctx.run_dir / "spec.json", ctx.run_dir / "result.json"
        task = ctx.task
        spec = {
            "system": ctx.extra.get("system", script),
            "task": {**task.describe(), "train": task.train, "dev": ctx.dev, "val": task.val,
                     "objective": task.objective, "answer_format": task.answer_format},
            "base_url": ctx.proxy.base_url,
            "workflow_model": WORKFLOW_MODEL,
            "optimizer_model": OPTIMIZER_MODEL if ctx.optimizer_split else WORKFLOW_MODEL,
            "budget": ctx.budget, "out": str(out_path), "work_dir": str(ctx.run_dir),
        }
        spec_path.write_text(json.dumps(spec))
        out_path.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update({"OPENAI_API_KEY": "none", "LITELLM_LOG": "ERROR", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                    "DSPY_CACHEDIR": str(ctx.run_dir / "dspy")})
        cmd = [ctx.peers_python, str(PEERS_DIR / script), str(spec_path), *args]
        log = ctx.run_dir / "runner.log"
        try:
            with open(log, "wb") as f:
                subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout_s, env=env, check=False,
                               cwd=ctx.run_dir)  # peers write logs/ and caches in their cwd
        except subprocess.TimeoutExpired:
            return SystemOutcome(error=f"timed out after {timeout_s:.0f} s; see {log}")
        if not out_path.is_file():
            tail = log.read_text(errors="replace")[-600:]
            return SystemOutcome(error=f"the runner wrote no result; {log}: {tail}")
        data = json.loads(out_path.read_text())
        return SystemOutcome(instruction=data.get("instruction"), before=data.get("before"), after=data.get("after"),
                             steps=int(data.get("steps") or 0), error=data.get("error"), notes=data.get("notes", ""))

    return run
