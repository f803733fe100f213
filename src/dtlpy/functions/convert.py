"""Shared conventions of the value functions: mapping over VALUES, casts with
a default expression, the ``string`` cast and JSON rendering.

Most DTL functions take ``VALUES``: null, one value or a list. They work on
each element, silently drop elements of the wrong type, and answer in the
shape they were given (a scalar for a scalar, a list for a list; a dropped
scalar is null). :func:`map_values` is that rule, once.
"""

from __future__ import annotations

import base64
import json as _json
import math
from decimal import Decimal
from typing import Any, Callable

from ..compiler import constant, is_const, pointer
from ..errors import DtlError, DtlRuntimeError, DtlTypeError
from ..values import first, kind, to_number

# Returned by a per-value function to say "this value does not take part".
DROP = object()

# Deepest list/dict nesting that json/json-transit/string will render. Far
# below Python's recursion limit, far above anything real data needs.
MAX_JSON_DEPTH = 400


def map_values(value: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply ``fn`` to each value: scalar in -> scalar out, list in -> list out.

    ``fn`` returns :data:`DROP` for values it ignores; null stays null.

    >>> map_values(["a", 1, "b"], lambda v: v.upper() if type(v) is str else DROP)
    ['A', 'B']
    """
    if value is None:
        return None
    if type(value) is list:
        out = []
        append = out.append
        for v in value:
            r = fn(v)
            if r is not DROP:
                append(r)
        return out
    r = fn(value)
    return None if r is DROP else r


def map_dropping_none(values: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply ``fn`` per value: a list maps to a list without the Nones, a
    scalar to a scalar (None when dropped), null stays null.

    >>> map_dropping_none(["a", 1], lambda v: v if type(v) is str else None)
    ['a']
    """
    if type(values) is list:
        out = []
        for v in values:
            r = fn(v)
            if r is not None:
                out.append(r)
        return out
    if values is None:
        return None
    return fn(values)


def checked_argument(c, args: list, ptr: str, index: int, check: Callable[[Any], Any]):
    """Compile argument ``index`` and validate it with ``check``: a constant
    is checked now (a compile error pointing at the argument), anything else
    each time it is evaluated."""
    fn = c.expr(args[index], pointer(ptr, index + 1))
    if is_const(fn):
        try:
            value = check(fn.value)
        except DtlError as e:
            raise c.error(e.message, pointer(ptr, index + 1), args[index], code=e.code) from None
        return lambda ctx: value
    return lambda ctx: check(fn(ctx))


def compile_cast(c, args: list, ptr: str, name: str, convert: Callable[[Any], Any]):
    """Compile ``[name, DEFAULT?, VALUES]`` for a cast function.

    ``convert(v)`` gives the cast value or :data:`DROP`. Null inputs are left
    out (they are never replaced). With DEFAULT, a value that cannot be cast
    is replaced by DEFAULT evaluated with ``_`` bound to that value.
    """
    values = c.expr(args[-1], pointer(ptr, len(args)))
    default = c.item_fn(args[0], pointer(ptr, 1)) if len(args) == 2 else None

    if default is None:

        def one(v):
            return DROP if v is None else convert(v)

        if is_const(values):
            try:
                return constant(map_values(values.value, one))
            except Exception:
                pass  # reported per entity at run time

        def cast(ctx):
            return map_values(values(ctx), one)

    else:

        def cast(ctx):
            def one(v):
                if v is None:
                    return DROP
                r = convert(v)
                return default(ctx, v) if r is DROP else r

            return map_values(values(ctx), one)

    return c.guarded(cast, ptr, [name, *args], name)


def string_arg(value: Any, name: str, what: str) -> str:
    """A string-constant argument (a one-element list is unwrapped)."""
    if type(value) is str:
        return value
    v = first(value)
    if type(v) is not str:
        raise DtlTypeError(f"{name!r}: {what} must be a string, got {kind(v)}")
    return v


def int_arg(value: Any, name: str, what: str) -> int:
    """An integer argument (a one-element list is unwrapped; booleans refused)."""
    if type(value) is int:
        return value
    v = first(value)
    if type(v) is not int:
        raise DtlTypeError(f"{name!r}: {what} must be an integer, got {kind(v)}")
    return v


# ---------------------------------------------------------------- text forms


def typed_text(value: str) -> str | None:
    """The text of a typed transit value as the ``string`` cast gives it.

    Decimals are written without exponent; bytes are decoded as UTF-8 (None
    when they are not UTF-8); every other type is its payload (URI text, the
    ISO datetime, the UUID, ``ns:id`` for an NI).
    """
    tag = value[1]
    if tag == "f":
        n = to_number(value)
        if n is None:
            return None
        text = format(n, "f")
        return "0" if text == "-0" else text
    if tag == "b":
        try:
            return base64.b64decode(value[2:], validate=True).decode("utf-8")
        except (ValueError, TypeError):
            return None
    return value[2:]


def float_text(f: float) -> str:
    return repr(f)


def dump_json(value: Any, transit: bool) -> str:
    """JSON text of a value: sorted keys, ``", "``/``": "`` separators,
    non-ASCII kept as is.

    With ``transit`` typed values stay in their ``~x`` string form; without,
    decimals are written as JSON numbers and other typed values as their
    plain text. Nesting deeper than MAX_JSON_DEPTH is an error ("too-deep").

    >>> dump_json({"b": 2, "a": ["~rhttp://x/", "~f1.50"]}, transit=False)
    '{"a": ["http://x/", 1.50], "b": 2}'
    """
    parts: list[str] = []
    _dump(value, transit, parts, 0)
    return "".join(parts)


_encode_str = _json.JSONEncoder(ensure_ascii=False).encode


def _dump(value: Any, transit: bool, out: list, depth: int) -> None:
    t = type(value)
    if t is str:
        if not transit and len(value) > 1 and value[0] == "~" and value[1] in "f:rtbu":
            if value[1] == "f":
                n = to_number(value)
                if n is not None and n.is_finite():
                    text = format(n, "f")
                    out.append("0" if text == "-0" else text)
                    return
            elif value[1] == "b":
                out.append(_encode_str(value[2:]))
                return
            else:
                out.append(_encode_str(value[2:]))
                return
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif t is bool:
        out.append("true" if value else "false")
    elif t is int:
        out.append(str(value))
    elif t is float:
        if not math.isfinite(value):
            out.append("null")
        else:
            out.append(float_text(value))
    elif t is list or t is tuple:
        if depth >= MAX_JSON_DEPTH:
            raise too_deep()
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(", ")
            _dump(v, transit, out, depth + 1)
        out.append("]")
    elif t is dict:
        if depth >= MAX_JSON_DEPTH:
            raise too_deep()
        out.append("{")
        for i, k in enumerate(sorted(value, key=str)):
            if i:
                out.append(", ")
            out.append(_encode_str(str(k)))
            out.append(": ")
            _dump(value[k], transit, out, depth + 1)
        out.append("}")
    elif isinstance(value, Decimal):
        out.append(format(value, "f"))
    else:
        out.append(_encode_str(str(value)))


def too_deep() -> DtlRuntimeError:
    return DtlRuntimeError(
        f"value is nested more than {MAX_JSON_DEPTH} levels deep", code="too-deep"
    )


def string_cast(value: Any) -> Any:
    """The ``string`` cast of one value, or DROP.

    >>> string_cast(124.4), string_cast("~f1E2"), string_cast([1, {"b": 2, "a": 1}])
    ('124.4', '100', '[1, {"a": 1, "b": 2}]')
    """
    t = type(value)
    if t is str:
        if len(value) > 1 and value[0] == "~" and value[1] in "f:rtbu":
            text = typed_text(value)
            return DROP if text is None else text
        return value
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return float_text(value)
    if t is list or t is dict:
        return dump_json(value, transit=False)
    if value is None:
        return DROP
    return str(value)
