"""Small server-rendered SVG charts for the admin: no JavaScript, no CDN, accessible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 10, 12, 28


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    css_class: str = "genlook-series-1"


def _nice_max(value: float) -> float:
    """The top of the axis: a round number, even, so the middle line is a whole one."""
    if value <= 0:
        return 2.0
    for step in (2, 4, 6, 8, 10, 20, 30, 40, 50, 60, 80, 100):
        if value <= step:
            return float(step)
    magnitude = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 1.2, 1.5, 2, 3, 4, 5, 6, 8, 10):  # magnitude >= 100: halves are whole
        if value <= factor * magnitude:
            return float(factor * magnitude)
    return float(value)


def _frame(title: str, description: str, body: SafeString, top: float, labels: Sequence[str]):
    plot_width = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    grid = format_html_join(
        "",
        '<line class="genlook-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="genlook-axis" x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (
                PAD_LEFT,
                WIDTH - PAD_RIGHT,
                PAD_TOP + plot_height * (1 - share),
                PAD_TOP + plot_height * (1 - share),
                PAD_LEFT - 6,
                PAD_TOP + plot_height * (1 - share) + 4,
                f"{top * share:g}",
            )
            for share in (0, 0.5, 1)
        ),
    )
    every = max(1, -(-len(labels) // 8))  # at most eight labels under the axis
    step = plot_width / max(1, len(labels))
    axis = format_html_join(
        "",
        '<text class="genlook-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (PAD_LEFT + step * (index + 0.5), HEIGHT - 8, label)
            for index, label in enumerate(labels)
            if index % every == 0
        ),
    )
    return format_html(
        '<svg class="genlook-chart" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        _slug(title),
        _slug(title),
        _slug(title),
        title,
        _slug(title),
        description,
        grid,
        body,
        axis,
    )


def _slug(text: str) -> str:
    return "genlook-" + "".join(ch if ch.isalnum() else "-" for ch in text.lower())[:40]


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """Grouped bars, one group per label."""
    top = _nice_max(max((max(s.values, default=0) for s in series), default=0))
    plot_width = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    group = plot_width / max(1, len(labels))
    bar = group * 0.8 / max(1, len(series))
    rects = []
    for s_index, s in enumerate(series):
        for index, value in enumerate(s.values):
            height = plot_height * (value / top)
            rects.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}: {} ({})</title></rect>",
                    s.css_class,
                    f"{PAD_LEFT + group * index + group * 0.1 + bar * s_index:.1f}",
                    f"{PAD_TOP + plot_height - height:.1f}",
                    f"{max(bar - 1, 1):.1f}",
                    f"{height:.1f}",
                    labels[index],
                    s.name,
                    f"{value:g}",
                )
            )
    description = "; ".join(
        f"{s.name}: "
        + ", ".join(f"{label} {value:g}" for label, value in zip(labels, s.values, strict=False))
        for s in series
    )
    return _frame(title, description, mark_safe("".join(rects)), top, labels)  # noqa: S308


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """One polyline per series, a point per label."""
    top = _nice_max(max((max(s.values, default=0) for s in series), default=0))
    plot_width = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_width / max(1, len(labels))
    lines = []
    for s in series:
        coordinates = [
            (PAD_LEFT + step * (index + 0.5), PAD_TOP + plot_height * (1 - value / top))
            for index, value in enumerate(s.values)
        ]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        lines.append(
            format_html('<polyline class="{}" fill="none" points="{}"/>', s.css_class, points)
        )
        # A dot per point: a lone point is visible, and each has its value as a tooltip.
        lines.extend(
            format_html(
                '<circle class="{}" cx="{}" cy="{}" r="4"><title>{}: {} ({})</title></circle>',
                s.css_class,
                f"{x:.1f}",
                f"{y:.1f}",
                labels[index],
                s.name,
                f"{value:g}",
            )
            for index, ((x, y), value) in enumerate(zip(coordinates, s.values, strict=False))
        )
    description = "; ".join(
        f"{s.name}: "
        + ", ".join(f"{label} {value:g}" for label, value in zip(labels, s.values, strict=False))
        for s in series
    )
    return _frame(title, description, mark_safe("".join(lines)), top, labels)  # noqa: S308
