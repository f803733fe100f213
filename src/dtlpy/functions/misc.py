"""DTL functions: misc (now, is-changed, tuples, completeness).

``now`` reads the run's clock (``ctx.env.now()``), which ``dtlpy.compile``
/ ``evaluate`` can pin with ``now=`` for reproducible output. ``is-changed``
compares against the previous version of the source entity given to
``Transform.transform(entity, previous=...)``. ``completeness`` has no
Sesam node to ask offline: it reads ``env.extra["completeness"]``
(``{via_dataset: {dataset: "~t..."}}``) and is null otherwise.
"""

from __future__ import annotations

from itertools import product

from ..compiler import pointer
from ..errors import DtlRuntimeError
from ..registry import Registry
from ..values import as_list, equal

registry = Registry()

# Largest product ``tuples`` may build (a guard against accidental blow-ups).
MAX_TUPLES = 10_000_000


@registry.special("now", 0, signature="", pure=False)
def compile_now(c, args, ptr):
    """The current UTC time as a datetime (pinned when the run pins ``now``).

    >>> evaluate(["now"], now="~t2016-05-13T14:32:00.431Z")
    '~t2016-05-13T14:32:00.431Z'
    """
    return lambda ctx: ctx.env.now()


@registry.special("is-changed", 1, signature="FUNCTION", pure=False, function_args=(0,))
def compile_is_changed(c, args, ptr):
    """Whether FUNCTION (``_`` bound to the entity) differs between the current
    and the previous version of the source entity: null without a previous
    version, true when either version is deleted.

    >>> evaluate(["is-changed", "_.name"], {"name": "b"}, previous={"name": "a"})
    True
    """
    fn = c.item_fn(args[0], pointer(ptr, 1))

    def is_changed(ctx):
        previous = ctx.env.previous
        if previous is None:
            return None
        current = ctx.S
        if _deleted(current) or _deleted(previous):
            return True
        return not equal(fn(ctx, current), fn(ctx, previous))

    return c.guarded(is_changed, ptr, ["is-changed", *args], "is-changed")


def _deleted(entity) -> bool:
    return type(entity) is dict and entity.get("_deleted") is True


@registry.eager("tuples", 0, None, signature="VALUES*")
def tuples(*args):
    """The Cartesian product of the arguments as a list of lists; a single
    value counts as a list of one and nulls are ignored (so a null argument
    leaves nothing to combine).

    >>> evaluate(["tuples", ["list", 1, 2], ["list", 3, None, 4]])
    [[1, 3], [1, 4], [2, 3], [2, 4]]
    """
    if not args:
        return []
    lists = [[v for v in as_list(a) if v is not None] for a in args]
    size = 1
    for lst in lists:
        size *= len(lst)
    if size > MAX_TUPLES:
        raise DtlRuntimeError(f"tuples would build {size} tuples (limit {MAX_TUPLES})", code="limit-exceeded")
    return [list(t) for t in product(*lists)]


@registry.special("completeness", 2, signature="VIA_DATASET_ID DATASET_ID", pure=False)
def compile_completeness(c, args, ptr):
    """The completeness datetime of DATASET_ID as known at VIA_DATASET_ID, or
    null when unknown (always, offline, unless the run provides it).

    >>> evaluate(["completeness", "pipe1", "pipe1"])
    """
    via = c.expr(args[0], pointer(ptr, 1))
    dataset = c.expr(args[1], pointer(ptr, 2))

    def completeness(ctx):
        known = ctx.env.extra.get("completeness")
        if type(known) is not dict:
            return None
        a, b = via(ctx), dataset(ctx)
        if type(a) is not str or type(b) is not str:
            return None
        row = known.get(a)
        return row.get(b) if type(row) is dict else None

    return c.guarded(completeness, ptr, ["completeness", *args], "completeness")
