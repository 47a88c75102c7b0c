"""A tiny ReSocratic synthesis: a few scenarios from the seed pool, verified programs, questions, an SFT file.

    .venv/bin/python examples/resocratic_tiny.py                       # the embedded model (offline)
    .venv/bin/python examples/resocratic_tiny.py --model openai:gpt-4o-mini --n 6

The embedded model is tiny, so most of its scenarios are rejected; every rejection has a recorded reason
(see card.md and rejections.jsonl in the output directory). A stronger model keeps far more.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from optotrace.modeling.resocratic.pipeline import SynthConfig, synthesize_dataset
from optotrace.modeling.resocratic.synthesize import SynthesisPlan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local", help="LLM spec (default: the embedded model)")
    parser.add_argument("--n", type=int, default=2, help="scenarios to synthesize")
    parser.add_argument("--out", default="runs/resocratic-tiny", help="run directory (reruns resume)")
    parser.add_argument("--max-tokens", type=int, default=400)
    args = parser.parse_args()

    plan = SynthesisPlan(
        n=args.n, linear_ratio=0.5, seeds_per_prompt=1, temperature=0.7, max_tokens=args.max_tokens
    )
    config = SynthConfig(
        plan=plan,
        concurrency=2,
        workers=1,
        codegen_max_tokens=args.max_tokens,
        backtranslate_max_tokens=args.max_tokens,
    )
    summary = synthesize_dataset(args.model, args.out, config)
    print(json.dumps(summary.counts, indent=2))
    print(f"card: {Path(args.out) / 'card.md'}")


if __name__ == "__main__":
    main()
