"""DTL transforms that emit entities: create, create-child.

``create`` appends to ``ctx.env.created``; the engine emits those before
the target, in the order they were created, and keeps them even if a later
``filter``/``discard`` stops the rule.
"""

from __future__ import annotations

from ..compiler import pointer
from ..errors import DtlRuntimeError
from ..registry import Registry
from ..values import as_list, hashable_key

registry = Registry()


def _entities(values, env, what: str) -> list[dict]:
    """The entities among VALUES; non-entities fail when ``id_required``
    (the pipe default), else are skipped."""
    out = []
    for v in as_list(values):
        if type(v) is dict and type(v.get("_id")) is str:
            out.append(v)
        elif env.id_required:
            shown = repr(v)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            raise DtlRuntimeError(
                f"{what}: {shown} is not an entity (a dict with a string _id); "
                "set id_required to false to skip such values",
                code="invalid-entity",
            )
    return out


@registry.transform("create", 1, signature="VALUES")
def compile_create(c, args, ptr):
    """Emit each entity in VALUES as an extra output entity.

    >>> compile({"default": [["create", "_S.o"], ["copy", "_id"]]}).transform({"_id": "p", "o": [{"_id": "c"}]})
    [{'_id': 'c'}, {'_id': 'p'}]
    """
    values = c.expr(args[0], pointer(ptr, 1))

    def create(ctx):
        env = ctx.env
        # A copy: later transforms may still change the dict (e.g. "_T.").
        env.created.extend(dict(e) for e in _entities(values(ctx), env, "create"))

    return create


@registry.transform("create-child", 1, signature="VALUES")
def compile_create_child(c, args, ptr):
    """Add each entity in VALUES to the target's ``$children`` (a union:
    an equal child is not added twice)."""
    values = c.expr(args[0], pointer(ptr, 1))

    def create_child(ctx):
        new = _entities(values(ctx), ctx.env, "create-child")
        if not new and "$children" in ctx.T:
            return
        T = ctx.T
        children = list(as_list(T.get("$children")))
        seen = {hashable_key(v) for v in children}
        for e in new:
            key = hashable_key(e)
            if key not in seen:
                seen.add(key)
                children.append(dict(e))
        T["$children"] = children

    return create_child
