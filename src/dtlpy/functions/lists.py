"""DTL functions: lists.

count, combine, distinct, enumerate, filter (the expression form), first,
last, nth, flatten, group, group-by, in, insert, is-empty, is-not-empty
(and its old name not-empty), is-list, map, map-dict, map-values, max, min,
range, reversed, slice, sorted, sorted-descending, sum.

Conventions (DTL-REFERENCE §2.4): VALUES may be null, one value or a list.
Functions that transform a list return a list for a list and a single value
for a single value; null stays null. Functions with an optional leading
FUNCTION (``distinct``, ``max``, ``sorted`` ...) tell the forms apart by the
number of arguments; FUNCTION is a function-expression evaluated with ``_``
bound to each value.
"""

from __future__ import annotations

import json
from decimal import localcontext
from typing import Any, Callable

from ..compiler import pointer
from ..errors import DtlRuntimeError, DtlTypeError
from ..registry import Registry
from ..values import (
    SortKey,
    as_list,
    first,
    from_number,
    hashable_key,
    promote,
    splice,
    to_number,
    truthy,
)

registry = Registry()

# Largest list ``range`` may build: a typo like ["range", 0, 1e12] must fail
# cleanly instead of exhausting memory.
MAX_RANGE = 10_000_000


def _integer(value: Any, what: str) -> int:
    """An integer argument (the first element of a list counts)."""
    v = first(value)
    if type(v) is not int:
        raise DtlTypeError(f"{what} must be an integer, got {v!r}")
    return v


def _split_function(c, args, ptr):
    """``FUNCTION? VALUES``: (item function or None, VALUES closure)."""
    if len(args) == 2:
        return c.item_fn(args[0], pointer(ptr, 1)), c.expr(args[1], pointer(ptr, 2))
    return None, c.expr(args[0], pointer(ptr, 1))


def _lift(values: Any, op: Callable[[list], list]) -> Any:
    """Apply a list operation keeping the shape: list -> list, value -> value
    (or null when the operation drops it), null -> null."""
    if values is None:
        return None
    if type(values) is list:
        return op(values)
    out = op([values])
    return out[0] if out else None


def single_or_list(values: Any, out: list) -> Any:
    """The shape rule of the dict-spreading functions (key-values, items,
    keys, values, map-values): a lone dict that gives exactly one result
    gives that result bare, as the docs' key-values example shows."""
    if type(values) is not list and len(out) == 1:
        return out[0]
    return out


# ---------------------------------------------------------------- plain functions


@registry.eager("count", 1, signature="VALUES")
def count(values):
    """Number of elements; null counts 0 and a single value 1.

    >>> evaluate(["count", ["list", 2, 4, 6]])
    3
    """
    return len(as_list(values))


@registry.eager("combine", 1, None, signature="VALUES+")
def combine(*args):
    """One list of every argument; list arguments are spliced one level, null
    arguments are dropped.

    >>> evaluate(["combine", 1, ["list", 2, 3, ["list", 4]]])
    [1, 2, 3, [4]]
    """
    return splice(args)


@registry.eager("first", 1, signature="VALUES")
def first_value(values):
    """The first element of a list (null when empty); a single value itself.

    >>> evaluate(["first", ["list", "a", "b"]])
    'a'
    """
    return first(values)


@registry.eager("last", 1, signature="VALUES")
def last_value(values):
    """The last element of a list (null when empty); a single value itself.

    >>> evaluate(["last", ["list", "a", "b", "c"]])
    'c'
    """
    if type(values) is list:
        return values[-1] if values else None
    return values


@registry.eager("nth", 2, signature="INDEX VALUES")
def nth(index, values):
    """Element INDEX (zero-based; negative counts from the end) or null when
    out of range. A single value is element 0.

    >>> evaluate(["nth", 1, ["list", "a", "b", "c"]])
    'b'
    """
    i = _integer(index, "nth INDEX")
    if type(values) is not list:
        return values if i == 0 else None
    if -len(values) <= i < len(values):
        return values[i]
    return None


@registry.eager("flatten", 1, signature="VALUES")
def flatten(values):
    """A new list with list elements spliced in, one level only.

    >>> evaluate(["flatten", ["list", ["list", 1, 2], ["list", 3, ["list", 4]]]])
    [1, 2, 3, [4]]
    """
    if type(values) is not list:
        return values
    out: list = []
    for v in values:
        if type(v) is list:
            out.extend(v)
        else:
            out.append(v)
    return out


@registry.eager("in", 2, signature="VALUES ITEMS")
def in_(values, items):
    """True if every value of VALUES occurs in ITEMS (a subset test); false
    for null or an empty VALUES.

    >>> evaluate(["in", ["list", "a", "c"], ["list", "a", "b", "c"]])
    True
    """
    if type(values) is list:
        if not values:
            return False
    elif values is None:
        return False
    else:
        values = [values]
    pool = {hashable_key(v) for v in (items if type(items) is list else [items])}
    return all(hashable_key(v) in pool for v in values)


@registry.eager("insert", 3, signature="INDEX VALUES OBJECT")
def insert(index, values, obj):
    """A new list with OBJECT inserted as one element at INDEX (negative
    counts from the end, like Python's ``list.insert``).

    >>> evaluate(["insert", -2, ["list", 1, 2, 3], 4])
    [1, 4, 2, 3]
    """
    i = _integer(index, "insert INDEX")
    out = list(as_list(values))
    out.insert(i, obj)
    return out


@registry.eager("is-empty", 1, signature="VALUES")
def is_empty(values):
    """True when VALUES, read as a list, has no elements (null is empty).

    >>> evaluate(["is-empty", "_S.hobbies"], {"hobbies": []})
    True
    """
    return not as_list(values)


@registry.eager("is-not-empty", 1, signature="VALUES")
def is_not_empty(values):
    """True when VALUES, read as a list, has elements.

    >>> evaluate(["is-not-empty", ["list", null]])
    True
    """
    return bool(as_list(values))


@registry.eager("not-empty", 1, signature="VALUES")
def not_empty(values):
    """Deprecated name of ``is-not-empty``.

    >>> evaluate(["not-empty", 1])
    True
    """
    return bool(as_list(values))


@registry.eager("is-list", 1, signature="VALUES")
def is_list(values):
    """True only if the value itself is a list (a dict or string is not).

    >>> evaluate(["is-list", ["list", "foo:bar"]])
    True
    """
    return type(values) is list


@registry.eager("range", 2, 3, signature="START STOP STEP?")
def range_(start, stop, step=1):
    """Integers from START up to (not including) STOP by STEP (not 0).

    >>> evaluate(["range", 4, 0, -1])
    [4, 3, 2, 1]
    """
    a = _integer(start, "range START")
    b = _integer(stop, "range STOP")
    s = _integer(step, "range STEP")
    if s == 0:
        raise DtlTypeError("range STEP must not be 0", code="invalid-argument")
    r = range(a, b, s)
    if len(r) > MAX_RANGE:
        raise DtlRuntimeError(f"range would have {len(r)} elements (limit {MAX_RANGE})", code="limit-exceeded")
    return list(r)


@registry.eager("reversed", 1, signature="VALUES")
def reversed_(values):
    """A new list in reverse order; a single value is returned as is.

    >>> evaluate(["reversed", ["list", 1, 3, 2]])
    [2, 3, 1]
    """
    if type(values) is list:
        return values[::-1]
    return values


@registry.eager("slice", 2, 4, signature="START END? STRIDE? VALUES")
def slice_(*args):
    """Python slicing of VALUES: START, optional END (null = to the end) and
    STRIDE (not 0); negative indexes count from the end.

    >>> evaluate(["slice", 2, -2, 2, ["list", 0, 1, 2, 3, 4, 5, 6]])
    [2, 4]
    """
    *bounds, values = args
    start = _integer(bounds[0], "slice START") if first(bounds[0]) is not None else None
    end = None
    stride = None
    if len(bounds) > 1 and first(bounds[1]) is not None:
        end = _integer(bounds[1], "slice END")
    if len(bounds) > 2 and first(bounds[2]) is not None:
        stride = _integer(bounds[2], "slice STRIDE")
        if stride == 0:
            raise DtlTypeError("slice STRIDE must not be 0", code="invalid-argument")
    return as_list(values)[start:end:stride]


@registry.eager("sum", 1, signature="VALUES")
def sum_(values):
    """Sum of the numeric values; anything else is ignored (booleans too).
    Decimals make the sum a decimal, floats a float; an empty sum is 0.

    >>> evaluate(["sum", ["list", 2, 4, "x", 6]])
    12
    """
    total: Any = 0
    # values.decimal_context() cannot set .prec on a context *manager*;
    # set the precision on the context itself.
    with localcontext() as dctx:
        dctx.prec = 100
        for v in as_list(values):
            n = to_number(v)
            if n is None:
                continue
            a, b = promote(total, n)
            total = a + b
    return from_number(total)


@registry.eager("enumerate", 1, 2, signature="START? VALUES")
def enumerate_(*args):
    """``{"key": n, "value": v}`` for each value, counting from START (0).

    >>> evaluate(["enumerate", 2, ["list", 17, 32]])
    [{'key': 2, 'value': 17}, {'key': 3, 'value': 32}]
    """
    start = _integer(args[0], "enumerate START") if len(args) == 2 else 0
    values = args[-1]
    return _lift(values, lambda vs: [{"key": start + i, "value": v} for i, v in enumerate(vs)])


# ---------------------------------------------------------------- function-expressions


@registry.special("map", 2, signature="FUNCTION VALUES", function_args=(0,))
def compile_map(c, args, ptr):
    """FUNCTION applied to each value (a single value gives a single result).

    >>> evaluate(["map", ["lower", "_."], ["list", "A", "B"]])
    ['a', 'b']
    """
    fn, values = _split_function(c, args, ptr)

    def map_(ctx):
        return _lift(values(ctx), lambda vs: [fn(ctx, v) for v in vs])

    return c.guarded(map_, ptr, ["map", *args], "map")


@registry.special("filter", 2, signature="FUNCTION VALUES", function_args=(0,))
def compile_filter(c, args, ptr):
    """The values for which FUNCTION is truthy (a single value that fails
    gives null).

    >>> evaluate(["filter", ["gt", "_.age", 42], ["list", {"age": 30}, {"age": 50}]])
    [{'age': 50}]
    """
    fn, values = _split_function(c, args, ptr)

    def filter_(ctx):
        return _lift(values(ctx), lambda vs: [v for v in vs if truthy(fn(ctx, v))])

    return c.guarded(filter_, ptr, ["filter", *args], "filter")


@registry.special("distinct", 1, 2, signature="FUNCTION? VALUES", function_args=(0,))
def compile_distinct(c, args, ptr):
    """The values without duplicates, first occurrence kept; FUNCTION, if
    given, computes what is compared, but the values are returned.

    >>> evaluate(["distinct", ["upper", "_."], ["list", "a", "A", "B", "b"]])
    ['a', 'B']
    """
    fn, values = _split_function(c, args, ptr)

    def distinct(ctx):
        def op(vs):
            seen = set()
            out = []
            for v in vs:
                key = hashable_key(fn(ctx, v) if fn else v)
                if key not in seen:
                    seen.add(key)
                    out.append(v)
            return out

        return _lift(values(ctx), op)

    return c.guarded(distinct, ptr, ["distinct", *args], "distinct")


def _sorter(c, args, ptr, name: str, descending: bool):
    fn, values = _split_function(c, args, ptr)

    def sort(ctx):
        vs = values(ctx)
        if type(vs) is not list:
            return vs
        if fn is None:
            return sorted(vs, key=SortKey, reverse=descending)
        keys = [SortKey(fn(ctx, v)) for v in vs]
        # Python's sort is stable in both directions, as the docs require.
        order = sorted(range(len(vs)), key=keys.__getitem__, reverse=descending)
        return [vs[i] for i in order]

    return c.guarded(sort, ptr, [name, *args], name)


@registry.special("sorted", 1, 2, signature="FUNCTION? VALUES", function_args=(0,))
def compile_sorted(c, args, ptr):
    """Stable ascending sort by the mixed-type order; FUNCTION gives the key
    but the values are returned. A non-list is returned as is.

    >>> evaluate(["sorted", "_.age", ["list", {"age": 30}, {"age": 20}]])
    [{'age': 20}, {'age': 30}]
    """
    return _sorter(c, args, ptr, "sorted", False)


@registry.special("sorted-descending", 1, 2, signature="FUNCTION? VALUES", function_args=(0,))
def compile_sorted_descending(c, args, ptr):
    """Stable descending sort by the mixed-type order (equal keys keep their order).

    >>> evaluate(["sorted-descending", ["list", "b", 2, "a", 4]])
    ['b', 'a', 4, 2]
    """
    return _sorter(c, args, ptr, "sorted-descending", True)


def _extreme(c, args, ptr, name: str, want_max: bool):
    fn, values = _split_function(c, args, ptr)

    def extreme(ctx):
        vs = values(ctx)
        if type(vs) is not list:
            return vs
        best = None
        best_key = None
        for v in vs:
            k = SortKey(fn(ctx, v) if fn else v)
            # A strict comparison keeps the first of equal values.
            if best_key is None or (k > best_key if want_max else k < best_key):
                best, best_key = v, k
        return best

    return c.guarded(extreme, ptr, [name, *args], name)


@registry.special("max", 1, 2, signature="FUNCTION? VALUES", function_args=(0,))
def compile_max(c, args, ptr):
    """The largest value by the mixed-type order (FUNCTION gives the key, the
    value is returned); null for an empty list.

    >>> evaluate(["max", ["list", "b", 2, "a", 3]])
    'b'
    """
    return _extreme(c, args, ptr, "max", True)


@registry.special("min", 1, 2, signature="FUNCTION? VALUES", function_args=(0,))
def compile_min(c, args, ptr):
    """The smallest value by the mixed-type order (FUNCTION gives the key, the
    value is returned); null for an empty list.

    >>> evaluate(["min", ["list", "B", "b", "A", "a"]])
    'A'
    """
    return _extreme(c, args, ptr, "min", False)


@registry.special("group", 3, signature="KEY_FUNCTION VALUE_FUNCTION VALUES", function_args=(0, 1))
def compile_group(c, args, ptr):
    """``[key, [values...]]`` pairs in first-seen key order.

    >>> evaluate(["group", ["upper", "_."], ["lower", "_."], "Hello"])
    [['HELLO', ['hello']]]
    """
    key_fn = c.item_fn(args[0], pointer(ptr, 1))
    value_fn = c.item_fn(args[1], pointer(ptr, 2))
    values = c.expr(args[2], pointer(ptr, 3))

    def group(ctx):
        groups: dict = {}
        out: list = []
        for v in as_list(values(ctx)):
            key = key_fn(ctx, v)
            h = hashable_key(key)
            bucket = groups.get(h)
            if bucket is None:
                bucket = groups[h] = []
                out.append([key, bucket])
            bucket.append(value_fn(ctx, v))
        return out

    return c.guarded(group, ptr, ["group", *args], "group")


def transit_json(value: Any) -> str:
    """Compact JSON text of a transit value (keys sorted, so it is stable)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@registry.special("group-by", 2, 3, signature="KEY_FUNCTION STRING_FUNCTION? VALUES", function_args=(0, 1))
def compile_group_by(c, args, ptr):
    """A dict of group key -> values with that key. Keys are the json-transit
    text of the key (``"3"``, ``"\\"A\\""``) unless STRING_FUNCTION makes them.

    >>> evaluate(["group-by", ["upper", "_."], ["string", "_."], ["list", "a", "b"]])
    {'A': ['a'], 'B': ['b']}
    """
    key_fn = c.item_fn(args[0], pointer(ptr, 1))
    string_fn = c.item_fn(args[1], pointer(ptr, 2)) if len(args) == 3 else None
    values = c.expr(args[-1], pointer(ptr, len(args)))

    def group_by(ctx):
        out: dict = {}
        for v in as_list(values(ctx)):
            key = key_fn(ctx, v)
            if string_fn is not None:
                text = string_fn(ctx, key)
                if type(text) is list and len(text) == 1:
                    text = text[0]
                if type(text) is not str:
                    continue  # a key must be a string; such values are left out
            else:
                text = transit_json(key)
            out.setdefault(text, []).append(v)
        return out

    return c.guarded(group_by, ptr, ["group-by", *args], "group-by")


@registry.special("map-dict", 3, signature="KEY_FUNCTION VALUE_FUNCTION VALUES", function_args=(0, 1))
def compile_map_dict(c, args, ptr):
    """Rebuild each dict with KEY_FUNCTION on its keys and VALUE_FUNCTION on
    its values; pairs whose new key is not a string are dropped, and so are
    dicts left empty. Non-dicts are ignored.

    >>> evaluate(["map-dict", ["upper", "_."], ["plus", 1, "_."], {"A": 1, "B": 2}])
    {'A': 2, 'B': 3}
    """
    key_fn = c.item_fn(args[0], pointer(ptr, 1))
    value_fn = c.item_fn(args[1], pointer(ptr, 2))
    values = c.expr(args[2], pointer(ptr, 3))

    def rebuild(ctx, vs):
        out = []
        for d in vs:
            if type(d) is not dict:
                continue
            new = {}
            for k, v in d.items():
                nk = key_fn(ctx, k)
                if type(nk) is str:
                    new[nk] = value_fn(ctx, v)
            if new:
                out.append(new)
        return out

    def map_dict(ctx):
        return _lift(values(ctx), lambda vs: rebuild(ctx, vs))

    return c.guarded(map_dict, ptr, ["map-dict", *args], "map-dict")


@registry.special("map-values", 2, signature="VALUE_FUNCTION VALUES", function_args=(0,))
def compile_map_values(c, args, ptr):
    """VALUE_FUNCTION applied to every value of every dict, as one list;
    non-dicts are ignored.

    >>> evaluate(["map-values", ["lower", "_."], {"key1": "A", "key2": "B"}])
    ['a', 'b']
    """
    fn = c.item_fn(args[0], pointer(ptr, 1))
    values = c.expr(args[1], pointer(ptr, 2))

    def map_values(ctx):
        vs = values(ctx)
        out = [fn(ctx, v) for d in as_list(vs) if type(d) is dict for v in d.values()]
        return single_or_list(vs, out)

    return c.guarded(map_values, ptr, ["map-values", *args], "map-values")


__all__ = ["registry", "transit_json", "MAX_RANGE"]
