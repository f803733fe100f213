"""Namespaced identifiers: property-name rules, wildcard patterns and the
pipe-level ``add_namespaces`` / ``remove_namespaces`` rewrites.

A namespaced property name is ``<namespace>:<identifier>``; the namespace
ends at the LAST colon (identifiers contain no colons, namespaces may).
Two escapes apply to names written in rules:

- ``"::age"`` means exactly ``age`` (``"::x:age"`` means ``x:age``);
- ``":age"`` means ``age`` in the current namespace (``<property-ns>:age``).

>>> qualify("age", "bar"), qualify("person:age", "bar"), qualify("::age", "bar")
('bar:age', 'person:age', 'age')
>>> match = compile_patterns(["x*:*e"], ni_mode=True, property_ns="bar")
>>> [k for k in ["age", "x:age", "xyz:age", "x:city"] if match(k)]
['x:age', 'xyz:age']
"""

from __future__ import annotations

from typing import Any, Callable

from .wildcards import compile_tokens, compile_wildcard, literal_tokens, tokens

__all__ = [
    "split_key",
    "qualify",
    "qualify_id",
    "resolve",
    "compile_patterns",
    "has_wildcards",
    "add_namespaces",
    "remove_namespaces",
    "pipe_flags",
]


def split_key(key: str) -> tuple[str | None, str]:
    """(namespace or None, identifier) of a property name, split at the last colon."""
    ns, sep, ident = key.rpartition(":")
    return (ns, ident) if sep else (None, key)


def resolve(name: str, current_ns: str) -> tuple[str, bool]:
    """Apply the escape syntax to a name used to *find* properties.

    Returns (name, exact). ``exact`` is False for an unqualified name, which
    matches that identifier in every namespace.
    """
    if name.startswith("::"):
        return name[2:], True
    if name.startswith(":"):
        return f"{current_ns}:{name[1:]}", True
    if ":" in name:
        return name, True
    return name, False


def qualify(name: str, property_ns: str) -> str:
    """The target property a name *writes* to in namespaced mode.

    Unqualified names get the property namespace, except reserved ``_`` and
    conventional ``$`` names (``_id``, ``_deleted``, ``$ids``, ``$children``),
    which stay as they are, like ``add_namespaces`` leaves them.
    """
    if name.startswith("::"):
        return name[2:]
    if name.startswith(":"):
        return f"{property_ns}:{name[1:]}"
    if ":" in name or name.startswith(("_", "$")):
        return name
    return f"{property_ns}:{name}"


def qualify_id(value: Any, identity_ns: str) -> Any:
    """An ``_id`` value written in namespaced mode: plain strings without a
    namespace get the identity namespace; ``::x`` / ``:x`` escapes apply;
    already-qualified strings (``crm:42``) are kept, so copying an id from a
    namespaced source does not prefix it twice. Lists are mapped."""
    if type(value) is list:
        return [qualify_id(v, identity_ns) for v in value]
    if type(value) is not str or (len(value) > 1 and value[0] == "~"):
        return value
    if value.startswith("::"):
        return value[2:]
    if value.startswith(":"):
        return f"{identity_ns}:{value[1:]}"
    if ":" in value:
        return value
    return f"{identity_ns}:{value}"


# ---------------------------------------------------------------- wildcards


def has_wildcards(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _pattern_test(pattern: str, ni_mode: bool, property_ns: str) -> Callable[[str], bool]:
    """A predicate matching the whole property name for one pattern.

    In NI mode the last colon separates namespace and identifier, and the
    identifier's wildcards never match a colon (see wildcards.py).
    """
    if not ni_mode:
        return compile_wildcard(pattern)
    if pattern.startswith("::"):
        return compile_wildcard(pattern[2:])
    if pattern.startswith(":"):
        return compile_tokens(literal_tokens(property_ns + ":") + tokens(pattern[1:], colon_ok=False))
    ns, ident = split_key(pattern)
    if ns is None:
        # Unqualified: the identifier in any namespace (or none). The
        # identifier holds no colon, so it is what follows the name's last one.
        ident_test = compile_tokens(tokens(ident, colon_ok=False))
        return lambda name: ident_test(name.rpartition(":")[2])
    return compile_tokens(tokens(ns) + literal_tokens(":") + tokens(ident, colon_ok=False))


def compile_patterns(patterns: list[str], *, ni_mode: bool, property_ns: str) -> Callable[[str], bool]:
    """A predicate ``matches(name)`` for a list of wildcard patterns (full-name
    match), compiled once; safe from catastrophic backtracking."""
    if not patterns:
        return lambda name: False
    tests = [_pattern_test(p, ni_mode, property_ns) for p in patterns]
    if len(tests) == 1:
        return tests[0]
    return lambda name: any(test(name) for test in tests)


# ---------------------------------------------------------------- pipe rewrites

# Sources and sinks whose add_namespaces / remove_namespaces default to true
# when namespaced identifiers are on (features/namespaces page).
ADD_BY_DEFAULT_SOURCES = frozenset(
    {"csv", "kafka", "ldap", "sql", "embedded", "http_endpoint", "json"}
)
REMOVE_BY_DEFAULT_SINKS = frozenset(
    {"csv_endpoint", "elasticsearch", "mail", "rest", "sms", "solr", "kafka", "sql", "http_endpoint", "json"}
)


def pipe_flags(pipe: dict | None, node_metadata: dict | None = None) -> tuple[bool, bool, bool]:
    """(namespaced_identifiers, add_namespaces, remove_namespaces) of a pipe
    config, with the service-metadata and source/sink-type defaults applied.

    >>> pipe_flags({"namespaced_identifiers": True, "source": {"type": "sql"}})
    (True, True, False)
    """
    pipe = pipe or {}
    meta = node_metadata or {}
    ni = pipe.get("namespaced_identifiers")
    if ni is None:
        ni = meta.get("namespaced_identifiers", False)
    ni = bool(ni)
    add = pipe.get("add_namespaces")
    if add is None:
        source = pipe.get("source") if isinstance(pipe.get("source"), dict) else {}
        add = ni and source.get("type") in ADD_BY_DEFAULT_SOURCES
    remove = pipe.get("remove_namespaces")
    if remove is None:
        sink = pipe.get("sink") if isinstance(pipe.get("sink"), dict) else {}
        remove = ni and sink.get("type") in REMOVE_BY_DEFAULT_SINKS
    return ni, bool(add), bool(remove)


def _add_keys(value: Any, ns: str) -> Any:
    t = type(value)
    if t is dict:
        prefix = ns + ":"
        out = {}
        for k, v in value.items():
            if k.startswith(("_", "$")):
                out[k] = v
            else:
                out[k if k.startswith(prefix) else prefix + k] = _add_keys(v, ns)
        return out
    if t is list:
        return [_add_keys(v, ns) for v in value]
    return value


def add_namespaces(entity: dict, identity_ns: str, property_ns: str) -> dict:
    """What ``add_namespaces: true`` does to an entity before the first transform.

    Keys get the property namespace (recursively into nested dicts and lists);
    ``_``/``$`` keys are left as they are (values included); the ``_id``
    string gets the identity namespace.

    >>> add_namespaces({"_id": "1", "name": "a", "$ids": ["~:x:1"], "o": {"k": 1}}, "crm", "crm")
    {'_id': 'crm:1', 'crm:name': 'a', '$ids': ['~:x:1'], 'crm:o': {'crm:k': 1}}
    """
    out = _add_keys(entity, property_ns)
    ident = out.get("_id")
    if type(ident) is str:
        out["_id"] = f"{identity_ns}:{ident}"
    return out


def _strip_value(value: Any) -> Any:
    t = type(value)
    if t is str:
        if value.startswith("~:"):
            ns, sep, ident = value[2:].partition(":")
            return "~:" + ident if sep else value
        return value
    if t is dict:
        return _strip_keys(value)
    if t is list:
        return [_strip_value(v) for v in value]
    return value


def _strip_keys(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if not k.startswith(("_", "$")):
            k = k.rpartition(":")[2]
        out[k] = _strip_value(v)
    return out


def remove_namespaces(entity: dict) -> dict:
    """What ``remove_namespaces: true`` does to an entity after the last transform.

    Property names lose their namespace (up to the last colon), recursively;
    the ``_id`` loses its identity namespace (up to the first colon); NI values
    anywhere lose theirs (``~:crm:42`` -> ``~:42``). When two properties
    collapse to the same name the later one wins.

    >>> remove_namespaces({"_id": "crm:1", "crm:name": "a", "rdf:type": "~:bouvet:product"})
    {'_id': '1', 'name': 'a', 'type': '~:product'}
    """
    out = _strip_keys(entity)
    ident = out.get("_id")
    if type(ident) is str and ":" in ident:
        out["_id"] = ident.partition(":")[2]
    return out
