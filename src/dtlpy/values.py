"""Sesam values inside dtlpy.

dtlpy keeps values in their JSON transit form all the way through: a datetime
*is* the string ``"~t2015-01-02T03:04:05Z"``, a namespaced identifier *is*
``"~:foo:bar"``, a decimal *is* ``"~f1.10"``. Sesam has no escape for plain
strings that start with ``~`` and a known tag, so this is exactly the model
of the entity data model, and it means entities need no decoding on the way in
and no encoding on the way out: copying a property is copying a reference.
Functions that care about a type look at the two-character prefix.

Python quirks handled here once, so functions need not:
- ``bool`` is an ``int`` in Python; in Sesam a boolean is never a number, so
  every numeric test uses ``type(v) is int`` rather than ``isinstance``.
- ``None`` (null) and a missing property read the same in DTL.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
import re
import uuid as _uuid
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

# Transit tags -> kind names.
TAGS = {
    ":": "ni",
    "r": "uri",
    "t": "datetime",
    "b": "bytes",
    "u": "uuid",
    "f": "decimal",
}

NULL, BOOLEAN, INTEGER, FLOAT, DECIMAL = "null", "boolean", "integer", "float", "decimal"
STRING, NI, URI, DATETIME, UUID, BYTES = "string", "ni", "uri", "datetime", "uuid", "bytes"
LIST, DICT = "list", "dict"

_TYPE_KIND = {
    type(None): NULL,
    bool: BOOLEAN,
    int: INTEGER,
    float: FLOAT,
    list: LIST,
    tuple: LIST,
    dict: DICT,
}


def kind(value: Any) -> str:
    """Return the Sesam type name of a value.

    >>> kind("~t2015-01-01"), kind("~:a:b"), kind(True), kind("x")
    ('datetime', 'ni', 'boolean', 'string')
    """
    t = type(value)
    if t is str:
        if len(value) > 1 and value[0] == "~":
            return TAGS.get(value[1], STRING)
        return STRING
    k = _TYPE_KIND.get(t)
    if k is not None:
        return k
    if isinstance(value, Decimal):
        return DECIMAL
    if isinstance(value, str):
        return STRING
    if isinstance(value, dict):
        return DICT
    if isinstance(value, (list, tuple)):
        return LIST
    return STRING


def is_plain_string(value: Any) -> bool:
    """True for a string that is not a typed transit value."""
    return type(value) is str and not (
        len(value) > 1 and value[0] == "~" and value[1] in TAGS
    )


def tagged(value: Any, tag: str) -> bool:
    """True if value is a transit string with the given one-char tag."""
    return type(value) is str and len(value) > 1 and value[0] == "~" and value[1] == tag


# ---------------------------------------------------------------- lists & truth


def as_list(value: Any) -> list:
    """The list convention: null is empty, a list is itself, a value is a list of one."""
    if value is None:
        return []
    if type(value) is list:
        return value
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def splice(values: list) -> list:
    """One flat list of several values: lists are spliced in one level, nulls
    left out (``combine``; several namespaced matches read as one property).

    >>> splice([1, [2, 3], None, [[4]]])
    [1, 2, 3, [4]]
    """
    out: list = []
    for v in values:
        if type(v) is list:
            out.extend(v)
        elif v is not None:
            out.append(v)
    return out


def first(value: Any) -> Any:
    """The first element of a list (or None), or the value itself."""
    if type(value) is list or isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def truthy(value: Any) -> bool:
    """DTL truthiness: false, null and [] are false; everything else is true.

    ``0``, ``""`` and ``"false"`` are true. A list holding only false
    (``[false]``) is true by the same rule (see DEVIATIONS.md).
    """
    if value is None or value is False:
        return False
    if type(value) is list and not value:
        return False
    return True


# ---------------------------------------------------------------- numbers


def to_number(value: Any) -> int | float | Decimal | None:
    """int/float/Decimal for a numeric value (``~f`` decimals included), else None."""
    t = type(value)
    if t is int or t is float:
        return value
    if t is str:
        if len(value) > 2 and value[0] == "~" and value[1] == "f":
            try:
                return Decimal(value[2:])
            except InvalidOperation:
                return None
        return None
    if isinstance(value, Decimal):
        return value
    return None


def is_number(value: Any) -> bool:
    t = type(value)
    return t is int or t is float or tagged(value, "f")


# Longest plain-notation decimal we will write out: "~f1e999999999" would
# otherwise become a billion-character string.
MAX_DECIMAL_DIGITS = 4300


def decimal_digits(d: Decimal) -> int:
    """How many characters plain notation of d needs (roughly)."""
    sign, digits, exponent = d.as_tuple()
    if not isinstance(exponent, int):
        return 0
    return len(digits) + abs(exponent)


def decimal_value(d: Decimal) -> str:
    """Encode a Decimal as a ``~f`` transit string, without exponent notation.

    Raises DtlError (code "value-too-large") for decimals whose plain
    notation would exceed MAX_DECIMAL_DIGITS characters.
    """
    if not d.is_finite():
        raise ValueError("decimal is not finite")
    if decimal_digits(d) > MAX_DECIMAL_DIGITS:
        from .errors import DtlError

        raise DtlError("decimal too large to write out", code="value-too-large")
    text = format(d, "f")
    if text == "-0":
        text = "0"
    return "~f" + text


def from_number(n: int | float | Decimal) -> Any:
    """The transit value of a Python number (Decimal -> ``~f``; nan/inf -> None)."""
    t = type(n)
    if t is int:
        return n
    if t is float:
        return n if math.isfinite(n) else None
    if t is bool:
        return n
    if isinstance(n, Decimal):
        return decimal_value(n) if n.is_finite() else None
    return n


def promote(a, b):
    """Bring two numbers to a common type: Decimal wins over float, float over int."""
    ta, tb = type(a), type(b)
    if ta is tb:
        return a, b
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return _to_decimal(a), _to_decimal(b)
    return a, b


def _to_decimal(n) -> Decimal:
    if isinstance(n, Decimal):
        return n
    if type(n) is float:
        return Decimal(repr(n))
    return Decimal(n)


# ---------------------------------------------------------------- datetimes

_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND

_DATETIME_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9})\d*)?)?"
    r"(Z|[+-]\d\d:?\d\d)?)?\Z"
)


class SesamDatetime:
    """A parsed ``~t`` value: nanoseconds since the epoch, and whether it is a date.

    Only used transiently inside functions; values travel as strings.
    """

    __slots__ = ("ns", "is_date")

    def __init__(self, ns: int, is_date: bool = False) -> None:
        self.ns = ns
        self.is_date = is_date

    def to_datetime(self) -> _dt.datetime:
        """A timezone-aware UTC datetime (microsecond precision)."""
        seconds, rest = divmod(self.ns, NS_PER_SECOND)
        return _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(
            seconds=seconds, microseconds=rest // 1000
        )

    def sub_microsecond_ns(self) -> int:
        return self.ns % 1000

    def encode(self) -> str:
        return format_datetime_ns(self.ns, self.is_date)


def parse_datetime_text(text: str, *, allow_offset: bool = True) -> SesamDatetime | None:
    """Parse ISO 8601 text (no ``~t``) to a SesamDatetime, or None.

    A bare date (``2015-12-31``) is a date; anything with a time is a datetime
    (UTC when no offset is given).
    """
    m = _DATETIME_RE.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    try:
        ordinal = _dt.date(int(year), int(month), int(day)).toordinal()
    except ValueError:
        return None
    days = ordinal - _EPOCH_ORDINAL
    if hour is None:
        return SesamDatetime(days * NS_PER_DAY, True)
    h, mi, s = int(hour), int(minute), int(second or 0)
    if h > 23 or mi > 59 or s > 59:
        return None
    ns = days * NS_PER_DAY + (h * 3600 + mi * 60 + s) * NS_PER_SECOND
    if frac:
        ns += int(frac.ljust(9, "0"))
    if zone and zone != "Z":
        if not allow_offset:
            return None
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:]) * 60
        ns -= sign * offset * NS_PER_SECOND
    return SesamDatetime(ns, False)


def parse_datetime(value: Any) -> SesamDatetime | None:
    """Parse a ``~t`` transit value; None for anything else."""
    if type(value) is str and len(value) > 2 and value[0] == "~" and value[1] == "t":
        return parse_datetime_text(value[2:])
    return None


MIN_DATETIME_NS = (_dt.date(1, 1, 1).toordinal() - _EPOCH_ORDINAL) * NS_PER_DAY
MAX_DATETIME_NS = (_dt.date(9999, 12, 31).toordinal() - _EPOCH_ORDINAL + 1) * NS_PER_DAY - 1


def format_datetime_ns(ns: int, is_date: bool = False) -> str | None:
    """``~t`` text for nanoseconds since the epoch (None when out of 0001..9999).

    The fraction is written without trailing zeros, as Sesam does.
    """
    if ns < MIN_DATETIME_NS or ns > MAX_DATETIME_NS:
        return None
    days, rest = divmod(ns, NS_PER_DAY)
    date = _dt.date.fromordinal(days + _EPOCH_ORDINAL)
    if is_date:
        return "~t" + date.isoformat()
    seconds, frac = divmod(rest, NS_PER_SECOND)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    text = f"~t{date.isoformat()}T{h:02d}:{m:02d}:{s:02d}"
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def datetime_value(d: _dt.datetime, extra_ns: int = 0) -> str | None:
    """``~t`` text for a Python datetime (naive means UTC)."""
    if d.tzinfo is not None:
        d = d.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    days = d.toordinal() - _EPOCH_ORDINAL
    ns = (
        days * NS_PER_DAY
        + (d.hour * 3600 + d.minute * 60 + d.second) * NS_PER_SECOND
        + d.microsecond * 1000
        + extra_ns
    )
    return format_datetime_ns(ns)


# ---------------------------------------------------------------- other typed values


def ni_parts(value: str) -> tuple[str, str]:
    """(namespace, identifier) of an NI (``~:ns:id``) or ``ns:id`` string.

    The namespace ends at the first colon, so ``~:foo:x:y`` is namespace
    ``foo`` and identifier ``x:y`` (``ni`` adds no escaping, so this is the
    reading that round-trips ``["ni", "foo", "x:y"]``). No colon: ("", value).
    """
    if value.startswith("~:"):
        value = value[2:]
    ns, sep, ident = value.partition(":")
    if not sep:
        return "", value
    return ns, ident


def bytes_value(data: bytes) -> str:
    return "~b" + base64.b64encode(data).decode("ascii")


def parse_bytes(value: Any) -> bytes | None:
    if tagged(value, "b"):
        try:
            return base64.b64decode(value[2:], validate=True)
        except (ValueError, TypeError):
            return None
    return None


def parse_uuid(value: Any) -> _uuid.UUID | None:
    if tagged(value, "u"):
        try:
            return _uuid.UUID(value[2:])
        except ValueError:
            return None
    return None


def uuid_value(u: _uuid.UUID) -> str:
    return "~u" + str(u)


# ---------------------------------------------------------------- equality


def equal(a: Any, b: Any) -> bool:
    """Sesam value equality: numbers compare across int/float/decimal, booleans
    are never numbers, datetimes/decimals compare by value, lists and dicts deeply.
    """
    ta, tb = type(a), type(b)
    if ta is str and tb is str:
        if a == b:
            return True
        if len(a) > 1 and len(b) > 1 and a[0] == "~" == b[0] and a[1] == b[1]:
            tag = a[1]
            if tag == "f":
                x, y = to_number(a), to_number(b)
                return x is not None and x == y
            if tag == "t":
                x, y = parse_datetime(a), parse_datetime(b)
                return x is not None and y is not None and x.ns == y.ns and x.is_date == y.is_date
            if tag == "u":
                x, y = parse_uuid(a), parse_uuid(b)
                return x is not None and x == y
        return False
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta is list and tb is list:
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(equal(v, b[k]) for k, v in a.items())
    na, nb = to_number(a), to_number(b)
    if na is not None and nb is not None:
        return na == nb
    if a is None or b is None:
        return a is None and b is None
    return a == b


def hashable_key(value: Any):
    """A hashable stand-in for a value, equal exactly when values are `equal`.

    Used by set-like functions (distinct, union, group ...).
    """
    t = type(value)
    if t is bool:
        return ("b", value)
    if t is int or t is float:
        return ("n", value)
    if t is str:
        if len(value) > 1 and value[0] == "~":
            tag = value[1]
            if tag == "f":
                n = to_number(value)
                if n is not None:
                    return ("n", n)
            elif tag == "t":
                d = parse_datetime(value)
                if d is not None:
                    return ("t", d.ns, d.is_date)
        return ("s", value)
    if value is None:
        return ("z",)
    if t is list or t is tuple:
        return ("l", tuple(hashable_key(v) for v in value))
    if t is dict:
        return ("d", tuple(sorted((k, hashable_key(v)) for k, v in value.items())))
    if isinstance(value, Decimal):
        return ("n", value)
    return ("o", repr(value))


# ---------------------------------------------------------------- ordering

# Rank of each kind in the documented mixed-type sort order.
_RANK = {
    NULL: 0,
    BOOLEAN: 1,
    INTEGER: 2,
    FLOAT: 2,
    DECIMAL: 2,
    DATETIME: 3,
    UUID: 4,
    NI: 5,
    URI: 6,
    STRING: 7,
    DICT: 8,
    LIST: 9,
    BYTES: 10,
}


class SortKey:
    """Orders any two values the way Sesam sorts mixed lists."""

    __slots__ = ("rank", "key")

    def __init__(self, value: Any) -> None:
        k = kind(value)
        self.rank = _RANK[k]
        if k in (INTEGER, FLOAT, DECIMAL):
            n = to_number(value)
            if type(n) is float and math.isnan(n):
                n = float("-inf")
            self.key = n
        elif k == BOOLEAN:
            self.key = int(value)
        elif k == DATETIME:
            d = parse_datetime(value)
            self.key = d.ns if d else 0
        elif k == NULL:
            self.key = 0
        elif k == DICT:
            self.key = [(kk, SortKey(value[kk])) for kk in sorted(value)]
        elif k == LIST:
            self.key = [SortKey(v) for v in value]
        elif k == STRING:
            self.key = value
        else:
            self.key = value[2:]

    def __lt__(self, other: "SortKey") -> bool:
        if self.rank != other.rank:
            return self.rank < other.rank
        a, b = self.key, other.key
        if type(a) is type(b) or (self.rank == 2):
            try:
                return a < b
            except TypeError:
                return str(a) < str(b)
        return str(a) < str(b)

    def __gt__(self, other: "SortKey") -> bool:
        return other.__lt__(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SortKey) and not self < other and not other < self

    def __le__(self, other: "SortKey") -> bool:
        return not other.__lt__(self)

    def __ge__(self, other: "SortKey") -> bool:
        return not self.__lt__(other)

    __hash__ = None  # type: ignore[assignment]


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 by the mixed-type ordering."""
    ka, kb = SortKey(a), SortKey(b)
    if ka < kb:
        return -1
    if kb < ka:
        return 1
    return 0


def is_json_value(value: Any, _depth: int = 0) -> bool:
    """True if value is made only of JSON types (used by tests and guards)."""
    if _depth > 2000:
        return False
    t = type(value)
    if value is None or t in (str, bool, int):
        return True
    if t is float:
        return math.isfinite(value)
    if t is list:
        return all(is_json_value(v, _depth + 1) for v in value)
    if t is dict:
        return all(type(k) is str and is_json_value(v, _depth + 1) for k, v in value.items())
    return False


def decimal_context():
    """A local decimal context with enough precision for Sesam's decimals."""
    return localcontext(prec=100)
