"""Server-rendered SVG charts for the dashboard: no script, no third-party origin.

Every label and title is escaped; the numbers behind each chart are rendered again as a
table by the template, so screen readers and copy-paste get them too.
"""

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
PALETTE = ["#417690", "#e08e0b", "#70bf2b", "#ba2121", "#8a5cc2", "#5b5b5b"]


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** len(str(int(value))) / 10 if value >= 1 else 0.1
    for factor in (1, 2, 2.5, 5, 10):
        if value <= step * factor:
            return step * factor
    return value


def _frame(title: str, labels: list[str], top: float, unit: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [f'<title>{escape(title)}</title>']
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        text = f"{value:.0%}" if unit == "%" else f"{value:g}"
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#ddd" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="10" fill="#666">{escape(text)}</text>')
    step = max(1, len(labels) // 8)
    plot_w = WIDTH - LEFT - RIGHT
    for i, label in enumerate(labels):
        if i % step:
            continue
        x = LEFT + plot_w * (i + 0.5) / max(1, len(labels))
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="10" '
                     f'fill="#666">{escape(label)}</text>')
    return parts


def _svg(title: str, parts: list[str], legend: list[str]) -> SafeString:
    legend_items = "".join(
        f'<span class="legend-item"><span class="swatch" style="background:{PALETTE[i % len(PALETTE)]}">'
        f'</span>{escape(name)}</span>'
        for i, name in enumerate(legend))
    svg = (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')
    return mark_safe(f'<figure class="chart-figure">{svg}<figcaption>{legend_items}</figcaption></figure>')


def stacked_bars(title: str, labels: list[str], series: list[Series]) -> SafeString:
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    if top < 40:  # counts: whole numbers on the four grid lines
        top = max(4, math.ceil(top / 4) * 4)
    parts = _frame(title, labels, top, "")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    for i, label in enumerate(labels):
        base = 0.0
        for j, s in enumerate(series):
            value = s.values[i] or 0
            if not value:
                continue
            h = plot_h * value / top
            y = TOP + plot_h - plot_h * (base + value) / top
            parts.append(f'<rect x="{LEFT + slot * i + slot * 0.15:.1f}" y="{y:.1f}" '
                         f'width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                         f'<title>{escape(label)} {escape(s.name)}: {value:g}</title></rect>')
            base += value
    return _svg(title, parts, [s.name for s in series])


def lines(title: str, labels: list[str], series: list[Series], *, unit: str = "") -> SafeString:
    values = [v for s in series for v in s.values if v is not None]
    top = 1.0 if unit == "%" and max(values, default=0) > 0.5 else _nice_max(max(values, default=0))
    if unit == "%" and top > 1:
        top = 1.0
    parts = _frame(title, labels, top, unit)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    for j, s in enumerate(series):
        color = PALETTE[j % len(PALETTE)]
        points = []
        for i, value in enumerate(s.values):
            if value is None:
                if len(points) > 1:
                    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                                 f'points="{" ".join(points)}"/>')
                points = []
                continue
            x = LEFT + plot_w * (i + 0.5) / max(1, len(labels))
            y = TOP + plot_h - plot_h * min(value, top) / top
            points.append(f"{x:.1f},{y:.1f}")
            shown = f"{value:.0%}" if unit == "%" else f"{value:g}{unit}"
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}">'
                         f'<title>{escape(labels[i])} {escape(s.name)}: {escape(shown)}</title></circle>')
        if len(points) > 1:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                         f'points="{" ".join(points)}"/>')
    return _svg(title, parts, [s.name for s in series])
