"""Current time in an IANA zone, and calendar arithmetic, for the DateTime tool.

The component has no system zoneinfo and cannot read files it was not granted, so the zone
data of the `tzdata` package is read into memory when the module is imported (componentize-py
imports it while building and keeps that state); outside a component, when `tzdata` is not
importable, the system's zoneinfo is used instead.
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone, tzinfo
from io import BytesIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from toolspec import Param, ToolError, ToolSpec, Usage, required

Clock = Callable[[], datetime]

OPS = ("now", "days_between", "add", "weekday")

SPEC = ToolSpec(
    name="DateTime",
    description=(
        "Dates and times: now (the date and time in a time zone), days_between (date to "
        "date2), add (an amount to a date), weekday (of a date). Dates are YYYY-MM-DD or 'today'"
    ),
    version="0.1.0",
    params=(
        Param("op", "What to compute", enum=OPS),
        Param(
            "timezone",
            "IANA time zone like Europe/Paris; default UTC",
            required=False,
        ),
        Param(
            "date",
            "YYYY-MM-DD (or YYYY-MM-DDTHH:MM); default today",
            required=False,
        ),
        Param("date2", "The second date, for days_between", required=False),
        Param(
            "amount",
            "For add: e.g. '3 weeks', '-2 months', '90 minutes'",
            required=False,
        ),
    ),
    usage=(
        Usage("What time is it in Tokyo?", "USE_TOOL: DateTime, op=now, timezone=Asia/Tokyo"),
        Usage(
            "How many days are there from 2024-01-01 to 2024-12-25?",
            "USE_TOOL: DateTime, op=days_between, date=2024-01-01, date2=2024-12-25",
        ),
        Usage(
            "What date is 90 days after 2024-02-10?",
            'USE_TOOL: DateTime, op=add, date=2024-02-10, amount="90 days"',
        ),
        Usage(
            "What day of the week was 1969-07-20?",
            "USE_TOOL: DateTime, op=weekday, date=1969-07-20",
        ),
    ),
)


def _read_tzdata() -> dict[str, bytes]:
    """Every zone file of the `tzdata` package, by zone name; empty when it is missing."""
    try:
        import tzdata
    except ImportError:
        return {}
    root = os.path.join(os.path.dirname(tzdata.__file__), "zoneinfo")
    zones: dict[str, bytes] = {}
    for directory, _, files in os.walk(root):
        for name in files:
            if name.startswith(("_", ".")) or name.endswith((".py", ".pyc", ".tab", ".zi")):
                continue
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                data = handle.read()
            if data.startswith(b"TZif"):
                zones[os.path.relpath(path, root).replace(os.sep, "/")] = data
    return zones


_TZDATA = _read_tzdata()
_BY_LOWER = {name.lower(): name for name in _TZDATA}
_UTC_NAMES = {"utc", "z", "gmt", "etc/utc", "universal", "zulu"}


def load_zone(name: str) -> tzinfo:
    """The zone called `name` (IANA, any case), UTC for an empty name; ToolError if unknown."""
    key = name.strip()
    if not key or key.lower() in _UTC_NAMES:
        return timezone.utc
    unknown = ToolError(
        f"unknown time zone {key!r}: use an IANA name such as Europe/Paris, America/New_York or UTC"
    )
    if _TZDATA:
        canonical = _BY_LOWER.get(key.lower())
        if canonical is None:
            raise unknown
        return ZoneInfo.from_file(BytesIO(_TZDATA[canonical]), key=canonical)
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise unknown from None


def _zone_label(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or "UTC"


def parse_date(text: str, today: date) -> datetime:
    """An ISO date or date-time (naive), or `today`; ToolError with the accepted forms."""
    value = text.strip()
    if value.lower() == "today":
        return datetime.combine(today, datetime.min.time())
    if value.lower() in ("tomorrow", "yesterday"):
        shift = 1 if value.lower() == "tomorrow" else -1
        return datetime.combine(today + timedelta(days=shift), datetime.min.time())
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise ToolError(
            f"{value!r} is not a date: write YYYY-MM-DD (e.g. 2024-03-15), "
            "YYYY-MM-DDTHH:MM, or 'today'"
        ) from None
    return parsed.replace(tzinfo=None)


_AMOUNT = re.compile(r"([+-]?\d+)\s*([a-z]+)")
_UNITS = {
    "y": "years", "yr": "years", "yrs": "years", "year": "years", "years": "years",
    "mo": "months", "mon": "months", "month": "months", "months": "months",
    "w": "weeks", "wk": "weeks", "wks": "weeks", "week": "weeks", "weeks": "weeks",
    "d": "days", "day": "days", "days": "days",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes",
    "minutes": "minutes",
    "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds",
    "seconds": "seconds",
}  # fmt: skip
MAX_AMOUNT = 1_000_000


def parse_amount(text: str) -> dict[str, int]:
    """'1 year 2 months -3 days' as a unit -> count mapping; ToolError when malformed."""
    cleaned = text.lower().replace(",", " ").replace(" and ", " ").strip()
    totals: dict[str, int] = {}
    position = 0
    for match in _AMOUNT.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            break
        unit = _UNITS.get(match.group(2))
        if unit is None:
            raise ToolError(
                f"unknown unit {match.group(2)!r} in amount {text!r}: use years, months, "
                "weeks, days, hours, minutes or seconds"
            )
        count = int(match.group(1))
        if abs(count) > MAX_AMOUNT:
            raise ToolError(f"amount {count} is too large (at most {MAX_AMOUNT})")
        totals[unit] = totals.get(unit, 0) + count
        position = match.end()
    if not totals or cleaned[position:].strip():
        raise ToolError(
            f"{text!r} is not an amount: write e.g. '10 days', '-3 weeks' or '1 year 2 months'"
        )
    return totals


def add_amount(start: datetime, amount: Mapping[str, int]) -> datetime:
    """`start` moved by `amount`; months and years keep the day, clamped to the month's end."""
    months = amount.get("years", 0) * 12 + amount.get("months", 0)
    moved = start
    if months:
        index = start.year * 12 + start.month - 1 + months
        year, month = divmod(index, 12)
        if not 1 <= year <= 9999:
            raise ToolError("the result is outside the years 1 to 9999")
        day = min(start.day, calendar.monthrange(year, month + 1)[1])
        moved = start.replace(year=year, month=month + 1, day=day)
    delta = timedelta(
        weeks=amount.get("weeks", 0),
        days=amount.get("days", 0),
        hours=amount.get("hours", 0),
        minutes=amount.get("minutes", 0),
        seconds=amount.get("seconds", 0),
    )
    try:
        return moved + delta
    except OverflowError:
        raise ToolError("the result is outside the years 1 to 9999") from None


def _show(moment: datetime) -> str:
    if moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return moment.isoformat(timespec="seconds")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def run(args: Mapping[str, str], clock: Clock = _utc_now) -> str:
    """Carry out the requested `op`; ToolError with a one-line message on bad input."""
    op = required(args, "op").strip().lower().replace("-", "_").replace(" ", "_")
    if op not in OPS:
        raise ToolError(f"unknown op {args['op']!r}: use one of {', '.join(OPS)}")
    zone = load_zone(args.get("timezone", ""))
    now = clock().astimezone(zone)
    if op == "now":
        return f"{now.isoformat(timespec='seconds')} ({now:%A}, {_zone_label(zone)})"
    first = parse_date(args.get("date") or "today", now.date())
    if op == "weekday":
        return f"{_show(first)} is a {first:%A}"
    if op == "days_between":
        if not args.get("date2"):
            raise ToolError("days_between needs date2, the date to count to")
        second = parse_date(args["date2"], now.date())
        days = (second.date() - first.date()).days
        unit = "day" if abs(days) == 1 else "days"
        return f"{days} {unit} from {_show(first)} to {_show(second)}"
    if not args.get("amount"):
        raise ToolError("add needs an amount, e.g. amount='10 days'")
    result = add_amount(first, parse_amount(args["amount"]))
    return f"{_show(result)} ({result:%A})"
