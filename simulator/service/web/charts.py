"""Bar charts drawn on the server as inline SVG: the pages' Content-Security-Policy allows
no inline script or style, and a chart needs neither. Each chart is geometry computed
here (bars in a fixed ``viewBox`` that scales to any width) plus the same numbers as
text, so a screen reader or a narrow screen loses nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from simulator.service.adapters.admin_reports import Point, Series
from simulator.service.domain.money import format_money

WIDTH, HEIGHT, TOP = 600, 160, 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the bucket's time and value, as a tooltip (``<title>``) and in the table
    empty: bool


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    summary: str  # the headline figure over the whole range
    bars: tuple[Bar, ...]
    axis_max: str
    first: str
    last: str
    rows: tuple[tuple[str, str], ...]  # (bucket, value) for the table of numbers


def bar_chart(key: str, series: Series, *, granularity: str, currency: str = "usd",
              summary: str = "") -> Chart:
    """Bars for ``series``: the scale is fixed at 100 for percentages, otherwise the
    largest value; a bucket without data is a faint stub, unlike a real zero."""
    values = [point.value for point in series.points if point.value is not None]
    top = 100.0 if series.unit == "percent" else max(values, default=0.0) or 1.0
    slot = WIDTH / max(1, len(series.points))
    bars = []
    rows = []
    for number, point in enumerate(series.points):
        shown = _value_text(point, series.unit, currency)
        when = bucket_text(point.start, granularity)
        height = 0.0 if point.value is None else (HEIGHT - TOP) * point.value / top
        height = max(height, 1.5)
        bars.append(Bar(round(number * slot + slot * 0.1, 2), round(HEIGHT - height, 2),
                        round(slot * 0.8, 2), round(height, 2), f"{when}: {shown}",
                        point.value is None))
        rows.append((when, shown))
    highest = 100.0 if series.unit == "percent" else max(values, default=0.0)
    axis_max = _value_text(Point(0, highest), series.unit, currency) if values else "no data"
    return Chart(key, series.name, summary, tuple(bars), axis_max,
                 rows[0][0] if rows else "", rows[-1][0] if rows else "", tuple(rows))


TIME_FORMATS = {"minute": "%Y-%m-%d %H:%M UTC", "hour": "%Y-%m-%d %H:00 UTC",
                "day": "%Y-%m-%d"}


def bucket_text(start: int, granularity: str) -> str:
    """A bucket's start as a person reads it: ``2026-11-27 14:00 UTC`` for an hour."""
    moment = dt.datetime.fromtimestamp(start, tz=dt.UTC)
    return moment.strftime(TIME_FORMATS[granularity])


def _value_text(point: Point, unit: str, currency: str) -> str:
    if point.value is None:
        return "no data"
    if unit == "percent":
        text = f"{point.value:.0f}%"
    elif unit == "cents":
        text = format_money(int(point.value), currency)
    elif unit == "seconds":
        text = f"{point.value:.1f} s"
    else:
        text = f"{point.value:.0f}"
    return f"{text} ({point.detail})" if point.detail else text
