"""The table of DTL transforms (the calls that stand directly in a rule's list)."""

from __future__ import annotations

from ..registry import Builtin, load_families

FAMILIES = (
    "properties",  # add, add-if, default, copy, remove, rename, merge, merge-union, make-ni
    "control",     # filter, discard, if, case, case-eq, comment, fail!, trip!, sleep!
    "emit",        # create, create-child
)

TRANSFORMS: dict[str, Builtin] = load_families(__name__, FAMILIES)
