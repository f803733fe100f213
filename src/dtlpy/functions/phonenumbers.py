"""DTL functions: phone numbers, with Google's libphonenumber (``phonenumbers``).

A parsed phone number travels as an RFC 3966 ``tel:`` URI value,
``"~rtel:+47-22-22-22-22"``, so it sorts and compares like any URI and can be
formatted again later with ``phonenumber-format``.

>>> evaluate(["phonenumber-parse", "NO", "22225555"])
'~rtel:+47-22-22-55-55'
"""

from __future__ import annotations

import functools
from typing import Any

from ..compiler import pointer
from ..errors import DtlError
from ..registry import Registry
from ..values import first, is_plain_string, tagged
from .convert import checked_argument


@functools.cache
def _pn():
    # Imported on first use: the library's tables take ~30 ms to load, which
    # every dtlpy command (and worker process) would pay otherwise.
    import phonenumbers

    return phonenumbers

registry = Registry()

_FORMATS = ("e164", "rfc3966", "national", "international", "national-e164", "isocode", "country-code")


def _each(values: Any, convert) -> Any:
    """Per value: a list maps to a list without the failures, a scalar to a
    scalar (None when it fails), null stays null."""
    if type(values) is list:
        return [r for r in map(convert, values) if r is not None]
    if values is None:
        return None
    return convert(values)




def region(value: Any) -> str:
    """A region code libphonenumber knows (``NO``, ``US`` ...), upper-cased."""
    value = first(value)
    if type(value) is str and value.upper() in _pn().SUPPORTED_REGIONS:
        return value.upper()
    raise DtlError(f"unknown phone number region {value!r}; use an ISO 3166 code such as 'NO'", code="invalid-argument")


def number_format(value: Any) -> str:
    value = first(value)
    if value not in _FORMATS:
        raise DtlError(
            f"unknown phone number format {value!r}; use one of {', '.join(_FORMATS)}", code="invalid-argument"
        )
    return value


def parse_number(value: Any, default_region: str | None) -> str | None:
    """The ``~rtel:`` URI of one value, or None if it is not a valid number.

    An integer cannot carry a ``+``, so without a region it is read as an
    international number (``4722222222`` is ``+47 22 22 22 22``).
    """
    if type(value) is int:
        text = str(value)
        if default_region is None:
            text = "+" + text
    elif is_plain_string(value):
        text = value
    else:
        return None
    try:
        number = _pn().parse(text, default_region)
    except _pn().NumberParseException:
        return None
    if not _pn().is_valid_number(number):
        return None
    return "~r" + _pn().format_number(number, _pn().PhoneNumberFormat.RFC3966)


@registry.special("phonenumber-parse", 1, 2, signature="DEFAULT_REGION? VALUES")
def compile_phonenumber_parse(c, args, ptr):
    """Strings (or integers) that are valid phone numbers -> ``~rtel:`` URIs;
    DEFAULT_REGION gives the country of numbers written without ``+CC``.
    Anything else is dropped.

    >>> evaluate(["phonenumber-parse", "+4722222222"])
    '~rtel:+47-22-22-22-22'
    """
    reg = checked_argument(c, args, ptr, 0, region) if len(args) == 2 else (lambda ctx: None)
    values = c.expr(args[-1], pointer(ptr, len(args)))

    def parse(ctx):
        r = reg(ctx)
        return _each(values(ctx), lambda v: parse_number(v, r))

    return c.guarded(parse, ptr, ["phonenumber-parse", *args], "phonenumber-parse")


def format_number(fmt: str, value: Any) -> str | None:
    """Render one ``~rtel:`` URI in format ``fmt``; None for anything else."""
    if not (tagged(value, "r") and value[2:6].lower() == "tel:"):
        return None
    try:
        number = _pn().parse(value[2:], None)
    except _pn().NumberParseException:
        return None
    if fmt == "e164":
        # Sesam's documented e164 output has no leading '+'.
        return _pn().format_number(number, _pn().PhoneNumberFormat.E164).lstrip("+")
    if fmt == "rfc3966":
        return _pn().format_number(number, _pn().PhoneNumberFormat.RFC3966)
    if fmt == "national":
        return _pn().format_number(number, _pn().PhoneNumberFormat.NATIONAL)
    if fmt == "international":
        return _pn().format_number(number, _pn().PhoneNumberFormat.INTERNATIONAL)
    if fmt == "national-e164":
        return _pn().national_significant_number(number)
    if fmt == "isocode":
        code = _pn().region_code_for_number(number)
        return code if code and code != _pn().UNKNOWN_REGION else None
    return str(number.country_code)


@registry.special("phonenumber-format", 2, signature="FORMAT VALUES")
def compile_phonenumber_format(c, args, ptr):
    """``~rtel:`` phone number URIs -> strings in FORMAT (``e164``,
    ``rfc3966``, ``national``, ``international``, ``national-e164``,
    ``isocode``, ``country-code``). Other values are dropped.

    >>> evaluate(["phonenumber-format", "international", "~rtel:+47-22-22-22-22"])
    '+47 22 22 22 22'
    """
    fmt = checked_argument(c, args, ptr, 0, number_format)
    values = c.expr(args[1], pointer(ptr, 2))

    def render(ctx):
        f = fmt(ctx)
        return _each(values(ctx), lambda v: format_number(f, v))

    return c.guarded(render, ptr, ["phonenumber-format", *args], "phonenumber-format")
