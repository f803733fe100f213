"""Compare entity lists the way ``sesam verify`` does.

Golden files written by this module read like the ``expected/*.json``
files of a sesam-py project, and a comparison passes or fails for the same
reasons it would there:

1. every entity is filtered: keys starting with ``_`` are dropped at every
   level, except ``_id`` and ``_deleted`` (the latter only when it is
   ``true``); blacklisted paths are dropped too;
2. floats with an integral value (``2.0``) become ints, as JSON clients do;
3. with ``ignore_deletes`` (sesam-py's default) deleted entities in the
   actual output are dropped unless the expected list holds that ``_id`` as
   deleted;
4. both lists are sorted by ``fields_to_sort_by`` (default ``["_id"]``) and
   then by the canonical JSON of the entity, serialised with sorted keys,
   indent 2 and ``ensure_ascii=False``, and compared as text; a mismatch
   gives a unified diff.

>>> ok, diff = compare([{"_id": "a", "x": 1}], [{"_id": "a", "x": 1.0, "_updated": 7}])
>>> ok, diff
(True, '')
>>> compare([{"_id": "a", "x": 1}], [{"_id": "a", "x": 2}])[0]
False

Blacklist paths: ``a.b`` (nested key), ``foos.*.bar`` (``*`` walks a list
or matches any key), ``[]`` is the same as ``*``, ``\\.`` is a literal dot,
and every segment is an fnmatch glob (``sesam_*``).
"""

from __future__ import annotations

import difflib
import json
import re
from fnmatch import fnmatchcase
from typing import Any, Iterable, Sequence

__all__ = [
    "normalize_entity",
    "normalize_entities",
    "canonical_json",
    "sort_entities",
    "format_expected",
    "compare",
    "parse_blacklist_path",
]


def canonical_json(value: Any) -> str:
    """The text both sides are compared as.

    >>> print(canonical_json({"b": 1, "a": "ø"}))
    {
      "a": "ø",
      "b": 1
    }
    """
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


def _clean(value: Any) -> Any:
    if type(value) is dict:
        out = {}
        for k, v in value.items():
            if k.startswith("_"):
                if k == "_id":
                    out[k] = _clean(v)
                elif k == "_deleted" and v is True:
                    out[k] = True
                continue
            out[k] = _clean(v)
        return out
    if type(value) in (list, tuple):
        return [_clean(v) for v in value]
    if type(value) is float and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def parse_blacklist_path(path: str) -> list[str]:
    """Split a blacklist path into glob segments.

    >>> parse_blacklist_path(r"a.b\\.c.[].d")
    ['a', 'b.c', '*', 'd']
    """
    parts = re.split(r"(?<!\\)\.", path)
    return ["*" if p == "[]" else p.replace("\\.", ".") for p in parts]


def _drop(value: Any, segments: list[str]) -> None:
    if not segments:
        return
    head, rest = segments[0], segments[1:]
    if type(value) is list:
        # A "*" segment may stand for the list level itself (foos.*.bar);
        # any other segment applies to every element.
        for item in value:
            _drop(item, rest if head == "*" else segments)
        return
    if type(value) is not dict:
        return
    for key in [k for k in value if fnmatchcase(k, head)]:
        if rest:
            _drop(value[key], rest)
        else:
            del value[key]


def normalize_entity(entity: Any, blacklist: Iterable[str] = ()) -> Any:
    """One entity as ``sesam verify`` sees it (a new object; input untouched).

    >>> normalize_entity({"_id": "1", "_deleted": False, "_ts": 5, "a": {"_x": 1, "y": 2.0}})
    {'_id': '1', 'a': {'y': 2}}
    """
    out = _clean(entity)
    for path in blacklist:
        _drop(out, parse_blacklist_path(path))
    return out


def normalize_entities(entities: Iterable[Any], blacklist: Iterable[str] = ()) -> list:
    blacklist = list(blacklist)
    return [normalize_entity(e, blacklist) for e in entities]


def sort_entities(entities: Iterable[Any], fields_to_sort_by: Sequence[str] = ("_id",)) -> list:
    """Sort by the given fields (compared as canonical JSON), then by the whole entity."""

    def key(e):
        fields = tuple(canonical_json(e.get(f)) if type(e) is dict else "" for f in fields_to_sort_by)
        return fields + (canonical_json(e),)

    return sorted(entities, key=key)


_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def format_expected(entities: Iterable[Any], *, html_escape: bool = True,
                    fields_to_sort_by: Sequence[str] = ("_id",)) -> str:
    """Text of an expected file as ``sesam update`` writes it: normalized,
    sorted, indent 2, sorted keys, UTF-8, trailing newline and (by default)
    ``<``, ``>``, ``&`` escaped the way Go's JSON encoder does."""
    text = canonical_json(sort_entities(normalize_entities(entities), fields_to_sort_by))
    if html_escape:
        text = re.sub(r"[<>&]", lambda m: _GO_ESCAPES[m.group()], text)
    return text + "\n"


def compare(
    expected: Iterable[Any],
    actual: Iterable[Any],
    *,
    ignore_deletes: bool = True,
    blacklist: Iterable[str] = (),
    fields_to_sort_by: Sequence[str] = ("_id",),
) -> tuple[bool, str]:
    """``(ok, diff_text)``; ``diff_text`` is a unified diff, empty when ok."""
    blacklist = list(blacklist)
    exp = normalize_entities(expected, blacklist)
    act = normalize_entities(actual, blacklist)
    if ignore_deletes:
        deleted_expected = {e.get("_id") for e in exp if type(e) is dict and e.get("_deleted") is True}
        act = [
            e for e in act
            if not (type(e) is dict and e.get("_deleted") is True and e.get("_id") not in deleted_expected)
        ]
    exp_text = canonical_json(sort_entities(exp, fields_to_sort_by))
    act_text = canonical_json(sort_entities(act, fields_to_sort_by))
    if exp_text == act_text:
        return True, ""
    diff = difflib.unified_diff(
        exp_text.splitlines(), act_text.splitlines(), "expected", "current-output", lineterm=""
    )
    header = ""
    if len(exp) != len(act):
        header = f"expected {len(exp)} entities, got {len(act)}\n"
    return False, header + "\n".join(diff) + "\n"
