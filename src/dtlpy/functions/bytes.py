"""DTL functions on bytes: ``bytes``, ``base64-encode``, ``base64-decode``,
``is-bytes``. Bytes travel as ``~b`` + standard base64."""

from __future__ import annotations

import base64
import binascii

from ..registry import Registry
from ..values import bytes_value, first, is_plain_string, kind, parse_bytes
from .convert import DROP, map_values

registry = Registry()


def _to_bytes(v):
    if is_plain_string(v):
        try:
            return bytes_value(v.encode("utf-8"))
        except UnicodeEncodeError:  # lone surrogates
            return DROP
    if kind(v) == "bytes":
        data = parse_bytes(v)
        return DROP if data is None else bytes_value(data)
    return DROP


@registry.eager("bytes", 1, signature="VALUES")
def bytes_(values):
    """Strings as their UTF-8 bytes (bytes pass through; others left out).

    >>> evaluate(["bytes", "abc"])
    '~bYWJj'
    """
    return map_values(values, _to_bytes)


def _encode(v):
    data = parse_bytes(v)
    return DROP if data is None else base64.b64encode(data).decode("ascii")


@registry.eager("base64-encode", 1, signature="VALUES")
def base64_encode(values):
    """Bytes as base64 text; non-bytes are left out.

    >>> evaluate(["base64-encode", ["list", 1, ["bytes", "abc"], 2, ["bytes", "def"], 3]])
    ['YWJj', 'ZGVm']
    """
    return map_values(values, _encode)


def _decode(v):
    if not is_plain_string(v):
        return DROP
    try:
        return bytes_value(base64.b64decode(v, validate=True))
    except (binascii.Error, ValueError):
        return DROP


@registry.eager("base64-decode", 1, signature="VALUES")
def base64_decode(values):
    """Base64 strings as bytes; non-strings and invalid base64 are left out.

    >>> evaluate(["base64-decode", ["list", 1, "YWJj", 2, "ZGVm", 3]])
    ['~bYWJj', '~bZGVm']
    """
    return map_values(values, _decode)


@registry.eager("is-bytes", 1, signature="VALUES")
def is_bytes(value):
    """True if the value (or a list's first element) is bytes.

    >>> evaluate(["is-bytes", "~bYWJj"])
    True
    """
    return kind(first(value)) == "bytes"
