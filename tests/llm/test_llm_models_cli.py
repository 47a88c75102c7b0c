"""`optotrace models list|install`, and a run that pairs a workflow model with a separate optimizer model."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from optotrace.cli import app
from optotrace.cli.train import run_example

EXAMPLE = """
def main(model=None, steps=None, run_dir=None, llm=None, agent_llm=None, progress=True, resume=False):
    from optotrace.llm import get_llm
    llm = llm if llm is not None else get_llm(model)
    workflow = agent_llm if agent_llm is not None else llm
    return {"optimizer": llm.spec, "workflow": workflow.spec, "run_dir": run_dir}
"""


def test_list_names_every_model_and_install_refuses_an_unknown_one() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    for name in ("local:qwen0.5b (default: `local`)", "local:qwen1.5b", "local:smollm2"):
        assert name in listed.output
    bad = runner.invoke(app, ["models", "install", "qwen9b"])
    assert (
        bad.exit_code == 2 and "unknown model qwen9b; choose from qwen0.5b, qwen1.5b, smollm2" in bad.output
    )


def test_the_optimizer_gets_its_own_model(tmp_path: Path) -> None:
    script = tmp_path / "pair.py"
    script.write_text(EXAMPLE)
    for name in ("workflow", "optimizer"):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps({"pattern": ".*", "reply": "ok"}) + "\n")
    out = run_example(
        str(script),
        f"scripted:{tmp_path / 'workflow.jsonl'}",
        None,
        str(tmp_path / "run"),
        optimizer_model=f"scripted:{tmp_path / 'optimizer.jsonl'}",
    )
    assert "workflow.jsonl" in out["workflow"] and "optimizer.jsonl" in out["optimizer"]
