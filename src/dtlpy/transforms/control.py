"""DTL control transforms: filter, discard, if, case, case-eq, comment,
fail!, trip!, sleep!.

``filter`` and ``discard`` stop the rule by raising :class:`compiler.Stop`;
the engine turns that into "no target entity" (entities already created
survive). ``filter`` is reported as filtered so a dataset sink can be given
a ``_filtered`` tombstone; ``discard`` leaves nothing at all.
"""

from __future__ import annotations

from ..compiler import Stop, is_const, pointer
from ..errors import DtlFailError
from ..registry import Registry
from ..values import as_list, equal, truthy

registry = Registry()


def _stopper(c, args, ptr, kind: str):
    if not args:
        def stop(ctx):
            raise Stop(kind)

        return stop
    cond = c.expr(args[0], pointer(ptr, 1))

    def stop_unless(ctx):
        if not truthy(cond(ctx)):
            raise Stop(kind)

    return stop_unless


@registry.transform("filter", 0, 1, signature="UNLESS_CONDITION?")
def compile_filter(c, args, ptr):
    """Stop processing unless the condition is true (no condition: always
    stop). No target is emitted; a dataset sink gets ``_filtered: true``.

    >>> compile({"default": [["copy", "*"], ["filter", ["gt", "_S.age", 42]]]}).transform({"_id": "a", "age": 7})
    []
    """
    return _stopper(c, args, ptr, "filter")


@registry.transform("discard", 0, 1, signature="UNLESS_CONDITION?")
def compile_discard(c, args, ptr):
    """Like ``filter`` (stop unless the condition is true), but not even a
    ``_filtered`` tombstone reaches a dataset sink."""
    return _stopper(c, args, ptr, "discard")


@registry.transform("if", 2, 3, signature="CONDITION THEN ELSE?")
def compile_if(c, args, ptr):
    """Run THEN (a transform or list of transforms) when CONDITION is true, else ELSE."""
    cond = c.expr(args[0], pointer(ptr, 1))
    then = c.transform_list(args[1], pointer(ptr, 2))
    if len(args) > 2:
        other = c.transform_list(args[2], pointer(ptr, 3))

        def if_else(ctx):
            if truthy(cond(ctx)):
                then(ctx)
            else:
                other(ctx)

        return if_else

    def if_then(ctx):
        if truthy(cond(ctx)):
            then(ctx)

    return if_then


@registry.transform("case", 2, None, signature="(CONDITION THEN)+ ELSE?")
def compile_case(c, args, ptr):
    """Run the THEN of the first true CONDITION, else ELSE (or nothing)."""
    pairs = [
        (c.expr(args[i], pointer(ptr, i + 1)), c.transform_list(args[i + 1], pointer(ptr, i + 2)))
        for i in range(0, len(args) - 1, 2)
    ]
    other = c.transform_list(args[-1], pointer(ptr, len(args))) if len(args) % 2 else None

    def case(ctx):
        for cond, then in pairs:
            if truthy(cond(ctx)):
                then(ctx)
                return
        if other is not None:
            other(ctx)

    return case


@registry.transform("case-eq", 3, None, signature="VALUE (VALUE_N THEN)+ ELSE?")
def compile_case_eq(c, args, ptr):
    """Run the THEN of the first VALUE_N equal to VALUE, else ELSE (or nothing)."""
    subject = c.expr(args[0], pointer(ptr, 1))
    rest = args[1:]
    pairs = [
        (c.expr(rest[i], pointer(ptr, i + 2)), c.transform_list(rest[i + 1], pointer(ptr, i + 3)))
        for i in range(0, len(rest) - 1, 2)
    ]
    other = c.transform_list(rest[-1], pointer(ptr, len(args))) if len(rest) % 2 else None

    def case_eq(ctx):
        value = as_list(subject(ctx))
        for key, then in pairs:
            if equal(value, as_list(key(ctx))):
                then(ctx)
                return
        if other is not None:
            other(ctx)

    return case_eq


@registry.transform("comment", 0, None, signature="COMMENTS*")
def compile_comment(c, args, ptr):
    """Does nothing; its arguments are never compiled or evaluated."""
    return lambda ctx: None


def _failer(c, args, ptr, code: str, what: str):
    message = c.expr(args[0], pointer(ptr, 1))

    def fail(ctx):
        m = message(ctx)
        text = m if type(m) is str else str(m)
        raise DtlFailError(f"{what}: {text}", code=code)

    return fail


@registry.transform("fail!", 1, signature="MESSAGE")
def compile_fail(c, args, ptr):
    """Fail the run with MESSAGE (``DtlFailError``, code ``fail``)."""
    return _failer(c, args, ptr, "fail", "fail!")


@registry.transform("trip!", 1, signature="MESSAGE")
def compile_trip(c, args, ptr):
    """Fail the run as a tripped circuit breaker (``DtlFailError``, code ``trip``)."""
    return _failer(c, args, ptr, "trip", "trip!")


@registry.transform("sleep!", 1, signature="PERIOD")
def compile_sleep(c, args, ptr):
    """Accepted and checked, but does not pause: offline runs stay fast and
    deterministic (a pause cannot change any output)."""
    period = c.expr(args[0], pointer(ptr, 1))
    if is_const(period) and not (type(period.value) in (int, float) and period.value >= 0):
        raise c.error("sleep! needs a non-negative number of seconds", pointer(ptr, 1), args[0], code="invalid-argument")
    return lambda ctx: None


