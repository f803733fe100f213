"""Property paths: ``"_S.orders.amount"``, ``"_P._S.x"``, ``"_S.foo.'a.b'.c"``.

A path string names a variable and then a list of keys. Walking a key over a
list maps it over the elements and flattens the results one level, so
``_S.orders.amount`` is the list of every order's amount; nulls met on the
way are dropped from such lists. Keys may be quoted with single quotes to
contain dots; ``''`` inside quotes is a quote.

In namespaced-identifier mode, keys are namespace aware (see ``lookup_ni``).
"""

from __future__ import annotations

from typing import Any

from .values import splice

VARIABLE_PREFIXES = ("_S.", "_T.", "_P.", "_R.", "_B.", "_.")


def is_path(text: str) -> bool:
    """True if a DTL string is a variable path rather than a literal."""
    return type(text) is str and text.startswith(VARIABLE_PREFIXES)


def split_path(text: str) -> tuple[str, list[str]]:
    """Split ``"_S.a.'b.c'"`` into ("_S", ["a", "b.c"]).

    ``"_S."`` gives ("_S", []); ``"_."`` gives ("_", []).
    Raises ValueError on an unterminated quote.
    """
    var, _, rest = text.partition(".")
    keys: list[str] = []
    if rest == "":
        return var, keys
    i, n = 0, len(rest)
    while i <= n:
        if i < n and rest[i] == "'":
            j = i + 1
            buf = []
            while True:
                if j >= n:
                    raise ValueError(f"unterminated quote in path {text!r}")
                if rest[j] == "'":
                    if j + 1 < n and rest[j + 1] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    break
                buf.append(rest[j])
                j += 1
            keys.append("".join(buf))
            j += 1
            if j < n and rest[j] != ".":
                raise ValueError(f"a quoted path element must end at a '.' in {text!r}")
            i = j + 1
        else:
            j = rest.find(".", i)
            if j == -1:
                j = n
            keys.append(rest[i:j])
            i = j + 1
    return var, keys


def walk(value: Any, keys: list[str] | tuple[str, ...]) -> Any:
    """Follow keys from value; lists are mapped over and flattened."""
    for i, key in enumerate(keys):
        t = type(value)
        if t is dict:
            value = value.get(key)
        elif t is list:
            return _walk_list(value, keys[i:])
        else:
            return None
    return value


def _walk_list(values: list, keys) -> list:
    out: list = []
    for v in values:
        if type(v) is dict:
            r = walk(v.get(keys[0]), keys[1:]) if len(keys) > 1 else v.get(keys[0])
        elif type(v) is list:
            r = _walk_list(v, keys)
        else:
            continue
        if r is None:
            continue
        if type(r) is list:
            out.extend(r)
        else:
            out.append(r)
    return out


# ---------------------------------------------------------------- namespaces


def split_ni_key(key: str) -> tuple[str | None, str]:
    """(namespace or None, identifier) of a property name, at the last colon."""
    ns, sep, ident = key.rpartition(":")
    if not sep:
        return None, key
    return ns, ident


def resolve_ni_key(key: str, current_ns: str) -> tuple[str, bool]:
    """Apply the NI escape syntax to a key used for lookup.

    Returns (name, exact): ``"::bar"`` -> ("bar", True); ``":bar"`` ->
    ("<current>:bar", True); ``"x:bar"`` -> ("x:bar", True); ``"bar"`` ->
    ("bar", False) which matches ``bar`` in every namespace.
    """
    if key.startswith("::"):
        return key[2:], True
    if key.startswith(":"):
        return f"{current_ns}:{key[1:]}", True
    if ":" in key or key.startswith(("_", "$")):
        return key, True
    return key, False


def lookup_ni(d: dict, key: str, current_ns: str) -> Any:
    """Namespace-aware ``d[key]``: an unqualified key collects the values of
    that identifier in every namespace (one match: the value itself; several:
    their values flattened into one list, in key order)."""
    name, exact = resolve_ni_key(key, current_ns)
    if exact:
        return d.get(name)
    found = []
    for k, v in d.items():
        if k == name or (k.endswith(name) and k[-len(name) - 1] == ":"):
            found.append(v)
    if not found:
        return None
    return found[0] if len(found) == 1 else splice(found)


def walk_ni(value: Any, keys, current_ns: str) -> Any:
    """``walk`` with namespace-aware keys."""
    for i, key in enumerate(keys):
        t = type(value)
        if t is dict:
            value = lookup_ni(value, key, current_ns)
        elif t is list:
            out: list = []
            for v in value:
                r = walk_ni(v, keys[i:], current_ns) if type(v) in (dict, list) else None
                if r is None:
                    continue
                if type(r) is list:
                    out.extend(r)
                else:
                    out.append(r)
            return out
        else:
            return None
    return value
