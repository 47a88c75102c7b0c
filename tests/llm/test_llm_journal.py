"""The run's reply journal (llm/journal.py): what a run received is replayed on resume, counted by the budget
like the original calls, and the same request sent twice is two entries."""

from __future__ import annotations

import threading
from pathlib import Path

from optotrace.llm import RunBudget, ScriptedLLM
from optotrace.llm.journal import ReplyJournal


def counting_llm() -> ScriptedLLM:
    n = {"calls": 0}
    lock = threading.Lock()

    def reply(messages: list[dict[str, str]]) -> str:
        with lock:
            n["calls"] += 1
            return f"{messages[-1]['content']} #{n['calls']}"

    return ScriptedLLM(reply)


def test_a_resumed_run_gets_the_same_replies_without_sending_them(tmp_path: Path) -> None:
    path = tmp_path / "replies.sqlite"
    first = counting_llm()
    with ReplyJournal(path).active() as journal:
        a = [first.complete("hi", temperature=0.7).text for _ in range(2)] + [first.complete("yo").text]
    assert a == ["hi #1", "hi #2", "yo #3"] and journal.recorded == 3  # the same request twice: two draws

    second = counting_llm()
    budget = RunBudget(calls=10)
    with budget.active(), ReplyJournal(path).active() as journal:
        b = [second.complete("hi", temperature=0.7).text for _ in range(2)] + [second.complete("yo").text]
        c = second.complete("new").text
    assert b == a and journal.replayed == 3 and len(second.requests) == 1 and c == "new #1"
    assert budget.report()["calls"] == 4  # replayed calls count as the original ones did


def test_a_journaled_request_is_replayed_not_taken_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "replies.sqlite"
    llm = counting_llm()
    with ReplyJournal(path).active():
        assert llm.complete("q").text == "q #1"
    replay = ScriptedLLM(lambda m: "never sent", cache=tmp_path / "cache2.sqlite")
    replay.complete("q")  # the cache holds "never sent" for q
    budget = RunBudget(calls=5)
    with budget.active(), ReplyJournal(path).active():
        assert replay.complete("q").text == "q #1"
    assert budget.report()["calls"] == 1


def test_without_a_journal_nothing_is_recorded(tmp_path: Path) -> None:
    llm = counting_llm()
    assert llm.complete("a").text == "a #1"
    with ReplyJournal(tmp_path / "j.sqlite").active() as journal:
        pass
    assert journal.recorded == 0 and journal.replayed == 0
