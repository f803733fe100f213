"""DTL functions about nulls: ``coalesce``, ``coalesce-args``, ``if-null``,
``is-null``, ``is-not-null``.

"Null" in ``is-null``/``if-null`` means null, ``[]`` or a list whose first
element is null; ``coalesce``/``coalesce-args`` only skip real nulls.
"""

from __future__ import annotations

from ..compiler import constant, is_const, pointer
from ..registry import Registry
from ..values import as_list, truthy

registry = Registry()


def is_nullish(value) -> bool:
    """null, [] or a list starting with null."""
    if value is None:
        return True
    if type(value) is list:
        return not value or value[0] is None
    return False


@registry.special("coalesce", 1, 2, signature="FUNCTION? VALUES", function_args=(0,))
def compile_coalesce(c, args, ptr):
    """The first non-null value; with FUNCTION the first value for which
    FUNCTION (``_`` bound to the value) is truthy. None found: null.

    >>> evaluate(["coalesce", ["list", None, None, 3, 4]])
    3
    """
    values = c.expr(args[-1], pointer(ptr, len(args)))
    if len(args) == 1:

        def first_non_null(ctx):
            for v in as_list(values(ctx)):
                if v is not None:
                    return v
            return None

        if is_const(values):
            return constant(first_non_null(None))
        return first_non_null

    test = c.item_fn(args[0], pointer(ptr, 1))

    def first_match(ctx):
        for v in as_list(values(ctx)):
            if truthy(test(ctx, v)):
                return v
        return None

    return c.guarded(first_match, ptr, ["coalesce", *args], "coalesce")


@registry.special("coalesce-args", 1, None, signature="VALUE+")
def compile_coalesce_args(c, args, ptr):
    """The first argument whose value is not null (``[]`` counts as a value);
    later arguments are not evaluated.

    >>> evaluate(["coalesce-args", None, ["list"], 123])
    []
    """
    fns = [c.expr(a, pointer(ptr, i + 1)) for i, a in enumerate(args)]
    # Leading constant nulls can never win; a constant non-null ends the list.
    live = []
    for f in fns:
        if is_const(f):
            if f.value is None:
                continue
            if not live:
                return constant(f.value)
            live.append(f)
            break
        live.append(f)
    if not live:
        return constant(None)

    def coalesce_args(ctx):
        for f in live:
            v = f(ctx)
            if v is not None:
                return v
        return None

    return coalesce_args


@registry.special("if-null", 2, signature="VALUE FALLBACK")
def compile_if_null(c, args, ptr):
    """VALUE unless it is null, ``[]`` or a list starting with null; then
    FALLBACK (evaluated only when needed).

    >>> evaluate(["if-null", ["list", None, 123], 2])
    2
    """
    value = c.expr(args[0], pointer(ptr, 1))
    fallback = c.expr(args[1], pointer(ptr, 2))
    if is_const(value):
        return fallback if is_nullish(value.value) else value

    def if_null(ctx):
        v = value(ctx)
        return fallback(ctx) if is_nullish(v) else v

    return if_null


@registry.eager("is-null", 1, signature="VALUES")
def is_null(value):
    """True for null, ``[]`` or a list whose first element is null.

    >>> evaluate(["is-null", ["list", None, 123]])
    True
    """
    return is_nullish(value)


@registry.eager("is-not-null", 1, signature="VALUES")
def is_not_null(value):
    """The negation of ``is-null``.

    >>> evaluate(["is-not-null", ["list", 1, "12345"]])
    True
    """
    return not is_nullish(value)
