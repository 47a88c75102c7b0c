"""One Trainer run over a text parameter (OptoPrime) and numeric parameters (a torch optimizer) at once.

The workflow labels a prediction `scale * k + offset`: `label` is text an LLM rewrites from feedback; `scale`
(a float) and `offset` (a torch tensor) are fitted by gradient (AdaHessian, through the traced operators), or, with
`--zeroth-order`, by ZO-SGD from the score alone. Each optimizer takes its own parameters; the metric's feedback
carries text for the LLM and the differentiable loss for the numeric optimizer.

    python examples/hybrid_numeric.py                   # scripted LLM: offline, deterministic, seconds
    python examples/hybrid_numeric.py --model local     # the embedded model rewrites the label
    python examples/hybrid_numeric.py --zeroth-order
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

import optotrace as ot
from optotrace.optimizers import OptoPrime, Trainer
from optotrace.optimizers.numeric import ZOSGD, AdaHessian, NumericOptimizerAdapter

TRUE_SCALE, TRUE_OFFSET = 3.0, 0.5
TRAIN = [{"input": k} for k in (1.0, 2.0, 3.0, 4.0)]
SCRIPTED_REPLY = '{"reasoning": "the label should name the quantity", "suggestion": {"label": "predicted total:"}}'


def build() -> tuple[Any, Any, Any, Any]:
    label = ot.node("value", name="label", trainable=True, description="text printed before the prediction")
    scale = ot.node(0.5, name="scale", trainable=True, description="multiplies the input")
    offset = ot.node(torch.zeros(1), name="offset", trainable=True, description="added to the product")

    @ot.bundle()
    def present(text: str, value: Any) -> tuple[str, Any]:
        """Pair the label with the number."""
        return text, value

    def agent(k: float) -> Any:
        return present(label, scale * k + offset)

    return agent, label, scale, offset


def metric(example: dict[str, Any], output: Any) -> tuple[float, Any]:
    text, value = output.data if isinstance(output, ot.Node) else output
    target = TRUE_SCALE * example["input"] + TRUE_OFFSET
    loss = ((value - target) ** 2).sum()
    words = f"'{text}' {float(value.detach().sum()):.2f}, expected {target:.2f}; the label should say what the number is"
    return -float(loss), {"text": words, "loss": loss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="scripted", help="'scripted' (offline), 'local', or an LLM spec")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--zeroth-order", action="store_true")
    args = parser.parse_args()

    agent, label, scale, offset = build()
    if args.model == "scripted":
        from optotrace.llm import ScriptedLLM

        llm: Any = ScriptedLLM(fn=lambda messages: SCRIPTED_REPLY)
    else:
        from optotrace.llm import get_llm

        llm = get_llm(args.model)
    text_opt = OptoPrime([label], llm=llm)
    if args.zeroth_order:

        def objective() -> float:  # the batch's mean squared error, run with plain values
            return sum(-metric(ex, agent(ex["input"]))[0] for ex in TRAIN) / len(TRAIN)

        numeric: Any = NumericOptimizerAdapter([scale, offset], ZOSGD, objective=objective, lr=2e-3, eps=1e-3,
                                               seed=0)
    else:
        numeric = NumericOptimizerAdapter([scale, offset], AdaHessian, lr=0.3, seed=0)

    trainer = Trainer(agent, [text_opt, numeric], TRAIN, metric=metric, minibatch_size=4, steps=args.steps,
                      progress=False)
    result = trainer.fit()
    numeric.release()  # plain values back in the nodes (the Trainer ends with zero_feedback)
    print(f"label  = {label.data!r}")
    print(f"scale  = {scale.data:.3f}  (true {TRUE_SCALE})")
    print(f"offset = {float(offset.data):.3f}  (true {TRUE_OFFSET})")
    print(f"score  = {result.initial_score} -> {result.final_score}")


if __name__ == "__main__":
    main()
