"""Tables of built-in functions and transforms.

Each family module owns a ``Registry`` and registers its built-ins into it
explicitly with a decorator; ``dtlpy.functions`` and ``dtlpy.transforms``
merge the family tables into the one table the compiler uses (and refuse
duplicates). Two kinds of entry:

- ``eager``: a plain Python function of already-evaluated argument values.
  The compiler wraps it in a closure, checks arity at compile time, and folds
  it to a constant when every argument is constant and the function is pure.
- ``special``: a compile hook ``hook(c, args, ptr) -> closure`` for built-ins
  that evaluate arguments lazily or bind ``_`` (``if``, ``map``, ``filter``,
  ``coalesce`` with a function ...). ``c`` is the :class:`Compiler`.

Arity is given as ``min_args, max_args`` (``None`` = unbounded). Every entry
has a compact signature string and a docstring, so ``dtlpy functions`` and
the authoring checker can list them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Builtin:
    name: str
    min_args: int
    max_args: int | None
    kind: str  # "eager" | "special" | "transform"
    impl: Callable[..., Any]
    pure: bool = True
    signature: str = ""
    doc: str = ""
    # Argument positions that are function-expressions (evaluated per item
    # with `_` bound); used by the authoring checker, informative otherwise.
    function_args: tuple[int, ...] = field(default=())

    def arity_text(self) -> str:
        if self.max_args == self.min_args:
            return f"exactly {self.min_args}"
        if self.max_args is None:
            return f"at least {self.min_args}"
        return f"{self.min_args} to {self.max_args}"


class Registry:
    """A family's table of built-ins, filled by explicit decorators."""

    def __init__(self) -> None:
        self.entries: dict[str, Builtin] = {}

    def _add(self, entry: Builtin) -> None:
        if entry.name in self.entries:
            raise RuntimeError(f"built-in {entry.name!r} registered twice")
        self.entries[entry.name] = entry

    def _decorator(self, kind: str, name: str, min_args: int, max_args: int | None, **extra):
        def deco(fn):
            self._add(
                Builtin(
                    name,
                    min_args,
                    min_args if max_args == -1 else max_args,
                    kind,
                    fn,
                    doc=(fn.__doc__ or "").strip(),
                    **extra,
                )
            )
            return fn

        return deco

    def eager(
        self,
        name: str,
        min_args: int,
        max_args: int | None = -1,
        *,
        pure: bool = True,
        signature: str = "",
    ):
        """Register ``impl(*values)``; ``max_args=-1`` means same as min."""
        return self._decorator("eager", name, min_args, max_args, pure=pure, signature=signature)

    def special(
        self,
        name: str,
        min_args: int,
        max_args: int | None = -1,
        *,
        pure: bool = True,
        signature: str = "",
        function_args: tuple[int, ...] = (),
    ):
        """Register a compile hook ``hook(c, args, ptr) -> closure(ctx)``."""
        return self._decorator(
            "special", name, min_args, max_args, pure=pure, signature=signature,
            function_args=function_args,
        )

    def transform(
        self, name: str, min_args: int, max_args: int | None = -1, *, signature: str = ""
    ):
        """Register a transform compile hook ``hook(c, args, ptr) -> closure(ctx)``.

        The closure mutates ``ctx.T`` (or emits entities) and returns nothing.
        """
        return self._decorator("transform", name, min_args, max_args, pure=False, signature=signature)


def load_families(package: str, families: tuple[str, ...]) -> dict[str, Builtin]:
    """Import each family module of a package and merge their registries."""
    import importlib

    return merge_tables([importlib.import_module(f"{package}.{name}").registry for name in families])


def merge_tables(registries: list[Registry]) -> dict[str, Builtin]:
    table: dict[str, Builtin] = {}
    for reg in registries:
        for name, entry in reg.entries.items():
            if name in table:
                raise RuntimeError(f"built-in {name!r} is defined by two families")
            table[name] = entry
    return table
