"""End to end with the embedded model behind llama.cpp's OpenAI-compatible server: the run completes and is
graded honestly (a tiny model's accuracy is expected to be near zero)."""

from __future__ import annotations

from pathlib import Path

import pytest

from optotrace.agents import ModelerAgent
from optotrace.benchmarks.problem import OptiBenchProblem
from optotrace.benchmarks.runner import evaluate
from optotrace.llm import get_llm

PROBLEMS = [
    OptiBenchProblem(index=0, type="linear-notable", results={"x": 4.0, "Total profit": 12.0},
                     question="Maximize profit 3x where x is at most 4 units. Each unit gives $3."),
]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["code", "spec"])
def test_embedded_model_end_to_end(llama_server: str, tmp_path: Path, mode: str) -> None:
    llm = get_llm("openai:embedded", base_url=llama_server, api_key="none", cache=str(tmp_path / "cache.sqlite"),
                  timeout=900, max_retries=1)
    agent = ModelerAgent(llm, mode=mode, max_attempts=1, max_tokens=160)  # type: ignore[arg-type]
    try:
        summary = evaluate(agent, PROBLEMS, run_dir=tmp_path / mode, progress=False)
    finally:
        agent.close()
    record = summary.records[0]
    assert summary.total == 1 and record.prompt is not None
    assert record.reply is not None, record.errors
    # Tokens are counted for every reply that validated; a reply that failed validation is an error instead.
    assert record.prompt_tokens > 0 or any("JSON" in e or "structured" in e for e in record.errors)
    assert record.attempts >= 1
    # Graded honestly: correct exactly when every gold value was found within 1e-4.
    assert record.correct == all(k.ok for k in record.grade.keys) and (not record.correct or record.grade.code_ok)
