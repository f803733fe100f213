"""DTL functions: boolean logic (``and``, ``or``, ``not``, ``all``, ``any``).

All of them answer ``true`` or ``false`` and use DTL truthiness (``false``,
null and ``[]`` are false, everything else, ``0`` and ``""`` included, is
true). ``and``/``or``/``not`` evaluate their arguments left to right and stop
as soon as the answer is known; ``all``/``any`` stop at the first value that
decides them.
"""

from __future__ import annotations

from ..compiler import constant, is_const, pointer
from ..registry import Registry
from ..values import as_list, truthy

registry = Registry()


def _compile_args(c, args, ptr):
    return [c.expr(a, pointer(ptr, i + 1)) for i, a in enumerate(args)]


def _and(fns):
    # Constant arguments are decided now; only the dynamic ones remain.
    dynamic = []
    for f in fns:
        if is_const(f):
            if not truthy(f.value):
                return constant(False)
        else:
            dynamic.append(f)
    if not dynamic:
        return constant(True)
    if len(dynamic) == 1:
        (only,) = dynamic
        return lambda ctx: truthy(only(ctx))

    def all_true(ctx):
        for f in dynamic:
            if not truthy(f(ctx)):
                return False
        return True

    return all_true


@registry.special("and", 1, None, signature="BOOLEAN+")
def compile_and(c, args, ptr):
    """True when every argument is truthy; stops at the first false one.

    >>> evaluate(["and", ["gt", "_S.age", 26], ["eq", "_S.gender", "male"]], {"age": 30, "gender": "male"})
    True
    """
    return _and(_compile_args(c, args, ptr))


@registry.special("or", 1, None, signature="BOOLEAN+")
def compile_or(c, args, ptr):
    """True when any argument is truthy; stops at the first true one.

    >>> evaluate(["or", ["eq", "_S.category", "A"], ["eq", "_S.category", "B"]], {"category": "B"})
    True
    """
    fns = _compile_args(c, args, ptr)
    dynamic = []
    for f in fns:
        if is_const(f):
            if truthy(f.value):
                return constant(True)
        else:
            dynamic.append(f)
    if not dynamic:
        return constant(False)

    def any_true(ctx):
        for f in dynamic:
            if truthy(f(ctx)):
                return True
        return False

    return any_true


@registry.special("not", 1, None, signature="BOOLEAN+")
def compile_not(c, args, ptr):
    """The negation of ``and`` over the arguments.

    >>> evaluate(["not", ["eq", "_S.category", "A"]], {"category": "C"})
    True
    """
    inner = _and(_compile_args(c, args, ptr))
    if is_const(inner):
        return constant(not inner.value)
    return lambda ctx: not inner(ctx)


def _quantifier(c, args, ptr, name, want_all):
    values = c.expr(args[-1], pointer(ptr, len(args)))
    if len(args) == 1:
        if want_all:
            fn = lambda ctx: all(truthy(v) for v in as_list(values(ctx)))  # noqa: E731
        else:
            fn = lambda ctx: any(truthy(v) for v in as_list(values(ctx)))  # noqa: E731
        if is_const(values):
            return constant(fn(None))
        return fn
    test = c.item_fn(args[0], pointer(ptr, 1))
    if want_all:

        def quantify(ctx):
            return all(truthy(test(ctx, v)) for v in as_list(values(ctx)))

    else:

        def quantify(ctx):
            return any(truthy(test(ctx, v)) for v in as_list(values(ctx)))

    return c.guarded(quantify, ptr, [name, *args], name)


@registry.special("all", 1, 2, signature="FUNCTION? VALUES", function_args=(0,))
def compile_all(c, args, ptr):
    """True when every value (or FUNCTION of it, with ``_`` bound) is truthy.
    No values at all gives true.

    >>> evaluate(["all", ["gt", "_.", 2], ["list", 4, 5, 6]])
    True
    """
    return _quantifier(c, args, ptr, "all", True)


@registry.special("any", 1, 2, signature="FUNCTION? VALUES", function_args=(0,))
def compile_any(c, args, ptr):
    """True when at least one value (or FUNCTION of it, with ``_`` bound) is
    truthy. No values at all gives false.

    >>> evaluate(["any", ["lt", "_.", 2], ["list", 6, 7, 8]])
    False
    """
    return _quantifier(c, args, ptr, "any", False)
