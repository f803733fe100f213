"""DTL math functions.

Two styles exist. The natural-order operators ``+ - * / % ^`` take exactly
two values, use the first element of a list, and give one number or null
(null or a non-number on either side, division by zero, or a result that is
not a real number). The map-style functions ``plus minus multiply divide mod
pow`` apply an operand to every number in VALUES (non-numbers are left out).

Types: mixed operands are promoted to the more precise type (int < float <
decimal); integer division gives a decimal, so ``["/", 10, 4]`` is
``~f2.5`` and ``["/", 10, 5]`` is ``~f2`` (the changelog's "int/int =
decimal" rule). Inexact decimal results keep 28 significant digits, like
Python's default decimal context.
"""

from __future__ import annotations

import math
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Decimal,
    DecimalException,
    localcontext,
)

from ..errors import DtlRuntimeError
from ..registry import Registry
from ..values import first, from_number, promote, to_number
from .convert import DROP, int_arg, map_values

registry = Registry()

INEXACT_PRECISION = 28
# Integers larger than this many bits cannot be written as JSON text by
# Python (4300 digits), so a power that would exceed it gives null.
MAX_INT_BITS = 14_000


def _number(value):
    """The first element as a Python number, or None (booleans are not numbers)."""
    return to_number(first(value))


def add(a, b):
    a, b = promote(a, b)
    if isinstance(a, Decimal):
        with localcontext() as ctx:
            ctx.prec = 100
            return a + b
    return a + b


def subtract(a, b):
    a, b = promote(a, b)
    if isinstance(a, Decimal):
        with localcontext() as ctx:
            ctx.prec = 100
            return a - b
    return a - b


def multiply_(a, b):
    a, b = promote(a, b)
    if isinstance(a, Decimal):
        with localcontext() as ctx:
            ctx.prec = 200
            return a * b
    return a * b


def divide_(a, b):
    """a / b; None for division by zero. int/int gives a Decimal."""
    if b == 0:
        return None
    if type(a) is int and type(b) is int:
        with localcontext() as ctx:
            ctx.prec = max(INEXACT_PRECISION, len(str(abs(a))) + 2)
            return Decimal(a) / Decimal(b)
    a, b = promote(a, b)
    if isinstance(a, Decimal):
        with localcontext() as ctx:
            ctx.prec = INEXACT_PRECISION
            return a / b
    return a / b


def modulo(a, b):
    """a mod b with the sign of b (Python's rule, for decimals too); None for b = 0."""
    if b == 0:
        return None
    a, b = promote(a, b)
    if isinstance(a, Decimal):
        with localcontext() as ctx:
            ctx.prec = 100
            r = a % b
            if r and (r < 0) != (b < 0):
                r += b
            return r
    return a % b


def power(a, b):
    """a to the power b; None when the result is not a finite real number."""
    if type(a) is int and type(b) is int:
        if b >= 0:
            if abs(a) > 1 and b * abs(a).bit_length() > MAX_INT_BITS:
                return None
            return a**b
        if a == 0:
            return None
        with localcontext() as ctx:
            ctx.prec = INEXACT_PRECISION
            return Decimal(a) ** b
    a, b = promote(a, b)
    if isinstance(a, Decimal):
        with localcontext() as ctx:
            ctx.prec = INEXACT_PRECISION
            return a**b
    r = float(a) ** float(b)
    return r if type(r) is float else None


def _safe(op, a, b):
    """op(a, b) as a transit value; None for undefined or overflowing results."""
    try:
        r = op(a, b)
    except (ArithmeticError, DecimalException, ValueError):
        return None
    return None if r is None else from_number(r)


def _operator(op):
    def natural(a, b):
        x, y = _number(a), _number(b)
        if x is None or y is None:
            return None
        return _safe(op, x, y)

    return natural


_DOC_EXAMPLES = {
    "+": '["+", 10, ["list", 10, 20, 30]] -> 20',
    "-": '["-", 10, 12] -> -2',
    "*": '["*", ["list", 2.3, 14], 2] -> 4.6',
    "/": '["/", 10, 20] -> "~f0.5"; ["/", 5, 0] -> null',
    "%": '["%", ["list", 5, 8, 9], 3] -> 2',
    "^": '["^", 5, 2] -> 25',
}

for _name, _op, _what in (
    ("+", add, "VALUE1 + VALUE2"),
    ("-", subtract, "VALUE1 - VALUE2"),
    ("*", multiply_, "VALUE1 * VALUE2"),
    ("/", divide_, "VALUE1 / VALUE2 (division by zero gives null)"),
    ("%", modulo, "VALUE1 modulo VALUE2"),
    ("^", power, "VALUE1 to the power VALUE2"),
):
    _fn = _operator(_op)
    _fn.__name__ = f"operator_{_op.__name__}"
    _fn.__doc__ = (
        f"{_what}, using the first element of list arguments; null when either "
        f"is null or not a number.\n\n    >>> {_DOC_EXAMPLES[_name]}"
    )
    registry.eager(_name, 2, signature="VALUE1 VALUE2")(_fn)


def _mapper(op, name, operand_name):
    def map_style(operand, values):
        n = _number(operand)
        if n is None:
            return None

        def one(v):
            x = to_number(v)
            if x is None:
                return DROP
            return _safe(op, x, n)

        return map_values(values, one)

    map_style.__name__ = name
    return map_style


def _register_map(name, op, operand_name, what, example):
    fn = _mapper(op, name, operand_name)
    fn.__doc__ = (
        f"{what} for every number in VALUES (non-numbers left out; an undefined "
        f"result is null).\n\n    >>> {example}"
    )
    registry.eager(name, 2, signature=f"{operand_name} VALUES")(fn)


_register_map("plus", add, "INCREMENT", "v + INCREMENT", '["plus", 10, ["list", 1, 2, 3]] -> [11, 12, 13]')
_register_map(
    "minus", subtract, "DECREMENT", "v - DECREMENT", '["minus", 1, ["list", 1, 2, 3]] -> [0, 1, 2]'
)
_register_map(
    "multiply", multiply_, "MULTIPLIER", "v * MULTIPLIER", '["multiply", 2, ["list", 2, 4, 6]] -> [4, 8, 12]'
)
_register_map(
    "divide", divide_, "DIVISOR", "v / DIVISOR", '["divide", 2, ["list", 2, 5]] -> ["~f1", "~f2.5"]'
)
_register_map("mod", modulo, "DIVISOR", "v mod DIVISOR", '["mod", 2, ["list", 2, 5, 6]] -> [0, 1, 0]')
_register_map("pow", power, "EXPONENT", "v ^ EXPONENT", '["pow", 2, ["list", 2, 5, 6]] -> [4, 25, 36]')


def _numbers(values, fn):
    """Map fn over the numbers in VALUES; fn may return None for "undefined"."""

    def one(v):
        n = to_number(v)
        if n is None:
            return DROP
        try:
            r = fn(n)
        except (ArithmeticError, DecimalException, ValueError):
            return None
        return None if r is None else from_number(r)

    return map_values(values, one)


@registry.eager("abs", 1, signature="VALUES")
def abs_(values):
    """The absolute value of each number, keeping its type.

    >>> evaluate(["abs", ["list", -2, 4, -6]])
    [2, 4, 6]
    """
    return _numbers(values, abs)


_MAX_DIGITS = 1000


def _round_one(n, digits: int, mode: str):
    if type(n) is int and digits >= 0:
        return n
    if type(n) is float:
        if not math.isfinite(n):
            return None
        if mode == ROUND_HALF_EVEN and 0 < digits < 16:
            fast = _round_float_text(n, digits)
            if fast is not None:
                return fast
        d = Decimal(repr(n))
    else:
        d = Decimal(n)
    with localcontext() as ctx:
        ctx.prec = max(INEXACT_PRECISION, d.adjusted() + max(digits, 0) + 3)
        q = d.quantize(Decimal(1).scaleb(-digits), rounding=mode)
    if digits <= 0:
        return int(q)
    return q


def _round_float_text(n: float, digits: int):
    """Half-even rounding of a finite float at 0 < DIGITS < 16 via float
    formatting, as a ``~f`` value; None when the exact Decimal path is needed.

    The exact path rounds the float's shortest repr. ``%.Nf`` rounds the
    float's exact binary value, and the two agree except when the repr ends
    exactly on a tie (``...5`` in decimal place N+1): any rounding boundary
    between the binary value and its repr would itself be a shorter repr.
    So: when s = n * 10**(N+1) is near an integer ending in 5, take the exact
    path; otherwise formatting gives the same digits, several times faster.

    Keeping |s| below 1e12 makes both tests cheap and safe: the float's
    spacing is then far finer than the 10**-N grid (a short repr padded with
    zeros equals the binary value's digits), and a true tie puts s within
    |s| * 2**-52 < 2.3e-4 of it, inside the band ``TIE_BAND`` (fmod is exact).
    tests/test_fast_paths.py checks this against the exact path.
    """
    scaled = n * _POWERS_OF_TEN[digits + 1]
    if not -FAST_ROUND_LIMIT < scaled < FAST_ROUND_LIMIT:
        return None
    if 5.0 - TIE_BAND < scaled % 10.0 < 5.0 + TIE_BAND:
        return None
    return "~f" + ("%.*f" % (digits, n))


_POWERS_OF_TEN = [10.0**i for i in range(18)]
# Shared with the inline form of round in codegen.py.
FAST_ROUND_LIMIT = 1e12
TIE_BAND = 1e-3


def _rounder(name: str, mode: str):
    def rounding(*args):
        digits = 0
        if len(args) == 2:
            digits = int_arg(args[0], name, "DIGITS")
            if abs(digits) > _MAX_DIGITS:
                raise DtlRuntimeError(
                    f"{name!r}: DIGITS must be between -{_MAX_DIGITS} and {_MAX_DIGITS}",
                    code="invalid-argument",
                )
        values = args[-1]
        if type(values) is float and mode == ROUND_HALF_EVEN and 0 < digits < 16:
            # The common case (one float rounded to a few decimals), without
            # the per-value closures of _numbers.
            fast = _round_float_text(values, digits)
            if fast is not None:
                return fast
        return _numbers(values, lambda n: _round_one(n, digits, mode))

    rounding.__name__ = name
    return rounding


_ROUND_DOC = """{what} at DIGITS decimals (default 0). With DIGITS 0 (or less) the
result is an integer; with more, integers stay integers and floats and
decimals give a decimal with exactly DIGITS decimals.

    >>> evaluate({example})
    {result}
"""

for _name, _mode, _what, _example, _result in (
    ("ceil", ROUND_CEILING, "Round up", '["ceil", 2, 2.299]', "'~f2.30'"),
    ("floor", ROUND_FLOOR, "Round down", '["floor", ["list", 2.2, 4.778, 6]]', "[2, 4, 6]"),
    (
        "round",
        ROUND_HALF_EVEN,
        "Round half to even",
        '["round", ["list", 2.2, 3.5, 4.5]]',
        "[2, 4, 4]",
    ),
):
    _fn = _rounder(_name, _mode)
    _fn.__doc__ = _ROUND_DOC.format(what=_what, example=_example, result=_result)
    registry.eager(_name, 1, 2, signature="DIGITS? VALUES")(_fn)


def _sqrt(n):
    if n < 0:
        return None
    if isinstance(n, Decimal):
        with localcontext() as ctx:
            ctx.prec = INEXACT_PRECISION
            return n.sqrt()
    return math.sqrt(n)


@registry.eager("sqrt", 1, signature="VALUES")
def sqrt(values):
    """The square root of each number (a float; a decimal for decimals);
    null for negative numbers.

    >>> evaluate(["sqrt", ["list", 4, 9, 16]])
    [2.0, 3.0, 4.0]
    """
    return _numbers(values, _sqrt)


@registry.eager("sin", 1, signature="VALUES")
def sin(values):
    """The sine of each number (radians), as a float.

    >>> evaluate(["sin", 0.0])
    0.0
    """
    return _numbers(values, lambda n: math.sin(float(n)))


@registry.eager("cos", 1, signature="VALUES")
def cos(values):
    """The cosine of each number (radians), as a float.

    >>> evaluate(["cos", ["list", 0, 0.0]])
    [1.0, 1.0]
    """
    return _numbers(values, lambda n: math.cos(float(n)))


# |tan| beyond this means the argument is, within float precision, an odd
# multiple of pi/2 where tan is undefined.
_TAN_LIMIT = 1e15


def _tan(n):
    r = math.tan(float(n))
    return None if abs(r) > _TAN_LIMIT else r


@registry.eager("tan", 1, signature="VALUES")
def tan(values):
    """The tangent of each number (radians), as a float; null where it is
    undefined (odd multiples of pi/2).

    >>> evaluate(["tan", 0])
    0.0
    """
    return _numbers(values, _tan)
