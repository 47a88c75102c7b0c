"""ModelerAgent: question -> LLM -> program (code mode) or ModelSpec (spec mode) -> repair loop.

    agent = ModelerAgent(get_llm("openai:gpt-4o-mini"), mode="code")
    result = agent(problem)                 # AgentResult for benchmarks.evaluate
    out, result = agent.forward(problem)    # traced: out is the final Outcome node, for backward()

Trainable: `system_prompt` and `instructions` (ParameterNodes; `agent.parameters()`). The agent is an
`ot.Module`: `agent.save(path)` / `agent.load(path)` write and read the same parameter file as every module.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from optotrace import ExecutionError, Module, Node, node, stop_tracing
from optotrace.agents.modeler import tally
from optotrace.agents.modeler.ops import make_ops
from optotrace.agents.modeler.outcome import Outcome
from optotrace.agents.modeler.replies import SpecAnswer, spec_reply_text
from optotrace.agents.prompts import load
from optotrace.modeling.answer import AgentResult
from optotrace.modeling.problem import Problem

Mode = Literal["code", "spec"]


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Node) else x


class ModelerAgent(Module):
    def __init__(
        self,
        llm: Any = None,
        mode: Mode = "code",
        max_attempts: int = 3,
        time_limit: float = 60.0,
        sandbox_pool: int = 2,
        exec_cache: str | os.PathLike[str] | None = None,
        reveal_labels: bool = True,
        temperature: float = 0.0,
        max_tokens: int | None = 2048,
        llm_options: dict[str, Any] | None = None,
    ) -> None:
        if mode not in ("code", "spec"):
            raise ValueError(f"mode must be 'code' or 'spec', not {mode!r}")
        self.mode: Mode = mode
        self.max_attempts = max(1, max_attempts)
        self.time_limit = time_limit
        self.sandbox_pool = sandbox_pool
        self.exec_cache = str(exec_cache) if exec_cache else None
        self.reveal_labels = reveal_labels
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.llm_options = dict(llm_options or {})
        self._llm_spec = llm if isinstance(llm, str) or llm is None else getattr(llm, "spec", None)
        self._llm = None if isinstance(llm, str) or llm is None else llm
        self.system_prompt = node(load(f"system_{mode}.txt"), name="system_prompt", trainable=True, role="instruction",
                                  description="The system message given to the modeling LLM.")
        self.instructions = node(load(f"instructions_{mode}.txt"), name="instructions", trainable=True, role="instruction",
                                 description="How to model, solve and report; placed before each task.")
        self._setup()

    def _setup(self) -> None:
        from optotrace.modeling.sandbox import LazySandbox

        self._sandbox = LazySandbox(time_limit=self.time_limit, pool_size=self.sandbox_pool)
        self._ops = make_ops(self)

    # -- resources -------------------------------------------------------------------------------
    @property
    def llm(self) -> Any:
        if self._llm is None:
            from optotrace.llm import get_llm

            self._llm = get_llm(self._llm_spec, **self.llm_options)
        return self._llm

    def complete(self, messages: list[dict[str, str]]) -> str:
        kwargs: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.mode == "spec":
            from optotrace.llm import StructuredOutputError

            try:
                completion = self.llm.complete(messages, response_model=SpecAnswer, **kwargs)
            except StructuredOutputError as exc:
                tally.current().errors.append(f"structured output: {exc}"[:1000])
                return exc.raw or ""
            tally.record_call(completion)
            return spec_reply_text(completion)
        completion = self.llm.complete(messages, **kwargs)
        tally.record_call(completion)
        return completion.text

    def run_source(self, source: str) -> Any:
        from optotrace.modeling.sandbox import CachedSandbox, RunCache

        cache = RunCache.shared(self.exec_cache) if self.exec_cache else None
        return CachedSandbox(self._sandbox, cache).run(source, time_limit=self.time_limit)

    def close(self) -> None:
        self._sandbox.close()

    # -- the workflow ----------------------------------------------------------------------------
    def task_text(self, problem: Problem) -> str:
        labels = list(problem.results) if self.reveal_labels else []
        listed = "\n".join(f"- {label}" for label in labels) or "- (the quantities the question asks for)"
        return load("task.txt").format(question=problem.question, labels=listed)

    def forward(self, problem: Problem) -> tuple[Any, AgentResult]:
        """Run the attempts (traced when tracing is on). Returns (final Outcome node or value, AgentResult)."""
        token = tally.CURRENT.set(tally.Tally())
        try:
            return self._attempts(problem)
        finally:
            tally.CURRENT.reset(token)

    def _attempts(self, problem: Problem) -> tuple[Any, AgentResult]:
        ops = self._ops
        labels = list(problem.results)
        task = self.task_text(problem)
        history: Any = []
        errors: list[str] = []
        outcome: Any = None
        messages: Any = None
        reply: Any = None
        attempts = 0
        for attempt in range(1, self.max_attempts + 1):
            attempts = attempt
            messages = ops.compose(self.system_prompt, self.instructions, task, history)
            try:
                reply = ops.ask_llm(messages)
            except ExecutionError as exc:  # traced: the failure is an ExceptionNode in the graph
                errors.append(f"attempt {attempt}: the LLM call failed: {exc}"[:2000])
                outcome = exc.exception_node
                break
            except Exception as exc:  # untraced (stop_tracing): the original error
                errors.append(f"attempt {attempt}: the LLM call failed: {type(exc).__name__}: {exc}"[:2000])
                outcome = None
                break
            step = ops.run_program if self.mode == "code" else ops.solve_reply
            outcome = step(reply, labels)
            result: Outcome = _data(outcome)
            if result.ok:
                break
            errors.append(f"attempt {attempt}: {result.problem}"[:2000])
            if attempt < self.max_attempts:
                history = ops.add_turn(history, reply, outcome)
        return outcome, self._result(outcome, messages, reply, attempts, errors)

    def _result(self, outcome: Any, messages: Any, reply: Any, attempts: int, errors: list[str]) -> AgentResult:
        t = tally.current()
        final = _data(outcome)
        res = AgentResult(
            prompt=_data(messages), reply=_data(reply), attempts=attempts, errors=errors + t.errors,
            prompt_tokens=t.usage.prompt_tokens, completion_tokens=t.usage.completion_tokens,
            cost_usd=t.usage.cost_usd,
        )
        if not isinstance(final, Outcome):
            res.failure = errors[-1] if errors else "the agent produced no answer"
            res.code_ok = False
            return res
        res.program, res.spec, res.output = final.program, final.spec, final.output
        res.code_ok = final.ran
        if not final.ran:
            res.failure = final.problem
        if self.mode == "spec":
            res.values = final.values
        return res

    def __call__(self, problem: Problem) -> AgentResult:
        with stop_tracing():
            return self.forward(problem)[1]

    # -- parameters (save/load are Module's), pickling for Ray ------------------------------------------
    def named_parameters(self) -> dict[str, Any]:
        """The two prompts, under their own names (the walk over attributes would find the same two)."""
        return {"system_prompt": self.system_prompt, "instructions": self.instructions}

    def load(self, path: str | os.PathLike[str]) -> None:
        """Module.load; a file in the older `{mode, system_prompt, instructions}` form is read too."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and "format" not in data and {"system_prompt", "instructions"} <= set(data):
            self.load_state(data)
            return
        super().load(path)

    def state(self) -> dict[str, str]:
        return {"system_prompt": self.system_prompt.data, "instructions": self.instructions.data}

    def load_state(self, state: dict[str, str]) -> None:
        self.system_prompt.set(state["system_prompt"])
        self.instructions.set(state["instructions"])

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_llm", "_sandbox", "_ops", "system_prompt", "instructions")}
        state["params"] = self.state()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        params = state.pop("params")
        self.__dict__.update(state)
        self._llm = None
        self.system_prompt = node(params["system_prompt"], name="system_prompt", trainable=True, role="instruction",
                                  description="The system message given to the modeling LLM.")
        self.instructions = node(params["instructions"], name="instructions", trainable=True, role="instruction",
                                 description="How to model, solve and report; placed before each task.")
        self._setup()
