"""`optibench train` pieces: OptoPrime improves the modeler's instructions from the grader's feedback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_agent_modeler import PROGRAM, TEA

from optotrace.agents import ModelerAgent
from optotrace.agents.modeler.training import split, train_modeler
from optotrace.llm import ScriptedLLM

PARTIAL = "```python\nprint('Total profit:', 655.0)\n```"


def _script(messages: list[dict[str, Any]]) -> str:
    text = "\n".join(str(m["content"]) for m in messages)
    if "#Variables" in text or "suggestion" in text:  # the optimizer's prompt
        return json.dumps({"reasoning": "The feedback says labels were missing; ask to print all of them.",
                           "suggestion": {"instructions": "PRINT ALL REQUESTED LABELS. Use Pyomo."}})
    return PROGRAM if "PRINT ALL REQUESTED LABELS" in text else PARTIAL


def test_train_improves_and_saves_best_parameters(tmp_path: Path) -> None:
    llm = ScriptedLLM(_script)
    agent = ModelerAgent(llm, mode="code", max_attempts=1)
    try:
        result, saved = train_modeler(agent, [TEA], [TEA], llm, steps=1, batch_size=1, concurrency=1,
                                      run_dir=tmp_path, progress=False)
    finally:
        agent.close()
    assert result.best_score == 1.0
    assert agent.instructions.data.startswith("PRINT ALL REQUESTED LABELS")
    assert saved is not None and json.loads(saved.read_text())["parameters"]["instructions"]["value"].startswith("PRINT ALL")


def test_split_is_seeded_and_disjoint() -> None:
    items = list(range(20))
    a, b = split(items, 5, 3, 4, seed=1), split(items, 5, 3, 4, seed=1)  # type: ignore[arg-type]
    assert (a.train, a.val, a.test) == (b.train, b.val, b.test)
    assert not set(a.train) & set(a.val) and not set(a.val) & set(a.test) and len(a.test) == 4


def test_cli_train_end_to_end(tmp_path: Path) -> None:
    from bench_support_agents import shared_or_skip
    from typer.testing import CliRunner

    import optotrace.cli.optibench  # noqa: F401  (registers the commands until the lead wires it in _register)
    from optotrace.cli import app

    shared_or_skip()
    script = tmp_path / "script.jsonl"
    rules = [
        {"pattern": "#Variables|suggestion", "reply": {"reasoning": "print every label",
                                                       "suggestion": {"instructions": "PRINT ALL REQUESTED LABELS."}}},
        {"pattern": ".", "reply": "```python\nprint('x: 1')\n```"},
    ]
    script.write_text("".join(json.dumps(r) + "\n" for r in rules))
    result = CliRunner().invoke(app, ["optibench", "train", "--model", f"scripted:{script}", "--train-size", "2",
                                      "--val-size", "1", "--test-size", "2", "--batch-size", "2", "--concurrency", "2",
                                      "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["total"] == 2 and line["correct"] == 0  # the scripted answers are wrong, and graded so
    saved = json.loads((tmp_path / "run" / "train" / "best_params.json").read_text())
    assert set(saved["parameters"]) == {"system_prompt", "instructions"}  # the Module parameter file
    assert (tmp_path / "run" / "heldout" / "report.md").exists()
