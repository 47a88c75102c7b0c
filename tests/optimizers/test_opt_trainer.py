from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from opt_helpers import ROOT, load_example, numeric_policy

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import OptoPrime, Trainer


def test_numeric_example_reaches_the_target(tmp_path: Path) -> None:
    ex = load_example("numeric_from_feedback")
    out = ex.main(llm=ScriptedLLM(numeric_policy), run_dir=tmp_path / "run", steps=12, progress=False)
    assert out["x"] == 8.0 and out["after"] == 1.0 and out["before"] < 0.2
    run = tmp_path / "run"
    for name in ("state.json", "metrics.jsonl", "learning_curve.png", "best_params.json", "summary.json"):
        assert (run / name).exists(), name
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == out["steps"] and metrics[-1]["train_score"] == 1.0
    assert all(m["tokens"] > 0 for m in metrics[:-1])
    assert json.loads((run / "best_params.json").read_text())["parameters"]["x"]["value"] == 8.0


def test_code_example_reaches_the_target(tmp_path: Path) -> None:
    ex = load_example("code_optimization")
    fix = "def is_leap(year: int) -> bool:\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n"
    crash = "def is_leap(year: int) -> bool:\n    return year % 0 == 0\n"

    def policy(messages: list[dict[str, Any]]) -> str:
        user = messages[-1]["content"]
        code = crash if "ZeroDivisionError" not in user else fix  # first a crashing version, then the fix
        return json.dumps({"reasoning": "r", "suggestion": {"__code_is_leap": code}})

    llm = ScriptedLLM(policy)
    out = ex.main(llm=llm, run_dir=tmp_path / "run", steps=5, progress=False)
    assert out["before"] == 0.75 and out["after"] == 1.0
    assert "year % 400" in out["code"]
    # The crash was fed back as feedback through the exception node.
    assert "ZeroDivisionError" in llm.requests[1]["messages"][-1]["content"]
    ex.is_leap.parameter.set(ex.ORIGINAL)


def test_malformed_replies_and_rejections_do_not_stop_a_run(tmp_path: Path) -> None:
    ex = load_example("numeric_from_feedback")
    replies = [
        "I cannot help with that.",  # prose: a repair round follows
        "still no JSON here",
        '{"reasoning": "x should be 3.5", "suggestion": {"x": "three"}}',  # rejected: not a number
        "```json\n{'suggestion': {'x': 4.0,},}\n```",  # Python literal with trailing commas: applied
        '{"suggestion": {"y": 9}}',  # unknown name
        RuntimeError("backend exploded"),  # an exception from the model
        '{"reasoning": "TERMINATE", "suggestion": {"x": 8}}',
    ]
    out = ex.main(llm=ScriptedLLM(replies=replies + ['{"suggestion": {"x": 8}}'] * 5), run_dir=tmp_path / "run",
                  steps=8, progress=False)
    assert out["steps"] >= 4
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    opt_state = state["optimizers"][0]
    reasons = " ".join(r["reason"] for r in opt_state["rejected"])
    assert "not a number" in reasons
    assert any(log["applied"] for log in opt_state["logs"])
    assert out["x"] == 8.0


def test_failed_agent_calls_are_backpropagated(tmp_path: Path) -> None:
    k = ot.node(0, name="k", trainable=True)

    @ot.bundle()
    def invert(v: int, k: int) -> float:
        return v / k

    def policy(messages: list[dict[str, Any]]) -> str:
        assert "ZeroDivisionError" in messages[-1]["content"]
        return '{"reasoning": "k must not be zero", "suggestion": {"k": 2}}'

    trainer = Trainer(lambda v: invert(v, k), OptoPrime([k], llm=ScriptedLLM(policy)), [4, 6],
                      metric=lambda ex, out: (1.0, "fine"), minibatch_size=2, steps=1, progress=False)
    result = trainer.fit()
    assert k.data == 2 and result.history[0]["errors"] == 2 and result.history[0]["applied"] == 1


def test_parallel_minibatch_keeps_order_and_uses_val(tmp_path: Path) -> None:
    prompt = ot.node("a", name="prefix", trainable=True)

    @ot.bundle()
    def tag(prefix: str, word: str) -> str:
        time.sleep(0.01)
        return prefix + word

    def metric(example: str, output: str) -> tuple[float, str]:
        ok = output.startswith("b")
        return float(ok), "correct" if ok else f"{output!r} should start with b"

    llm = ScriptedLLM(lambda m: '{"reasoning": "", "suggestion": {"prefix": "b"}}')
    words = [f"w{i}" for i in range(8)]
    trainer = Trainer(lambda w: tag(prompt, w), OptoPrime([prompt], llm=llm), words, words[:4], metric=metric,
                      minibatch_size=4, steps=2, concurrency=4, run_dir=tmp_path / "run", progress=False)
    result = trainer.fit()
    assert result.initial_score == 0.0 and result.best_score == 1.0 and prompt.data == "b"
    fb = llm.requests[0]["messages"][-1]["content"].split("\n#Feedback\n", 1)[1]
    order = [line.split(":")[0] for line in fb.splitlines() if line.startswith("tag")]
    assert len(order) == 4
    assert order == sorted(order, key=lambda s: int(s.split("_")[1]) if "_" in s else 1)


RESUME_SCRIPT = textwrap.dedent(
    """
    import sys, time, json
    sys.path.insert(0, {tests!r})
    from opt_helpers import load_example, numeric_policy
    from optotrace.llm import ScriptedLLM

    def slow(messages):
        time.sleep(float(sys.argv[3]))
        return numeric_policy(messages)

    ex = load_example("numeric_from_feedback")
    trainer, x = ex.build(ScriptedLLM(slow), sys.argv[1], steps=9, progress=False, resume=sys.argv[2] == "1")
    trainer.target = None
    trainer.restore_best = False
    trainer.fit()
    print(json.dumps({{"x": x.data}}))
    """
)


def _run(script: Path, run_dir: Path, resume: bool, delay: float) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(script), str(run_dir), "1" if resume else "0", str(delay)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_resume_after_sigkill_gives_identical_parameters(tmp_path: Path) -> None:
    script = tmp_path / "run_numeric.py"
    script.write_text(RESUME_SCRIPT.format(tests=str(Path(__file__).parent)))
    # Uninterrupted reference run.
    ref = _run(script, tmp_path / "ref", False, 0.0)
    ref_out, ref_err = ref.communicate(timeout=300)
    assert ref.returncode == 0, ref_err
    # A run killed with SIGKILL after a few steps, then resumed.
    victim = _run(script, tmp_path / "killed", False, 0.4)
    state_file = tmp_path / "killed" / "state.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        if state_file.exists() and json.loads(state_file.read_text()).get("step", 0) >= 3:
            break
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    killed_at = json.loads(state_file.read_text())["step"]
    assert 3 <= killed_at < 9
    resumed = _run(script, tmp_path / "killed", True, 0.0)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == json.loads(ref_out.strip().splitlines()[-1])
    ref_params = (tmp_path / "ref" / "params" / "step_00009.json").read_text()
    assert (tmp_path / "killed" / "params" / "step_00009.json").read_text() == ref_params
    ref_state = json.loads((tmp_path / "ref" / "state.json").read_text())
    new_state = json.loads(state_file.read_text())
    strip = lambda h: [{k: v for k, v in s.items() if k != "seconds"} for s in h]  # noqa: E731
    assert strip(new_state["history"]) == strip(ref_state["history"])
    assert new_state["optimizers"][0]["memory"] == ref_state["optimizers"][0]["memory"]


def test_resume_refuses_a_different_setup(tmp_path: Path) -> None:
    ex = load_example("numeric_from_feedback")
    ex.main(llm=ScriptedLLM(numeric_policy), run_dir=tmp_path / "run", steps=2, progress=False)
    y = ot.node(1.0, name="y", trainable=True)
    trainer = Trainer(lambda k: y * k, OptoPrime([y], llm=ScriptedLLM(numeric_policy)), [{"input": 1}],
                      metric=lambda e, o: (0.0, "x"), run_dir=tmp_path / "run", resume=True, progress=False)
    with pytest.raises(Exception, match="missing parameters|same parameters"):
        trainer.fit()


def test_prompt_example_improves_with_scripted_models(tmp_path: Path) -> None:
    ex = load_example("prompt_optimization")
    truth = {row["input"]: row["label"] for row in ex.ROWS}
    assert len(ex.VAL) >= 40 and len(ex.TRAIN) >= 24

    def agent_model(messages: list[dict[str, Any]]) -> str:
        if "positive or negative" not in messages[0]["content"]:
            return "This review talks about a product."
        return truth[messages[-1]["content"]]

    new = "Label the review as positive or negative. Answer with one word."
    optimizer_model = ScriptedLLM(lambda m: json.dumps({"reasoning": "", "suggestion": {"instruction": new}}))
    out = ex.main(llm=optimizer_model, agent_llm=ScriptedLLM(agent_model), run_dir=tmp_path / "run", progress=False)
    assert out["before"] == 0.0 and out["after"] == 1.0 and out["instruction"] == new
    assert out["strategy"] == "race" and "budget of 60 calls" in out["picked"]
    assert 0 < out["spent"]["calls"] <= 60
    assert (tmp_path / "run" / "summary.json").exists() and (tmp_path / "run" / "learning_curve.png").exists()
