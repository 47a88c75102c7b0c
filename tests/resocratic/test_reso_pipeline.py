"""The whole pipeline with the scripted world: every filter, the card's sums, resume, the SFT files, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import reso_world as world

from optotrace.modeling.resocratic.backtranslate import check_question
from optotrace.modeling.resocratic.card import check_counts
from optotrace.modeling.resocratic.errors import ResocraticError
from optotrace.modeling.resocratic.expand import expand
from optotrace.modeling.resocratic.format import parse_scenario
from optotrace.modeling.resocratic.pipeline import SynthConfig, run_pipeline
from optotrace.modeling.resocratic.synthesize import SynthesisPlan


def _config(**kw: Any) -> SynthConfig:
    plan = SynthesisPlan(n=len(world.SYNTH_REPLIES), linear_ratio=0.5, seeds_per_prompt=2, seed=7)
    return SynthConfig(plan=plan, **{"concurrency": 4, "workers": 2, "progress": False, **kw})


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    out = tmp_path_factory.mktemp("reso-run")
    llm = world.scripted()
    summary = run_pipeline(llm, out, _config())
    return out, summary, llm


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_reso_every_filter_and_the_counts(finished_run: tuple[Path, Any, Any]) -> None:
    out, summary, _ = finished_run
    counts = summary.counts
    for level in ("scenarios", "problems", "samples"):
        for key, value in world.EXPECTED[level].items():
            assert counts[level][key] == value, (level, key, counts[level])
    assert counts["by_type"] == world.EXPECTED["by_type"]
    assert check_counts(counts) == []
    assert not summary.resumed


def test_reso_rejections_have_reasons(finished_run: tuple[Path, Any, Any]) -> None:
    out, summary, _ = finished_run
    rejections = _rows(out / "rejections.jsonl")
    assert all(r["reason"] for r in rejections)
    c = summary.counts
    total_rejected = sum(sum(c[lv]["rejected"].values()) for lv in ("scenarios", "problems", "samples"))
    assert len(rejections) == total_rejected
    by_reason = {r["reason"]: r for r in rejections}
    assert "the server hung up" in by_reason["llm_error"]["detail"]
    assert "objective" in by_reason["formal_untranslatable"]["detail"]
    assert "Constraintt" in by_reason["program_error"]["detail"]
    assert (
        "225" in by_reason["answers_disagree"]["detail"] and "200" in by_reason["answers_disagree"]["detail"]
    )


def test_reso_kept_samples_pass_their_checks(finished_run: tuple[Path, Any, Any]) -> None:
    out, _, _ = finished_run
    samples = _rows(out / "samples.jsonl")
    assert len(samples) == 4
    for s in samples:
        assert s["formal"]["status"] == "optimal"
        assert s["answer"] == pytest.approx(s["formal"]["objective"], rel=1e-4)
        sc = parse_scenario(s["scenario"]).scenario
        assert sc is not None
        problem = expand(s["scenario_id"], sc)[-1]
        assert check_question(s["question"], problem, s["style"]).ok
        prov = s["provenance"]
        assert len(prov["seed_ids"]) == 2 and prov["model"] == "scripted"
        assert all(len(h) == 16 for h in prov["prompt_hashes"].values())
        assert s["split"] in ("train", "validation")
        assert "lighthouse" in s["question"]
    optima = sorted({s["answer"] for s in samples})
    assert optima == [world.EXPECTED_OPTIMA["lighthouse-c2"], world.EXPECTED_OPTIMA["lighthouse-c1"]]


def test_reso_card_histogram_and_sft(finished_run: tuple[Path, Any, Any]) -> None:
    out, _, _ = finished_run
    card = (out / "card.md").read_text()
    assert "All counts add up." in card and "rejected: near_duplicate | 1" in card
    assert (out / "sizes.png").read_bytes()[:4] == b"\x89PNG"
    n = 0
    for split in ("train", "validation"):
        for row in _rows(out / f"sft_chat_{split}.jsonl"):
            roles = [m["role"] for m in row["messages"]]
            assert roles == ["system", "user", "assistant"]
            assert row["messages"][2]["content"].startswith("```python\nimport pyomo")
            n += 1
    assert n == 4


def test_reso_llm_calls_are_only_what_is_needed(finished_run: tuple[Path, Any, Any]) -> None:
    _, _, llm = finished_run
    synth = [r for r in llm.requests if world.is_synthesis(r)]
    assert len(synth) == 8
    assert all(r["temperature"] == 0.7 for r in synth)
    assert len({r["seed"] for r in synth}) == 8
    code = [r for r in llm.requests if "Write a Python program" in r["messages"][-1]["content"]]
    assert len(code) == 6  # the problems whose formal model solved (8 less untranslatable, infeasible)
    words = [r for r in llm.requests if "self-contained word problem" in r["messages"][-1]["content"]]
    assert len(words) == 6  # two per verified problem


class Interrupted(BaseException):
    """Stands in for Ctrl-C or a killed process in the middle of the back-translation stage."""


def test_reso_resume_continues_an_interrupted_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    calls = {"n": 0}

    def explode(messages: list[dict[str, str]]) -> str:
        calls["n"] += 1
        raise Interrupted()

    first = world.scripted(first_rules=[("self-contained word problem", explode)])
    with pytest.raises(Interrupted):
        run_pipeline(first, out, _config())
    assert (out / "stages" / "synthesize.jsonl").is_file() and (out / "stages" / "codegen.jsonl").is_file()
    assert not (out / "samples.jsonl").exists()
    second = world.scripted()
    summary = run_pipeline(second, out, _config(concurrency=2))
    assert summary.resumed
    assert not any(world.is_synthesis(r) for r in second.requests)
    assert not any("Write a Python program" in r["messages"][-1]["content"] for r in second.requests)
    assert len(second.requests) == 6  # only the back-translations were left
    assert summary.counts["samples"]["kept"] == 4 and check_counts(summary.counts) == []
    # a torn last line (a crash mid-write) is ignored
    with (out / "stages" / "backtranslate.jsonl").open("a") as fh:
        fh.write('{"key": "half')
    third = world.scripted()
    assert run_pipeline(third, out, _config()).counts == summary.counts
    assert third.requests == []


def test_reso_resume_refuses_other_settings(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_pipeline(world.scripted(), out, _config())
    other = SynthConfig(plan=SynthesisPlan(n=3, seed=1), progress=False)
    with pytest.raises(ResocraticError, match="different plan"):
        run_pipeline(world.scripted(), out, other)


def test_reso_cli_synth_and_export(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from optotrace.cli import app
    from optotrace.cli import resocratic as _  # noqa: F401  (registers the command group)

    script = tmp_path / "script.jsonl"
    lines = [json.dumps({"reply": r}) for r in world.SYNTH_REPLIES if isinstance(r, str)]
    lines += [json.dumps({"pattern": p, "reply": r}) for p, r in world.rules() if isinstance(r, str)]
    lines.append(json.dumps({"pattern": "self-contained word problem", "reply": "Too short."}))
    script.write_text("\n".join(lines) + "\n")
    out = tmp_path / "cli-run"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "resocratic",
            "synth",
            "--model",
            f"scripted:{script}",
            "--n",
            "7",
            "--out",
            str(out),
            "--no-progress",
            "--concurrency",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "problems verified" in result.output
    counts = json.loads((out / "counts.json").read_text())
    assert check_counts(counts) == []
    assert counts["samples"]["rejected"].get("question_too_short", 0) == counts["samples"]["candidates"]
    result = runner.invoke(app, ["resocratic", "export", str(out), "--format", "completion"])
    assert result.exit_code == 0, result.output
    assert (out / "sft_completion_train.jsonl").is_file()
    result = runner.invoke(app, ["resocratic", "export", str(tmp_path / "nowhere")])
    assert result.exit_code != 0


def test_reso_retry_failed_redoes_only_the_failed_calls(tmp_path: Path) -> None:
    from optotrace.llm import ScriptedLLM

    out = tmp_path / "run"
    first = run_pipeline(world.scripted(), out, _config())
    assert first.counts["scenarios"]["rejected"]["llm_error"] == 1
    retry = ScriptedLLM(replies=[world.MALFORMED], rules=world.rules())
    second = run_pipeline(retry, out, _config(retry_failed=True))
    assert [world.is_synthesis(r) for r in retry.requests] == [True]
    assert "llm_error" not in second.counts["scenarios"]["rejected"]
    assert second.counts["scenarios"]["rejected"]["malformed"] == 2
    assert check_counts(second.counts) == []
