"""The traced steps of the modeler (each a @bundle, so the graph shows prompts -> reply -> program -> run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from optotrace import bundle
from optotrace.agents.modeler.outcome import Outcome, program_problem
from optotrace.agents.modeler.replies import SpecAnswer, extract_program, parse_spec_answer
from optotrace.agents.modeler.report_values import report_values
from optotrace.agents.prompts import load


class Runner(Protocol):
    """What the steps need from the agent: its LLM, its sandbox and the time limit."""

    time_limit: float

    def complete(self, messages: list[dict[str, str]]) -> str: ...

    def run_source(self, source: str) -> Any: ...


@dataclass
class Ops:
    compose: Any
    ask_llm: Any
    run_program: Any
    solve_reply: Any
    add_turn: Any


def make_ops(agent: Runner) -> Ops:
    """Bundled steps bound to `agent` (its LLM and sandbox are closure variables, not graph inputs)."""

    @bundle(description="[compose] The chat messages: the system prompt, then the instructions followed by the "
            "task (question and requested labels), then the earlier attempts with what was wrong with each.")
    def compose(system_prompt: str, instructions: str, task: str, history: list) -> list:
        return [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": f"{instructions}\n\n{task}"},
            *history,
        ]

    @bundle(description="[ask_llm] The language model's reply to the messages.")
    def ask_llm(messages: list) -> str:
        return agent.complete(messages)

    @bundle(description="[run_program] Take the Python program from the reply's code block and run it in the "
            "sandbox; the outcome says whether it ran, what it printed, and what was wrong.")
    def run_program(reply: str, labels: list) -> Outcome:
        program = (extract_program(reply) or reply.strip()) + "\n"
        result = agent.run_source(program)
        problem = program_problem(result.ok, result.stdout, result.stderr, result.failure, labels)
        return Outcome(ok=problem is None, ran=result.ok, output=result.stdout, problem=problem, program=program,
                       run_s=result.wall_time)

    @bundle(description="[solve_reply] Parse the reply as a JSON {spec, report} model, solve the model with "
            "HiGHS/SCIP, and compute each requested label's value from the report.")
    def solve_reply(reply: str, labels: list) -> Outcome:
        return solve_answer(reply, labels, agent.time_limit)

    @bundle(description="[add_turn] The conversation so far, plus this attempt's reply and a user message "
            "saying what was wrong with it.")
    def add_turn(history: list, reply: str, outcome: Outcome) -> list:
        note = load("repair.txt").format(problem=outcome.problem or "unknown problem")
        return [*history, {"role": "assistant", "content": reply}, {"role": "user", "content": note}]

    return Ops(compose, ask_llm, run_program, solve_reply, add_turn)


def solve_answer(reply: str, labels: list[str], time_limit: float) -> Outcome:
    """Spec mode: no generated code runs; the ModelSpec is built and solved in-process (modeling's solver)."""
    from optotrace.modeling.spec_run import solve_spec

    try:
        answer: SpecAnswer = parse_spec_answer(reply)
    except Exception as exc:
        return Outcome(problem=f"the reply is not a valid {{spec, report}} JSON object: {exc}"[:1500])
    run = solve_spec(answer.spec, time_limit=time_limit)
    if run.solution is None:
        return Outcome(spec=answer.spec, problem=run.failure)
    solution = run.solution
    if not run.ok:
        return Outcome(spec=answer.spec, output=run.output, run_s=run.seconds, problem=run.failure)
    values, problems = report_values(answer.report, labels, solution.values, solution.objective)
    output = run.output + "\n" + "\n".join(f"{k}: {v}" for k, v in values.items())
    problem = None
    if labels and all(v is None for v in values.values()):
        problem = "no requested value could be computed: " + "; ".join(problems)
    return Outcome(ok=problem is None, ran=True, output=output, problem=problem, spec=answer.spec, values=values,
                   run_s=run.seconds)
