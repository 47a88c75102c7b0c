"""Throughput of the embedded model: concurrent calls decoded together against the one-by-one loop.

    .venv/bin/python perf/llm_throughput.py [--model local] [--batches 1,2,4,8,16] [--tokens 64]

For each batch size B: B calls one by one, then the same B calls through complete_many(concurrency=B), both
with 64-token replies, without and with a 500-token instruction shared by every call. Prints calls/s, tokens/s
and the ratio, beside the machine's limit: a decode step reads every weight once, so steps/s cannot exceed
memory bandwidth / weight bytes (bandwidth measured here with a large numpy copy).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import numpy as np  # noqa: E402

from optotrace.llm import get_llm  # noqa: E402

SHORT = "Answer the question. Think step by step, then end with 'Answer: yes' or 'Answer: no'."
RULES = " ".join(f"Rule {i}: state each fact you use, check it against the question, and keep the tone neutral."
                 for i in range(24))
SPORTS = ["scored a goal", "threw a touchdown", "hit a home run", "made a free throw"]


def questions(n: int) -> list[str]:
    return [f"Is this plausible? 'Player {i} {SPORTS[i % 4]} in the {i % 3 + 1}st half.'" for i in range(n)]


def bandwidth_gb_s() -> float:
    a = np.ones(64 * 2**20, dtype=np.float32)  # 256 MiB
    b = np.empty_like(a)
    t0 = time.perf_counter()
    for _ in range(4):
        np.copyto(b, a)
    return 4 * 2 * a.nbytes / (time.perf_counter() - t0) / 1e9  # read + write


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def measure(llm, instruction: str, n: int, tokens: int, concurrency: int | None = None
            ) -> tuple[float, float, int, int, int]:
    reqs = [{"messages": [{"role": "system", "content": instruction}, {"role": "user", "content": q}],
             "max_tokens": tokens} for q in questions(n)]
    t0 = time.perf_counter()
    one = [llm.complete(**r) for r in reqs]
    seq_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    many = llm.complete_many(reqs, concurrency=concurrency or n)
    par_s = time.perf_counter() - t0
    same = sum(a.text == b.text for a, b in zip(one, many, strict=True))
    out = sum(r.usage.completion_tokens for r in many)
    return seq_s, par_s, same, out, one[0].usage.prompt_tokens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="local")
    ap.add_argument("--batches", default="1,2,4,8,16")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--headline-only", action="store_true", help="only the issue's case: 16 calls, concurrency 8")
    args = ap.parse_args()
    llm = get_llm(args.model, cache=False, max_batch=max(int(b) for b in args.batches.split(",")))
    llm.complete("hi", max_tokens=2)  # load the model
    weights = llm.model_path.stat().st_size
    bw = bandwidth_gb_s()
    print(f"model {llm.model_path.name}: {weights / 1e6:.0f} MB of weights; memory bandwidth ~{bw:.1f} GB/s -> at "
          f"most ~{bw * 1e9 / weights:.0f} decode steps/s, whatever the batch")
    loaded = llm._loaded().model
    print(f"KV cache: {loaded.config.kv_cells} cells shared by up to {loaded.config.max_seqs} sequences = "
          f"{loaded.kv_bytes() / 2**20:.0f} MiB; process RSS {rss_mb():.0f} MB after loading")
    cases = (("short instruction", SHORT), ("500-token shared prefix", SHORT + " " + RULES))
    for label, instruction in cases:  # the target: 16 calls, complete_many(concurrency=8)
        before = rss_mb()
        seq_s, par_s, same, out, prompt = measure(llm, instruction, 16, args.tokens, concurrency=8)
        print(f"HEADLINE {label:24s} prompt {prompt:4d} tok: 16 calls one by one {seq_s:5.1f} s, "
              f"complete_many(concurrency=8) {par_s:5.1f} s = {seq_s / par_s:4.1f}x; {same}/16 replies identical; "
              f"RSS {before:.0f} -> {rss_mb():.0f} MB", flush=True)
    if args.headline_only:
        return
    for label, instruction in cases:
        for n in (int(b) for b in args.batches.split(",")):
            seq_s, par_s, same, out, prompt = measure(llm, instruction, n, args.tokens)
            print(f"{label:24s} prompt {prompt:4d} tok  batch {n:2d}: one by one {n / seq_s:5.2f} calls/s "
                  f"{out / seq_s:6.1f} tok/s | batched {n / par_s:5.2f} calls/s {out / par_s:6.1f} tok/s | "
                  f"{seq_s / par_s:4.1f}x  ({same}/{n} replies identical)", flush=True)


if __name__ == "__main__":
    main()
