"""Run directories on resume (issue 12, item 8): ReSocratic's stage files get the torn-line repair, and the
temporary files of interrupted atomic writes are removed (the Trainer's run dir and ReSocratic's)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS / "resocratic"), str(TESTS / "optimizers")]

import reso_world as world  # noqa: E402
from opt_helpers import load_example, numeric_policy  # noqa: E402

from optotrace.llm import ScriptedLLM  # noqa: E402
from optotrace.modeling.resocratic.pipeline import SynthConfig, run_pipeline  # noqa: E402
from optotrace.modeling.resocratic.synthesize import SynthesisPlan  # noqa: E402


class Interrupted(BaseException):
    """Stands in for a kill in the middle of the back-translation stage."""


def _config(**kw: Any) -> SynthConfig:
    plan = SynthesisPlan(n=len(world.SYNTH_REPLIES), linear_ratio=0.5, seeds_per_prompt=2, seed=7)
    return SynthConfig(plan=plan, **{"concurrency": 1, "workers": 1, "progress": False, **kw})


def test_reso_record_after_a_torn_line_is_not_lost_and_stale_temps_go(tmp_path: Path) -> None:
    out = tmp_path / "run"
    calls = {"n": 0}

    def explode_later(messages: list[dict[str, str]]) -> str:
        calls["n"] += 1
        raise Interrupted()

    with pytest.raises(Interrupted):
        run_pipeline(world.scripted(first_rules=[("self-contained word problem", explode_later)]), out, _config())
    stage = out / "stages" / "backtranslate.jsonl"
    stage.parent.mkdir(exist_ok=True)
    with stage.open("a") as fh:  # what a kill mid-write leaves: half a record, no newline
        fh.write('{"key": "half-written", "reply": "cut o')
    stale = [out / ".samples.jsonl.k2j4x9.tmp", out / "card.md.tmp", out / "stages" / ".execute.jsonl.a1b2.tmp"]
    for path in stale:
        path.write_text("partial")
    mine = out / "my-notes.tmp"
    mine.write_text("the user's own file")

    resumed = run_pipeline(world.scripted(), out, _config())
    assert resumed.resumed and resumed.counts["samples"]["kept"] == 4
    # every back-translation the resumed run paid for was recorded: a third run asks for nothing
    third = world.scripted()
    assert run_pipeline(third, out, _config()).counts == resumed.counts
    assert third.requests == []
    assert not any(p.exists() for p in stale) and mine.exists()


def test_trainer_resume_removes_stale_temps_beside_metrics(tmp_path: Path) -> None:
    ex = load_example("numeric_from_feedback")
    run = tmp_path / "run"
    trainer, _ = ex.build(ScriptedLLM(numeric_policy), run, steps=2, progress=False)
    trainer.target = None
    trainer.fit()
    stale = [run / ".metrics.jsonl.x8d7f.tmp", run / "params" / "step_00003.json.tmp",
             run / "steps" / ".step_00003.json.q1.tmp"]
    for path in stale:
        path.write_text("{")
    trainer, _ = ex.build(ScriptedLLM(numeric_policy), run, steps=2, progress=False, resume=True)
    trainer.target = None
    trainer.fit()
    assert not any(p.exists() for p in stale)
    assert (run / "metrics.jsonl").read_text().count("\n") == 2
