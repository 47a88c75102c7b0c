"""Quality-benchmark tasks: fixed splits, graders with feedback, HumanEval tests run in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optotrace.benchmarks.errors import DataSourceError
from optotrace.benchmarks.tasks import (
    BBH_TASKS,
    CodeProblem,
    data_dir,
    load_humaneval,
    load_reviews_task,
    load_task,
    run_tests,
    seeded_split,
)
from optotrace.benchmarks.tasks.bbh import grade_boolean, grade_choice, grade_number, grade_sorted_words
from optotrace.benchmarks.tasks.humaneval import read_report


def _present(sub: str) -> bool:
    try:
        return (data_dir() / sub).is_dir()
    except DataSourceError:
        return False


needs_bbh = pytest.mark.skipif(not _present("bbh"),
                               reason="../shared/data/bbh is absent (BIG-Bench Hard); see its SOURCE.md")
needs_humaneval = pytest.mark.skipif(not _present("humaneval"),
                                     reason="../shared/data/humaneval is absent (HumanEval 0-99)")


# -- splits ---------------------------------------------------------------------------------------------------


def test_seeded_split_is_fixed_disjoint_and_depends_on_the_seed() -> None:
    items = list(range(50))
    a = seeded_split(items, 10, 20, seed=0, salt="t")
    assert a == seeded_split(items, 10, 20, seed=0, salt="t")
    assert len(a[0]) == 10 and len(a[1]) == 20 and not set(a[0]) & set(a[1])
    assert seeded_split(items, 10, 20, seed=1, salt="t") != a


def test_split_larger_than_the_data_is_a_clear_error() -> None:
    with pytest.raises(DataSourceError, match="asked for, but the data has 5"):
        seeded_split(list(range(5)), 3, 3, seed=0, salt="t")
    with pytest.raises(DataSourceError, match="at least 1"):
        seeded_split(list(range(5)), 0, 3, seed=0, salt="t")


@needs_bbh
@pytest.mark.parametrize("name", sorted(BBH_TASKS))
def test_bbh_task_loads_with_a_fixed_split(name: str) -> None:
    task = load_task(name, n_train=15, n_val=30, seed=0)
    assert (len(task.train), len(task.val)) == (15, 30)
    assert task.train == load_task(name, n_train=15, n_val=30, seed=0).train
    inputs = {e["input"] for e in task.train}
    assert not inputs & {e["input"] for e in task.val}
    # every target is graded correct when it is the reply, and a reply without an answer gets told the answer
    for ex in task.train + task.val:
        assert task.score(ex, f"So the answer is {ex['target']}") == (1.0, "Correct.")
    score, feedback = task.score(task.val[0], "I do not know.")
    assert score == 0.0 and task.val[0]["target"] in feedback


def test_missing_data_folder_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="--data-dir"):
        data_dir(tmp_path / "nowhere")
    (tmp_path / "bbh").mkdir()
    with pytest.raises(DataSourceError, match="SOURCE.md"):
        load_task("object_counting", root=tmp_path)
    (tmp_path / "bbh" / "object_counting.json").write_text('{"rows": []}')
    with pytest.raises(DataSourceError, match="not a BBH file"):
        load_task("object_counting", root=tmp_path)


def test_unknown_task_lists_the_known_ones() -> None:
    with pytest.raises(DataSourceError, match="object_counting"):
        load_task("no_such_task")
    with pytest.raises(DataSourceError, match="code task"):
        load_task("humaneval")


# -- graders ------------------------------------------------------------------------------------------------


def test_number_grader_takes_the_last_number_or_number_word() -> None:
    ex = {"input": "How many?", "target": "7"}
    assert grade_number(ex, "3 apples and 4 pears: 7")[0] == 1.0
    assert grade_number(ex, "You have seven.")[0] == 1.0
    score, feedback = grade_number(ex, "I count 6 in total.")
    assert score == 0.0 and "6" in feedback and "7" in feedback
    assert "no final answer" in grade_number(ex, "many")[1]


def test_boolean_choice_and_sorting_graders() -> None:
    assert grade_boolean({"target": "False"}, "not True is false")[0] == 1.0
    assert grade_boolean({"target": "True"}, "False")[0] == 0.0
    q = {"input": "When?\nOptions:\n(A) 12/11/1937\n(B) 12/25/1937", "target": "(B)"}
    assert grade_choice(q, "The answer is (B).")[0] == 1.0
    assert grade_choice(q, "B")[0] == 1.0
    assert grade_choice(q, "It is 12/25/1937.")[0] == 1.0  # the option's text names it
    assert grade_choice(q, "(A)")[0] == 0.0
    s = {"input": "Sort the following words alphabetically: List: pear apple fig", "target": "apple fig pear"}
    assert grade_sorted_words(s, "Sorted:\napple, fig, pear")[0] == 1.0
    assert grade_sorted_words(s, "pear apple fig\napple fig pear")[0] == 1.0  # the last full line counts
    score, feedback = grade_sorted_words(s, "apple pear fig")
    assert score == 0.0 and "apple fig pear" in feedback


def test_reviews_task_uses_the_examples_split_and_label_feedback() -> None:
    task = load_reviews_task()
    assert (len(task.train), len(task.val)) == (12, 12)
    ex = task.val[0]
    assert task.score(ex, ex["target"].upper())[0] == 1.0
    assert "exactly one word" in task.score(ex, "Hmm.")[1]
    with pytest.raises(DataSourceError, match="has 96"):
        load_reviews_task(50, 50)


# -- HumanEval ------------------------------------------------------------------------------------------------


@needs_humaneval
def test_humaneval_loads_problems_with_stub_and_signature() -> None:
    problems = load_humaneval()
    assert len(problems) == 100 and problems[0].task_id == "HumanEval/0"
    p = problems[0]
    assert p.stub.startswith(p.prompt.rstrip()) and "NotImplementedError" in p.stub
    assert p.signature == "(numbers: List[float], threshold: float) -> bool"
    assert [q.task_id for q in load_humaneval(ids=[3, 1])] == ["HumanEval/3", "HumanEval/1"]
    with pytest.raises(DataSourceError, match="not in"):
        load_humaneval(ids=[500])


def test_read_report_explains_a_run_without_a_result() -> None:
    assert "time limit" in read_report("", "", True, "", 10.0).feedback
    r = read_report('noise\n__HUMANEVAL_RESULT__ {"passed": true, "feedback": "ok"}\n', "", False, "", 0.1)
    assert r.passed and r.feedback == "ok"
    assert "boom" in read_report("", "Traceback ...\nboom", False, "", 0.1).feedback


TOY = CodeProblem(
    "Toy/0",
    'def add(a: int, b: int) -> int:\n    """Sum of a and b."""\n',
    "add",
    "def check(candidate):\n    assert candidate(1, 2) == 3\n    for i in range(3):\n        assert candidate(i, i) == 2 * i\n",
)


@pytest.fixture(scope="module")
def sandbox():
    from optotrace.modeling.sandbox import Sandbox

    with Sandbox(pool_size=1, time_limit=10) as sb:
        yield sb


def test_tests_run_in_the_sandbox_and_name_the_failing_test(sandbox) -> None:
    ok = run_tests(sandbox, TOY, TOY.prompt + "    return a + b\n")
    assert ok.passed, ok.feedback
    stub = run_tests(sandbox, TOY, TOY.stub)
    assert not stub.passed and "NotImplementedError" in stub.feedback
    wrong = run_tests(sandbox, TOY, TOY.prompt + "    return a - b\n")
    assert not wrong.passed
    assert "candidate(1, 2) == 3" in wrong.feedback and "evaluated to -1" in wrong.feedback
    broken = run_tests(sandbox, TOY, "def add(a, b) return")
    assert not broken.passed and "does not run" in broken.feedback
    missing = run_tests(sandbox, TOY, "def other():\n    return 1\n")
    assert "no function named add" in missing.feedback


def test_an_endless_solution_is_stopped_by_the_time_limit(sandbox) -> None:
    report = run_tests(sandbox, TOY, TOY.prompt + "    while True:\n        pass\n", time_limit=2)
    assert not report.passed and "time limit" in report.feedback


@needs_humaneval
def test_canonical_solutions_pass_and_the_stub_fails(sandbox) -> None:
    rows = [json.loads(line) for line in (data_dir() / "humaneval" / "HumanEval_0-99.jsonl").open()][:3]
    for row, problem in zip(rows, load_humaneval(ids=range(3)), strict=True):
        assert run_tests(sandbox, problem, problem.prompt + row["canonical_solution"]).passed
        assert not run_tests(sandbox, problem, problem.stub).passed
