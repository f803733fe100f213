"""The table of DTL transforms (the calls that stand directly in a rule's list)."""

from __future__ import annotations

import importlib

from ..registry import Builtin, merge_tables

FAMILIES = (
    "properties",  # add, add-if, default, copy, remove, rename, merge, merge-union, make-ni
    "control",     # filter, discard, if, case, case-eq, comment, fail!, trip!, sleep!
    "emit",        # create, create-child
)


def _load() -> dict[str, Builtin]:
    registries = []
    for name in FAMILIES:
        module = importlib.import_module(f"{__name__}.{name}")
        registries.append(module.registry)
    return merge_tables(registries)


TRANSFORMS: dict[str, Builtin] = _load()
