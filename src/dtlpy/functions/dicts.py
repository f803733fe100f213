"""DTL functions: dictionaries.

dict, has-key, is-dict, items, key-values, keys, values, apply-ns, strip-ns
and path (namespace aware). ``apply`` lives in core, ``apply-hops`` in hops.

items/key-values/keys/values spread every dict of their argument into one
list; non-dicts are ignored. A single dict that yields exactly one result
yields it bare (the docs' ``["key-values", {"hello": "world"}]`` example).
"""

from __future__ import annotations

from typing import Any

from ..compiler import constant, is_const, pointer
from ..paths import split_ni_key, walk, walk_ni
from ..registry import Registry
from .lists import single_or_list

registry = Registry()


# ---------------------------------------------------------------- building dicts


def _pairs_to_dict(items: Any) -> dict:
    out: dict = {}
    for pair in items if type(items) is list else [items]:
        if type(pair) is list and len(pair) == 2 and type(pair[0]) is str:
            out[pair[0]] = pair[1]
    return out


@registry.special("dict", 0, None, signature="| ITEMS | (KEY VALUE)*")
def compile_dict(c, args, ptr):
    """Build a dict: no arguments -> ``{}``; one ITEMS list of ``[key, value]``
    pairs (anything else in it is ignored); or alternating KEY VALUE
    arguments. The last of repeated keys wins; non-string keys are skipped.

    >>> evaluate(["dict", "a", ["upper", "a"], ["lower", "B"], "B"])
    {'a': 'A', 'b': 'B'}
    """
    node = ["dict", *args]
    if not args:
        return lambda ctx: {}
    if len(args) == 1:
        items = c.expr(args[0], pointer(ptr, 1))
        if is_const(items):
            value = _pairs_to_dict(items.value)  # type: ignore[attr-defined]
            return lambda ctx: dict(value)
        return c.guarded(lambda ctx: _pairs_to_dict(items(ctx)), ptr, node, "dict")
    if len(args) % 2:
        raise c.error(
            f"'dict' takes no arguments, one ITEMS list or KEY VALUE pairs; got {len(args)} arguments",
            ptr, node, code="arity",
        )
    pairs = [
        (c.expr(args[i], pointer(ptr, i + 1)), c.expr(args[i + 1], pointer(ptr, i + 2)))
        for i in range(0, len(args), 2)
    ]

    def build(ctx):
        out = {}
        for k, v in pairs:
            key = k(ctx)
            if type(key) is list and len(key) == 1:
                key = key[0]
            if type(key) is str:
                out[key] = v(ctx)
        return out

    return c.guarded(build, ptr, node, "dict")


# ---------------------------------------------------------------- predicates


@registry.eager("has-key", 2, signature="KEY VALUES")
def has_key(key, values):
    """True/false whether the dict (or a list's first element) has KEY; null
    when that is not a dict.

    >>> evaluate(["has-key", "a", ["list", {"a": 1}, 123]])
    True
    """
    d = values[0] if type(values) is list and values else values
    if type(d) is not dict:
        return None
    if type(key) is list and len(key) == 1:
        key = key[0]
    return type(key) is str and key in d


@registry.eager("is-dict", 1, signature="VALUES")
def is_dict(values):
    """True if the value (or a list's first element) is a dict.

    >>> evaluate(["is-dict", ["list", {"a": 1}, 123]])
    True
    """
    if type(values) is list:
        return bool(values) and type(values[0]) is dict
    return type(values) is dict


# ---------------------------------------------------------------- spreading dicts


def _dicts(values):
    return [d for d in (values if type(values) is list else [values]) if type(d) is dict]


@registry.eager("items", 1, signature="DICTS")
def items(values):
    """``[key, value]`` pairs of every dict.

    >>> evaluate(["items", ["list", {"A": 1, "B": 2}, "X", {"C": 3}]])
    [['A', 1], ['B', 2], ['C', 3]]
    """
    return single_or_list(values, [[k, v] for d in _dicts(values) for k, v in d.items()])


@registry.eager("key-values", 1, signature="DICTS")
def key_values(values):
    """``{"key": k, "value": v}`` for every pair of every dict.

    >>> evaluate(["key-values", {"hello": "world"}])
    {'key': 'hello', 'value': 'world'}
    """
    return single_or_list(
        values, [{"key": k, "value": v} for d in _dicts(values) for k, v in d.items()]
    )


@registry.eager("keys", 1, signature="DICTS")
def keys(values):
    """Every key of every dict (repeats kept).

    >>> evaluate(["keys", ["list", {"A": 1, "B": 2}, {"A": 1}]])
    ['A', 'B', 'A']
    """
    return single_or_list(values, [k for d in _dicts(values) for k in d])


@registry.eager("values", 1, signature="DICTS")
def values_(values):
    """Every value of every dict.

    >>> evaluate(["values", ["list", "X", 123, {"A": 1}]])
    [1]
    """
    return single_or_list(values, [v for d in _dicts(values) for v in d.values()])


# ---------------------------------------------------------------- namespaces

_APPLY_NS_KEYS = {"property_namespace", "identity_namespace", "skip_underscore", "skip_dollar", "recursive"}


def _has_namespace(key: str) -> bool:
    return split_ni_key(key)[0] is not None


def _apply_ns(value: Any, prop_ns, ident_ns, skip_underscore, skip_dollar, recursive) -> Any:
    if type(value) is list:
        return [_apply_ns(v, prop_ns, ident_ns, skip_underscore, skip_dollar, recursive) for v in value]
    if type(value) is not dict:
        return value
    out = {}
    for k, v in value.items():
        if k == "_id" and ident_ns is not None and type(v) is str and not _has_namespace(v):
            v = f"{ident_ns}:{v}"
        if (skip_underscore and k.startswith("_")) or (skip_dollar and k.startswith("$")):
            out[k] = v  # left as is, content included
            continue
        if recursive:
            v = _apply_ns(v, prop_ns, ident_ns, skip_underscore, skip_dollar, recursive)
        if prop_ns is not None and not _has_namespace(k):
            k = f"{prop_ns}:{k}"
        out[k] = v
    return out


@registry.special("apply-ns", 2, signature="NAMESPACE_OR_CONFIG VALUES")
def compile_apply_ns(c, args, ptr):
    """Add namespaces to dict keys like the ``add_namespaces`` pipe setting.

    The first argument is a constant namespace (used for both properties and
    the ``_id`` value) or a config dict with ``property_namespace``,
    ``identity_namespace`` (null: add none), ``skip_underscore``,
    ``skip_dollar`` and ``recursive`` (all true by default). Keys that
    already have a namespace are kept.

    >>> evaluate(["apply-ns", "myns", {"_id": "123", "foo": 1, "$bar": {"baz": 2}}])
    {'_id': 'myns:123', 'myns:foo': 1, '$bar': {'baz': 2}}
    """
    config = args[0]
    cptr = pointer(ptr, 1)
    settings = {
        "property_namespace": c.property_ns,
        "identity_namespace": c.identity_ns,
        "skip_underscore": True,
        "skip_dollar": True,
        "recursive": True,
    }
    if type(config) is str and not config.startswith(("_S.", "_T.", "_P.", "_R.", "_B.", "_.")):
        settings["property_namespace"] = settings["identity_namespace"] = config
    elif type(config) is dict:
        unknown = set(config) - _APPLY_NS_KEYS
        if unknown:
            raise c.error(
                f"apply-ns: unknown setting(s) {sorted(unknown)}", cptr, config,
                code="invalid-argument", hint=f"known settings: {sorted(_APPLY_NS_KEYS)}",
            )
        for k in ("property_namespace", "identity_namespace"):
            if k in config and config[k] is not None and type(config[k]) is not str:
                raise c.error(f"apply-ns: {k} must be a string or null", cptr, config, code="invalid-argument")
        for k in ("skip_underscore", "skip_dollar", "recursive"):
            if k in config and type(config[k]) is not bool:
                raise c.error(f"apply-ns: {k} must be true or false", cptr, config, code="invalid-argument")
        settings.update(config)
    else:
        raise c.error(
            "apply-ns needs a constant namespace string or a constant settings dict",
            cptr, config, code="invalid-argument",
        )
    values = c.expr(args[1], pointer(ptr, 2))
    opts = (
        settings["property_namespace"],
        settings["identity_namespace"],
        settings["skip_underscore"],
        settings["skip_dollar"],
        settings["recursive"],
    )

    def apply_ns(ctx):
        v = values(ctx)
        if type(v) is list:
            return [_apply_ns(d, *opts) for d in v if type(d) is dict]
        if type(v) is dict:
            return _apply_ns(v, *opts)
        return None

    return c.guarded(apply_ns, ptr, ["apply-ns", *args], "apply-ns")


def _strip_ns(value: Any) -> Any:
    if type(value) is list:
        return [_strip_ns(v) for v in value]
    if type(value) is not dict:
        return value
    return {split_ni_key(k)[1]: _strip_ns(v) for k, v in value.items()}


@registry.eager("strip-ns", 1, signature="VALUES")
def strip_ns(values):
    """Remove namespaces from dict keys, recursively (``ns1:b`` -> ``b``; of
    keys that become equal the last wins). Non-dicts are dropped.

    >>> evaluate(["strip-ns", {"ns1:b": 1, "ns2:c": {"ns3:d": 2}}])
    {'b': 1, 'c': {'d': 2}}
    """
    if type(values) is list:
        return [_strip_ns(d) for d in values if type(d) is dict]
    if type(values) is dict:
        return _strip_ns(values)
    return None


# ---------------------------------------------------------------- path


def _path_keys(path: Any) -> tuple:
    if type(path) is str:
        return (path,)
    if type(path) is list:
        return tuple(p for p in path if type(p) is str)
    return ()


@registry.special("path", 2, signature="PROPERTY_PATH VALUES")
def compile_path(c, args, ptr):
    """Walk PROPERTY_PATH (a key or a list of keys; non-strings ignored, so an
    empty path gives the values themselves) through VALUES. Lists met on the
    way are mapped over and flattened; a missing key gives null. With
    namespaced identifiers on, an unqualified key matches it in every
    namespace (``::a`` = exactly ``a``, ``:a`` = the property namespace).

    >>> evaluate(["path", ["list", "a", "b"], ["list", {"a": {"b": 1}}, {"a": [{"b": 2}]}]])
    [1, 2]
    """
    path = c.expr(args[0], pointer(ptr, 1))
    values = c.expr(args[1], pointer(ptr, 2))
    ni_mode, ns = c.ni_mode, c.property_ns
    fixed = _path_keys(path.value) if is_const(path) else None  # type: ignore[attr-defined]

    def run(ctx):
        keys = fixed if fixed is not None else _path_keys(path(ctx))
        v = values(ctx)
        if not keys:
            return v
        return walk_ni(v, keys, ns) if ni_mode else walk(v, keys)

    if is_const(path) and is_const(values):
        try:
            return constant(run(None))
        except Exception:
            pass
    return c.guarded(run, ptr, ["path", *args], "path")
