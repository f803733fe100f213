"""DTL functions: the ``boolean`` cast and ``is-boolean``."""

from __future__ import annotations

from ..registry import Registry
from ..values import first
from .convert import DROP, compile_cast

registry = Registry()


def to_boolean(value):
    """One value as a boolean, or DROP: booleans pass, the strings "true" and
    "false" in any letter case are read; numbers and typed values are not."""
    if type(value) is bool:
        return value
    if type(value) is str:
        low = value.lower()
        if low == "true":
            return True
        if low == "false":
            return False
    return DROP


@registry.special("boolean", 1, 2, signature="DEFAULT? VALUES", function_args=(0,))
def compile_boolean(c, args, ptr):
    """Cast values to booleans; values that are not booleans are left out, or
    replaced by DEFAULT evaluated with ``_`` bound to the value.

    >>> evaluate(["boolean", ["list", "true", "~rhttp://www.example.org/", "True", False, 1234]])
    [True, True, False]
    """
    return compile_cast(c, args, ptr, "boolean", to_boolean)


@registry.eager("is-boolean", 1, signature="VALUES")
def is_boolean(value):
    """True if the value (or a list's first element) is a boolean.

    >>> evaluate(["is-boolean", ["list", True, "12345"]])
    True
    """
    return type(first(value)) is bool
