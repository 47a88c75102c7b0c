"""Scenario synthesis: the sampling plan and the prompt that asks for a new scenario after one or two seeds."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

from optotrace.modeling.resocratic import templates
from optotrace.modeling.resocratic.seeds import Kind, Seed, SeedPool

_KIND_RULE = {
    "linear": "The objective and every constraint must be linear in the symbols: sums of numbers times symbols.",
    "nonlinear": "The objective or at least one constraint must be nonlinear in the symbols (products of symbols, "
    "powers or ratios), as in pricing, geometry or economies of scale.",
}


@dataclass(frozen=True)
class SynthesisPlan:
    """How many scenarios to ask for and how: the share of linear ones, seeds per prompt, sampling settings."""

    n: int = 10
    linear_ratio: float = 0.5
    seeds_per_prompt: int = 2
    temperature: float = 0.7
    max_tokens: int = 1024
    seed: int = 0
    use_backgrounds: bool = True

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError(f"n must be >= 0, got {self.n}")
        if not 0.0 <= self.linear_ratio <= 1.0:
            raise ValueError(f"linear_ratio must be between 0 and 1, got {self.linear_ratio}")
        if self.seeds_per_prompt not in (1, 2, 3):
            raise ValueError(f"seeds_per_prompt must be 1, 2 or 3, got {self.seeds_per_prompt}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SynthesisTask:
    """One synthesis request: which seeds, which background, the messages and their hash."""

    id: str
    kind: Kind
    seed_ids: tuple[str, ...]
    background: str
    messages: list[dict[str, str]] = field(hash=False)
    prompt_hash: str
    temperature: float
    max_tokens: int
    sample_seed: int


def build_messages(seeds: list[Seed], kind: Kind, background: str) -> list[dict[str, str]]:
    examples = "\n\n".join(f"Example {i}:\n{s.text.strip()}" for i, s in enumerate(seeds, 1))
    count_phrase = "is an example" if len(seeds) == 1 else f"are {len(seeds)} examples"
    user = templates.render(
        "synthesize_user",
        count_phrase=count_phrase,
        examples=examples,
        kind=kind,
        background=background or "one different from the examples",
        kind_rule=_KIND_RULE[kind],
    )
    return [
        {"role": "system", "content": templates.template_text("synthesize_system")},
        {"role": "user", "content": user},
    ]


def plan_tasks(plan: SynthesisPlan, pool: SeedPool) -> list[SynthesisTask]:
    """The tasks of a plan, deterministic for a given `plan.seed` and pool."""
    rng = random.Random(plan.seed)
    n_linear = round(plan.n * plan.linear_ratio)
    kinds: list[Kind] = ["linear"] * n_linear + ["nonlinear"] * (plan.n - n_linear)
    rng.shuffle(kinds)
    topics = templates.backgrounds() if plan.use_backgrounds else []
    tasks: list[SynthesisTask] = []
    for i, kind in enumerate(kinds):
        seeds = pool.sample(kind, plan.seeds_per_prompt, rng)
        background = rng.choice(topics) if topics else ""
        messages = build_messages(seeds, kind, background)
        tasks.append(
            SynthesisTask(
                id=f"s{plan.seed}-{i:05d}",
                kind=kind,
                seed_ids=tuple(s.id for s in seeds),
                background=background,
                messages=messages,
                prompt_hash=templates.prompt_hash(messages),
                temperature=plan.temperature,
                max_tokens=plan.max_tokens,
                sample_seed=plan.seed * 1_000_003 + i,
            )
        )
    return tasks


def request_of(task: SynthesisTask) -> dict[str, Any]:
    """The keyword arguments of `llm.complete` for a task."""
    return {
        "messages": task.messages,
        "temperature": task.temperature,
        "max_tokens": task.max_tokens,
        "seed": task.sample_seed,
    }
