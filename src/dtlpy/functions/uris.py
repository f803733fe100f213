"""DTL functions on URIs: ``uri``, ``is-uri``, ``url-quote``, ``url-unquote``,
and the deprecated ``curie`` and ``reference``. URIs travel as ``~r`` + text."""

from __future__ import annotations

from urllib.parse import quote, unquote

from ..registry import Registry
from ..values import first, is_plain_string, kind
from .convert import DROP, map_values, string_arg

registry = Registry()


@registry.eager("uri", 1, signature="VALUES")
def uri(values):
    """Strings as URIs, unescaped (URIs pass through; others left out).

    >>> evaluate(["uri", ["list", "http://www.example.org/", "http://www.sesam.io/", 12345]])
    ['~rhttp://www.example.org/', '~rhttp://www.sesam.io/']
    """

    def one(v):
        if is_plain_string(v):
            return "~r" + v
        return v if kind(v) == "uri" else DROP

    return map_values(values, one)


@registry.eager("is-uri", 1, signature="VALUES")
def is_uri(value):
    """True if the value (or a list's first element) is a URI.

    >>> evaluate(["is-uri", ["uri", "foo:bar"]])
    True
    """
    return kind(first(value)) == "uri"


def _quote(text: str, safe: str) -> str | object:
    try:
        return quote(text, safe=safe, encoding="utf-8", errors="strict")
    except UnicodeEncodeError:
        return DROP


@registry.eager("url-quote", 1, 2, signature="SAFE_CHARS? VALUES")
def url_quote(*args):
    """Percent-encode strings as UTF-8; ``/`` is encoded too unless listed in
    SAFE_CHARS (letters, digits and ``_.-~`` are never encoded).

    >>> evaluate(["url-quote", "/", "/foo bar/baz"])
    '/foo%20bar/baz'
    """
    safe = string_arg(args[0], "url-quote", "SAFE_CHARS") if len(args) == 2 else ""
    return map_values(args[-1], lambda v: _quote(v, safe) if is_plain_string(v) else DROP)


@registry.eager("url-unquote", 1, signature="VALUES")
def url_unquote(values):
    """Decode ``%xx`` escapes in strings (as UTF-8).

    >>> evaluate(["url-unquote", "%2Ffoo%20bar%2Fbaz"])
    '/foo bar/baz'
    """
    return map_values(values, lambda v: unquote(v) if is_plain_string(v) else DROP)


@registry.eager("curie", 2, signature="PREFIX VALUES")
def curie(prefix, values):
    """Deprecated: the URI ``PREFIX:value`` for each string.

    >>> evaluate(["curie", "foo", ["list", "bar", "zoo"]])
    ['~rfoo:bar', '~rfoo:zoo']
    """
    prefix = string_arg(prefix, "curie", "PREFIX")
    return map_values(values, lambda v: f"~r{prefix}:{v}" if is_plain_string(v) else DROP)


@registry.eager("reference", 2, signature="DATASET_ID ENTITY_IDS")
def reference(dataset, values):
    """Deprecated: the URI ``sesam:DATASET_ID/ENTITY_ID`` for each string id,
    both parts percent-encoded.

    >>> evaluate(["reference", "foo", ["list", "a", "b"]])
    ['~rsesam:foo/a', '~rsesam:foo/b']
    """
    dataset = string_arg(dataset, "reference", "DATASET_ID")
    ds = quote(dataset, safe="")

    def one(v):
        if not is_plain_string(v):
            return DROP
        q = _quote(v, "")
        return DROP if q is DROP else f"~rsesam:{ds}/{q}"

    return map_values(values, one)
