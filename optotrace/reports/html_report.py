"""`write_report(run_dir)`: one self-contained report.html (inline CSS and SVG, a few lines of inline script,
nothing fetched) that opens from a file:// URL."""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

from optotrace.reports import sections
from optotrace.reports.run_data import ReportError, RunData, load_run

REPORT_NAME = "report.html"

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1100px;
padding:16px 24px;color:#1d232a;background:#fff}
h1{font-size:20px;margin:4px 0}h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #dde}
h4{margin:10px 0 4px;font-size:13px}.muted{color:#778}.summary{font-size:15px;background:#f4f7fb;padding:8px 12px;
border-radius:6px}.warn{background:#fff4e0;padding:6px 10px;border-radius:4px}
table{border-collapse:collapse;margin:4px 0;font-size:13px}td,th{border:1px solid #e2e5ea;padding:3px 6px;
vertical-align:top;text-align:left}th{background:#f6f7f9}.best-row td{background:#eaf7ea}
pre{white-space:pre-wrap;word-break:break-word;margin:2px 0;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre.text{background:#f7f8fa;padding:6px 8px;border-radius:4px;max-height:420px;overflow:auto}
.diff{background:#fbfbfd;border:1px solid #e6e8ee;border-radius:4px;padding:6px 8px}
.diff del,.diff .del{background:#fde4e4;color:#8a1f1f}.diff ins,.diff .add{background:#e2f6e2;color:#1b6b1b;
text-decoration:none}.diff .hunk{color:#7a6ad8}.diff span{display:block}.diff.words del,.diff.words ins{display:inline}
details.step{content-visibility:auto;contain-intrinsic-size:auto 32px;border:1px solid #e2e5ea;border-radius:6px;
margin:6px 0}details.step>summary{cursor:pointer;
padding:6px 10px;font:13px ui-monospace,Menlo,Consolas,monospace}details.step[open]>summary{background:#f4f7fb}
.body{padding:4px 14px 10px}.tag.best{background:#2e9d4b;color:#fff;border-radius:3px;padding:0 5px}
.index{display:flex;flex-wrap:wrap;gap:3px;margin:6px 0}.index a{font:11px ui-monospace,monospace;min-width:26px;
text-align:center;padding:2px 3px;border:1px solid #d5dae2;border-radius:3px;text-decoration:none;color:#234}
.index a.rej{border-color:#e0a040}.index a.err{background:#fde4e4}.index a.best{background:#2e9d4b;color:#fff}
.reasoning{border-left:3px solid #7a6ad8;padding:2px 8px;margin:4px 0}.rejected{color:#8a4b00}
svg.chart text{font:11px system-ui,sans-serif;fill:#445}svg.chart .grid{stroke:#e6e8ee}
svg.chart .best{stroke:#2e9d4b;stroke-dasharray:4 3}svg.chart .best-label{fill:#2e9d4b}
.verdict{margin:2px 0 8px}.cand-state{white-space:nowrap}.spending,.stopped{margin:4px 12px}
.graph svg{max-width:100%;height:auto}.toolbar button{font-size:12px;margin-right:6px}
"""

SCRIPT = """
document.getElementById('expand-all').addEventListener('click', function () {
  document.querySelectorAll('details.step').forEach(function (d) { d.open = true; });
});
document.getElementById('collapse-all').addEventListener('click', function () {
  document.querySelectorAll('details.step').forEach(function (d) { d.open = false; });
});
function openTarget() {
  var id = decodeURIComponent(location.hash.slice(1));
  var el = id && document.getElementById(id);
  if (el && el.tagName === 'DETAILS') { el.open = true; }
}
window.addEventListener('hashchange', openTarget);
openTarget();
"""


def render_report(run: RunData) -> str:
    """The whole report as one HTML string."""
    esc = html.escape
    steps = "".join(sections.step_section(s, run.best_step) for s in run.steps)
    title = f"optotrace run {run.run_dir.resolve().name}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
<p class="muted">{esc(str(run.run_dir))}</p>
<h2 id="summary">summary</h2>
{sections.summary_section(run)}
<h2 id="curve">learning curve</h2>
{sections.curve_section(run)}
<h2 id="graph">graph of one traced step</h2>
{sections.graph_section(run)}
<h2 id="steps">steps ({len(run.steps)})</h2>
<div class="toolbar"><button id="expand-all" type="button">expand all</button>
<button id="collapse-all" type="button">collapse all</button></div>
{sections.index_section(run)}
<div id="step-list">{steps}</div>
<h2 id="final">final parameters (the best step's)</h2>
{sections.params_section(run)}
<script>{SCRIPT}</script>
</body></html>
"""


def write_report(run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Path:
    """Write `run_dir/report.html` (or `out`) atomically; the path written. ReportError for a non-run dir."""
    run = load_run(run_dir)
    path = Path(out) if out is not None else Path(run_dir) / REPORT_NAME
    text = render_report(run)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {path}: {exc}; pass --out with a writable path") from exc
    return path
