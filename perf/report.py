"""The run report at scale: a 200-step scripted training run, its report.html's size, the time to write it,
and the time headless Chromium takes to load it from file:// (against a blank page loaded the same way).

    .venv/bin/python perf/report.py [--steps 200]

Chromium's load time is measured inside the browser: a harness page loads the report in an iframe and logs
performance.now() at the iframe's load event (DOM parsed, styles and SVG laid out).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "reports"))

from browser import load  # noqa: E402
from report_support import make_run  # noqa: E402

from optotrace.reports import write_report  # noqa: E402

HARNESS = """<!DOCTYPE html><html><body><script>var t0 = performance.now();</script>
<iframe src="{src}" width="1200" height="900"
 onload="console.log('ot-load-ms ' + (performance.now() - t0).toFixed(1))"></iframe></body></html>"""


def load_ms(chromium: str, page: Path, repeats: int) -> float:
    harness = page.with_name(f"harness-{page.stem}.html")
    harness.write_text(HARNESS.format(src=page.name))
    times = []
    for _ in range(repeats):
        result = load(chromium, harness.resolve().as_uri())
        found = [float(m.group(1)) for line in result.console for m in [re.search(r"ot-load-ms ([\d.]+)", line)] if m]
        if not found:
            raise SystemExit(f"no load time from Chromium: {result.stderr[-1500:]}")
        times.append(found[0])
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ot-perf-report-") as tmp:
        run_dir = Path(tmp) / "run"
        t0 = time.perf_counter()
        make_run(run_dir, steps=args.steps)
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = write_report(run_dir)
        write_s = time.perf_counter() - t0
        size = report.stat().st_size
        print(f"{args.steps}-step run trained in {train_s:.1f} s; report written in {write_s * 1000:.0f} ms; "
              f"size {size / 1024:.0f} KiB")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            print("chromium not installed: no load time (apt-get install -y chromium)")
            return
        blank = Path(tmp) / "blank.html"
        blank.write_text("<!DOCTYPE html><html><body><p>blank</p></body></html>")
        base = load_ms(chromium, blank, args.repeats)
        took = load_ms(chromium, report, args.repeats)
        print(f"Chromium load (median of {args.repeats}): report {took:.0f} ms, blank page {base:.0f} ms, "
              f"ratio {took / max(base, 0.1):.1f}x")


if __name__ == "__main__":
    main()
