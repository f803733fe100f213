"""DTL functions: comparisons (``eq``, ``neq``, ``gt``, ``gte``, ``lt``, ``lte``).

``eq``/``neq`` turn both sides into lists (null is ``[]``, a value is a list
of one) and compare the lists exactly, with Sesam equality (``1`` equals
``1.0`` and ``~f1``; ``true`` never equals ``1``).

The ordering comparisons look at the *first* value of each side and order
them by the documented mixed-type order (null < booleans < numbers <
datetimes < UUIDs < NIs < URIs < strings < dicts < lists < bytes). If either
first value is null the answer is ``false`` (a missing property neither
passes nor fails a threshold), see DEVIATIONS.md.
"""

from __future__ import annotations

from ..registry import Registry
from ..values import SortKey, as_list, equal, first

registry = Registry()


@registry.eager("eq", 2, signature="A B")
def eq(a, b):
    """True if A and B, both read as lists, are equal.

    >>> evaluate(["eq", "_S.hobbies", ["list", "soccer", "tennis"]], {"hobbies": ["soccer", "tennis"]})
    True
    """
    return equal(as_list(a), as_list(b))


@registry.eager("neq", 2, signature="A B")
def neq(a, b):
    """The negation of ``eq``.

    >>> evaluate(["neq", "_S.age", 42], {"age": 41})
    True
    """
    return not equal(as_list(a), as_list(b))


def _ordered(a, b):
    """(key of a, key of b), or None when either first value is null."""
    x, y = first(a), first(b)
    if x is None or y is None:
        return None
    return SortKey(x), SortKey(y)


@registry.eager("gt", 2, signature="A B")
def gt(a, b):
    """True if the first value of A sorts after the first value of B.

    >>> evaluate(["gt", "_S.age", 42], {"age": 43})
    True
    """
    keys = _ordered(a, b)
    return keys is not None and keys[1] < keys[0]


@registry.eager("gte", 2, signature="A B")
def gte(a, b):
    """True if the first value of A sorts after or equal to that of B.

    >>> evaluate(["gte", "_S.age", 42], {"age": 42})
    True
    """
    keys = _ordered(a, b)
    return keys is not None and not keys[0] < keys[1]


@registry.eager("lt", 2, signature="A B")
def lt(a, b):
    """True if the first value of A sorts before the first value of B.

    >>> evaluate(["lt", "_S.age", 42], {"age": 41})
    True
    """
    keys = _ordered(a, b)
    return keys is not None and keys[0] < keys[1]


@registry.eager("lte", 2, signature="A B")
def lte(a, b):
    """True if the first value of A sorts before or equal to that of B.

    >>> evaluate(["lte", "_S.age", 42], {"age": 42})
    True
    """
    keys = _ordered(a, b)
    return keys is not None and not keys[1] < keys[0]
