"""A small task run through `optimize()` in a subprocess that may be killed part-way, for the resume tests.

    python kill_resume_task.py STRATEGY RUN_DIR DIE_AFTER [resume]

The workflow's model and the optimizer's model are scripted and answer each request as a function of its
content only, so an uninterrupted run and a killed-then-resumed run must end alike. The process kills itself
(SIGKILL, no cleanup) at the DIE_AFTER-th metric call (0: never). It prints one JSON line: the result and how
many requests each scripted model really received in this process.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sys
import threading
from typing import Any

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import optimize

WORDS = ["ab", "cde", "fghi", "jk", "lmnop", "q", "rstuvw", "xy", "zab", "cdefg", "hi", "jklmnopq"]
_calls = 0
_lock = threading.Lock()


def digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def workflow_reply(messages: list[dict[str, Any]]) -> str:
    """Upper-cases a word when the instruction's variant allows its length, or when two demos are shown."""
    system, word = messages[0]["content"], messages[-1]["content"]
    m = re.search(r"variant (\d+)", system)
    limit = int(m.group(1)) if m else 0
    if system.count("Input:") >= 2:
        limit = max(limit, 3)
    return word.upper() if len(word) <= limit else word


def optimizer_reply(messages: list[dict[str, Any]]) -> str:
    k = digest(json.dumps(messages)) % 8
    new = f"Answer in upper case, variant {k}."
    if "variant" not in json.dumps(messages) and "instruction" in json.dumps(messages):
        return json.dumps({"reasoning": "r", "suggestion": {"instruction": new}})
    return json.dumps({"reasoning": "r", "suggestion": {"instruction": new, "x": 0.5 + k / 10}})


def main() -> None:
    strategy, run_dir, die_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
    resume = len(sys.argv) > 4 and sys.argv[4] == "resume"
    agent_llm, opt_llm = ScriptedLLM(workflow_reply), ScriptedLLM(optimizer_reply)
    instruction = ot.node("Answer.", name="instruction", trainable=True, description="the system prompt",
                          role="instruction")
    examples = ot.demos(name="examples", max_demos=2)
    x = ot.node(0.0, name="x", trainable=True, description="a number in [0, 1]")

    @ot.bundle()
    def answer(instruction: str, examples: Any, word: str) -> str:
        shown = ot.format_demos(examples)
        system = instruction + (f"\n\n{shown}" if shown else "")
        return agent_llm.complete([{"role": "system", "content": system}, {"role": "user", "content": word}]).text

    @ot.bundle()
    def numeric(x: float) -> float:
        return x

    def metric(example: dict[str, Any], output: Any) -> tuple[float, str]:
        global _calls
        with _lock:
            _calls += 1
            if _calls == die_after:
                os.kill(os.getpid(), signal.SIGKILL)
        if isinstance(output, float):
            return 1.0 - abs(output - 0.7), f"x={output}: 0.7 is best"
        ok = output == example["input"].upper()
        return float(ok), "Correct." if ok else f"expected {example['input'].upper()}, got {output}"

    data = [{"input": w} for w in WORDS]
    if strategy in ("bo", "pareto"):
        params: list[Any] = [x]
        program: Any = lambda _w: numeric(x)  # noqa: E731
        extra: dict[str, Any] = {"bounds": {"x": (0.0, 1.0)}}
        if strategy == "bo":
            extra["n_init"] = 3
        else:
            extra.update(objectives={"score": "max", "size": "min"}, measures={"size": lambda: float(x.data)},
                         pop_size=4)
    else:
        params = [instruction, examples]
        program = lambda w: answer(instruction, examples, w)  # noqa: E731
        extra = {"label": lambda e: e["input"].upper()}
        if strategy == "population":
            extra["max_iterations"] = 6
    result = optimize(program, data[:6], valset=data[6:], metric=metric, params=params, llm=opt_llm, budget=40,
                      strategy=strategy, run_dir=run_dir, resume=resume, seed=3, concurrency=2, progress=False,
                      report=False, **extra)
    print(json.dumps({"best_values": {k: v for k, v in result.best_values.items()}, "best_score": result.best_score,
                      "initial_score": result.initial_score, "calls": result.spent["calls"],
                      "stopped": result.stopped, "steps": result.steps,
                      "sent": len(agent_llm.requests) + len(opt_llm.requests)}, default=repr))


if __name__ == "__main__":
    main()
