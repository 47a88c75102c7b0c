"""Tracing speed, measured in one run: optotrace against Microsoft's Trace (trace-opt) when available.

    .venv/bin/python perf/tracing.py [--peer-python PATH] [--sizes 100,1000,5000,10000]

Prints, for each library: a bundled call's cost against the plain call, build and backward time for chains
of N operations (backward per operation shows whether it scales linearly), and `import` time, then the
ratios Trace / optotrace. Trace runs in its own interpreter (default: .venv-peers/bin/python, created with
`python3 -m venv .venv-peers && .venv-peers/bin/pip install trace-opt`); each library is measured in a fresh
subprocess so neither warms the other.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = {"optotrace": "optotrace", "trace": "opto.trace"}  # what `node`, `bundle` need

WORKER = r'''
import gc, json, sys, time
library, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
if library == "optotrace":
    from optotrace import bundle, node
    decorate = bundle
else:
    from opto.trace import bundle, node
    decorate = bundle()

def add(a, b):
    return a + b

traced_add = decorate(add)

def best(fn, number, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(number)
        times.append((time.perf_counter() - start) / number)
    return min(times)

def plain(n):
    for _ in range(n):
        add(1.0, 2.0)

x = node(1.0, trainable=True)

def bundled(n):
    for _ in range(n):
        traced_add(x, 2.0)

out = {"plain_us": best(plain, 20000) * 1e6, "bundled_us": best(bundled, 2000) * 1e6, "chains": {}}
for size in sizes:
    gc.collect()
    p = node(0.0, trainable=True)
    start = time.perf_counter()
    y = p
    for _ in range(size):
        y = y + 1.0
    built = time.perf_counter() - start
    gc.collect()
    start = time.perf_counter()
    y.backward("feedback")
    backward = time.perf_counter() - start
    out["chains"][size] = {"build_ms": built * 1e3, "backward_ms": backward * 1e3}
    del y, p
print(json.dumps(out))
'''


def import_seconds(python: str, module: str, repeat: int = 3) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                                 timeout=300).stdout.split()[-1]) for _ in range(repeat)]
    return min(runs)


def measure(python: str, library: str, sizes: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:  # a file, not -c: Trace's bundle needs the function's source
        worker = Path(tmp) / "tracing_worker.py"
        worker.write_text(WORKER)
        result = subprocess.run([python, str(worker), library, sizes], capture_output=True, text=True, cwd=ROOT,
                                timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"{library} worker failed:\n{result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["import_s"] = import_seconds(python, LIBRARIES[library])
    return figures


def rows(f: dict) -> list[tuple[str, float, str]]:
    out = [("plain call (us)", f["plain_us"], "{:.3f}"), ("bundled call (us)", f["bundled_us"], "{:.2f}"),
           ("bundled overhead (us)", f["bundled_us"] - f["plain_us"], "{:.2f}"),
           ("bundled / plain", f["bundled_us"] / f["plain_us"], "{:.0f}x")]
    for size, c in f["chains"].items():
        out += [(f"chain {int(size):>6,}: build (ms)", c["build_ms"], "{:.1f}"),
                (f"chain {int(size):>6,}: backward (ms)", c["backward_ms"], "{:.2f}"),
                (f"chain {int(size):>6,}: backward per op (us)", c["backward_ms"] * 1e3 / int(size), "{:.2f}")]
    out.append(("import optotrace | opto.trace (s)", f["import_s"], "{:.3f}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", help="interpreter with trace-opt installed (default: .venv-peers)")
    parser.add_argument("--sizes", default="100,1000,5000,10000", help="chain lengths, comma-separated")
    args = parser.parse_args()
    peer = args.peer_python or (str(ROOT / ".venv-peers/bin/python") if (ROOT / ".venv-peers/bin/python").exists()
                                else None)
    started = time.perf_counter()
    ours = rows(measure(sys.executable, "optotrace", args.sizes))
    theirs = None
    if peer is not None:
        try:
            theirs = rows(measure(peer, "trace", args.sizes))
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
            print(f"Trace could not be measured with {peer}: {exc}\n")
    else:
        print("Trace (trace-opt) not found: pass --peer-python or create .venv-peers; showing optotrace only.\n")
    header = f"{'measure':<36}{'optotrace':>12}" + (f"{'Trace':>12}{'Trace/optotrace':>18}" if theirs else "")
    print(header)
    print("-" * len(header))
    for i, (label, value, fmt) in enumerate(ours):
        line = f"{label:<36}{fmt.format(value):>12}"
        if theirs:
            other = theirs[i][1]
            line += f"{fmt.format(other):>12}{other / value if value else float('nan'):>17.1f}x"
        print(line)
    print(f"\n(measured in {time.perf_counter() - started:.0f} s; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
