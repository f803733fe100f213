"""DTL functions: ``uuid`` and ``is-uuid``. UUIDs travel as ``~u`` + the
canonical lower-case text."""

from __future__ import annotations

import uuid as _uuid

from ..compiler import pointer
from ..registry import Registry
from ..values import first, is_plain_string, kind, parse_uuid, uuid_value
from .convert import DROP, map_values

registry = Registry()


def to_uuid(v):
    """A string (or UUID) as a canonical ``~u`` value, or DROP."""
    if is_plain_string(v):
        try:
            return uuid_value(_uuid.UUID(v))
        except ValueError:
            return DROP
    if kind(v) == "uuid":
        u = parse_uuid(v)
        return DROP if u is None else uuid_value(u)
    return DROP


def random_uuid(rng) -> str:
    """A version-4 UUID drawn from ``rng`` (so a seeded run is reproducible)."""
    return uuid_value(_uuid.UUID(int=rng.getrandbits(128), version=4))


@registry.special("uuid", 0, 1, pure=False, signature="VALUES?")
def compile_uuid(c, args, ptr):
    """No argument: a new random version-4 UUID (from the run's random source,
    so ``seed`` pins it). With VALUES: cast strings to UUIDs, leaving out what
    does not parse.

    >>> evaluate(["uuid", "abc98f65-ddf5-1234-a8f5-82f6d8e69726"])
    '~uabc98f65-ddf5-1234-a8f5-82f6d8e69726'
    """
    if not args:
        return lambda ctx: random_uuid(ctx.env.random)
    values = c.expr(args[0], pointer(ptr, 1))
    return c.guarded(lambda ctx: map_values(values(ctx), to_uuid), ptr, ["uuid", *args], "uuid")


@registry.eager("is-uuid", 1, signature="VALUES")
def is_uuid(value):
    """True if the value (or a list's first element) is a UUID.

    >>> evaluate(["is-uuid", "~u9f598f65-eea5-4906-a8f5-82f6d8e69726"])
    True
    """
    return kind(first(value)) == "uuid"
