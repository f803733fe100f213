"""DTL functions: dates and datetimes.

``datetime``, ``datetime-parse``, ``datetime-format``, ``datetime-plus``,
``datetime-diff``, ``datetime-shift`` and ``is-datetime``.

All arithmetic is on integer nanoseconds since the epoch (see
``values.SesamDatetime``), so the nine fraction digits Sesam keeps are never
rounded through a Python ``datetime`` (which stops at microseconds). Time
zones come from ``zoneinfo`` (the ``tzdata`` package supplies the IANA data).

A date (``"~t2015-12-31"``) stays a date where that makes sense (adding days
or months to it) and is read as midnight UTC where a time is needed.

Zone names, format strings and date parts that are constants are checked
when the rules are compiled; bad ones fail with code ``invalid-argument``.

>>> evaluate(["datetime-plus", "month", 1, "~t2015-01-31T10:00:00Z"])
'~t2015-02-28T10:00:00Z'
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from ..compiler import is_const, pointer
from ..errors import DtlError, DtlTypeError
from ..registry import Registry
from ..values import (
    MAX_DATETIME_NS,
    MIN_DATETIME_NS,
    NS_PER_DAY,
    NS_PER_SECOND,
    first,
    format_datetime_ns,
    is_plain_string,
    parse_datetime,
    parse_datetime_text,
)
from .convert import checked_argument, map_dropping_none
from .dates_format import compile_format, format_fields, parse_fields

registry = Registry()

_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Z", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal", "UCT", "Etc/UCT"})

# Fixed-length date parts in nanoseconds; month and year are calendar arithmetic.
_UNIT_NS = {
    "week": 7 * NS_PER_DAY,
    "day": NS_PER_DAY,
    "hour": 3600 * NS_PER_SECOND,
    "minute": 60 * NS_PER_SECOND,
    "second": NS_PER_SECOND,
    "millisecond": 1_000_000,
    "microsecond": 1_000,
    "nanosecond": 1,
}
DATEPARTS = ("year", "month", *_UNIT_NS)


# ---------------------------------------------------------------- argument checks


def _invalid(message: str) -> DtlError:
    return DtlError(message, code="invalid-argument")


@lru_cache(maxsize=512)
def _zone_by_name(name: str):
    if name in _UTC_NAMES:
        return None  # None stands for UTC: no offset lookups needed
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for odd keys, OSError
        raise _invalid(f"unknown time zone {name!r}") from None


def zone(value: Any):
    """The ZoneInfo for a zone name (None for UTC); DtlError for an unknown one."""
    value = first(value)
    if type(value) is not str or not value or "\x00" in value:
        raise _invalid(f"a time zone must be a zone name string such as 'Europe/Oslo', got {value!r}")
    return _zone_by_name(value)


def date_format(value: Any):
    value = first(value)
    if type(value) is not str:
        raise _invalid(f"a date format must be a string, got {value!r}")
    return compile_format(value)


def datepart(value: Any) -> str:
    value = first(value)
    if value not in DATEPARTS:
        raise _invalid(f"unknown date part {value!r}; use one of {', '.join(DATEPARTS)}")
    return value






# ---------------------------------------------------------------- ns <-> wall clock


def _ns_fields(ns: int) -> dict:
    """Calendar fields of a wall-clock time given as ns since the epoch."""
    days, rest = divmod(ns, NS_PER_DAY)
    d = _dt.date.fromordinal(days + _EPOCH_ORDINAL)
    seconds, frac = divmod(rest, NS_PER_SECOND)
    return {
        "year": d.year, "month": d.month, "day": d.day,
        "hour": seconds // 3600, "minute": seconds // 60 % 60, "second": seconds % 60,
        "ns": frac, "weekday": d.weekday(), "yday": d.timetuple().tm_yday,
    }


def _naive(ns: int) -> _dt.datetime:
    """A naive datetime (microsecond precision) for ns since the epoch."""
    days, rest = divmod(ns, NS_PER_DAY)
    return _dt.datetime.combine(_dt.date.fromordinal(days + _EPOCH_ORDINAL), _dt.time()) + _dt.timedelta(
        microseconds=rest // 1000
    )


def utc_offset_at(tz, utc_ns: int) -> int:
    """Offset of zone ``tz`` (seconds) at the UTC instant ``utc_ns``."""
    if tz is None:
        return 0
    moment = _naive(utc_ns).replace(tzinfo=_dt.timezone.utc)
    return int(tz.fromutc(moment.replace(tzinfo=tz)).utcoffset().total_seconds())


def local_to_utc(tz, wall_ns: int) -> int:
    """UTC ns for a wall-clock time in ``tz``.

    A wall time that happens twice (autumn DST change) means the first of
    the two; one that does not exist (spring gap) is read with the offset
    before the gap, which is what ``zoneinfo`` does with ``fold=0``.
    """
    if tz is None:
        return wall_ns
    offset = _naive(wall_ns).replace(tzinfo=tz).utcoffset()
    return wall_ns - int(offset.total_seconds()) * NS_PER_SECOND


def _in_range(ns: int) -> bool:
    return MIN_DATETIME_NS <= ns <= MAX_DATETIME_NS


def _add_months(ns: int, months: int, is_date: bool) -> str | None:
    """Calendar month arithmetic; the day is clamped to the target month's end."""
    days, rest = divmod(ns, NS_PER_DAY)
    d = _dt.date.fromordinal(days + _EPOCH_ORDINAL)
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        return None
    day = min(d.day, _month_length(year, month0 + 1))
    new_days = _dt.date(year, month0 + 1, day).toordinal() - _EPOCH_ORDINAL
    return format_datetime_ns(new_days * NS_PER_DAY + rest, is_date)


def _month_length(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (_dt.date(year, month + 1, 1) - _dt.date(year, month, 1)).days


# ---------------------------------------------------------------- datetime


def to_datetime(value: Any) -> str | None:
    """The ``~t`` datetime for one value, or None when it is not one.

    ``~t`` values (a date becomes its midnight), ISO 8601 strings (with an
    offset they are moved to UTC; without one they are UTC; a bare date is
    midnight) and integers (nanoseconds since 1970-01-01T00:00:00Z).
    """
    t = type(value)
    if t is int:
        return format_datetime_ns(value)
    if t is not str:
        return None
    if value.startswith("~t"):
        parsed = parse_datetime(value)
    elif is_plain_string(value):
        parsed = parse_datetime_text(value.strip())
    else:
        return None
    if parsed is None:
        return None
    return format_datetime_ns(parsed.ns)


@registry.special("datetime", 1, 2, signature="DEFAULT? VALUES", function_args=(0,))
def compile_datetime(c, args, ptr):
    """Convert values to datetimes; others are dropped, or replaced by DEFAULT
    evaluated with ``_`` bound to the value.

    >>> evaluate(["datetime", 1438076760123450000])
    '~t2015-07-28T09:46:00.12345Z'
    """
    values = c.expr(args[-1], pointer(ptr, len(args)))
    if len(args) == 1:
        if is_const(values):
            try:
                folded = map_dropping_none(values.value, to_datetime)
            except Exception:
                folded = None
            else:
                return lambda ctx: folded
        return c.guarded(lambda ctx: map_dropping_none(values(ctx), to_datetime), ptr, ["datetime", *args], "datetime")
    default = c.item_fn(args[0], pointer(ptr, 1))

    def with_default(ctx):
        def convert(v):
            r = to_datetime(v)
            return default(ctx, v) if r is None else r

        v = values(ctx)
        if type(v) is list:
            return [r for r in (convert(x) for x in v if x is not None) if r is not None]
        return None if v is None else convert(v)

    return c.guarded(with_default, ptr, ["datetime", *args], "datetime")


# ---------------------------------------------------------------- parse / format


@registry.special("datetime-parse", 2, 3, signature="TIMEZONE? FORMAT VALUES")
def compile_datetime_parse(c, args, ptr):
    """Read strings with a strftime-like FORMAT as wall-clock times in
    TIMEZONE (default UTC); strings that do not match are dropped.

    >>> evaluate(["datetime-parse", "%d.%m.%Y", "28.07.2015"])
    '~t2015-07-28T00:00:00Z'
    """
    tz = checked_argument(c, args, ptr, 0, zone) if len(args) == 3 else (lambda ctx: None)
    fmt = checked_argument(c, args, ptr, len(args) - 2, date_format)
    values = c.expr(args[-1], pointer(ptr, len(args)))

    def parse(ctx):
        f, z = fmt(ctx), tz(ctx)
        return map_dropping_none(values(ctx), lambda v: _parse_one(f, z, v))

    return c.guarded(parse, ptr, ["datetime-parse", *args], "datetime-parse")


def _parse_one(fmt, tz, value: Any) -> str | None:
    if not is_plain_string(value):
        return None
    fields = parse_fields(fmt, value)
    if fields is None:
        return None
    try:
        if "yday" in fields:
            day0 = _dt.date(fields["year"], 1, 1).toordinal() + fields["yday"] - 1
            date = _dt.date.fromordinal(day0)
            if date.year != fields["year"]:
                return None
        else:
            date = _dt.date(fields["year"], fields["month"], fields["day"])
    except ValueError:
        return None
    if fields["hour"] > 23 or fields["minute"] > 59 or fields["second"] > 59:
        return None
    wall = (date.toordinal() - _EPOCH_ORDINAL) * NS_PER_DAY + (
        fields["hour"] * 3600 + fields["minute"] * 60 + fields["second"]
    ) * NS_PER_SECOND + fields["ns"]
    if "offset" in fields:
        # An explicit offset in the text wins over the TIMEZONE argument.
        ns = wall - fields["offset"] * NS_PER_SECOND
    else:
        try:
            ns = local_to_utc(tz, wall)
        except (OverflowError, ValueError):
            return None
    return format_datetime_ns(ns)


@registry.special("datetime-format", 2, 3, signature="TIMEZONE? FORMAT VALUES")
def compile_datetime_format(c, args, ptr):
    """Render datetimes as strings with FORMAT, as wall-clock time in
    TIMEZONE (default UTC). Non-datetimes are dropped. A date is formatted
    as its own midnight, without a zone shift (a date has no time of day).

    >>> evaluate(["datetime-format", "%Y-%m-%d %H:%M", "~t2018-08-18T12:39:01Z"])
    '2018-08-18 12:39'
    """
    tz = checked_argument(c, args, ptr, 0, zone) if len(args) == 3 else (lambda ctx: None)
    fmt = checked_argument(c, args, ptr, len(args) - 2, date_format)
    values = c.expr(args[-1], pointer(ptr, len(args)))

    def render(ctx):
        f, z = fmt(ctx), tz(ctx)
        return map_dropping_none(values(ctx), lambda v: _format_one(f, z, v))

    return c.guarded(render, ptr, ["datetime-format", *args], "datetime-format")


def _format_one(fmt, tz, value: Any) -> str | None:
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    offset = 0
    if not parsed.is_date:
        try:
            offset = utc_offset_at(tz, parsed.ns)
        except (OverflowError, ValueError):
            return None
    try:
        fields = _ns_fields(parsed.ns + offset * NS_PER_SECOND)
    except (OverflowError, ValueError):
        return None
    fields["offset"] = offset
    return format_fields(fmt, fields)


# ---------------------------------------------------------------- arithmetic


def _amount(value: Any) -> int:
    value = first(value)
    if type(value) is not int:
        raise DtlTypeError(f"datetime-plus needs an integer amount, got {value!r}")
    return value


@registry.special("datetime-plus", 3, signature="DATEPART AMOUNT VALUES")
def compile_datetime_plus(c, args, ptr):
    """Add AMOUNT (may be negative) DATEPARTs to each datetime.

    Months and years are calendar steps with the day clamped to the end of
    the month (Jan 31 + 1 month = Feb 28/29). On a date, whole days, weeks,
    months and years give a date; smaller parts give a datetime.

    >>> evaluate(["datetime-plus", "hour", -1, "~t2016-03-01T00:00:00Z"])
    '~t2016-02-29T23:00:00Z'
    """
    part = checked_argument(c, args, ptr, 0, datepart)
    amount = checked_argument(c, args, ptr, 1, _amount)
    values = c.expr(args[2], pointer(ptr, 3))

    def plus(ctx):
        p, n = part(ctx), amount(ctx)
        return map_dropping_none(values(ctx), lambda v: _plus_one(p, n, v))

    return c.guarded(plus, ptr, ["datetime-plus", *args], "datetime-plus")


def _plus_one(part: str, amount: int, value: Any) -> str | None:
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    if part in ("year", "month"):
        months = amount * 12 if part == "year" else amount
        return _add_months(parsed.ns, months, parsed.is_date)
    step = _UNIT_NS[part] * amount
    keep_date = parsed.is_date and step % NS_PER_DAY == 0
    return format_datetime_ns(parsed.ns + step, keep_date)


def _whole_months(earlier: int, later: int) -> int:
    """Whole calendar months from ``earlier`` to ``later`` (earlier <= later).

    A month is complete when the later day-of-month and time of day reach
    the earlier one's (Jan 31 to Feb 28 is 0 months, as in dateutil's
    relativedelta and Java's ChronoUnit), so no clamping is involved.
    """
    da, ta = divmod(earlier, NS_PER_DAY)
    db, tb = divmod(later, NS_PER_DAY)
    a = _dt.date.fromordinal(da + _EPOCH_ORDINAL)
    b = _dt.date.fromordinal(db + _EPOCH_ORDINAL)
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if months > 0 and (b.day, tb) < (a.day, ta):
        months -= 1
    return months


@registry.special("datetime-diff", 3, signature="DATEPART START END")
def compile_datetime_diff(c, args, ptr):
    """Whole DATEPARTs from END to START, i.e. START minus END: an earlier
    START gives a negative number. Partial units are cut toward zero
    (11 months is 0 years). Null unless both are datetimes.

    >>> evaluate(["datetime-diff", "day", "~t2015-07-28T00:00:00Z", "~t2015-07-29T00:00:00Z"])
    -1
    """
    part = checked_argument(c, args, ptr, 0, datepart)
    start = c.expr(args[1], pointer(ptr, 2))
    end = c.expr(args[2], pointer(ptr, 3))
    diff = lambda ctx: datetime_diff(part(ctx), start(ctx), end(ctx))  # noqa: E731
    return c.guarded(diff, ptr, ["datetime-diff", *args], "datetime-diff")


def datetime_diff(part: str, start: Any, end: Any) -> int | None:
    a, b = parse_datetime(first(start)), parse_datetime(first(end))
    if a is None or b is None:
        return None
    if part in ("year", "month"):
        if a.ns >= b.ns:
            months = _whole_months(b.ns, a.ns)
        else:
            months = -_whole_months(a.ns, b.ns)
        return int(months / 12) if part == "year" else months
    delta = a.ns - b.ns
    unit = _UNIT_NS[part]
    return delta // unit if delta >= 0 else -((-delta) // unit)


@registry.special("datetime-shift", 3, signature="FROM_TIMEZONE TO_TIMEZONE VALUES")
def compile_datetime_shift(c, args, ptr):
    """Read each datetime's UTC wall clock as a time in FROM_TIMEZONE and
    give the wall clock of the same instant in TO_TIMEZONE (stored as UTC).
    Dates are returned unchanged; non-datetimes are dropped.

    >>> evaluate(["datetime-shift", "Europe/Oslo", "UTC", "~t2015-07-28T09:46:00Z"])
    '~t2015-07-28T07:46:00Z'
    """
    src = checked_argument(c, args, ptr, 0, zone)
    dst = checked_argument(c, args, ptr, 1, zone)
    values = c.expr(args[2], pointer(ptr, 3))

    def shift(ctx):
        a, b = src(ctx), dst(ctx)
        return map_dropping_none(values(ctx), lambda v: _shift_one(a, b, v))

    return c.guarded(shift, ptr, ["datetime-shift", *args], "datetime-shift")


def _shift_one(src, dst, value: Any) -> str | None:
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    if parsed.is_date:
        return format_datetime_ns(parsed.ns, True)
    try:
        instant = local_to_utc(src, parsed.ns)
        if not _in_range(instant):
            return None
        return format_datetime_ns(instant + utc_offset_at(dst, instant) * NS_PER_SECOND)
    except (OverflowError, ValueError):
        return None


@registry.eager("is-datetime", 1, signature="VALUES")
def is_datetime(value: Any) -> bool:
    """True if the value (or a list's first element) is a datetime or a date.

    >>> evaluate(["is-datetime", "2015-07-28T09:46:00Z"])
    False
    """
    return parse_datetime(first(value)) is not None
