"""A real training run for the report tests: the Trainer and OptoPrime over a ScriptedLLM, written to disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optotrace as ot
from optotrace.llm.backends.scripted import ScriptedLLM
from optotrace.optimizers import OptoPrime, Trainer

DATA = [{"input": f"review {i}: {'great' if i % 2 else 'awful'}", "label": "positive" if i % 2 else "negative"}
        for i in range(8)]


def optimizer_script() -> Any:
    """Replies 3, 4 and 6 suggest an instruction that breaks the parameter's constraint (rejected); the others
    rewrite the instruction, as one line on odd replies and as several lines on even ones."""
    count = {"n": 0}

    def reply(messages: Any) -> Any:
        count["n"] += 1
        n = count["n"]
        if n in (3, 4, 6):  # step 3: both attempts refused; step 5: the first refused, its retry applied
            return {"reasoning": f"step {n}: shorter is better", "suggestion": {"instruction": "Be brief."}}
        if n % 2:
            text = f"Label the review as positive or negative, answer in one word (version {n})."
        else:
            text = f"Label the review.\nAnswer with one word: positive or negative.\nVersion {n}."
        return {"reasoning": f"step {n}: the answers must be one label word", "suggestion": {"instruction": text}}

    return reply


def mentions_review(value: str) -> bool | str:
    return "review" in value or "the instruction must mention the review"


def make_run(run_dir: Path, steps: int = 4, optimizer_options: dict[str, Any] | None = None,
             **trainer_options: Any) -> Any:
    instruction = ot.node("Read the review.", name="instruction", trainable=True,
                          description="the labeller's instruction", constraint=mentions_review)

    @ot.bundle()
    def label(instruction: str, review: str) -> str:
        """Label the review following the instruction."""
        if "one word" not in instruction:
            return "I think it is fine"
        return "positive" if "great" in review else "negative"

    def agent(text: str) -> Any:
        return label(instruction, ot.node(text, name="review"))

    def metric(example: dict[str, Any], output: str) -> tuple[float, str]:
        if output == example["label"]:
            return 1.0, "Correct."
        return 0.0, f"Wrong: answered {output!r}, expected {example['label']}."

    opt = OptoPrime([instruction], llm=ScriptedLLM(optimizer_script()), memory_size=2, **(optimizer_options or {}))
    trainer = Trainer(agent, opt, DATA[:4], DATA[4:], metric=metric, batch_size=2, steps=steps, run_dir=run_dir,
                      progress=False, **trainer_options)
    return trainer.fit()
