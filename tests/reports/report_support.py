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
    rewrite the instruction, as one line on odd replies and as several lines on even ones. Each rewrite adds a
    rule the labeller follows (one word, then lowercase, then no punctuation), so replies 1, 2 and 5 score
    better on the minibatch and are kept; reply 7 (step 5's retry) adds nothing and is not kept."""
    count = {"n": 0}

    def reply(messages: Any) -> Any:
        count["n"] += 1
        n = count["n"]
        if n in (3, 4, 6):  # step 3: both attempts refused; step 5: the first refused, its retry scored
            return {"reasoning": f"step {n}: shorter is better", "suggestion": {"instruction": "Be brief."}}
        rules = ["lowercase"] * (n >= 2) + ["no punctuation"] * (n >= 5)
        if n % 2:
            text = f"Label the review as positive or negative, answer in one word{''.join(', ' + r for r in rules)}" \
                   f" (version {n})."
        else:
            text = "Label the review.\nAnswer with one word: positive or negative.\n" + "".join(
                f"Write it in {r}.\n" for r in rules) + f"Version {n}."
        return {"reasoning": f"step {n}: the answers must be one label word", "suggestion": {"instruction": text}}

    return reply


def mentions_review(value: str) -> bool | str:
    return "review" in value or "the instruction must mention the review"


def make_run(run_dir: Path, steps: int = 4, optimizer_options: dict[str, Any] | None = None,
             **trainer_options: Any) -> Any:
    instruction = ot.node("Read the review.", name="instruction", trainable=True, role="instruction",
                          description="the labeller's instruction", constraint=mentions_review)

    @ot.bundle()
    def label(instruction: str, review: str) -> str:
        """Label the review following the instruction."""
        if "one word" not in instruction:
            return "I think it is fine"
        word = "positive" if "great" in review else "negative"
        word = word if "lowercase" in instruction else word.capitalize()
        return word if "no punctuation" in instruction else word + "."

    def agent(text: str) -> Any:
        return label(instruction, ot.node(text, name="review"))

    def metric(example: dict[str, Any], output: str) -> tuple[float, str]:
        if output == example["label"]:
            return 1.0, "Correct."
        if output.rstrip(".").lower() != example["label"]:
            return 0.0, f"Wrong: answered {output!r}, expected {example['label']}."
        faults = ["write it in lowercase"] * (output.rstrip(".") != output.rstrip(".").lower()) + [
            "drop the punctuation"] * output.endswith(".")
        return 1.0 - 0.25 * len(faults), f"Right label, but {' and '.join(faults)}: answer exactly {example['label']}."

    opt = OptoPrime([instruction], llm=ScriptedLLM(optimizer_script()), memory_size=2, **(optimizer_options or {}))
    trainer = Trainer(agent, opt, DATA[:4], DATA[4:], metric=metric, minibatch_size=2, steps=steps, run_dir=run_dir,
                      progress=False, **trainer_options)
    return trainer.fit()
