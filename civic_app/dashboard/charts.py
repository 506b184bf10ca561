"""Server-rendered SVG bar charts. No scripts, no style attributes (the CSP forbids them):
geometry in attributes, colours and type in static/css/dashboard.css via classes. Every chart
is an ``img`` with a <title> and <desc> (the text alternative); the page shows the same numbers
in a data table next to it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | None]
    css: str  # s0 .. s7


def nice_max(value: float) -> float:
    """A round axis maximum whose quarters are whole numbers when the values are counts."""
    if value <= 4:
        return 4
    exp = 10 ** math.floor(math.log10(value))
    top = next((step * exp for step in (1, 2, 2.5, 5, 10) if value <= step * exp), 10 * exp)
    if top >= 4 and top % 4:
        top = math.ceil(value / 4) * 4
    return top


def _fmt(value: float) -> str:
    return f"{value:g}"


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        (
            f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false" preserveAspectRatio="xMinYMin meet">'
        ),
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]


def column_chart(
    chart_id: str,
    *,
    title: str,
    desc: str,
    categories: list[str],
    series: list[Series],
    stacked: bool = False,
) -> Markup:
    """Vertical bars per category: grouped side by side, or stacked."""
    width, height, left, right, top, bottom = 640, 300, 44, 8, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    if stacked:
        peak = max((sum(s.values[i] or 0 for s in series) for i in range(len(categories))), default=0)
    else:
        peak = max((v or 0 for s in series for v in s.values), default=0)
    top_value = nice_max(peak)
    parts = _open(chart_id, width, height, title, desc)
    for k in range(5):
        value = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(value)}</text>'
        )
    n = max(len(categories), 1)
    band = plot_w / n
    inner = band * 0.72
    for i, category in enumerate(categories):
        x0 = left + band * i + (band - inner) / 2
        base = top + plot_h
        for j, s in enumerate(series):
            value = s.values[i] or 0
            h = plot_h * value / top_value
            if stacked:
                x, w = x0, inner
                base -= h
                y = base
            else:
                w = inner / len(series)
                x, y = x0 + w * j, top + plot_h - h
            if h > 0:
                parts.append(
                    f'<rect class="bar {s.css}" x="{x:.1f}" y="{y:.1f}" width="{max(w - 1, 1):.1f}" height="{h:.1f}">'
                    f"<title>{escape(category)} · {escape(s.label)}: {_fmt(value)}</title></rect>"
                )
        parts.append(
            f'<text class="label" x="{left + band * i + band / 2:.1f}" y="{height - bottom + 18}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part above went through escape()


def bar_chart(
    chart_id: str,
    *,
    title: str,
    desc: str,
    categories: list[str],
    series: list[Series],
    maximum: float | None = None,
) -> Markup:
    """Horizontal stacked bars, one row per category (long lists such as 39 dongs)."""
    row_h, left, right, top, bottom = 22, 96, 44, 8, 8
    width = 640
    height = top + bottom + row_h * max(len(categories), 1)
    plot_w = width - left - right
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    top_value = maximum or nice_max(max(totals, default=0))
    parts = _open(chart_id, width, height, title, desc)
    for i, category in enumerate(categories):
        y = top + row_h * i
        x = left
        for s in series:
            value = s.values[i] or 0
            w = plot_w * value / top_value
            if w > 0:
                parts.append(
                    f'<rect class="bar {s.css}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}">'
                    f"<title>{escape(category)} · {escape(s.label)}: {_fmt(value)}</title></rect>"
                )
            x += w
        parts.append(
            f'<text class="label" x="{left - 6}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end">{escape(category)}</text>'
        )
        parts.append(
            f'<text class="tick" x="{x + 4:.1f}" y="{y + row_h / 2 + 4:.1f}">{_fmt(totals[i])}</text>'
        )
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part above went through escape()
