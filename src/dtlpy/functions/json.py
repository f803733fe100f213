"""DTL functions: ``json``, ``json-transit``, ``json-parse``, ``json-transit-parse``.

Rendering sorts dict keys and uses ``", "`` and ``": "`` separators (the
look of the docs' examples); non-ASCII characters are kept. ``json`` writes
typed values as plain JSON (decimals as numbers, URIs/datetimes/... as their
text); ``json-transit`` keeps them as ``~x`` strings.

Parsing: dtlpy keeps every value in transit form, so a parsed string that
starts with a transit tag *is* a typed value whichever parse function read
it; ``json-parse`` therefore cannot return the "plain string" the docs show
for ``"\\"~rhttp://...\\""`` (see DEVIATIONS.md).
"""

from __future__ import annotations

import json as _json
import math

from ..registry import Registry
from ..values import is_plain_string
from .convert import DROP, compile_cast, dump_json, map_values, too_deep

registry = Registry()


def _render(transit: bool):
    def one(v):
        return dump_json(v, transit)

    return one


@registry.eager("json", 1, signature="VALUES")
def json_(values):
    """Each value as JSON text, without transit encoding (null elements of a
    list give "null"; a null argument gives null).

    >>> evaluate(["json", ["list", "abc", {"b": 2, "a": 1}, "~rhttp://www.example.org/", 124.4]])
    ['"abc"', '{"a": 1, "b": 2}', '"http://www.example.org/"', '124.4']
    """
    return map_values(values, _render(False))


@registry.eager("json-transit", 1, signature="VALUES")
def json_transit(values):
    """Each value as transit-encoded JSON text (typed values stay ``~x`` strings).

    >>> evaluate(["json-transit", ["list", ["uri", "http://www.example.org/"], 12345]])
    ['"~rhttp://www.example.org/"', '12345']
    """
    return map_values(values, _render(True))


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text):
    f = float(text)
    if not math.isfinite(f):
        raise ValueError("number out of range")
    return f


_decoder = _json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def parse_json(value):
    """Parse one JSON text to a value, or DROP for non-strings and bad JSON."""
    if not is_plain_string(value):
        return DROP
    try:
        return _decoder.decode(value)
    except RecursionError:
        raise too_deep() from None
    except ValueError:  # JSONDecodeError, bad numbers, too many digits
        return DROP


@registry.special("json-parse", 1, 2, signature="DEFAULT? VALUES", function_args=(0,))
def compile_json_parse(c, args, ptr):
    """Parse JSON text; invalid text is left out or replaced by DEFAULT
    (``_`` bound to it). The text "null" is valid and gives null.

    >>> evaluate(["json-parse", ["list", "hello", "123", "null", "\\"abc\\""]])
    [123, None, 'abc']
    """
    return compile_cast(c, args, ptr, "json-parse", parse_json)


@registry.special("json-transit-parse", 1, 2, signature="DEFAULT? VALUES", function_args=(0,))
def compile_json_transit_parse(c, args, ptr):
    """Parse transit-encoded JSON text (``"~r..."`` strings become URIs ...);
    invalid text is left out or replaced by DEFAULT.

    >>> evaluate(["is-uri", ["json-transit-parse", "\\"~rhttp://www.example.org/\\""]])
    True
    """
    return compile_cast(c, args, ptr, "json-transit-parse", parse_json)
