"""The ``merge`` source (version 2): entities that are "the same" by equality
rules are combined into one.

Sameness is transitive (union-find over member entities). A member is
``(dataset offset, _id)``; groups and their members are ordered by dataset
offset, then ``_id``, which makes the result ids deterministic:

- ``identity: "composite"`` (the default): ``"0|a1|1|b1"``;
- ``identity: "first"``: the first member's ``_id``.

Property values are combined per ``strategy``: ``default`` unions the values
(like ``merge-union``, duplicates kept), ``compact`` also drops duplicates and
empty lists and unwraps single values, ``list`` puts the members under
``$merged``. ``$ids`` collects the members' ids (a member's own ``$ids`` when
it has one). Deleted members are never merged: they come out on their own
with ``_deleted: true``. When an earlier output id disappears because its
members merged into another entity, a deletion with ``$replaced: true`` is
emitted - not a real delete, and downstream pipes must treat it so.
"""

from __future__ import annotations

from typing import Any, Callable

from .compiler import Compiler
from .context import Ctx, Env
from .errors import DtlCompileError
from .values import hashable_key


def _aliases(datasets: Any) -> list[tuple[str, str]]:
    if type(datasets) is not list or not datasets:
        raise DtlCompileError("the merge source needs a non-empty list of \"<dataset> <alias>\"", code="invalid-pipe")
    out = []
    for item in datasets:
        parts = item.split() if type(item) is str else []
        if len(parts) == 1:
            parts = [parts[0], parts[0]]
        if len(parts) != 2:
            raise DtlCompileError(f"merge source datasets entry {item!r} must be \"<dataset> <alias>\"", code="invalid-pipe")
        out.append((parts[0], parts[1]))
    return out


def _rewrite(expr: Any, alias: str) -> Any:
    """``"a.x"`` (alias path) -> ``"_S.x"`` so the DTL compiler can evaluate it."""
    if type(expr) is str:
        if expr == alias:
            return "_S."
        if expr.startswith(alias + "."):
            return "_S." + expr[len(alias) + 1:]
        return expr
    if type(expr) is list:
        return [expr[0]] + [_rewrite(e, alias) for e in expr[1:]] if expr and type(expr[0]) is str else [_rewrite(e, alias) for e in expr]
    return expr


def _alias_of(expr: Any, aliases: set[str]) -> str | None:
    """The one alias an equality expression refers to."""
    found: set[str] = set()

    def walk(e):
        if type(e) is str and "." in e:
            head = e.split(".", 1)[0]
            if head in aliases:
                found.add(head)
        elif type(e) is list:
            for x in e:
                walk(x)

    walk(expr)
    if len(found) != 1:
        raise DtlCompileError(
            f"an equality expression must refer to exactly one dataset alias: {expr!r}", code="invalid-pipe"
        )
    return found.pop()


class MergeSource:
    """Compiled merge source config; ``entities(read, previous_output)`` runs it."""

    def __init__(self, config: dict, *, pipe: dict, compiler_factory: Callable[[], Compiler]) -> None:
        self.config = config
        self.datasets = _aliases(config.get("datasets"))
        self.identity = config.get("identity", "composite")
        self.strategy = config.get("strategy", "default")
        if self.identity not in ("composite", "first"):
            raise DtlCompileError(f"unknown merge identity {self.identity!r}", code="invalid-pipe")
        if self.strategy not in ("default", "compact", "list"):
            raise DtlCompileError(f"unknown merge strategy {self.strategy!r}", code="invalid-pipe")
        self.ni_mode = bool(pipe.get("namespaced_identifiers"))
        aliases = {a for _, a in self.datasets}
        # Each rule is a list of (alias, compiled expression) that must agree.
        rules: list[list[tuple[str, Any]]] = []
        for eq in config.get("equality") or []:
            if type(eq) is not list or len(eq) != 3 or eq[0] != "eq":
                raise DtlCompileError(f"merge equality rules must be [\"eq\", A, B], got {eq!r}", code="invalid-pipe")
            rules.append([eq[1], eq[2]])
        for group in config.get("equality_sets") or []:
            if type(group) is not list or not group:
                raise DtlCompileError(f"an equality set must be a non-empty list, got {group!r}", code="invalid-pipe")
            rules.append(list(group))
        self.rules = []
        for rule in rules:
            compiled = []
            for expr in rule:
                alias = _alias_of(expr, aliases)
                c = compiler_factory()
                compiled.append((alias, c.expr(_rewrite(expr, alias), "")))
            self.rules.append(compiled)
        self.env = Env(pipe=pipe)

    def _values(self, fn, entity) -> list:
        v = fn(Ctx(entity, {}, self.env))
        vals = v if type(v) is list else [v]
        return [hashable_key(x) for x in vals if x is not None and x != []]

    def entities(self, read: Callable[[str], list[dict]], previous_output: list[dict]) -> list[dict]:
        members: list[tuple[int, str, dict]] = []
        deleted: list[tuple[int, str, dict]] = []
        for offset, (name, _alias) in enumerate(self.datasets):
            for e in read(name):
                (deleted if e.get("_deleted") else members).append((offset, e["_id"], e))
        members.sort(key=lambda m: (m[0], m[1]))
        alias_of = {i: a for i, (_, a) in enumerate(self.datasets)}
        parent = list(range(len(members)))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def union(i, j):
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)

        for rule_no, rule in enumerate(self.rules):
            seen: dict[Any, int] = {}
            by_alias = {}
            for alias, fn in rule:
                by_alias.setdefault(alias, []).append(fn)
            for idx, (offset, _ident, entity) in enumerate(members):
                fns = by_alias.get(alias_of[offset])
                if not fns:
                    continue
                for fn in fns:
                    for key in self._values(fn, entity):
                        if key in seen:
                            union(seen[key], idx)
                        else:
                            seen[key] = idx
        groups: dict[int, list[int]] = {}
        for idx in range(len(members)):
            groups.setdefault(find(idx), []).append(idx)
        out = []
        for root in sorted(groups):
            group = [members[i] for i in groups[root]]
            out.append(self._combine(group))
        for offset, ident, entity in sorted(deleted, key=lambda m: (m[0], m[1])):
            combined = self._combine([(offset, ident, entity)])
            combined["_deleted"] = True
            out.append(combined)
        current = {e["_id"] for e in out}
        live_member_ids = {i for e in out if not e.get("_deleted") for i in _ids_list(e)}
        for old in previous_output:
            if old.get("_deleted") or old["_id"] in current:
                continue
            if any(i in live_member_ids for i in _ids_list(old)):
                out.append({"_id": old["_id"], "$ids": old.get("$ids"), "_deleted": True, "$replaced": True})
        return out

    def _member_id(self, ident: str) -> str:
        if self.ni_mode:
            return ident if ident.startswith("~:") else "~:" + ident
        return ident

    def _combine(self, group: list[tuple[int, str, dict]]) -> dict:
        if self.identity == "first":
            ident = group[0][1]
        else:
            ident = "|".join(f"{offset}|{i}" for offset, i, _ in group)
        ids: list = []
        for _offset, i, e in group:
            own = e.get("$ids")
            for v in (own if type(own) is list else [own]) if own is not None else [self._member_id(i)]:
                if v not in ids:
                    ids.append(v)
        bodies = [{k: v for k, v in e.items() if not k.startswith("_") and k != "$ids"} for _, _, e in group]
        if self.strategy == "list":
            result: dict = {"$merged": bodies}
        else:
            result = {}
            for body in bodies:
                for k, v in body.items():
                    if k not in result:
                        result[k] = v
                    else:
                        old = result[k]
                        result[k] = (old if type(old) is list else [old]) + (v if type(v) is list else [v])
            if self.strategy == "compact":
                for k in list(result):
                    v = result[k]
                    if type(v) is list:
                        uniq, keys = [], set()
                        for x in v:
                            hk = hashable_key(x)
                            if hk not in keys:
                                keys.add(hk)
                                uniq.append(x)
                        if not uniq:
                            del result[k]
                        else:
                            result[k] = uniq[0] if len(uniq) == 1 else uniq
        result["_id"] = ident
        result["$ids"] = ids
        return result


def _ids_list(entity: dict) -> list:
    v = entity.get("$ids")
    return v if type(v) is list else ([] if v is None else [v])


__all__ = ["MergeSource"]
