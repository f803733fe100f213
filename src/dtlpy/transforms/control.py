"""DTL control transforms: filter, discard, if, case, case-eq, comment,
fail!, trip!, sleep!."""

from __future__ import annotations

from ..registry import Registry

registry = Registry()


@registry.transform("comment", 0, None, signature="COMMENTS*")
def compile_comment(c, args, ptr):
    """Does nothing; its arguments are never compiled or evaluated."""
    return lambda ctx: None
