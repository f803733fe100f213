"""DTL function ``hash128``: 128-bit MurmurHash3 (x64 variant) of strings
(as UTF-8) and bytes, as an unsigned integer.

The reference value ``"abc"`` -> 79267961763742113019008347020647561319 is
what ``mmh3.hash128(b"abc", 0, signed=False)`` gives, so the C library is
used directly.
"""

from __future__ import annotations

import mmh3

from ..compiler import is_const, pointer
from ..errors import DtlRuntimeError, DtlTypeError
from ..registry import Registry
from ..values import first, is_plain_string, kind, parse_bytes
from .convert import DROP, map_values

registry = Registry()

ALGORITHMS = ("murmur3",)


def _check_algorithm(value):
    name = first(value)
    if name not in ALGORITHMS:
        raise DtlRuntimeError(
            f"'hash128': unsupported algorithm {name!r}; the only one is 'murmur3'",
            code="invalid-argument",
        )


def _seed(value) -> int:
    seed = first(value)
    if type(seed) is not int:
        raise DtlTypeError(f"'hash128': SEED must be an integer, got {kind(seed)}")
    if not 0 <= seed < 1 << 32:
        raise DtlRuntimeError(
            "'hash128': SEED must be between 0 and 4294967295", code="invalid-argument"
        )
    return seed


def hash_values(values, seed: int):
    def one(v):
        if is_plain_string(v):
            try:
                data = v.encode("utf-8")
            except UnicodeEncodeError:
                return DROP
        elif kind(v) == "bytes":
            data = parse_bytes(v)
            if data is None:
                return DROP
        else:
            return DROP
        return mmh3.hash128(data, seed, signed=False)

    return map_values(values, one)


@registry.special("hash128", 2, 3, signature='"murmur3" SEED? VALUES')
def compile_hash128(c, args, ptr):
    """128-bit MurmurHash3 of each string or bytes value (others left out),
    with an optional 32-bit SEED.

    >>> evaluate(["hash128", "murmur3", "abc"])
    79267961763742113019008347020647561319
    """
    algorithm = c.expr(args[0], pointer(ptr, 1))
    if is_const(algorithm) and first(algorithm.value) not in ALGORITHMS:
        raise c.error(
            f"hash128 supports only the 'murmur3' algorithm, not {algorithm.value!r}",
            pointer(ptr, 1),
            args[0],
            code="invalid-argument",
        )
    values = c.expr(args[-1], pointer(ptr, len(args)))
    seed = c.expr(args[1], pointer(ptr, 2)) if len(args) == 3 else None

    def hash128(ctx):
        if not is_const(algorithm):
            _check_algorithm(algorithm(ctx))
        s = 0 if seed is None else _seed(seed(ctx))
        return hash_values(values(ctx), s)

    return c.guarded(hash128, ptr, ["hash128", *args], "hash128")
