"""DTL functions on numbers: the casts ``integer``, ``decimal``, ``float``,
``hex`` and the predicates ``is-integer``, ``is-decimal``, ``is-float``.

Sesam has three number types: integers (unbounded), decimals (``~f...``,
arbitrary precision) and floats (IEEE doubles). A JSON number with a
fraction in rules or data is a float. Booleans are never numbers.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from ..registry import Registry
from ..values import MAX_DECIMAL_DIGITS, decimal_digits, decimal_value, first, is_plain_string, kind, to_number
from .convert import DROP, compile_cast, map_values

registry = Registry()

_INTEGER_RE = re.compile(r"[+-]?[0-9]+\Z")
_HEX_RE = re.compile(r"0x([0-9a-fA-F]+)\Z")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
# Decimal strings with a larger exponent are refused: "1E999999999" would
# otherwise expand to a gigabyte of digits when written without exponent.
_MAX_EXPONENT = 10_000


def parse_hex(digits: str) -> int:
    """Two's-complement reading of hex digits: the top bit is the sign."""
    value = int(digits, 16)
    bits = 4 * len(digits)
    if value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def to_integer(value):
    """One value as an integer, or DROP: numbers are truncated toward zero,
    strings of digits read, ``"0x.."`` strings read as two's-complement hex."""
    t = type(value)
    if t is int:
        return value
    if t is float:
        return int(value) if math.isfinite(value) else DROP
    if t is str:
        if is_plain_string(value):
            try:
                if _INTEGER_RE.match(value):
                    return int(value)
                m = _HEX_RE.match(value)
                if m:
                    return parse_hex(m.group(1))
            except ValueError:  # more digits than Python converts
                return DROP
            return DROP
        n = to_number(value)
        # int() of "~f1e999999999" would compute a billion-digit integer.
        if n is not None and n.is_finite() and decimal_digits(n) <= MAX_DECIMAL_DIGITS:
            return int(n)
    return DROP


def parse_decimal(text: str) -> Decimal | None:
    if not _NUMBER_RE.match(text):
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if abs(d.as_tuple().exponent) > _MAX_EXPONENT:
        return None
    return d


def to_decimal(value):
    """One value as a ``~f`` decimal, or DROP."""
    t = type(value)
    if t is int:
        return decimal_value(Decimal(value))
    if t is float:
        return decimal_value(Decimal(repr(value))) if math.isfinite(value) else DROP
    if t is str:
        if is_plain_string(value):
            d = parse_decimal(value)
            return DROP if d is None else decimal_value(d)
        if value.startswith("~f"):
            d = parse_decimal(value[2:])
            return DROP if d is None else decimal_value(d)
    return DROP


def to_float(value):
    """One value as a float, or DROP (values too large for a double too)."""
    t = type(value)
    if t is float:
        return value
    try:
        if t is int:
            return float(value)
        if t is str:
            if is_plain_string(value):
                if not _NUMBER_RE.match(value):
                    return DROP
                f = float(value)
            elif value.startswith("~f"):
                n = to_number(value)
                if n is None:
                    return DROP
                f = float(n)
            else:
                return DROP
            return f if math.isfinite(f) else DROP
    except (OverflowError, ValueError):
        return DROP
    return DROP


@registry.special("integer", 1, 2, signature="DEFAULT? VALUES", function_args=(0,))
def compile_integer(c, args, ptr):
    """Cast values to integers (floats and decimals truncate; ``"0x00ff"`` is
    255 and ``"0xff"`` is -1); others are left out or replaced by DEFAULT.

    >>> evaluate(["integer", ["list", "1", "~rhttp://www.example.org/", 124.4, 12345]])
    [1, 124, 12345]
    """
    return compile_cast(c, args, ptr, "integer", to_integer)


@registry.special("decimal", 1, 2, signature="DEFAULT? VALUES", function_args=(0,))
def compile_decimal(c, args, ptr):
    """Cast values to decimals; others are left out or replaced by DEFAULT.

    >>> evaluate(["decimal", ["list", "1.0", "~rhttp://www.example.org/", 2.2, "one"]])
    ['~f1.0', '~f2.2']
    """
    return compile_cast(c, args, ptr, "decimal", to_decimal)


@registry.special("float", 1, 2, signature="DEFAULT? VALUES", function_args=(0,))
def compile_float(c, args, ptr):
    """Cast values to floats; others are left out or replaced by DEFAULT.

    >>> evaluate(["float", ["list", "1.0", "~rhttp://www.example.org/", 2.2, "one"]])
    [1.0, 2.2]
    """
    return compile_cast(c, args, ptr, "float", to_float)


def hex_text(n: int) -> str:
    """Two's-complement hex in whole bytes, with room for the sign bit."""
    nbytes = ((n if n >= 0 else ~n).bit_length() + 8) // 8
    return f"0x{n % (1 << (8 * nbytes)):0{2 * nbytes}x}"


@registry.eager("hex", 1, signature="VALUES")
def hex_(values):
    """Integers as two's-complement hex strings in whole bytes; other values
    are left out.

    >>> evaluate(["hex", ["list", 1, 255, -1, 12345]])
    ['0x01', '0x00ff', '0xff', '0x3039']
    """
    return map_values(values, lambda v: hex_text(v) if type(v) is int else DROP)


@registry.eager("is-integer", 1, signature="VALUES")
def is_integer(value):
    """True if the value (or a list's first element) is an integer.

    >>> evaluate(["is-integer", ["list", 1, "12345"]])
    True
    """
    return type(first(value)) is int


@registry.eager("is-decimal", 1, signature="VALUES")
def is_decimal(value):
    """True if the value (or a list's first element) is a decimal (floats are not).

    >>> evaluate(["is-decimal", ["decimal", "1.23"]])
    True
    """
    return kind(first(value)) == "decimal"


@registry.eager("is-float", 1, signature="VALUES")
def is_float(value):
    """True if the value (or a list's first element) is a float.

    >>> evaluate(["is-float", 1.0])
    True
    """
    return type(first(value)) is float
