"""DTL transforms that set target properties: add, add-if, default, copy,
remove, rename, merge, merge-union, make-ni."""

from __future__ import annotations

from ..compiler import pointer
from ..registry import Registry

registry = Registry()


@registry.transform("add", 2, signature="PROPERTY VALUES")
def compile_add(c, args, ptr):
    """Set target property PROPERTY to the value of VALUES (overwrites)."""
    prop = c.expr(args[0], pointer(ptr, 1))
    value = c.expr(args[1], pointer(ptr, 2))
    if getattr(prop, "is_const", False) and type(prop.value) is str and not c.ni_mode:
        name = prop.value

        def add(ctx):
            ctx.T[name] = value(ctx)

        return add

    def add_dynamic(ctx):
        names = prop(ctx)
        v = value(ctx)
        for n in names if type(names) is list else [names]:
            if type(n) is str:
                ctx.T[n] = v

    return add_dynamic
