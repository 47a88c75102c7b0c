"""The paper's protocol (all keys within 1e-4 absolute), objective-only tolerances, failures, feedback."""

from __future__ import annotations

from bench_support import problem

from optotrace.benchmarks.grading import grade


def test_all_keys_within_abs_tolerance() -> None:
    p = problem({"x": 2.0, "Total cost": 100.0})
    assert grade(p, "x: 2.00005\nTotal cost: 99.99995\n").correct
    g = grade(p, "x: 2.0002\nTotal cost: 100\n")
    assert not g.correct
    assert [k.key for k in g.keys if not k.ok] == ["x"]


def test_a_missing_key_fails_and_feedback_says_so() -> None:
    g = grade(problem({"x": 1.0, "y": 2.0}), "x: 1\n")
    assert not g.correct
    assert "no printed line matches the label 'y'" in g.feedback()


def test_failed_program_is_wrong_whatever_it_printed() -> None:
    g = grade(problem({"x": 1.0}), "x: 1\n", code_ok=False, failure="the program exited with status 1")
    assert not g.correct and not g.code_ok
    assert "status 1" in g.feedback()


def test_not_optimal_message_is_wrong() -> None:
    g = grade(problem({"x": 1.0}), "x: 1\nThe problem could not be solved to optimality.\n")
    assert not g.correct


def test_objective_only_relative_tolerances() -> None:
    p = problem({"x": 1.0, "Total profit": 1000.0})
    g = grade(p, "x: 7\nTotal profit: 1030\n")
    assert g.objective_key == "Total profit"
    assert g.objective_ok == {"rel_1e-04": False, "rel_5e-02": True}
    g = grade(p, "x: 7\nTotal profit: 1000.05\n")
    assert g.objective_ok["rel_1e-04"] and not g.correct


def test_given_values_override_extraction() -> None:
    g = grade(problem({"x": 3.0}), "", values={"x": 3.0})
    assert g.correct and g.keys[0].how == "given"
