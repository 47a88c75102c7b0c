"""evaluate(): records as problems finish, crashes recorded, resume after SIGKILL, torn lines tolerated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bench_support import problem, program_printing

from optotrace.benchmarks.answer import AgentResult
from optotrace.benchmarks.problem import Problem
from optotrace.benchmarks.runner import EvalSettings, RunStore, evaluate

PROBLEMS = [problem({"x": float(i), "Total profit": 10.0 * i}, index=i) for i in range(6)]


def right_answer(p: Problem) -> str:
    return program_printing(p.results)


def mixed_agent(p: Problem) -> object:
    if p.index == 1:
        raise RuntimeError("boom")
    if p.index == 2:
        return "raise SystemExit(3)\n"
    if p.index == 3:
        return AgentResult(output="x: 3\nTotal profit: 31\n", code_ok=True, prompt="p", reply="r", prompt_tokens=5)
    if p.index == 4:
        return 42
    return right_answer(p)


def test_each_problem_recorded_and_crashes_are_failures(tmp_path: Path) -> None:
    summary = evaluate(mixed_agent, PROBLEMS, concurrency=3, run_dir=tmp_path, progress=False)
    by = {r.index: r for r in summary.records}
    assert summary.total == 6 and summary.correct == 2 and set(by) == set(range(6))
    assert by[0].correct and by[5].correct and by[0].grade.code_ok
    assert "boom" in by[1].errors[0] and not by[1].correct
    assert not by[2].grade.code_ok and "status 3" in (by[2].grade.failure or "")
    assert by[3].grade.keys[1].got == 31.0 and by[3].prompt_tokens == 5 and by[3].reply == "r"
    assert "not a program" in (by[4].grade.failure or "")
    lines = (tmp_path / "records.jsonl").read_text().splitlines()
    assert len(lines) == 6
    assert summary.line() == {"correct": 2, "total": 6, "accuracy": 0.3333, "run_dir": str(tmp_path)}


def test_resume_skips_finished_and_tolerates_a_torn_line(tmp_path: Path) -> None:
    calls: list[int] = []

    def agent(p: Problem) -> str:
        calls.append(p.index)
        return right_answer(p)

    evaluate(agent, PROBLEMS[:3], run_dir=tmp_path, progress=False)
    with (tmp_path / "records.jsonl").open("a") as fh:
        fh.write('{"index": 4, "grade": {"corr')  # a write cut by a kill
    calls.clear()
    summary = evaluate(agent, PROBLEMS, run_dir=tmp_path, progress=False)
    assert sorted(calls) == [3, 4, 5]
    assert summary.correct == 6
    assert all(json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines())


def test_resume_false_starts_over(tmp_path: Path) -> None:
    evaluate(right_answer, PROBLEMS[:2], run_dir=tmp_path, progress=False)
    summary = evaluate(right_answer, PROBLEMS[:1], run_dir=tmp_path, resume=False, progress=False)
    assert [r.index for r in RunStore(tmp_path).load()] == [0] and summary.total == 1


def test_exec_cache_answers_a_repeated_program(tmp_path: Path) -> None:
    settings = EvalSettings(exec_cache=str(tmp_path / "exec.sqlite"))
    first = evaluate(right_answer, PROBLEMS[:2], run_dir=tmp_path / "a", settings=settings, progress=False)
    again = evaluate(right_answer, PROBLEMS[:2], run_dir=tmp_path / "b", settings=settings, progress=False)
    assert first.correct == again.correct == 2
    assert all(r.run_s == 0.0 for r in again.records)


_KILLED_RUN = """
import sys, time
from optotrace.benchmarks.problem import OptiBenchProblem
from optotrace.benchmarks.runner import evaluate

def agent(p):
    time.sleep(0.4)
    return "".join(f"print({k!r} + ':', {v!r})\\n" for k, v in p.results.items())

problems = [OptiBenchProblem(index=i, question="q", type="linear-notable", results={"x": float(i)}) for i in range(40)]
evaluate(agent, problems, concurrency=2, run_dir=sys.argv[1], progress=False)
"""


def test_sigkill_loses_nothing_finished(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(_KILLED_RUN))
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(script), str(run_dir)], start_new_session=True)
    records = run_dir / "records.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if records.exists() and len(records.read_text().splitlines()) >= 6:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = [line for line in records.read_text().splitlines() if line.strip()]
    finished = {}
    for line in before:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # the torn last line
        finished[rec["index"]] = line
    assert len(finished) >= 6

    seen: list[int] = []

    def agent(p: Problem) -> str:
        seen.append(p.index)
        return program_printing(p.results)

    problems = [problem({"x": float(i)}, index=i) for i in range(40)]
    summary = evaluate(agent, problems, concurrency=2, run_dir=run_dir, progress=False)
    assert summary.correct == 40
    assert not set(seen) & set(finished)
    after = records.read_text().splitlines()
    for line in finished.values():
        assert line in after  # finished records kept byte for byte


def test_llm_extraction_option(tmp_path: Path) -> None:
    from optotrace.benchmarks.grading.llm_extract import LLMExtractor, boxed_value
    from optotrace.llm import ScriptedLLM

    llm = ScriptedLLM(rules=[(r"\* x:", "The value is \\boxed{2.00000}"), (r"\* Total profit:", "\\boxed{20.00000}")])
    p = problem({"x": 2.0, "Total profit": 20.0}, index=0)
    summary = evaluate(lambda _: "print('two and twenty')\n", [p], run_dir=tmp_path, progress=False,
                       extractor=LLMExtractor(llm=llm))
    assert summary.correct == 1 and {k.how for k in summary.records[0].grade.keys} == {"llm"}
    first = llm.requests[0]["messages"]
    assert "two and twenty" in first[2]["content"] and "boxed" in first[-1]["content"]
    assert boxed_value("so \\boxed{-1,234.50000}") == -1234.5 and boxed_value("none") is None
