"""Inline SVG line charts (no JavaScript, no fonts to fetch): the learning curve with integer step ticks."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

Series = tuple[str, str, Sequence[tuple[float, float]]]  # (label, colour, [(x, y)])


def integer_ticks(lo: int, hi: int, most: int = 10) -> list[int]:
    """At most `most` evenly spaced integer ticks covering lo..hi (a step of 1, 2, 5, 10, 20, 50, ...)."""
    span = max(1, hi - lo)
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            step = base * magnitude
            if span / step <= most:
                first = math.ceil(lo / step) * step
                return list(range(first, hi + 1, step))
        magnitude *= 10


def nice_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering lo..hi."""
    if hi - lo < 1e-12:
        lo, hi = lo - (abs(lo) * 0.1 or 0.5), hi + (abs(hi) * 0.1 or 0.5)
    raw = (hi - lo) / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(b * power for b in (1, 2, 5, 10) if b * power >= raw)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def line_chart(series: Sequence[Series], *, width: int = 720, height: int = 260, x_label: str = "step",
               y_label: str = "score", mark_x: float | None = None, mark_label: str = "") -> str:
    """An SVG chart of `series`; `mark_x` draws a dashed vertical line (the best step)."""
    points = [p for _, _, pts in series for p in pts if p[1] is not None and math.isfinite(p[1])]
    if not points:
        return "<p class='muted'>no scores to plot</p>"
    left, right, top, bottom = 52, 16, 30, 36
    xs = [int(x) for x, _ in points] + ([int(mark_x)] if mark_x is not None else [])
    x0, x1 = min(xs), max(xs)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    y_ticks = nice_ticks(min(y for _, y in points), max(y for _, y in points))
    y0, y1 = y_ticks[0], y_ticks[-1]
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    out = [f"<svg class='chart' viewBox='0 0 {width} {height}' width='100%' role='img' "
           f"xmlns='http://www.w3.org/2000/svg' aria-label='{html.escape(y_label)} per {html.escape(x_label)}'>"]
    for t in integer_ticks(x0, x1):
        out.append(f"<line x1='{sx(t):.1f}' y1='{top}' x2='{sx(t):.1f}' y2='{top + ph}' class='grid'/>"
                   f"<text x='{sx(t):.1f}' y='{top + ph + 14}' text-anchor='middle'>{t}</text>")
    for y in y_ticks:
        out.append(f"<line x1='{left}' y1='{sy(y):.1f}' x2='{left + pw}' y2='{sy(y):.1f}' class='grid'/>"
                   f"<text x='{left - 6}' y='{sy(y) + 4:.1f}' text-anchor='end'>{y:g}</text>")
    out.append(f"<text x='{left + pw / 2:.0f}' y='{height - 6}' text-anchor='middle'>{html.escape(x_label)}</text>")
    if mark_x is not None:
        out.append(f"<line x1='{sx(mark_x):.1f}' y1='{top}' x2='{sx(mark_x):.1f}' y2='{top + ph}' class='best'/>"
                   + _mark_text(sx(mark_x), top + ph - 6, left + pw / 2, mark_label))
    for n, (label, colour, pts) in enumerate(series):
        clean = [(x, y) for x, y in pts if y is not None and math.isfinite(y)]
        if not clean:
            continue
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in clean)
        out.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2'/>")
        if len(clean) <= 60:
            out.extend(f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='3' fill='{colour}'>"
                       f"<title>{html.escape(label)} step {x:g}: {y:.4g}</title></circle>" for x, y in clean)
        lx = left + 8 + n * 260
        out.append(f"<rect x='{lx}' y='6' width='10' height='10' fill='{colour}'/>"
                   f"<text x='{lx + 14}' y='15'>{html.escape(label)}</text>")
    out.append("</svg>")
    return "".join(out)


def _mark_text(x: float, y: float, middle: float, label: str) -> str:
    """The best step's label beside its line, on the side with room (a mark near the right edge is labelled
    to its left, so the text is never cut off)."""
    if x > middle:
        return f"<text x='{x - 4:.1f}' y='{y}' text-anchor='end' class='best-label'>{html.escape(label)}</text>"
    return f"<text x='{x + 4:.1f}' y='{y}' class='best-label'>{html.escape(label)}</text>"
