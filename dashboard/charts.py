"""Inline SVG charts: no JavaScript, no fonts or libraries to fetch, readable offline.

Each chart is a `<figure class="chart" data-chart="NAME">` holding one `<svg>`. Marks carry
their data as attributes (`data-series`, `data-label`, `data-value`) and a `<title>` (the
browser's tooltip), so a test or a curious reader can check the numbers behind a shape.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

Number = int | float | Decimal


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least `maximum` (1-2-2.5-5 steps)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = math.ceil(maximum / step - 1e-9) * step
    return [round(i * step, 10) for i in range(int(round(top / step)) + 1)]


def short_number(value: float) -> str:
    """Axis labels: 1200 → 1.2k, 2500000 → 2.5M."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def _empty(name: str, title: str, width: int, height: int) -> str:
    return (
        f'<figure class="chart" data-chart="{_attr(name)}"><figcaption>{escape(title)}</figcaption>'
        f'<svg class="empty" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{_attr(title)}: no data">'
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="muted">No data yet</text></svg></figure>'
    )


def _legend(names: Sequence[str], x: float, y: float) -> str:
    parts = []
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<g class="legend-item" transform="translate({x + (i % 4) * 140},{y + (i // 4) * 18})">'
            f'<rect width="12" height="12" rx="2" fill="{colour}"/>'
            f'<text x="17" y="10.5">{escape(name)}</text></g>'
        )
    return "".join(parts)


def line_chart(
    name: str,
    title: str,
    series: dict[str, list[tuple[dt.date, Number]]],
    value_format=short_number,
    width: int = 900,
    height: int = 300,
) -> str:
    """One line per series over dates (x), values from 0 (y). Each point is a `circle.point`."""
    points = [(d, float(v)) for values in series.values() for d, v in values]
    if not points:
        return _empty(name, title, width, 120)
    legend_rows = math.ceil(len(series) / 4)
    left, right, top, bottom = 64, 44, 12, 40 + 18 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom
    first = min(d for d, _ in points)
    last = max(d for d, _ in points)
    span = max((last - first).days, 1)
    ticks = nice_ticks(max(v for _, v in points))

    def x(day: dt.date) -> float:
        if first == last:
            return left + plot_w / 2
        return left + plot_w * (day - first).days / span

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / ticks[-1]

    parts = [
        f'<figure class="chart" data-chart="{_attr(name)}"><figcaption>{escape(title)}</figcaption>'
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{_attr(title)}">'
    ]
    for tick in ticks:
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{short_number(tick)}</text>'
        )
    days = sorted({d for d, _ in points})
    label_every = max(1, math.ceil(len(days) / 8))
    for day in days[::label_every]:
        parts.append(
            f'<text class="axis" x="{x(day):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{day.isoformat()}</text>'
        )
    for i, (series_name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        ordered = sorted(values)
        path = " ".join(f"{'M' if j == 0 else 'L'}{x(d):.1f},{y(float(v)):.1f}" for j, (d, v) in enumerate(ordered))
        parts.append(f'<g class="series" data-series="{_attr(series_name)}">')
        parts.append(f'<path class="line" d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for d, v in ordered:
            parts.append(
                f'<circle class="point" cx="{x(d):.1f}" cy="{y(float(v)):.1f}" r="3" fill="{colour}" '
                f'data-series="{_attr(series_name)}" data-label="{d.isoformat()}" data-value="{_attr(v)}">'
                f"<title>{escape(series_name)}, {d.isoformat()}: {escape(value_format(v))}</title></circle>"
            )
        parts.append("</g>")
    parts.append(_legend(list(series), left, top + plot_h + 28))
    parts.append("</svg></figure>")
    return "".join(parts)


def bar_chart(
    name: str,
    title: str,
    bars: list[tuple[str, dict[str, Number | None]]],
    value_format=short_number,
    width: int = 600,
    bar_height: int = 16,
) -> str:
    """Horizontal bars, one row per label and one bar per series in it (grouped).

    `bars` is [(label, {series: value})]; a None value (unknown, e.g. margin without a cost)
    draws no bar. Negative values are drawn from 0 to the left edge's tick.
    """
    values = [float(v) for _, row in bars for v in row.values() if v is not None]
    if not values:
        return _empty(name, title, width, 120)
    series = list(dict.fromkeys(s for _, row in bars for s in row))
    label_w, right, top = 170, 70, 8
    group_h = bar_height * len(series) + 10
    legend_h = 24 if len(series) > 1 else 0
    height = top + group_h * len(bars) + 24 + legend_h
    ticks = nice_ticks(max(max(values), 0))
    low = -nice_ticks(-min(values))[-1] if min(values) < 0 else 0.0
    plot_w = width - label_w - right

    def x(value: float) -> float:
        return label_w + plot_w * (value - low) / (ticks[-1] - low)

    parts = [
        f'<figure class="chart" data-chart="{_attr(name)}"><figcaption>{escape(title)}</figcaption>'
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{_attr(title)}">'
    ]
    axis_y = top + group_h * len(bars)
    for tick in ([low] if low < 0 else []) + ticks:
        parts.append(
            f'<line class="grid" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{axis_y}"/>'
            f'<text class="axis" x="{x(tick):.1f}" y="{axis_y + 14}" text-anchor="middle">{short_number(tick)}</text>'
        )
    for row_index, (label, row) in enumerate(bars):
        group_top = top + row_index * group_h
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{group_top + group_h / 2 + 2:.1f}" text-anchor="end">'
            f"{escape(label if len(label) <= 26 else label[:25] + '…')}</text>"
        )
        for series_index, series_name in enumerate(series):
            value = row.get(series_name)
            if value is None:
                continue
            colour = PALETTE[series_index % len(PALETTE)]
            start, end = sorted((x(0.0), x(float(value))))
            bar_y = group_top + 4 + series_index * bar_height
            parts.append(
                f'<rect class="bar" x="{start:.1f}" y="{bar_y}" width="{max(end - start, 1):.1f}" '
                f'height="{bar_height - 3}" fill="{colour}" data-series="{_attr(series_name)}" '
                f'data-label="{_attr(label)}" data-value="{_attr(value)}">'
                f"<title>{escape(label)}: {escape(series_name)} {escape(value_format(value))}</title></rect>"
                f'<text class="value" x="{end + 4:.1f}" y="{bar_y + bar_height - 5}">'
                f"{escape(value_format(value))}</text>"
            )
    if legend_h:
        parts.append(_legend(series, label_w, axis_y + 24))
    parts.append("</svg></figure>")
    return "".join(parts)
