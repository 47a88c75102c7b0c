"""A user's mistake on any command ends as one short message naming the option or file, exit code 2, and no
traceback; --debug / OPTOTRACE_DEBUG=1 show the traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_support import assert_user_error, invoke, optimizer_script, run_cli, train_numeric


def test_an_unknown_model_spec(tmp_path: Path) -> None:
    assert_user_error(invoke("train", "numeric", "--model", "bogus:x", "--run-dir", str(tmp_path / "r")),
                      "unknown LLM spec 'bogus:x'")
    assert_user_error(invoke("optibench", "eval", "--model", "nonsense", "--run-dir", str(tmp_path / "e"),
                             "--answer-field", "a", "--data", str(_objective_file(tmp_path))), "nonsense")


def test_openai_without_a_model_or_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_user_error(invoke("train", "numeric", "--model", "openai:", "--run-dir", str(tmp_path / "r")),
                      "openai:MODEL")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert_user_error(invoke("train", "numeric", "--model", "openai:gpt-4o-mini", "--run-dir", str(tmp_path / "r")),
                      "OPENAI_API_KEY")


def test_a_run_dir_that_is_a_file_or_cannot_be_written(tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    assert_user_error(train_numeric(tmp_path, a_file), "--run-dir", "is a file")
    assert_user_error(train_numeric(tmp_path, a_file / "sub"), "--run-dir", "is a file")
    assert a_file.read_text() == "mine"
    if os.geteuid() == 0:  # root writes through permission bits: use a place the kernel refuses
        locked = Path("/proc/1")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
    assert_user_error(train_numeric(tmp_path, locked / "run"), "--run-dir", "not writable")


def test_an_empty_or_truncated_optibench_file(tmp_path: Path) -> None:
    empty = tmp_path / "OptiBench.json"
    empty.write_text("")
    line = assert_user_error(invoke("optibench", "eval", "--data", str(empty), "--model", "scripted",
                                    "--run-dir", str(tmp_path / "e1")), str(empty), "empty")
    assert "records.jsonl" not in line
    truncated = tmp_path / "cut.json"
    truncated.write_text('[{"index": 0, "question": "maximize x", "answer": 3}, {"index": 1, "quest')
    assert_user_error(invoke("optibench", "eval", "--data", str(truncated), "--model", "scripted",
                             "--run-dir", str(tmp_path / "e2")), str(truncated), "not valid JSON")
    nothing_usable = tmp_path / "junk.jsonl"
    nothing_usable.write_text('{"no": "question"}\n[1, 2]\n')
    assert_user_error(invoke("optibench", "eval", "--data", str(nothing_usable), "--model", "scripted",
                             "--run-dir", str(tmp_path / "e3")), str(nothing_usable), "no usable problem")
    assert_user_error(invoke("optibench", "train", "--data", str(empty), "--model", "scripted",
                             "--run-dir", str(tmp_path / "t1")), "empty")


def test_a_bad_line_in_a_scripted_llm_file(tmp_path: Path) -> None:
    script = tmp_path / "replies.jsonl"
    script.write_text('{"reply": "fine"}\n{"reply": \n')
    assert_user_error(invoke("train", "numeric", "--model", f"scripted:{script}", "--run-dir", str(tmp_path / "r")),
                      f"{script}:2")
    assert_user_error(invoke("train", "numeric", "--model", f"scripted:{tmp_path / 'absent.jsonl'}",
                             "--run-dir", str(tmp_path / "r")), "absent.jsonl")


def test_a_truncated_state_json(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert train_numeric(tmp_path, run).exit_code == 0
    state = run / "state.json"
    state.write_text(state.read_text()[:40])
    assert_user_error(invoke("runs", "show", str(run)), str(state), "damaged")
    assert_user_error(train_numeric(tmp_path, run, "--resume"), str(state), "damaged")
    assert train_numeric(tmp_path, run, "--overwrite").exit_code == 0  # asked for: a new run replaces it
    assert json.loads(state.read_text())["step"] >= 1


def test_resuming_a_run_of_another_example(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert train_numeric(tmp_path, run).exit_code == 0
    before = (run / "state.json").read_text()
    result = invoke("train", "code", "--model", f"scripted:{optimizer_script(tmp_path)}", "--run-dir", str(run),
                    "--resume")
    assert_user_error(result, str(run), "different workflow")
    assert (run / "state.json").read_text() == before


def test_missing_paths_are_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    assert_user_error(invoke("runs", "show", missing), missing, "no such directory")
    assert_user_error(invoke("runs", "show", str(tmp_path)), "state.json")
    assert_user_error(invoke("optibench", "report", missing), missing)
    assert_user_error(invoke("optibench", "report", str(tmp_path)), "records.jsonl")
    assert_user_error(invoke("resocratic", "export", missing), missing)
    assert_user_error(invoke("resocratic", "synth", "--out", str(tmp_path / "s"), "--model", "scripted",
                             "--eopt", missing), "--eopt", missing)
    assert_user_error(invoke("optibench", "eval", "--data", missing + ".json", "--model", "scripted",
                             "--run-dir", str(tmp_path / "e")), "missing.json")
    assert_user_error(invoke("optibench", "eval", "--params", missing, "--model", "scripted",
                             "--run-dir", str(tmp_path / "e")), "--params", missing)
    assert_user_error(invoke("train", str(tmp_path / "nope.py")), "no example")


def test_bad_option_values(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text("{not json")
    data = str(_objective_file(tmp_path))
    common = ["--model", "scripted", "--answer-field", "a", "--data", data]
    assert_user_error(invoke("optibench", "eval", *common, "--params", str(params), "--run-dir", str(tmp_path / "e")),
                      str(params))
    assert_user_error(invoke("optibench", "eval", *common, "--mode", "poetry", "--run-dir", str(tmp_path / "e")),
                      "--mode")
    assert_user_error(invoke("optibench", "eval", *common, "--executor", "mainframe",
                             "--run-dir", str(tmp_path / "e")), "mainframe")
    assert_user_error(invoke("optibench", "train", "--model", "scripted", "--batch-size", "0",
                             "--run-dir", str(tmp_path / "t")), "--batch-size")
    assert_user_error(invoke("train", "numeric", "--steps", "0", "--run-dir", str(tmp_path / "r")), "--steps")
    assert_user_error(invoke("resocratic", "synth", "--out", str(tmp_path / "s"), "--framework", "fortran"),
                      "--framework")
    assert_user_error(invoke("resocratic", "export", str(tmp_path), "--format", "xml"), "xml")
    synth = ["resocratic", "synth", "--out", str(tmp_path / "s"), "--model", "scripted"]
    assert_user_error(invoke(*synth, "--linear-ratio", "2"), "--linear-ratio")
    assert_user_error(invoke(*synth, "--seeds-per-prompt", "9"), "--seeds-per-prompt")
    assert_user_error(invoke(*synth, "--eopt", str(params)), "--eopt", "not valid JSON")
    assert not (tmp_path / "s").exists()  # refused before anything was written
    script = tmp_path / "broken_example.py"
    script.write_text("def main(:\n")
    assert_user_error(invoke("train", str(script), "--run-dir", str(tmp_path / "r")), str(script), "line 1")


def test_the_real_command_and_debug(tmp_path: Path) -> None:
    plain = run_cli("train", "numeric", "--model", "bogus:x", "--run-dir", "r", cwd=tmp_path)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr + plain.stdout
    assert plain.stderr.strip().splitlines() == [plain.stderr.strip()] and "bogus:x" in plain.stderr
    debug = run_cli("train", "numeric", "--model", "bogus:x", "--run-dir", "r", "--debug", cwd=tmp_path)
    assert debug.returncode != 0 and "LLMConfigError" in debug.stderr and len(debug.stderr.splitlines()) > 5
    env_debug = invoke("runs", "show", str(tmp_path / "missing"), env={"OPTOTRACE_DEBUG": "1"})
    assert env_debug.exit_code != 0 and not isinstance(env_debug.exception, SystemExit)
    assert type(env_debug.exception).__name__ == "UsageProblem"


def _objective_file(tmp_path: Path) -> Path:
    path = tmp_path / "objective.jsonl"
    path.write_text(json.dumps({"question": "Maximize x subject to x <= 3.", "a": 3}) + "\n")
    return path
