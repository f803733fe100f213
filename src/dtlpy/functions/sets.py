"""DTL functions: sets (union, intersection, difference, intersects).

They are not mathematical sets: order is kept, and ``intersection`` and
``difference`` keep duplicates of their first argument, as the docs'
examples show. A single value counts as a list of one, null as empty.
Membership uses Sesam equality (``1`` equals ``1.0``, ``true`` is not ``1``).
"""

from __future__ import annotations

from ..registry import Registry
from ..values import as_list, hashable_key

registry = Registry()


@registry.eager("union", 2, signature="VALUES1 VALUES2")
def union(a, b):
    """VALUES1's values then VALUES2's, each value only at its first occurrence.

    >>> evaluate(["union", ["list", "B", "C", "B"], ["list", "A", "B"]])
    ['B', 'C', 'A']
    """
    seen = set()
    out = []
    for v in (*as_list(a), *as_list(b)):
        k = hashable_key(v)
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


@registry.eager("intersection", 2, signature="VALUES1 VALUES2")
def intersection(a, b):
    """The values of VALUES1 (duplicates and order kept) that occur in VALUES2.

    >>> evaluate(["intersection", ["list", "B", "C", "B", "D"], ["list", "B", "C"]])
    ['B', 'C', 'B']
    """
    pool = {hashable_key(v) for v in as_list(b)}
    return [v for v in as_list(a) if hashable_key(v) in pool]


@registry.eager("difference", 2, signature="VALUES1 VALUES2")
def difference(a, b):
    """The values of VALUES1 (duplicates and order kept) not in VALUES2.

    >>> evaluate(["difference", ["list", "D", "A", "D", "E"], ["list", "A"]])
    ['D', 'D', 'E']
    """
    pool = {hashable_key(v) for v in as_list(b)}
    return [v for v in as_list(a) if hashable_key(v) not in pool]


@registry.eager("intersects", 2, signature="VALUES1 VALUES2")
def intersects(a, b):
    """True if the two arguments have a value in common.

    >>> evaluate(["intersects", "B", ["list", "B", "C"]])
    True
    """
    pool = {hashable_key(v) for v in as_list(b)}
    return any(hashable_key(v) in pool for v in as_list(a))
