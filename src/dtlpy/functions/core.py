"""Core expression functions: building lists, literals, the expression forms
of ``if``/``case``/``case-eq``, and ``apply``.

The conditionals evaluate only the branch they choose (never eagerly).
"""

from __future__ import annotations

from typing import Any

from ..compiler import apply_rule, constant, pointer
from ..registry import Registry
from ..values import as_list, equal, truthy

registry = Registry()


@registry.special("list", 0, None, signature="VALUES*")
def compile_list(c, args, ptr):
    """Build a list of the argument values; nested lists stay nested.

    >>> evaluate(["list", 1, ["list", 2]])
    [1, [2]]
    """
    fns = [c.expr(a, pointer(ptr, i + 1)) for i, a in enumerate(args)]
    if all(getattr(f, "is_const", False) for f in fns):
        values = [f.value for f in fns]
        return lambda ctx: list(values)
    return lambda ctx: [f(ctx) for f in fns]


@registry.special("literal", 1, signature="VALUE")
def compile_literal(c, args, ptr):
    """The argument itself, unevaluated: ``["literal", "_S.x"]`` is the string ``"_S.x"``."""
    return constant(args[0])


@registry.special("if", 2, 3, signature="CONDITION THEN ELSE?")
def compile_if(c, args, ptr):
    """THEN when CONDITION is truthy, else ELSE (or null).

    >>> evaluate(["if", ["gt", 2, 1], "yes", "no"])
    'yes'
    """
    cond = c.expr(args[0], pointer(ptr, 1))
    then = c.expr(args[1], pointer(ptr, 2))
    other = c.expr(args[2], pointer(ptr, 3)) if len(args) > 2 else constant(None)
    return lambda ctx: then(ctx) if truthy(cond(ctx)) else other(ctx)


@registry.special("case", 2, None, signature="(CONDITION VALUE)+ ELSE?")
def compile_case(c, args, ptr):
    """The VALUE of the first truthy CONDITION, else ELSE (or null)."""
    pairs = [
        (c.expr(args[i], pointer(ptr, i + 1)), c.expr(args[i + 1], pointer(ptr, i + 2)))
        for i in range(0, len(args) - 1, 2)
    ]
    other = c.expr(args[-1], pointer(ptr, len(args))) if len(args) % 2 else constant(None)

    def case(ctx):
        for cond, value in pairs:
            if truthy(cond(ctx)):
                return value(ctx)
        return other(ctx)

    return case


def case_eq_matcher(keys: list[str]):
    """``value -> index`` of the first of the constant string ``keys`` that
    ``case-eq`` finds equal to ``value`` (None if none): a dict lookup for a
    plain string, ``eq``'s equality for anything else. Also used by the
    generated code (codegen.py)."""
    table: dict = {}
    for i, k in enumerate(keys):
        table.setdefault(k, i)

    def match(value: Any) -> int | None:
        if type(value) is list and len(value) == 1:
            value = value[0]
        if type(value) is str:
            hit = table.get(value)
            if hit is not None:
                return hit
            if not value.startswith("~"):
                return None
        for i, k in enumerate(keys):
            if equal(as_list(value), [k]):
                return i
        return None

    return match


@registry.special("case-eq", 3, None, signature="VALUE (VALUE_N RESULT)+ ELSE?")
def compile_case_eq(c, args, ptr):
    """The RESULT of the first VALUE_N equal to VALUE, else ELSE (or null).

    Equality is the ``eq`` function's (a value equals a list of just it).
    Constant VALUE_Ns are looked up in a table built once.
    """
    subject = c.expr(args[0], pointer(ptr, 1))
    rest = args[1:]
    pairs = [
        (c.expr(rest[i], pointer(ptr, i + 2)), c.expr(rest[i + 1], pointer(ptr, i + 3)))
        for i in range(0, len(rest) - 1, 2)
    ]
    other = c.expr(rest[-1], pointer(ptr, len(args))) if len(rest) % 2 else constant(None)
    # Fast path: all keys are constant strings -> a dict lookup.
    if all(getattr(k, "is_const", False) and type(k.value) is str for k, _ in pairs):
        match = case_eq_matcher([k.value for k, _ in pairs])

        def case_eq_table(ctx):
            i = match(subject(ctx))
            return other(ctx) if i is None else pairs[i][1](ctx)

        return case_eq_table

    def case_eq(ctx):
        value = as_list(subject(ctx))
        for k, v in pairs:
            if equal(value, as_list(k(ctx))):
                return v(ctx)
        return other(ctx)

    return case_eq


@registry.special("apply", 2, signature="RULE_ID VALUES", pure=False)
def compile_apply(c, args, ptr):
    """Run rule RULE_ID with each value as ``_S`` (``_P`` = this context).

    A list gives a list of targets (filtered ones left out); one value gives
    one target, or null when the rule filtered it.
    """
    if type(args[0]) is not str:
        raise c.error("apply needs the rule name as a constant string", pointer(ptr, 1), args[0], code="invalid-argument")
    ref = c.rule(args[0], pointer(ptr, 1), args[0])
    values = c.expr(args[1], pointer(ptr, 2))
    file = c.file

    def apply(ctx):
        v = values(ctx)
        if type(v) is list:
            out = []
            for item in v:
                t = apply_rule(ref, item, ctx, file)
                if t is not None:
                    out.append(t)
            return out
        if v is None:
            return None
        return apply_rule(ref, v, ctx, file)

    return c.guarded(apply, ptr, ["apply", *args], "apply")
