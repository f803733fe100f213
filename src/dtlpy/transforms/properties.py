"""DTL transforms that set target properties: add, add-if, default, copy,
remove, rename, merge, merge-union, make-ni.

Property names may be expressions. With namespaced identifiers on (the
pipe's ``namespaced_identifiers``), names follow :mod:`dtlpy.namespaces`:
names written get the property namespace, ``_id`` values the identity
namespace, and names read or matched find the identifier in every namespace.
Constant names and patterns are resolved once, at compile time.
"""

from __future__ import annotations

from ..compiler import constant, is_const, pointer
from ..errors import DtlTypeError
from ..namespaces import compile_patterns, has_wildcards, qualify, qualify_id, resolve
from ..paths import split_ni_key
from ..registry import Registry
from ..values import as_list, hashable_key, is_plain_string, splice, truthy

registry = Registry()


# ---------------------------------------------------------------- helpers


def _names(value) -> list[str]:
    """Property names from an evaluated PROPERTY argument (strings only)."""
    if type(value) is str:
        return [value]
    if type(value) is list:
        return [n for n in value if type(n) is str]
    return []


def _check_name_arg(c, fn, ptr, node, what="property name"):
    """A constant PROPERTY that is not a string (or list of them) is a rule bug."""
    if is_const(fn):
        v = fn.value
        if not (type(v) is str or (type(v) is list and all(type(n) is str for n in v))):
            raise c.error(f"the {what} must be a string, got {v!r}", ptr, node, code="invalid-argument")


def _setter(c, args, ptr, only_if_missing: bool):
    """Compile PROPERTY into ``put(ctx, value)`` honouring NI mode.

    Returns a fast closure for the common case: a constant name, no NI mode.
    """
    prop = c.expr(args[0], pointer(ptr, 1))
    _check_name_arg(c, prop, pointer(ptr, 1), args[0])
    ni = c.ni_mode
    pns, ins = c.property_ns, c.identity_ns

    def target_names(names):
        return [qualify(n, pns) for n in names] if ni else names

    if is_const(prop):
        names = target_names(_names(prop.value))
        if len(names) == 1:
            (name,) = names
            is_id = ni and name == "_id"
            if only_if_missing:
                if is_id:
                    def put(ctx, v):
                        if name not in ctx.T:
                            ctx.T[name] = qualify_id(v, ins)
                else:
                    def put(ctx, v):
                        if name not in ctx.T:
                            ctx.T[name] = v
            elif is_id:
                def put(ctx, v):
                    ctx.T[name] = qualify_id(v, ins)
            else:
                def put(ctx, v):
                    ctx.T[name] = v
            return put, name

        def put_many(ctx, v):
            _put(ctx.T, names, v, ni, ins, only_if_missing)

        return put_many, None

    def put_dynamic(ctx, v):
        _put(ctx.T, target_names(_names(prop(ctx))), v, ni, ins, only_if_missing)

    return put_dynamic, None


def _put(T, names, v, ni, ins, only_if_missing):
    for n in names:
        if only_if_missing and n in T:
            continue
        T[n] = qualify_id(v, ins) if ni and n == "_id" else v


# ---------------------------------------------------------------- add & co


@registry.transform("add", 2, signature="PROPERTY VALUES")
def compile_add(c, args, ptr):
    """Set target property PROPERTY (a name or list of names) to VALUES, overwriting.

    >>> compile({"default": [["add", "_id", "a"], ["add", "n", ["+", 1, 2]]]}).transform({})
    [{'_id': 'a', 'n': 3}]
    """
    value = c.expr(args[1], pointer(ptr, 2))
    put, name = _setter(c, args, ptr, only_if_missing=False)
    if name is not None and not (c.ni_mode and name == "_id"):
        # The benchmark's hot path: nothing but one dict store.
        def add(ctx):
            ctx.T[name] = value(ctx)

        return add
    return lambda ctx: put(ctx, value(ctx))


@registry.transform("default", 2, signature="PROPERTY VALUES")
def compile_default(c, args, ptr):
    """Like ``add``, but leaves a property the target already has alone.
    VALUES is not evaluated when every named property exists."""
    value = c.expr(args[1], pointer(ptr, 2))
    put, name = _setter(c, args, ptr, only_if_missing=True)
    if name is not None:
        def default(ctx):
            if name not in ctx.T:
                put(ctx, value(ctx))

        return default
    return lambda ctx: put(ctx, value(ctx))


@registry.transform("add-if", 2, 3, signature="PROPERTY CONDITION? VALUES")
def compile_add_if(c, args, ptr):
    """Like ``add``, but only when CONDITION (with ``_`` bound to the value)
    is true; without CONDITION, only when the value is not null."""
    value = c.expr(args[-1], pointer(ptr, len(args)))
    put, _ = _setter(c, args, ptr, only_if_missing=False)
    if len(args) == 2:
        def add_if(ctx):
            v = value(ctx)
            if v is not None:
                put(ctx, v)

        return add_if
    cond = c.item_fn(args[1], pointer(ptr, 2))

    def add_if_cond(ctx):
        v = value(ctx)
        if truthy(cond(ctx, v)):
            put(ctx, v)

    return add_if_cond


# ---------------------------------------------------------------- copy & remove


def _pattern_list(c, node, ptr):
    """Compile a wildcard-string-list argument to ``patterns(ctx) -> matcher``."""
    fn = c.expr(node, ptr)
    ni, pns = c.ni_mode, c.property_ns
    if is_const(fn):
        pats = fn.value
        if not (type(pats) is str or (type(pats) is list and all(type(p) is str for p in pats))):
            raise c.error("a pattern must be a string or a list of strings", ptr, node, code="invalid-argument")
        pats = as_list(pats)
        matcher = compile_patterns(pats, ni_mode=ni, property_ns=pns)
        return constant((pats, matcher))
    cache: dict = {}

    def dynamic(ctx):
        pats = tuple(p for p in as_list(fn(ctx)) if type(p) is str)
        hit = cache.get(pats)
        if hit is None:
            if len(cache) > 256:
                cache.clear()
            hit = cache[pats] = (list(pats), compile_patterns(list(pats), ni_mode=ni, property_ns=pns))
        return hit

    return dynamic


@registry.transform("copy", 1, 2, signature="INCLUDE EXCLUDE?")
def compile_copy(c, args, ptr):
    """Copy source properties matching any INCLUDE pattern and no EXCLUDE
    pattern (``*`` any run, ``?`` one character, whole-name match).

    >>> compile({"default": [["copy", "*", "b*"]]}).transform({"_id": "1", "a": 1, "b": 2})
    [{'_id': '1', 'a': 1}]
    """
    inc = _pattern_list(c, args[0], pointer(ptr, 1))
    exc = _pattern_list(c, args[1], pointer(ptr, 2)) if len(args) > 1 else None
    if is_const(inc) and (exc is None or is_const(exc)):
        pats, match = inc.value
        if exc is None:
            if pats == ["*"]:
                def copy_all(ctx):
                    S = ctx.S
                    if type(S) is dict:
                        ctx.T.update(S)

                return copy_all
            if not c.ni_mode and not any(has_wildcards(p) for p in pats):
                names = list(dict.fromkeys(pats))

                def copy_names(ctx):
                    S, T = ctx.S, ctx.T
                    if type(S) is dict:
                        for n in names:
                            if n in S:
                                T[n] = S[n]

                return copy_names

            def copy_inc(ctx):
                S, T = ctx.S, ctx.T
                if type(S) is dict:
                    for k, v in S.items():
                        if match(k):
                            T[k] = v

            return copy_inc
        excluded = exc.value[1]

        def copy_inc_exc(ctx):
            S, T = ctx.S, ctx.T
            if type(S) is dict:
                for k, v in S.items():
                    if match(k) and not excluded(k):
                        T[k] = v

        return copy_inc_exc

    def copy_dynamic(ctx):
        S, T = ctx.S, ctx.T
        if type(S) is not dict:
            return
        m = inc(ctx)[1]
        x = exc(ctx)[1] if exc is not None else None
        for k, v in S.items():
            if m(k) and (x is None or not x(k)):
                T[k] = v

    return copy_dynamic


@registry.transform("remove", 1, signature="PROPERTY")
def compile_remove(c, args, ptr):
    """Delete target properties matching the wildcard PROPERTY (or list of them)."""
    pats = _pattern_list(c, args[0], pointer(ptr, 1))
    if is_const(pats):
        names, match = pats.value
        if not c.ni_mode and not any(has_wildcards(p) for p in names):
            def remove_names(ctx):
                T = ctx.T
                for n in names:
                    T.pop(n, None)

            return remove_names

        def remove(ctx):
            T = ctx.T
            for k in [k for k in T if match(k)]:
                del T[k]

        return remove

    def remove_dynamic(ctx):
        T = ctx.T
        match = pats(ctx)[1]
        for k in [k for k in T if match(k)]:
            del T[k]

    return remove_dynamic


# ---------------------------------------------------------------- rename


def _source_matches(S: dict, name: str, ni: bool, pns: str) -> list[tuple[str, object]]:
    """(key, value) pairs of the source a name refers to (NI-aware)."""
    if not ni:
        return [(name, S[name])] if name in S else []
    key, exact = resolve(name, pns)
    if exact:
        return [(key, S[key])] if key in S else []
    return [(k, v) for k, v in S.items() if k == key or (k.endswith(key) and k[-len(key) - 1] == ":")]


def _collect(values: list):
    """Several NI matches written to one property: their values in one list."""
    return values[0] if len(values) == 1 else splice(values)


@registry.transform("rename", 2, signature="PROPERTY1 PROPERTY2")
def compile_rename(c, args, ptr):
    """Copy source property PROPERTY1 to target property PROPERTY2 (a null
    value is copied too; a missing property adds nothing)."""
    src = c.expr(args[0], pointer(ptr, 1))
    dst = c.expr(args[1], pointer(ptr, 2))
    _check_name_arg(c, src, pointer(ptr, 1), args[0])
    _check_name_arg(c, dst, pointer(ptr, 2), args[1])
    ni, pns = c.ni_mode, c.property_ns

    if not ni and is_const(src) and is_const(dst) and type(src.value) is str and type(dst.value) is str:
        a, b = src.value, dst.value

        def rename_const(ctx):
            S = ctx.S
            if type(S) is dict and a in S:
                ctx.T[b] = S[a]

        return rename_const

    def rename(ctx):
        S = ctx.S
        if type(S) is not dict:
            return
        for a, b in zip(_names(src(ctx)), _names(dst(ctx))):
            matches = _source_matches(S, a, ni, pns)
            if not matches:
                continue
            if not ni:
                ctx.T[b] = matches[0][1]
                continue
            target, exact = resolve(b, pns)
            if exact:
                ctx.T[target] = _collect([v for _, v in matches])
            else:
                # Unqualified target: each value keeps its source namespace.
                for k, v in matches:
                    ns, _ = split_ni_key(k)
                    ctx.T[f"{ns}:{target}" if ns is not None else target] = v

    return rename


# ---------------------------------------------------------------- merge


@registry.transform("merge", 1, signature="VALUES")
def compile_merge(c, args, ptr):
    """Copy every property of each dict in VALUES onto the target (later
    wins); root keys starting with ``_`` are skipped."""
    values = c.expr(args[0], pointer(ptr, 1))

    def merge(ctx):
        T = ctx.T
        for d in as_list(values(ctx)):
            if type(d) is dict:
                for k, v in d.items():
                    if not k.startswith("_"):
                        T[k] = v

    return merge


def _union_into(existing, new) -> list:
    out = list(as_list(existing))
    seen = {hashable_key(v) for v in out}
    for v in as_list(new):
        key = hashable_key(v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


@registry.transform("merge-union", 1, signature="VALUES")
def compile_merge_union(c, args, ptr):
    """Like ``merge``, but a property the target already has becomes the
    union (order kept, duplicates dropped) of the old and new values."""
    values = c.expr(args[0], pointer(ptr, 1))

    def merge_union(ctx):
        T = ctx.T
        for d in as_list(values(ctx)):
            if type(d) is dict:
                for k, v in d.items():
                    if k.startswith("_"):
                        continue
                    T[k] = _union_into(T[k], v) if k in T else v

    return merge_union


# ---------------------------------------------------------------- make-ni


def _make_nis(value, ns: str):
    """String values as NIs in namespace ns; None when none converts."""
    if type(value) is list:
        out = sorted(f"~:{ns}:{v}" for v in value if is_plain_string(v))
        return out or None
    if is_plain_string(value):
        return f"~:{ns}:{value}"
    return None


@registry.transform("make-ni", 2, 3, signature="NAMESPACE FROM_PROPERTY TO_PROPERTY?")
def compile_make_ni(c, args, ptr):
    """Target TO_PROPERTY (default FROM_PROPERTY + "-ni") = the string values
    of source FROM_PROPERTY as NIs in NAMESPACE (lists sorted); nothing is
    added if no value converts."""
    ns_fn = c.expr(args[0], pointer(ptr, 1))
    src = c.expr(args[1], pointer(ptr, 2))
    dst = c.expr(args[2], pointer(ptr, 3)) if len(args) > 2 else None
    for fn, i in ((ns_fn, 0), (src, 1)) + (((dst, 2),) if dst is not None else ()):
        if is_const(fn) and type(fn.value) is not str:
            raise c.error("make-ni needs string arguments", pointer(ptr, i + 1), args[i], code="invalid-argument")
    ni, pns = c.ni_mode, c.property_ns

    def make_ni(ctx):
        S = ctx.S
        ns, a = ns_fn(ctx), src(ctx)
        b = dst(ctx) if dst is not None else None
        if type(S) is not dict or type(ns) is not str or type(a) is not str:
            return
        if b is not None and type(b) is not str:
            raise DtlTypeError(f"make-ni: TO_PROPERTY must be a string, got {b!r}")
        if not ni:
            if a in S:
                v = _make_nis(S[a], ns)
                if v is not None:
                    ctx.T[b if b is not None else a + "-ni"] = v
            return
        matches = _source_matches(S, a, ni, pns)
        if b is not None:
            target, exact = resolve(b, pns)
            if exact:
                vs = [v for v in (_make_nis(v, ns) for _, v in matches) if v is not None]
                if vs:
                    ctx.T[target] = _collect(vs)
                return
        for k, v in matches:
            nis = _make_nis(v, ns)
            if nis is None:
                continue
            if b is None:
                ctx.T[k + "-ni"] = nis
            else:
                kns, _ = split_ni_key(k)
                ctx.T[f"{kns}:{target}" if kns is not None else target] = nis

    return make_ni
