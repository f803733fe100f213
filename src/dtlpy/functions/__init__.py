"""The table of DTL expression functions, one module per family.

Each family module owns a ``registry`` (see ``dtlpy.registry``) and
registers its built-ins explicitly; this package merges them. To add a
family, create the module and list it in ``FAMILIES``.
"""

from __future__ import annotations

from ..registry import Builtin, load_families

FAMILIES = (
    "core",          # list, literal, if/case/case-eq (expression forms), apply
    "logic",         # and, or, not, all, any
    "booleans",      # boolean, is-boolean
    "comparisons",   # eq, neq, gt, gte, lt, lte
    "nulls",         # coalesce, coalesce-args, if-null, is-null, is-not-null
    "strings",       # concat, join, split, lower, upper, strip, replace, ...
    "numbers",       # integer, decimal, float, hex, is-integer, ...
    "math",          # + - * / % ^, plus, minus, ..., round, ceil, floor, sqrt, ...
    "json",          # json, json-transit, json-parse, json-transit-parse
    "bytes",         # bytes, base64-encode, base64-decode, is-bytes
    "uris",          # uri, is-uri, url-quote, url-unquote, curie
    "uuids",         # uuid, is-uuid
    "hashing",       # hash128
    "lists",         # count, map, filter, sorted, first, nth, slice, range, ...
    "sets",          # union, intersection, difference, intersects
    "dicts",         # dict, keys, values, items, has-key, path, apply-ns, strip-ns, ...
    "dates",         # datetime, datetime-format, datetime-parse, datetime-plus, ...
    "ni",            # ni, ni-id, ni-ns, is-ni, ni-collapse, ni-expand
    "phonenumbers",  # phonenumber-parse, phonenumber-format
    "encryption",    # encrypt, decrypt, encrypt-pgp, decrypt-pgp, encrypt-pki, decrypt-pki
    "misc",          # now, is-changed, tuples, completeness, ...
    "hops",          # hops, apply-hops, lookup-entity, lookup
)

FUNCTIONS: dict[str, Builtin] = load_families(__name__, FAMILIES)
