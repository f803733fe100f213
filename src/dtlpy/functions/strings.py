"""DTL functions on strings.

Only plain strings take part: typed values (URIs, NIs, datetimes, ...) and
other types in VALUES are silently left out, as the docs say for each
function. A string argument that configures a function (a separator, the
characters to strip, ...) must be a string; anything else is a type error.
"""

from __future__ import annotations


from ..registry import Registry
from ..values import TAGS, as_list, first, is_plain_string
from ..wildcards import compile_wildcard
from .convert import DROP, int_arg, map_values, string_arg, string_cast

registry = Registry()


def _map_strings(values, fn):
    """Map ``fn`` over the plain strings in VALUES (others dropped)."""
    if type(values) is str and not (len(values) > 1 and values[0] == "~"):
        return fn(values)  # the common case, without the per-value closure
    return map_values(values, lambda v: fn(v) if is_plain_string(v) else DROP)


@registry.eager("concat", 1, None, signature="VALUES+")
def concat(*args):
    """The strings of all arguments (lists are spliced in) joined together.

    >>> evaluate(["concat", "a", ["list", "b", "c"], "d", 123, ["list", "!"]])
    'abcd!'
    """
    return "".join(v for a in args for v in as_list(a) if is_plain_string(v))


@registry.eager("join", 2, signature="SEPARATOR VALUES")
def join(sep, values):
    """The strings of VALUES joined by SEPARATOR.

    >>> evaluate(["join", "-", ["list", "a", "b", 123, "c"]])
    'a-b-c'
    """
    sep = string_arg(sep, "join", "SEPARATOR")
    if type(values) is list:
        return sep.join([v for v in values if type(v) is str and (v[:1] != "~" or v[1:2] not in TAGS)])
    return values if is_plain_string(values) else ""


@registry.eager("split", 1, 2, signature="SEPARATOR? VALUES")
def split(*args):
    """One flat list of the pieces of every string split by SEPARATOR (an
    empty SEPARATOR gives characters; none splits on runs of whitespace).

    >>> evaluate(["split", "-", ["list", "a-b", "c-d", "e"]])
    ['a', 'b', 'c', 'd', 'e']
    """
    values = args[-1]
    if len(args) == 2:
        sep = string_arg(args[0], "split", "SEPARATOR")
        if sep == "":
            cut = list
        else:
            cut = lambda s: s.split(sep)  # noqa: E731
    else:
        cut = str.split
    if values is None:
        return None
    out: list = []
    for v in as_list(values):
        if is_plain_string(v):
            out.extend(cut(v))
    if type(values) is not list and not out and not is_plain_string(values):
        return None
    return out


@registry.eager("length", 1, signature="VALUES")
def length(values):
    """The number of characters of each string.

    >>> evaluate(["length", ["list", "", "a", "bb", "ccc"]])
    [0, 1, 2, 3]
    """
    return _map_strings(values, len)


@registry.eager("lower", 1, signature="VALUES")
def lower(values):
    """Lower-case each string.

    >>> evaluate(["lower", ["list", "A", "B", "C"]])
    ['a', 'b', 'c']
    """
    return _map_strings(values, str.lower)


@registry.eager("upper", 1, signature="VALUES")
def upper(values):
    """Upper-case each string.

    >>> evaluate(["upper", ["list", "a", "b", "c"]])
    ['A', 'B', 'C']
    """
    return _map_strings(values, str.upper)


def _stripper(name, method, args):
    values = args[-1]
    if len(args) == 2:
        chars = string_arg(args[0], name, "CHARACTERS")
        return _map_strings(values, lambda s: method(s, chars))
    return _map_strings(values, method)


@registry.eager("strip", 1, 2, signature="CHARACTERS? VALUES")
def strip(*args):
    """Remove any of CHARACTERS (default: whitespace) from both ends.

    >>> evaluate(["strip", "xy", ["list", "123xyx", "xy456yx"]])
    ['123', '456']
    """
    return _stripper("strip", str.strip, args)


@registry.eager("lstrip", 1, 2, signature="CHARACTERS? VALUES")
def lstrip(*args):
    """Remove any of CHARACTERS (default: whitespace) from the start.

    >>> evaluate(["lstrip", "xy", ["list", "123xyx", "xy456yx"]])
    ['123xyx', '456yx']
    """
    return _stripper("lstrip", str.lstrip, args)


@registry.eager("rstrip", 1, 2, signature="CHARACTERS? VALUES")
def rstrip(*args):
    """Remove any of CHARACTERS (default: whitespace) from the end.

    >>> evaluate(["rstrip", "xy", ["list", "123xyx", "xy456yx"]])
    ['123', 'xy456']
    """
    return _stripper("rstrip", str.rstrip, args)


def _justify(width, fill, values, method):
    width, fill = first(width), first(fill)
    if type(width) is not int or not is_plain_string(fill) or len(fill) != 1:
        return None
    return _map_strings(values, lambda s: method(s, width, fill))


@registry.eager("ljust", 3, signature="WIDTH FILL_CHARACTER VALUES")
def ljust(width, fill, values):
    """Pad strings on the right with FILL_CHARACTER to at least WIDTH
    characters. A bad WIDTH or FILL_CHARACTER gives null.

    >>> evaluate(["ljust", 10, "0", "123"])
    '1230000000'
    """
    return _justify(width, fill, values, str.ljust)


@registry.eager("rjust", 3, signature="WIDTH FILL_CHARACTER VALUES")
def rjust(width, fill, values):
    """Pad strings on the left with FILL_CHARACTER to at least WIDTH
    characters. A bad WIDTH or FILL_CHARACTER gives null.

    >>> evaluate(["rjust", 10, "0", "123"])
    '0000000123'
    """
    return _justify(width, fill, values, str.rjust)


@registry.eager("matches", 2, signature="PATTERN VALUES")
def matches(pattern, values):
    """True if there are values and every one is a string matching the
    wildcard PATTERN (``*``, ``?``) as a whole.

    >>> evaluate(["matches", "a*p*a", ["list", "alpha", "alpaca"]])
    True
    """
    pattern = string_arg(pattern, "matches", "PATTERN")
    values = as_list(values)
    if not values:
        return False
    test = compile_wildcard(pattern)
    return all(is_plain_string(v) and test(v) for v in values)


@registry.eager("replace", 2, 3, signature="(REPLACEMENTS | OLD NEW) VALUES")
def replace(*args):
    """Replace every OLD with NEW, or every key of REPLACEMENTS with its value
    (applied one after another, in the dict's order).

    >>> evaluate(["replace", "http://", "https://", "http://www.sesam.io/"])
    'https://www.sesam.io/'
    >>> evaluate(["replace", {"Hello": "HELLO", "world": "WORLD"}, "Hello world!"])
    'HELLO WORLD!'
    """
    values = args[-1]
    if len(args) == 3:
        old = string_arg(args[0], "replace", "OLD_STRING")
        new = string_arg(args[1], "replace", "NEW_STRING")
        return _map_strings(values, lambda s: s.replace(old, new))
    table = first(args[0])
    if type(table) is not dict:
        from ..errors import DtlTypeError

        raise DtlTypeError("'replace' with two arguments needs a dict of replacements first")
    pairs = [(k, string_arg(v, "replace", f"the replacement for {k!r}")) for k, v in table.items()]

    def replace_all(s):
        for old, new in pairs:
            s = s.replace(old, new)
        return s

    return _map_strings(values, replace_all)


@registry.eager("substring", 2, 3, signature="START END? VALUES")
def substring(*args):
    """Characters START (inclusive) to END (exclusive) of each string; negative
    indexes count from the end, out-of-range indexes are clamped.

    >>> evaluate(["substring", -3, -1, "abcdef"])
    'de'
    """
    start = int_arg(args[0], "substring", "START_INDEX")
    end = None
    if len(args) == 3 and first(args[1]) is not None:
        end = int_arg(args[1], "substring", "END_INDEX")
    return _map_strings(args[-1], lambda s: s[start:end])


@registry.eager("string", 1, signature="VALUES")
def string(values):
    """Cast values to strings: numbers as text (decimals without exponent),
    typed values as their text, lists and dicts as JSON with sorted keys,
    bytes decoded as UTF-8, booleans as "true"/"false".

    >>> evaluate(["string", ["list", "abc", ["list", 1, 2, 3], {"b": 2, "a": 1}, 124.4]])
    ['abc', '[1, 2, 3]', '{"a": 1, "b": 2}', '124.4']
    """
    t = type(values)
    if t is int:
        return str(values)
    if t is str and not (len(values) > 1 and values[0] == "~"):
        return values
    return map_values(values, string_cast)


@registry.eager("is-string", 1, signature="VALUES")
def is_string(value):
    """True if the value (or a list's first element) is a plain string.

    >>> evaluate(["is-string", ["list", "foo:bar", 12345]])
    True
    """
    return is_plain_string(first(value))
