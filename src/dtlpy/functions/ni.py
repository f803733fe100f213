"""DTL functions: namespaced identifiers (NIs).

ni, ni-id, ni-ns, is-ni, and the deprecated ni-collapse / ni-expand.

An NI travels as ``"~:namespace:identifier"`` (global namespace:
``"~:identifier"``). The namespace ends at the first colon, so
``["ni", "foo", "x:y"]`` (no escaping) reads back as namespace ``foo`` and
identifier ``x:y``.

URI prefixes map to namespaces through the pipe's ``uri_namespaces``
(namespace -> URI prefix, ``env.uri_namespaces``); ``http://example.org/``
is the ``_`` namespace unless declared otherwise. ``ni`` gives an unknown
prefix a generated namespace ``<pipe-id>-<n>`` and remembers it for the
rest of the run.
"""

from __future__ import annotations

from typing import Any

from ..compiler import pointer
from ..errors import DtlTypeError
from ..registry import Registry
from ..values import ni_parts, tagged
from .convert import map_dropping_none

registry = Registry()

DEFAULT_URI_NAMESPACES = {"_": "http://example.org/"}




def _namespace_table(env) -> dict:
    table = dict(DEFAULT_URI_NAMESPACES)
    declared = env.uri_namespaces
    if declared:
        # A declared namespace for the default prefix replaces the default one.
        if any(p == DEFAULT_URI_NAMESPACES["_"] for p in declared.values()):
            table.pop("_", None)
        table.update(declared)
    return table


def _longest_prefix(url: str, table: dict) -> tuple[str, str] | None:
    best = None
    for ns, prefix in table.items():
        if type(prefix) is str and prefix and url.startswith(prefix):
            if best is None or len(prefix) > len(best[1]):
                best = (ns, prefix)
    return best


def _split_uri(url: str) -> tuple[str, str]:
    """(prefix, local name): the prefix ends at the last ``/`` or ``#``
    (or, failing those, the last ``:``)."""
    cut = max(url.rfind("/"), url.rfind("#"))
    if cut < 0:
        cut = url.rfind(":")
    return url[: cut + 1], url[cut + 1 :]


def collapse_uri(url: str, env) -> str:
    """The NI of a URI for ``ni``: a declared prefix gives its namespace, an
    unknown prefix a generated ``<pipe-id>-<n>`` one (kept for the run)."""
    table = _namespace_table(env)
    hit = _longest_prefix(url, table)
    if hit is None:
        prefix, _ = _split_uri(url)
        n = env.extra.get("ni-generated", 0)
        ns = None
        while ns is None or ns in table:
            n += 1
            ns = f"{env.pipe_id}-{n}"
        env.extra["ni-generated"] = n
        env.uri_namespaces[ns] = prefix
        hit = (ns, prefix)
    ns, prefix = hit
    return f"~:{ns}:{url[len(prefix):]}"


@registry.special("ni", 1, 2, signature="NAMESPACE? VALUES", pure=False)
def compile_ni(c, args, ptr):
    """Make NIs of strings (no escaping). Without NAMESPACE the global
    namespace is used and URIs are collapsed to a namespace; with NAMESPACE
    URIs give null. Other types are dropped.

    >>> evaluate(["ni", "foo", ["list", "bar", "x:y"]])
    ['~:foo:bar', '~:foo:x:y']
    """
    node = ["ni", *args]
    values = c.expr(args[-1], pointer(ptr, len(args)))
    if len(args) == 1:

        def to_ni_global(ctx):
            env = ctx.env

            def one(v):
                if tagged(v, ":"):
                    return v
                if tagged(v, "r"):
                    return collapse_uri(v[2:], env)
                if type(v) is str and not (len(v) > 1 and v[0] == "~" and v[1] in "tbuf"):
                    return "~:" + v
                return None

            return map_dropping_none(values(ctx), one)

        return c.guarded(to_ni_global, ptr, node, "ni")

    namespace = c.expr(args[0], pointer(ptr, 1))

    def to_ni(ctx):
        return ni_in_namespace(namespace(ctx), values(ctx))

    closure = c.guarded(to_ni, ptr, node, "ni")
    # Lets the generated fast path call ni_in_namespace directly.
    closure.eager = (ni_in_namespace, [(args[0], pointer(ptr, 1)), (args[1], pointer(ptr, 2))])
    return closure


def ni_in_namespace(ns: Any, values: Any) -> Any:
    """``["ni", NAMESPACE, VALUES]`` on evaluated arguments.

    >>> ni_in_namespace("foo", ["bar", 1])
    ['~:foo:bar']
    """
    if type(ns) is list and len(ns) == 1:
        ns = ns[0]
    if type(ns) is not str:
        raise DtlTypeError(f"ni NAMESPACE must be a string, got {ns!r}")
    if type(values) is str and not (len(values) > 1 and values[0] == "~"):
        return f"~:{ns}:{values}"  # the common case: one plain string

    def one(v):
        if type(v) is str and not (len(v) > 1 and v[0] == "~" and v[1] in "trbuf:"):
            return f"~:{ns}:{v}"
        return None

    return map_dropping_none(values, one)


def _ni_or_plain(v: Any) -> bool:
    return tagged(v, ":") or (type(v) is str and not (len(v) > 1 and v[0] == "~" and v[1] in "trbuf"))


@registry.eager("ni-id", 1, signature="VALUES")
def ni_id(values):
    """The identifier part of NIs and of ``ns:id`` strings (a string without
    a colon is all identifier); other types are dropped.

    >>> evaluate(["ni-id", ["list", "~:foo:bar", "foo:baz", "qux"]])
    ['bar', 'baz', 'qux']
    """
    return map_dropping_none(values, lambda v: ni_parts(v)[1] if _ni_or_plain(v) else None)


@registry.eager("ni-ns", 1, signature="VALUES")
def ni_ns(values):
    """The namespace part of NIs and of ``ns:id`` strings (``""`` when none).

    >>> evaluate(["ni-ns", ["list", "~:foo:bar", "foo"]])
    ['foo', '']
    """
    return map_dropping_none(values, lambda v: ni_parts(v)[0] if _ni_or_plain(v) else None)


@registry.eager("is-ni", 1, signature="VALUES")
def is_ni(values):
    """True if the value (or a list's first element) is an NI; the plain
    string ``"foo:bar"`` is not.

    >>> evaluate(["is-ni", ["list", "~:foo:bar", 12345]])
    True
    """
    if type(values) is list:
        return bool(values) and tagged(values[0], ":")
    return tagged(values, ":")


@registry.special("ni-collapse", 1, signature="VALUES")
def compile_ni_collapse(c, args, ptr):
    """Deprecated: NIs from http(s) URLs (strings or URIs) by the longest
    declared URI prefix; an URL no prefix matches becomes ``~:<url>``.
    Anything else is dropped.

    >>> evaluate(["ni-collapse", "http://example.org/bar"])
    '~:_:bar'
    """
    values = c.expr(args[0], pointer(ptr, 1))

    def collapse(ctx):
        table = _namespace_table(ctx.env)

        def one(v):
            if tagged(v, "r"):
                v = v[2:]
            elif type(v) is not str or v.startswith("~"):
                return None
            if not v.startswith(("http://", "https://")):
                return None
            hit = _longest_prefix(v, table)
            if hit is None:
                return "~:" + v
            return f"~:{hit[0]}:{v[len(hit[1]):]}"

        return map_dropping_none(values(ctx), one)

    return c.guarded(collapse, ptr, ["ni-collapse", *args], "ni-collapse")


@registry.special("ni-expand", 1, signature="VALUES")
def compile_ni_expand(c, args, ptr):
    """Deprecated: URL strings from NIs through the declared URI prefixes; an
    NI whose namespace is not declared gives its text (``~:a:b`` -> ``"a:b"``).
    Non-NIs are dropped.

    >>> evaluate(["ni-expand", "~:_:bar"])
    'http://example.org/bar'
    """
    values = c.expr(args[0], pointer(ptr, 1))

    def expand(ctx):
        table = _namespace_table(ctx.env)

        def one(v):
            if not tagged(v, ":"):
                return None
            ns, ident = ni_parts(v)
            prefix = table.get(ns) if ns else None
            if type(prefix) is str:
                return prefix + ident
            return v[2:]

        return map_dropping_none(values(ctx), one)

    return c.guarded(expand, ptr, ["ni-expand", *args], "ni-expand")
