"""How an OptimizeResult shows itself in a notebook: the summary line and the learning curve (a PNG inline)."""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path
from typing import Any


class ResultDisplay:
    """Mixin for OptimizeResult: `_repr_html_` (summary, curve, best parameters) and `_repr_markdown_`."""

    run_dir: Path | None
    initial_score: float | None
    final_score: float | None
    best_score: float | None
    best_step: int
    steps: int
    history: list[dict[str, Any]]
    best_values: dict[str, Any]
    strategy: str
    spent: dict[str, Any]
    seconds: float

    def summary_line(self) -> str:
        tokens = int(self.spent.get("tokens") or sum(int(h.get("tokens") or 0) for h in self.history))
        cost = float(self.spent.get("cost_usd") or sum(float(h.get("cost_usd") or 0.0) for h in self.history))
        calls = int(self.spent.get("calls") or 0)
        seconds = self.seconds or sum(float(h.get("seconds") or 0.0) for h in self.history)
        return (f"{self.strategy}: score before {_fmt(self.initial_score)}, best {_fmt(self.best_score)} at step "
                f"{self.best_step}; {self.steps} steps; {calls} calls; {tokens:,} tokens; ${cost:.4f}; "
                f"{seconds:.1f} s")

    def _curve_png(self) -> bytes | None:
        if not self.history:
            return None
        if self.run_dir is not None and (Path(self.run_dir) / "learning_curve.png").exists():
            return (Path(self.run_dir) / "learning_curve.png").read_bytes()
        from optotrace.optimizers.train.run_files import plot_learning_curve

        with tempfile.TemporaryDirectory() as tmp:
            path = plot_learning_curve(self.history, Path(tmp) / "curve.png")
            return path.read_bytes()

    def _repr_html_(self) -> str:
        parts = [f"<p><b>optimization run</b>{' in ' + html.escape(str(self.run_dir)) if self.run_dir else ''}: "
                 f"{html.escape(self.summary_line())}</p>"]
        png = self._curve_png()
        if png:
            parts.append(f"<img alt='learning curve' src='data:image/png;base64,{base64.b64encode(png).decode()}'>")
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td><pre>{html.escape(_text(v))}</pre></td></tr>"
                       for k, v in self.best_values.items())
        if rows:
            parts.append(f"<table><caption>best parameters</caption>{rows}</table>")
        if self.run_dir is not None and (Path(self.run_dir) / "report.html").exists():
            parts.append(f"<p>report: {html.escape(str(Path(self.run_dir) / 'report.html'))}</p>")
        return "".join(parts)

    def _repr_markdown_(self) -> str:
        lines = [f"**optimization run**: {self.summary_line()}", ""]
        lines.extend(f"- `{k}` = {_text(v)[:200]!r}" for k, v in self.best_values.items())
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 4000 else text[:4000] + " ..."
