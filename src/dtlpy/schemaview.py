"""Which property paths a JSON Schema allows, for ``dtlpy check``.

Only the parts of JSON Schema that say which object keys exist are read:
``properties``, ``patternProperties``, ``additionalProperties``, ``items``
(a DTL path maps over lists), ``anyOf``/``oneOf``/``allOf`` and local
``$ref``s. A path is ``ok`` if any alternative has it, ``unknown`` if some
alternative does not constrain the keys, ``missing`` if the schema lists
properties without it, ``forbidden`` if it also sets
``additionalProperties: false`` (or the value is not an object).

>>> view = SchemaView({"type": "object", "additionalProperties": False,
...                    "properties": {"a": {"type": "object", "properties": {"b": {}}}}})
>>> view.lookup(["a", "b"]), view.lookup(["a", "c"]), view.lookup(["x"])
(('ok', []), ('missing', ['b']), ('forbidden', ['a']))
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SchemaView"]

_RANK = {"ok": 3, "unknown": 2, "missing": 1, "forbidden": 0}
_SCALARS = {"string", "number", "integer", "boolean", "null"}


class SchemaView:
    def __init__(self, schema: Any) -> None:
        self.schema = schema

    def _resolve(self, s: Any, depth: int = 0) -> Any:
        while isinstance(s, dict) and isinstance(s.get("$ref"), str) and s["$ref"].startswith("#") and depth < 50:
            node: Any = self.schema
            for part in s["$ref"][1:].split("/")[1:]:
                part = part.replace("~1", "/").replace("~0", "~")
                node = node.get(part) if isinstance(node, dict) else None
            s, depth = node, depth + 1
        return s

    def _leaves(self, s: Any, depth: int = 0) -> list:
        """The alternatives that say something about object keys."""
        s = self._resolve(s)
        if depth > 30:
            return [True]
        if not isinstance(s, dict):
            return [s if isinstance(s, bool) else True]
        out = []
        for k in ("anyOf", "oneOf", "allOf"):
            for b in s.get(k) or []:
                out.extend(self._leaves(b, depth + 1))
        types = s.get("type")
        types = {types} if isinstance(types, str) else set(types or [])
        if isinstance(s.get("items"), dict) and (not types or "array" in types):
            out.extend(self._leaves(s["items"], depth + 1))
        keyed = any(k in s for k in ("properties", "patternProperties", "additionalProperties"))
        if keyed or (types and types - {"array"}):
            out.append(s)
        elif not out:
            out.append(True)
        return out

    def _step(self, s: Any, key: str) -> tuple[str, list, list[str]]:
        """(status, sub-schemas, known names) for one key under schema s."""
        status, subs, names = "forbidden", [], []
        for leaf in self._leaves(s):
            if leaf is True:
                st, sub = "unknown", []
            elif leaf is False:
                st, sub = "forbidden", []
            else:
                props = leaf.get("properties") if isinstance(leaf.get("properties"), dict) else {}
                names.extend(props)
                types = leaf.get("type")
                types = {types} if isinstance(types, str) else set(types or [])
                extra = leaf.get("additionalProperties", None)
                pattern_hit = [v for p, v in (leaf.get("patternProperties") or {}).items() if _search(p, key)]
                if key in props:
                    st, sub = "ok", [props[key]]
                elif pattern_hit:
                    st, sub = "ok", pattern_hit
                elif types and not types & {"object"}:
                    st, sub = "forbidden", []
                elif isinstance(extra, dict):
                    st, sub = "ok", [extra]
                elif extra is False:
                    st, sub = "forbidden", []
                elif props:
                    st, sub = "missing", []
                else:
                    st, sub = "unknown", []
            if _RANK[st] > _RANK[status]:
                status = st
            subs.extend(sub)
        return status, subs, sorted(set(names))

    def lookup(self, keys: list[str]) -> tuple[str, list[str]]:
        """Status of a key path, and the names known where it stopped."""
        current = [self.schema]
        for key in keys:
            best, subs, names = "forbidden", [], []
            for s in current:
                st, sub, known = self._step(s, key)
                if _RANK[st] > _RANK[best]:
                    best = st
                subs.extend(sub)
                names.extend(known)
            if best != "ok":
                return best, sorted(set(names))
            current = subs
        return "ok", []

    def names(self) -> list[str]:
        """Top-level property names listed by the schema."""
        out: list[str] = []
        for leaf in self._leaves(self.schema):
            if isinstance(leaf, dict) and isinstance(leaf.get("properties"), dict):
                out.extend(k for k in leaf["properties"] if k not in out)
        return out

    @property
    def open(self) -> bool:
        """True when top-level keys beyond the listed ones are possible."""
        return self._step(self.schema, "\0no such key\0")[0] in ("ok", "unknown", "missing")


def _search(pattern: str, key: str) -> bool:
    try:
        return re.search(pattern, key) is not None
    except re.error:
        return False
