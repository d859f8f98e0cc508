"""Chart geometry: bars scaled to the series, no data unlike zero, the numbers as text."""

from __future__ import annotations

from simulator.service.adapters.admin_reports import Point, Series
from simulator.service.web.charts import HEIGHT, TOP, bar_chart, bucket_text

DAY = 86_400


def test_percentages_are_scaled_to_a_hundred_and_no_data_is_a_faint_stub() -> None:
    series = Series("Success rate", "percent",
                    (Point(0, None), Point(DAY, 50.0, "1 of 2"), Point(2 * DAY, 0.0, "0 of 3")))

    chart = bar_chart("success-rate", series, granularity="day")

    empty, half, zero = chart.bars
    assert empty.empty and not zero.empty
    assert half.height == (HEIGHT - TOP) / 2
    assert chart.rows == (("1970-01-01", "no data"), ("1970-01-02", "50% (1 of 2)"),
                          ("1970-01-03", "0% (0 of 3)"))
    assert chart.axis_max == "100%"


def test_money_is_scaled_to_the_largest_bucket_and_shown_in_its_currency() -> None:
    series = Series("Revenue", "cents", (Point(0, 64_200.0), Point(3600, 32_100.0)))

    chart = bar_chart("revenue", series, granularity="hour", currency="eur")

    assert chart.bars[0].height == HEIGHT - TOP and chart.bars[1].height == (HEIGHT - TOP) / 2
    assert chart.axis_max == "€642.00"
    assert chart.bars[1].label == "1970-01-01 01:00 UTC: €321.00"


def test_a_series_of_zeros_says_zero_and_one_without_data_says_so() -> None:
    zeros = bar_chart("latency", Series("Latency", "seconds", (Point(0, 0.0),)),
                      granularity="hour")
    nothing = bar_chart("latency", Series("Latency", "seconds", (Point(0, None),)),
                        granularity="hour")
    assert (zeros.axis_max, nothing.axis_max) == ("0.0 s", "no data")


def test_readable_times() -> None:
    assert bucket_text(1_795_000_000, "minute") == "2026-11-18 11:06 UTC"
