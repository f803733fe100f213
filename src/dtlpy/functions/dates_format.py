"""Format strings of ``datetime-parse`` and ``datetime-format``.

The documented tokens are the strftime ones Sesam lists (``%d %e %H %I %m
%M %p %S %f %y %Y %z %%``); the English month and weekday names (``%b %B
%a %A``), the day of the year (``%j``) and the zone name ``%Z`` (reads
``UTC``, ``GMT`` or ``Z``, meaning UTC; writes ``UTC``) are understood too,
because rules written against Python's strftime use them (``%Z`` appears in
published Sesam connector configs). Any other ``%`` token is an
error (code ``invalid-argument``), found when the rules are compiled if the
format is a constant.

We do not call ``time.strptime``/``strftime``: those work in microseconds,
pad years below 1000 differently per platform and depend on the locale.
Parsing here keeps all nine fraction digits.

>>> fmt = compile_format("%d.%m.%Y")
>>> parse_fields(fmt, "28.07.2015")["day"]
28
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import DtlError

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# token -> regular expression of what it reads (one group each).
_PARSE_RE = {
    "d": r"(\d{1,2})",
    "e": r"\s?(\d{1,2})",
    "H": r"(\d{1,2})",
    "I": r"(\d{1,2})",
    "m": r"(\d{1,2})",
    "M": r"(\d{1,2})",
    "S": r"(\d{1,2})",
    "p": r"(am|pm)",
    # Up to nine digits so nanoseconds survive; strptime would stop at six.
    "f": r"(\d{1,9})",
    "y": r"(\d{2})",
    "Y": r"(\d{4})",
    "z": r"(Z|[+-]\d{2}:?\d{2})",
    "Z": r"(UTC|GMT|Z)",
    "j": r"(\d{1,3})",
    "b": "(" + "|".join(m[:3] for m in MONTHS) + ")",
    "B": "(" + "|".join(MONTHS) + ")",
    "a": "(" + "|".join(w[:3] for w in WEEKDAYS) + ")",
    "A": "(" + "|".join(WEEKDAYS) + ")",
}


class Format:
    """A compiled format string: the parts, and (lazily) the parse regex."""

    __slots__ = ("text", "parts", "_regex")

    def __init__(self, text: str, parts: list[tuple[bool, str]]) -> None:
        self.text = text
        self.parts = parts  # (is_token, token letter or literal text)
        self._regex = None

    def regex(self):
        if self._regex is None:
            out = []
            for is_token, value in self.parts:
                if is_token:
                    out.append(_PARSE_RE[value])
                else:
                    # Like strptime: any run of whitespace matches any whitespace.
                    out.append(r"\s+".join(re.escape(chunk) for chunk in re.split(r"\s+", value)))
            self._regex = re.compile("".join(out) + r"\Z", re.IGNORECASE)
        return self._regex


def bad_format(message: str) -> DtlError:
    return DtlError(message, code="invalid-argument")


@lru_cache(maxsize=256)
def compile_format(text: str) -> Format:
    """Split a format string into literal text and tokens; reject unknown tokens."""
    if type(text) is not str:
        raise bad_format(f"a date format must be a string, got {text!r}")
    parts: list[tuple[bool, str]] = []
    literal = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "%":
            literal.append(ch)
            i += 1
            continue
        if i + 1 >= len(text):
            raise bad_format(f"date format {text!r} ends with a lone '%'")
        token = text[i + 1]
        i += 2
        if token == "%":
            literal.append("%")
            continue
        if token not in _PARSE_RE:
            raise bad_format(f"unsupported token '%{token}' in date format {text!r}")
        if any(t and v == "z" for t, v in parts):
            raise bad_format(f"'%z' must be the last token in date format {text!r}")
        if literal:
            parts.append((False, "".join(literal)))
            literal = []
        parts.append((True, token))
    if literal:
        parts.append((False, "".join(literal)))
    return Format(text, parts)


def parse_fields(fmt: Format, text: str) -> dict | None:
    """Read ``text`` with ``fmt``: a dict of fields, or None if it does not match.

    Fields not in the format default like strptime's (1900-01-01 00:00:00).
    ``offset`` (seconds) is present only when ``%z`` was read.
    """
    m = fmt.regex().match(text)
    if m is None:
        return None
    fields = {"year": 1900, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0, "ns": 0}
    twelve = None
    pm = None
    yday = None
    groups = iter(m.groups())
    for is_token, token in fmt.parts:
        if not is_token:
            continue
        raw = next(groups)
        if token in ("d", "e"):
            fields["day"] = int(raw)
        elif token == "H":
            fields["hour"] = int(raw)
        elif token == "I":
            twelve = int(raw)
        elif token == "m":
            fields["month"] = int(raw)
        elif token == "M":
            fields["minute"] = int(raw)
        elif token == "S":
            fields["second"] = int(raw)
        elif token == "p":
            pm = raw.lower() == "pm"
        elif token == "f":
            fields["ns"] = int(raw.ljust(9, "0"))
        elif token == "y":
            # POSIX pivot: 69-99 are the 1900s, 00-68 the 2000s.
            two = int(raw)
            fields["year"] = 1900 + two if two >= 69 else 2000 + two
        elif token == "Y":
            fields["year"] = int(raw)
        elif token == "z":
            fields["offset"] = _offset_seconds(raw)
        elif token == "Z":
            fields["offset"] = 0
        elif token == "j":
            yday = int(raw)
        elif token in ("b", "B"):
            fields["month"] = [mm[:3].lower() for mm in MONTHS].index(raw[:3].lower()) + 1
        # %a/%A are read and ignored, as strptime does.
    if twelve is not None:
        if not 1 <= twelve <= 12:
            return None
        # strptime's rule: 12 AM (or no %p) is hour 0, 12 PM is noon.
        hour = twelve % 12
        fields["hour"] = hour + 12 if pm else hour
    if yday is not None:
        fields["yday"] = yday
    return fields


def _offset_seconds(raw: str) -> int:
    if raw in ("Z", "z"):
        return 0
    sign = -1 if raw[0] == "-" else 1
    digits = raw[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)


def format_fields(fmt: Format, f: dict) -> str:
    """Render fields (year, month, day, hour, minute, second, ns, weekday,
    yday, offset) with ``fmt``."""
    out = []
    for is_token, token in fmt.parts:
        if not is_token:
            out.append(token)
        elif token == "d":
            out.append(f"{f['day']:02d}")
        elif token == "e":
            out.append(str(f["day"]))
        elif token == "H":
            out.append(f"{f['hour']:02d}")
        elif token == "I":
            out.append(f"{(f['hour'] % 12) or 12:02d}")
        elif token == "m":
            out.append(f"{f['month']:02d}")
        elif token == "M":
            out.append(f"{f['minute']:02d}")
        elif token == "S":
            out.append(f"{f['second']:02d}")
        elif token == "p":
            out.append("PM" if f["hour"] >= 12 else "AM")
        elif token == "f":
            # Microseconds, like strftime: nanoseconds below that are cut off.
            out.append(f"{f['ns'] // 1000:06d}")
        elif token == "y":
            out.append(f"{f['year'] % 100:02d}")
        elif token == "Y":
            out.append(f"{f['year']:04d}")
        elif token == "z":
            off = f["offset"]
            sign = "-" if off < 0 else "+"
            hours, rest = divmod(abs(off), 3600)
            out.append(f"{sign}{hours:02d}{rest // 60:02d}")
        elif token == "Z":
            off = f.get("offset") or 0
            sign = "-" if off < 0 else "+"
            hours, rest = divmod(abs(off), 3600)
            out.append("UTC" if off == 0 else f"UTC{sign}{hours:02d}:{rest // 60:02d}")
        elif token == "j":
            out.append(f"{f['yday']:03d}")
        elif token == "b":
            out.append(MONTHS[f["month"] - 1][:3])
        elif token == "B":
            out.append(MONTHS[f["month"] - 1])
        elif token == "a":
            out.append(WEEKDAYS[f["weekday"]][:3])
        elif token == "A":
            out.append(WEEKDAYS[f["weekday"]])
    return "".join(out)
