"""The DateTime tool: WASI clocks, bundled IANA zones and calendar arithmetic."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import dates
import pytest
from tool_loading import LoadTool
from toolspec import ToolError

from tool_runner import ResultKind

ANSWERS = [
    ({"op": "days_between", "date": "2024-01-01", "date2": "2024-12-25"},
     "359 days from 2024-01-01 to 2024-12-25"),
    ({"op": "days_between", "date": "2025-03-01", "date2": "2025-02-28"},
     "-1 day from 2025-03-01 to 2025-02-28"),
    ({"op": "add", "date": "2024-01-31", "amount": "1 month"}, "2024-02-29 (Thursday)"),
    ({"op": "add", "date": "2024-02-10", "amount": "90 days"}, "2024-05-10 (Friday)"),
    ({"op": "add", "date": "2024-02-29", "amount": "1 year"}, "2025-02-28 (Friday)"),
    ({"op": "add", "date": "2024-02-10", "amount": "-3 weeks"}, "2024-01-20 (Saturday)"),
    ({"op": "add", "date": "2024-02-10T23:30", "amount": "90 minutes"},
     "2024-02-11T01:00:00 (Sunday)"),
    ({"op": "add", "date": "2000-01-01", "amount": "1 year, 2 months and 3 days"},
     "2001-03-04 (Sunday)"),
    ({"op": "weekday", "date": "1969-07-20"}, "1969-07-20 is a Sunday"),
    ({"op": "WEEKDAY", "date": "2038-01-19"}, "2038-01-19 is a Tuesday"),
]  # fmt: skip

ERRORS = [
    ({"op": "now", "timezone": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
    ({"op": "weekday", "date": "2024-02-30"}, "'2024-02-30' is not a date"),
    ({"op": "weekday", "date": "next tuesday"}, "YYYY-MM-DD"),
    ({"op": "days_between", "date": "2024-01-01"}, "needs date2"),
    ({"op": "add", "date": "2024-01-01"}, "needs an amount"),
    ({"op": "add", "date": "2024-01-01", "amount": "3 fortnights"}, "unknown unit 'fortnights'"),
    ({"op": "add", "date": "2024-01-01", "amount": "soon"}, "'soon' is not an amount"),
    ({"op": "add", "date": "9999-12-01", "amount": "1 month"}, "outside the years 1 to 9999"),
    ({"op": "add", "date": "2024-01-01", "amount": "99999999 days"}, "too large"),
]


@pytest.mark.parametrize(("args", "expected"), ANSWERS)
def test_component_calendar_arithmetic(
    load_tool: LoadTool, args: dict[str, str], expected: str
) -> None:
    result = load_tool("datetime").call(args)
    assert result.kind is ResultKind.SUCCESS, result.error
    assert result.output == expected


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_component_reports_bad_input(
    load_tool: LoadTool, args: dict[str, str], message: str
) -> None:
    result = load_tool("datetime").call(args)
    assert result.kind is ResultKind.TOOL_ERROR, result.output
    assert message in (result.error or "")


def test_an_op_outside_the_enum_never_reaches_the_tool(load_tool: LoadTool) -> None:
    result = load_tool("datetime").call({"op": "explode"})
    assert result.kind is ResultKind.INVALID_ARGUMENTS
    assert "expects one of: now, days_between, add, weekday (got 'explode')" in str(result.error)


NOW = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)([+-]\d\d:\d\d) \((\w+day), ([\w/]+)\)")


def _now_in(load_tool: LoadTool, zone: str | None) -> tuple[datetime, str]:
    args = {"op": "now"} if zone is None else {"op": "now", "timezone": zone}
    result = load_tool("datetime").call(args)
    assert result.kind is ResultKind.SUCCESS, result.error
    match = NOW.fullmatch(result.output or "")
    assert match, result.output
    moment = datetime.fromisoformat(match.group(1) + match.group(2))
    assert match.group(3) == f"{moment:%A}"
    return moment, match.group(4)


def test_component_now_reads_the_wasi_clock_in_utc(load_tool: LoadTool) -> None:
    moment, label = _now_in(load_tool, None)
    assert label == "UTC"
    assert moment.utcoffset() == timedelta(0)
    assert abs(moment - datetime.now(timezone.utc)) < timedelta(minutes=2)


def test_component_now_uses_bundled_iana_zones(load_tool: LoadTool) -> None:
    tokyo, label = _now_in(load_tool, "asia/tokyo")  # any case
    assert label == "Asia/Tokyo"
    assert tokyo.utcoffset() == timedelta(hours=9)  # Japan has no daylight saving time
    kolkata, _ = _now_in(load_tool, "Asia/Kolkata")
    assert kolkata.utcoffset() == timedelta(hours=5, minutes=30)
    assert abs(tokyo - kolkata) < timedelta(minutes=2)
    _, nested = _now_in(load_tool, "America/Argentina/Buenos_Aires")
    assert nested == "America/Argentina/Buenos_Aires"


def test_now_follows_daylight_saving_with_an_injected_clock() -> None:
    def winter() -> datetime:
        return datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)

    def summer() -> datetime:
        return datetime(2024, 7, 15, 12, 0, tzinfo=timezone.utc)

    args = {"op": "now", "timezone": "Europe/Paris"}
    assert dates.run(args, winter) == "2024-01-15T13:00:00+01:00 (Monday, Europe/Paris)"
    assert dates.run(args, summer) == "2024-07-15T14:00:00+02:00 (Monday, Europe/Paris)"
    today = {"op": "weekday", "timezone": "Pacific/Kiritimati"}  # UTC+14: already tomorrow
    assert dates.run(today, winter) == "2024-01-16 is a Tuesday"


def test_amounts_parse_every_unit() -> None:
    assert dates.parse_amount("1y 2mo 3w 4d 5h 6min 7s") == {
        "years": 1, "months": 2, "weeks": 3, "days": 4, "hours": 5, "minutes": 6, "seconds": 7,
    }  # fmt: skip
    with pytest.raises(ToolError, match="not an amount"):
        dates.parse_amount("3 days later")
