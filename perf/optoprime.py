"""OptoPrime measurements, side by side with Microsoft's Trace (`trace-opt`) when .venv-peers has it.

    .venv/bin/python perf/optoprime.py                  # everything
    .venv/bin/python perf/optoprime.py --skip-model     # prompt size/time and the parser only
    .venv/bin/python perf/optoprime.py --steps 10 --model local

1. Prompt construction time and size (characters and tokens, one tokenizer for both) for a chain of 10, 100
   and 1,000 operations, and for 1,000 trainable parameters.
2. Parse success: the share of the parser corpus (tests/optimizers/data/parse_corpus.json) from which the
   right update is recovered (parse, then cast to the parameter's type as each library does).
3. With the embedded model (default `local`): the share of optimizer steps that apply an update on three
   small tasks (numeric, prompt, code), up to 10 steps each. An applied update is a suggestion that passed
   validation and changed the value. Each task runs as its example does: a run whose example has a target
   (numeric: every output right; code: every test passes) stops once the target is met, because after that
   no change is the right answer and a step there measures nothing. Only steps the optimizer took count;
   the output says for each task how many ran and whether it stopped at the target. The prompt task has a
   validation set and no target, so all its steps run.

Trace runs in its own interpreter (.venv-peers/bin/python) through a subprocess. Timings are ratios measured in
the same run on the same machine; the machine's load is printed with them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "optimizers" / "data" / "parse_corpus.json"
PEERS = ROOT / ".venv-peers" / "bin" / "python"
SIZES = (10, 100, 1000)
LIKE: dict[str, Any] = {"int": 0, "float": 0.0, "str": "", "bool": False, "list": [], "dict": {}}


# ------------------------------------------------------------------------------------------------------------
# optotrace side
# ------------------------------------------------------------------------------------------------------------


def _chain(n: int) -> tuple[list[Any], Any]:
    import optotrace as ot

    x = ot.node(1.0, name="x", trainable=True)
    y = x
    for i in range(n):
        y = y + ot.node(float(i), name=f"c{i}")
    return [x], y


def _many(n: int) -> tuple[list[Any], Any]:
    import optotrace as ot

    ps = [ot.node(float(i), name=f"p{i}", trainable=True) for i in range(n)]
    y = ps[0]
    for p in ps[1:]:
        y = y + p
    return ps, y


def ours_prompts(repeats: int = 3) -> dict[str, dict[str, Any]]:
    from optotrace.llm import ScriptedLLM
    from optotrace.optimizers import OptoPrime

    llm = ScriptedLLM(["{}"])
    out: dict[str, dict[str, Any]] = {}
    cases = [(f"chain-{n}", _chain, n) for n in SIZES] + [("params-1000", _many, 1000)]
    for label, make, n in cases:
        params, y = make(n)
        opt = OptoPrime(params, llm=llm)
        y.backward("The output is far too large; make it smaller.")
        times = []
        built = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            built = opt.build_prompt()
            times.append(time.perf_counter() - t0)
        assert built is not None
        text = built.system + "\n" + built.user
        out[label] = {"seconds": statistics.median(times), "text": text,
                      "variables_shown": len(built.variables), "omitted": built.omitted}
    return out


def ours_parse(corpus: list[dict[str, Any]]) -> list[bool]:
    from optotrace.optimizers import SuggestionRejected, parse_suggestion
    from optotrace.optimizers.proposal.validate import cast_like, check_code

    results = []
    for e in corpus:
        got = parse_suggestion(e["reply"], e["names"])
        update: dict[str, Any] | None = None
        if got is not None:
            update = {}
            for name, value in got.items():
                try:
                    kind = e["types"][name]
                    update[name] = check_code(value).rstrip("\n") if kind == "code" else cast_like(value, LIKE[kind])
                except SuggestionRejected:
                    update[name] = {"rejected": True}
        results.append(update == e["expected"])
    return results


# ------------------------------------------------------------------------------------------------------------
# Trace side (runs in .venv-peers)
# ------------------------------------------------------------------------------------------------------------

TRACE_SCRIPT = textwrap.dedent(
    r'''
    import json, statistics, sys, time, warnings
    warnings.filterwarnings("ignore")
    from opto.trace import node
    from opto.optimizers import OptoPrime

    class NoLLM:  # prompt construction and parsing need no model
        def __call__(self, *a, **k):
            raise RuntimeError("no model in this measurement")

    task = json.load(open(sys.argv[1]))
    out = {"prompts": {}, "parse": []}

    def chain(n):
        x = node(1.0, name="x", trainable=True)
        y = x
        for i in range(n):
            y = y + node(float(i), name=f"c{i}")
        return [x], y

    def many(n):
        ps = [node(float(i), name=f"p{i}", trainable=True) for i in range(n)]
        y = ps[0]
        for p in ps[1:]:
            y = y + p
        return ps, y

    sys.setrecursionlimit(100000)
    for label, make, n in [("chain-%d" % n, chain, n) for n in task["sizes"]] + [("params-1000", many, 1000)]:
        params, y = make(n)
        opt = OptoPrime(params, llm=NoLLM())
        opt.zero_feedback()
        y.backward("The output is far too large; make it smaller.")
        times = []
        for _ in range(task["repeats"]):
            t0 = time.perf_counter()
            summary = opt.summarize()
            system, user = opt.construct_prompt(summary)
            times.append(time.perf_counter() - t0)
        out["prompts"][label] = {"seconds": statistics.median(times), "text": system + "\n" + user}

    # The parser as Trace's OptoPrime applies it: a reply mentioning TERMINATE yields no update; otherwise
    # extract_llm_suggestion, then (construct_update_dict) black for strings containing 'def', type(old)(new).
    from black import FileMode, format_str
    opt = OptoPrime([node(0, name="dummy", trainable=True)], llm=NoLLM())
    like = {"int": 0, "float": 0.0, "str": "", "bool": False, "list": [], "dict": {}}
    for e in task["corpus"]:
        reply = e["reply"]
        if "TERMINATE" in reply:
            out["parse"].append(None)
            continue
        try:
            suggestion = opt.extract_llm_suggestion(reply)
        except Exception:
            suggestion = {}
        update = {}
        for name in e["names"]:
            if name not in suggestion:
                continue
            value = suggestion[name]
            kind = e["types"][name]
            try:
                if isinstance(value, str) and "def" in value:
                    value = format_str(value, mode=FileMode())
                update[name] = value if kind == "code" else type(like[kind])(value)
                if kind == "code":
                    update[name] = str(value).rstrip("\n")
            except (ValueError, KeyError, TypeError, Exception):
                pass
        out["parse"].append(update or None)
    json.dump(out, open(sys.argv[2], "w"))
    '''
)


def trace_side(corpus: list[dict[str, Any]], repeats: int) -> dict[str, Any] | None:
    if not PEERS.exists():
        return None
    check = subprocess.run([str(PEERS), "-c", "import opto"], capture_output=True, text=True)
    if check.returncode != 0:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        task, result, script = Path(tmp) / "task.json", Path(tmp) / "out.json", Path(tmp) / "trace_side.py"
        task.write_text(json.dumps({"sizes": list(SIZES), "repeats": repeats, "corpus": corpus}))
        script.write_text(TRACE_SCRIPT)
        proc = subprocess.run([str(PEERS), str(script), str(task), str(result)], capture_output=True, text=True,
                              timeout=1800)
        if proc.returncode != 0:
            print(f"(Trace side failed: {proc.stderr[-2000:]})")
            return None
        return json.loads(result.read_text())


# ------------------------------------------------------------------------------------------------------------
# Update rate with the embedded model
# ------------------------------------------------------------------------------------------------------------


def _load_example(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"perf_example_{name}", ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def update_rate(model: str, steps: int, base_url: str | None) -> dict[str, dict[str, Any]]:
    from optotrace.llm import get_llm

    options: dict[str, Any] = {"cache": False}
    if base_url:
        options["base_url"] = base_url
    llm = get_llm(model, **options)
    results: dict[str, dict[str, Any]] = {}
    for task, name in (("numeric", "numeric_from_feedback"), ("prompt", "prompt_optimization"),
                       ("code", "code_optimization")):
        ex = _load_example(name)
        with tempfile.TemporaryDirectory() as tmp:
            built = ex.build(llm, Path(tmp) / "run", steps=steps, progress=False)
            trainer = built[0] if isinstance(built, tuple) else built
            opt = trainer.optimizers[0]  # the example's target stays: see the module docstring, item 3
            t0 = time.perf_counter()
            result = trainer.fit()
            seconds = time.perf_counter() - t0
        reached = trainer.target is not None and trainer._reached({"history": result.history})
        logs = opt.logs
        applied = sum(1 for log in logs if log["applied"])
        changed = sum(1 for log in logs if log["applied"] and log["suggested"])
        results[task] = {"steps": len(logs), "applied": applied, "changed": changed,
                         "rejected": sum(len(log["rejected"]) for log in logs),
                         "via": {v: sum(1 for log in logs if log["via"] == v) for v in {log["via"] for log in logs}},
                         "seconds": round(seconds, 1), "target_reached": reached}
        if hasattr(ex, "is_leap"):
            ex.is_leap.parameter.set(ex.ORIGINAL)
        stop = (f"target reached, run stopped after {len(logs)} optimizer steps" if reached
                else f"{len(logs)} optimizer steps" + ("" if trainer.target is None else ", target not reached"))
        print(f"  {task:8s} {applied}/{len(logs)} steps applied an update ({stop}; {results[task]['rejected']} "
              f"rejected, replies read via {results[task]['via']}), {seconds:.0f}s", flush=True)
    return results


# ------------------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-model", action="store_true", help="skip the embedded-model update rate")
    ap.add_argument("--skip-trace", action="store_true")
    ap.add_argument("--model", default="local")
    ap.add_argument("--base-url", default=None)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()

    from optotrace.llm import ScriptedLLM

    count_openai_tokens = ScriptedLLM(["{}"]).count_tokens  # tiktoken's encoding, the same for both sides

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f}")
    corpus = json.loads(CORPUS.read_text())
    ours = ours_prompts(args.repeats)
    trace = None if args.skip_trace else trace_side(corpus, args.repeats)
    if trace is None and not args.skip_trace:
        print("(Trace is not installed in .venv-peers: optotrace figures only)")

    figures: dict[str, Any] = {"load_average": load, "prompts": {}, "parse": {}}
    print(f"\nprompt construction (median of {args.repeats}), size in characters and tokens (one tokenizer for both)")
    print(f"{'graph':14s} {'optotrace s':>12s} {'chars':>8s} {'tokens':>7s} | {'Trace s':>9s} {'chars':>8s} "
          f"{'tokens':>7s} | {'speed-up':>8s}")
    for label, mine in ours.items():
        row = {"seconds": mine["seconds"], "chars": len(mine["text"]), "tokens": count_openai_tokens(mine["text"]),
               "variables_shown": mine["variables_shown"], "omitted": mine["omitted"]}
        line = f"{label:14s} {row['seconds']:12.4f} {row['chars']:8d} {row['tokens']:7d}"
        if trace is not None and label in trace["prompts"]:
            t = trace["prompts"][label]
            row["trace"] = {"seconds": t["seconds"], "chars": len(t["text"]), "tokens": count_openai_tokens(t["text"])}
            line += (f" | {t['seconds']:9.3f} {row['trace']['chars']:8d} {row['trace']['tokens']:7d} | "
                     f"{t['seconds'] / max(row['seconds'], 1e-9):7.1f}x")
        print(line)
        figures["prompts"][label] = row

    mine_ok = ours_parse(corpus)
    rate = sum(mine_ok) / len(corpus)
    figures["parse"]["optotrace"] = rate
    print(f"\nparser corpus: {len(corpus)} realistic replies")
    print(f"  optotrace: right update from {sum(mine_ok)}/{len(corpus)} ({rate:.0%})")
    failed = [e["id"] for e, ok in zip(corpus, mine_ok, strict=False) if not ok]
    if failed:
        print(f"    missed: {', '.join(failed)}")
    if trace is not None:
        trace_ok = [got == e["expected"] for got, e in zip(trace["parse"], corpus, strict=False)]
        figures["parse"]["trace"] = sum(trace_ok) / len(corpus)
        print(f"  Trace:     right update from {sum(trace_ok)}/{len(corpus)} ({figures['parse']['trace']:.0%})")

    if not args.skip_model:
        print(f"\nupdate rate with {args.model} (at most {args.steps} steps per task; a task with a target stops "
              "when it is met, as its example does)")
        rates = update_rate(args.model, args.steps, args.base_url)
        total = sum(r["steps"] for r in rates.values())
        applied = sum(r["applied"] for r in rates.values())
        figures["update_rate"] = {"tasks": rates, "applied": applied, "steps": total}
        print(f"  overall: {applied}/{total} steps applied an update ({applied / max(total, 1):.0%})")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))


if __name__ == "__main__":
    main()
