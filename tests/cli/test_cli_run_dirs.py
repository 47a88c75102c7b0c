"""A user's earlier results are never deleted unasked: a new run over an old one is refused (naming --resume and
--overwrite), --resume continues it, --overwrite replaces it."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import assert_user_error, invoke, train_numeric

from optotrace.cli.demo import fresh_run_dir


def test_train_refuses_to_start_over_an_earlier_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert train_numeric(tmp_path, run).exit_code == 0
    snapshot = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    line = assert_user_error(train_numeric(tmp_path, run), str(run), "--resume", "--overwrite")
    assert "already holds" in line
    assert {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()} == snapshot
    assert_user_error(train_numeric(tmp_path, run, "--resume", "--overwrite"), "contradict")

    resumed = train_numeric(tmp_path, run, "--resume")
    assert resumed.exit_code == 0, resumed.output
    replaced = train_numeric(tmp_path, run, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((run / "state.json").read_text())["step"] >= 1


def test_train_may_use_an_existing_directory_without_a_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    assert train_numeric(tmp_path, run).exit_code == 0
    assert (run / "notes.txt").read_text() == "mine" and (run / "state.json").exists()


def test_demo_keeps_an_earlier_demo(tmp_path: Path) -> None:
    base = tmp_path / "runs" / "demo"
    assert fresh_run_dir(str(base)) == str(base)
    base.mkdir(parents=True)
    (base / "state.json").write_text("{}")
    assert fresh_run_dir(str(base)) == f"{base}-2"
    Path(f"{base}-2").mkdir()
    (Path(f"{base}-2") / "config.json").write_text("{}")
    assert fresh_run_dir(str(base)) == f"{base}-3"
    explicit = invoke("demo", "--model", "scripted", "--run-dir", str(base))
    assert_user_error(explicit, "--overwrite")
    assert "--resume" not in explicit.stderr  # demo cannot resume: it does not suggest it


def _objective_benchmark(tmp_path: Path) -> Path:
    path = tmp_path / "objective.jsonl"
    rows = [{"question": "Maximize x subject to x <= 3.", "a": 3}, {"question": "Minimize y, y >= 2.", "a": 2}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_optibench_eval_refuses_to_reset_an_earlier_run(tmp_path: Path) -> None:
    run = tmp_path / "eval"
    args = ["optibench", "eval", "--model", "scripted", "--mode", "spec", "--attempts", "1",
            "--answer-field", "a", "--data", str(_objective_benchmark(tmp_path)), "--run-dir", str(run)]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    records = (run / "records.jsonl").read_text()
    assert len(records.splitlines()) == 2
    assert_user_error(invoke(*args, "--no-resume"), str(run), "--overwrite")
    assert (run / "records.jsonl").read_text() == records
    again = invoke(*args)  # the default resumes: nothing is redone, nothing lost
    assert again.exit_code == 0 and (run / "records.jsonl").read_text() == records
    (run / "meta.json").write_text("{damaged")
    replaced = invoke(*args, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert len((run / "records.jsonl").read_text().splitlines()) == 2


def test_optibench_train_and_reference_refuse_an_earlier_run(tmp_path: Path) -> None:
    root = tmp_path / "train-run"
    (root / "train").mkdir(parents=True)
    (root / "train" / "state.json").write_text("{}")
    assert_user_error(invoke("optibench", "train", "--model", "scripted", "--run-dir", str(root)), "--overwrite")
    assert (root / "train" / "state.json").read_text() == "{}"
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "records.jsonl").write_text('{"index": 0}\n')
    assert_user_error(invoke("optibench", "reference", "--run-dir", str(ref), "--no-resume"), "--overwrite")
    assert (ref / "records.jsonl").read_text() == '{"index": 0}\n'


def test_resocratic_overwrite_deletes_only_a_synthesis_run(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    assert_user_error(invoke("resocratic", "synth", "--out", str(mine), "--model", "scripted", "--overwrite"),
                      str(mine), "no synthesis run")
    assert (mine / "thesis.tex").read_text() == "years of work"
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert_user_error(invoke("resocratic", "synth", "--out", str(a_file), "--model", "scripted"), "--out")
