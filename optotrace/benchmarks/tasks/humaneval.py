"""HumanEval problems (../shared/data/humaneval) as a code task: a function's source, graded by its tests.

The tests (and every candidate solution) are untrusted programs, so they run only in optotrace's sandbox
(`optotrace.modeling.sandbox.Sandbox`), never in this process. The feedback of a failed run names the first
failing test and what its left side evaluated to, or the error the code raised.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from optotrace.benchmarks.errors import DataSourceError
from optotrace.benchmarks.tasks.base import data_dir

FILE = "HumanEval_0-99.jsonl"
MARK = "__HUMANEVAL_RESULT__ "
STUB_BODY = '    raise NotImplementedError("write the body of this function")\n'


@dataclass(frozen=True)
class CodeProblem:
    task_id: str
    prompt: str
    entry_point: str
    test: str

    @property
    def stub(self) -> str:
        """The problem's prompt (imports, signature, docstring) with a body that raises: the starting code."""
        return self.prompt.rstrip() + "\n" + STUB_BODY

    @property
    def signature(self) -> str:
        """The entry point's parameter list and return annotation, as `inspect.signature` would print it."""
        for node in ast.walk(ast.parse(self.prompt)):
            if isinstance(node, ast.FunctionDef) and node.name == self.entry_point:
                args = ast.unparse(node.args)
                ret = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
                return f"({args}){ret}"
        raise DataSourceError(f"{self.task_id}: its prompt defines no function {self.entry_point}")


@dataclass(frozen=True)
class TestReport:
    passed: bool
    feedback: str
    seconds: float = 0.0


def load_humaneval(root: str | Path | None = None, ids: range | list[int] | None = None) -> list[CodeProblem]:
    path = data_dir(root) / "humaneval" / FILE
    if not path.is_file():
        raise DataSourceError(f"HumanEval file {path} is missing; see {path.parent / 'SOURCE.md'}")
    problems = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            problems.append(CodeProblem(row["task_id"], row["prompt"], row["entry_point"], row["test"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataSourceError(f"{path}:{n} is not a HumanEval record: {exc}") from exc
    if ids is None:
        return problems
    by_number = {int(p.task_id.rsplit("/", 1)[-1]): p for p in problems}
    missing = [i for i in ids if i not in by_number]
    if missing:
        raise DataSourceError(f"HumanEval problems {missing[:5]} are not in {path}")
    return [by_number[i] for i in ids]


def test_program(problem: CodeProblem, code: str) -> str:
    """The sandboxed program that runs `code` against the problem's tests and prints a result line."""
    template = resources.files(__package__).joinpath("humaneval_check.py.txt").read_text()
    return (template.replace("__CANDIDATE__", repr(code)).replace("__TESTS__", repr(problem.test))
            .replace("__ENTRY__", repr(problem.entry_point)))


def read_report(stdout: str, stderr: str, timed_out: bool, error: str, seconds: float) -> TestReport:
    """The result line of a sandboxed run, or a report of why there is none (time limit, crash)."""
    if timed_out:
        return TestReport(False, "The code ran past the time limit (an endless loop, or far too slow).", seconds)
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARK):
            try:
                data = json.loads(line[len(MARK):])
                return TestReport(bool(data["passed"]), str(data["feedback"]), seconds)
            except (ValueError, KeyError):
                break
    why = error or stderr.strip()[-400:] or "it printed no result"
    return TestReport(False, f"The code could not be tested: {why}", seconds)


def run_tests(sandbox: Any, problem: CodeProblem, code: str, time_limit: float = 10.0) -> TestReport:
    """Run `code` against `problem`'s tests in `sandbox` (an optotrace Sandbox)."""
    result = sandbox.run(test_program(problem, code), time_limit=time_limit)
    return read_report(result.stdout, result.stderr, result.timed_out, result.error, result.wall_time)
