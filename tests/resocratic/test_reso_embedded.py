"""Real components: a tiny run with the embedded model, and the Ray executor on a local Ray instance."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import reso_world as world

from optotrace.modeling.resocratic.backtranslate import check_question
from optotrace.modeling.resocratic.card import check_counts
from optotrace.modeling.resocratic.expand import expand
from optotrace.modeling.resocratic.format import parse_scenario
from optotrace.modeling.resocratic.pipeline import SynthConfig, run_pipeline
from optotrace.modeling.resocratic.synthesize import SynthesisPlan
from optotrace.modeling.resocratic.verify import compare, solve_formal


@pytest.mark.slow
def test_reso_tiny_run_with_the_embedded_model(tmp_path: Path) -> None:
    from optotrace.llm import LLMConfigError, get_llm

    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (make install)")
    try:
        llm = get_llm("local:smollm2", cache=str(tmp_path / "cache.sqlite"))
    except LLMConfigError as exc:
        pytest.skip(f"no embedded model: {exc}")
    plan = SynthesisPlan(n=2, linear_ratio=0.5, seeds_per_prompt=1, max_tokens=160, seed=11)
    config = SynthConfig(
        plan=plan,
        concurrency=1,
        workers=1,
        codegen_max_tokens=200,
        backtranslate_max_tokens=200,
        progress=False,
        program_time_limit=20,
        solve_time_limit=20,
    )
    summary = run_pipeline(llm, tmp_path / "run", config)
    counts = summary.counts
    assert check_counts(counts) == []
    assert counts["scenarios"]["requested"] == 2
    rejections = [
        json.loads(x) for x in (tmp_path / "run" / "rejections.jsonl").read_text().splitlines() if x
    ]
    assert all(r["reason"] for r in rejections)  # zero kept is fine, as long as every rejection says why
    total = sum(sum(counts[lv]["rejected"].values()) for lv in ("scenarios", "problems", "samples"))
    assert len(rejections) == total
    for s in (json.loads(x) for x in (tmp_path / "run" / "samples.jsonl").read_text().splitlines() if x):
        scenario = parse_scenario(s["scenario"]).scenario
        assert scenario is not None
        formal = solve_formal(scenario)
        assert formal.ok and compare(s["answer"], formal.objective).agree
        assert check_question(s["question"], expand("x", scenario)[-1], s["style"]).ok
    assert (tmp_path / "run" / "card.md").is_file() and (tmp_path / "run" / "sizes.png").is_file()


@pytest.mark.slow
def test_reso_ray_executor_gives_the_same_dataset(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    plan = SynthesisPlan(n=len(world.SYNTH_REPLIES), linear_ratio=0.5, seeds_per_prompt=2, seed=7)
    config = SynthConfig(plan=plan, concurrency=4, workers=2, executor="ray", progress=False)
    summary = run_pipeline(world.scripted(), tmp_path / "ray", config)
    for level in ("scenarios", "problems", "samples"):
        assert summary.counts[level]["kept"] == world.EXPECTED[level]["kept"]
        assert summary.counts[level]["rejected"] == world.EXPECTED[level]["rejected"]
