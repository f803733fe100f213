"""DTL functions: hops (joins across datasets), apply-hops, lookup-entity and
the deprecated lookup.

Datasets are ``ctx.env.datasets`` (``{"dataset-id": [entities]}``). A dataset
is read as Sesam stores it: the last version of each ``_id``, deleted
entities left out, ordered by ``_id`` (which makes results deterministic, as
the docs promise). Join indexes are built on first use and cached in
``ctx.env.indexes``; a cache entry is rebuilt when the dataset's list object
is replaced or changes length.

How a HOPS_SPEC runs (see ``joins.rst``):

- The ``where`` clauses are split at compile time into *joins* and
  *filters*. A join is an ``eq`` whose two sides each reference exactly one
  unit, different ones; a unit is a dataset alias, or the context
  (``_S``/``_T``/``_P``/``_R``/``_B`` paths). Only the first join between a
  pair of units joins; later ones are ordinary filter expressions.
- Starting from the context, joins are followed breadth-first; an alias no
  join reaches is a compile error (``invalid-hops``), as are malformed specs.
- A join succeeds when any value of one side equals any value of the other
  (one-to-many, many-to-many ... alike); nulls never join.
- Filters run as soon as every alias they mention is bound.
- The table of bound rows is projected by ``return``: a comma separated list
  of aliases (entities, each once) or a template expression, by default the
  last alias. Several specs chain: each output entity is ``_S`` of the next.

Alias paths (``"a.type"``) are not DTL paths, so where/return expressions are
compiled with an alias-aware ``expr`` set on the compiler instance for the
duration (the compiler itself stays unaware of hops).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from ..compiler import apply_rule, pointer
from ..context import Ctx
from ..paths import split_path, walk, walk_ni
from ..registry import Registry
from ..values import as_list, hashable_key, tagged, truthy

registry = Registry()

ROOT = "_S"  # the unit of context-variable paths
_CONTEXT_PREFIXES = ("_S.", "_T.", "_P.", "_R.", "_B.")
_SPEC_KEYS = {
    "datasets", "where", "recurse", "exclude_root", "max_depth", "return",
    "track-dependencies", "trace", "subsets", "prefilters",
}


# ---------------------------------------------------------------- datasets


class Dataset:
    """A dataset as hops sees it: live entities sorted by ``_id``."""

    __slots__ = ("entities", "by_id", "source")

    def __init__(self, source: Any) -> None:
        self.source = source
        latest: dict = {}
        for e in source if type(source) is list else ():
            if type(e) is dict and type(e.get("_id")) is str:
                latest[e["_id"]] = e  # a later version replaces an earlier one
        self.by_id = {k: e for k, e in latest.items() if e.get("_deleted") is not True}
        self.entities = [self.by_id[k] for k in sorted(self.by_id)]


_EMPTY = Dataset([])


def _fresh(entry, source) -> bool:
    return entry is not None and entry[0] is source and entry[1] == len(source)


def dataset(env, dataset_id: Any) -> Dataset:
    """The prepared dataset (an unknown id reads as empty)."""
    source = env.datasets.get(dataset_id) if type(dataset_id) is str else None
    if type(source) is not list:
        return _EMPTY
    key = ("hops-dataset", dataset_id)
    entry = env.indexes.get(key)
    if not _fresh(entry, source):
        entry = (source, len(source), Dataset(source))
        env.indexes[key] = entry
    return entry[2]


# ---------------------------------------------------------------- alias-aware compiling


class Scope:
    """The aliases of one spec and the row they are bound to while evaluating."""

    def __init__(self, aliases: set[str], ni_mode: bool, ns: str) -> None:
        self.aliases = aliases
        self.row: dict = {}
        self.ni_mode = ni_mode
        self.ns = ns

    def alias_of(self, node: Any) -> str | None:
        if type(node) is str and "." in node:
            head = node.split(".", 1)[0]
            if head in self.aliases:
                return head
        return None

    def evaluate(self, fn, ctx, row):
        old = self.row
        self.row = row
        try:
            return fn(ctx)
        finally:
            self.row = old


def _compile(c, node, ptr, scope: Scope):
    """Compile an expression in which ``alias.key`` strings read the bound row."""
    previous = c.__dict__.get("expr")
    outer = previous if previous is not None else type(c).expr.__get__(c)

    def expr(n, p):
        alias = scope.alias_of(n)
        if alias is None:
            return outer(n, p)
        try:
            _, keys = split_path(n)
        except ValueError as e:
            raise c.error(str(e), p, n, code="invalid-path") from None
        keys = tuple(keys)
        ni_mode, ns = scope.ni_mode, scope.ns

        def get(ctx):
            entity = scope.row.get(alias)
            if not keys:
                return entity
            return walk_ni(entity, keys, ns) if ni_mode else walk(entity, keys)

        return get

    c.expr = expr
    try:
        if type(node) is dict:  # a return template: its values are expressions
            parts = {k: _compile(c, v, pointer(ptr, k), scope) for k, v in node.items()}
            return lambda ctx: {k: f(ctx) for k, f in parts.items()}
        return c.expr(node, ptr)
    finally:
        if previous is None:
            del c.expr
        else:
            c.expr = previous


def _refs(node: Any, scope: Scope, out: set, functions: dict) -> set:
    """Units (aliases, or ROOT for context paths) an expression mentions.

    ``_.`` counts as context (hops inside ``map`` may join on the item),
    except inside function-expression arguments, where ``_`` is rebound.
    """
    if type(node) is str:
        alias = scope.alias_of(node)
        if alias is not None:
            out.add(alias)
        elif node.startswith(_CONTEXT_PREFIXES) or node == "_." or node.startswith("_."):
            out.add(ROOT)
    elif type(node) is list and node:
        head = node[0]
        if head == "literal":
            return out
        if type(head) is not str:
            return out
        entry = functions.get(head)
        rebinding = set(entry.function_args) if entry is not None else set()
        for i, n in enumerate(node[1:]):
            if i in rebinding:
                _refs_rebound(n, scope, out)
            else:
                _refs(n, scope, out, functions)
    return out


def _refs_rebound(node: Any, scope: Scope, out: set) -> None:
    """Inside a function-expression: only aliases and real context variables count."""
    if type(node) is str:
        alias = scope.alias_of(node)
        if alias is not None:
            out.add(alias)
        elif node.startswith(_CONTEXT_PREFIXES):
            out.add(ROOT)
    elif type(node) is list and node and node[0] != "literal":
        for n in node[1:] if type(node[0]) is str else node:
            _refs_rebound(n, scope, out)


# ---------------------------------------------------------------- compiling a spec


class Step:
    """Bind ``alias`` by joining bound units to it.

    ``alts`` holds ``(from_side, index_side)`` pairs; a row's candidates are
    the union of what each pair finds. A step from a top-level join has one
    pair and drops rows without a match; an *optional* step (an alias only
    joined inside an ``or``/``and`` where clause) may have several pairs and
    binds the alias to null when none matches, leaving the decision to the
    clause, which is then a filter.
    """

    __slots__ = ("alias", "dataset_id", "alts", "optional", "filters", "subset")

    def __init__(self, alias, dataset_id, from_side, index_side, optional=False):
        self.alias = alias
        self.dataset_id = dataset_id
        self.alts = [(from_side, index_side)]
        self.optional = optional
        self.filters: list = []
        self.subset = None


class Spec:
    __slots__ = ("scope", "steps", "pre_filters", "recurse", "exclude_root", "max_depth",
                 "return_aliases", "template", "flatten_template", "last_alias")


def _compile_spec(c, spec: Any, ptr: str, is_last: bool) -> Spec:
    def bad(msg, p=ptr, node=spec):
        return c.error(f"hops: {msg}", p, node, code="invalid-hops")

    if type(spec) is not dict:
        raise bad("each HOPS_SPEC must be a JSON object")
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise bad(f"unknown key(s) {sorted(unknown)}")
    names = spec.get("datasets")
    if type(names) is str:
        names = [names]
    if type(names) is not list or not names:
        raise bad('"datasets" must be a non-empty list of "dataset-id alias" strings')
    datasets: dict[str, str] = {}
    for i, item in enumerate(names):
        parts = item.split() if type(item) is str else []
        if len(parts) != 2:
            raise bad(f'"datasets" entry {item!r} must be "dataset-id alias"', pointer(ptr, "datasets", i), item)
        ds, alias = parts
        if alias in datasets or alias.startswith("_"):
            raise bad(f"alias {alias!r} is repeated or reserved", pointer(ptr, "datasets", i), item)
        datasets[alias] = ds
    for flag in ("recurse", "exclude_root", "track-dependencies"):
        if flag in spec and type(spec[flag]) is not bool:
            raise bad(f'"{flag}" must be true or false')
    max_depth = spec.get("max_depth", 10)
    if max_depth is not None and (type(max_depth) is not int or max_depth < 0):
        raise bad('"max_depth" must be a non-negative integer or null')
    if "trace" in spec and type(spec["trace"]) is not str:
        raise bad('"trace" must be a string')
    recurse = spec.get("recurse", False)
    if "return" in spec and recurse:
        raise bad('"return" cannot be used together with "recurse"')
    if "return" in spec and not is_last:
        raise bad('"return" is only allowed on the last HOPS_SPEC')

    scope = Scope(set(datasets), c.ni_mode, c.property_ns)
    where = spec.get("where")
    if where is None:
        clauses = []
    elif type(where) is list and where and type(where[0]) is str:
        clauses = [where]
    elif type(where) is list:
        clauses = where
    else:
        raise bad('"where" must be an expression or a list of expressions')

    # Top-level "and" clauses are the same as listing their parts.
    flat: list = []
    for i, clause in enumerate(clauses):
        cptr = pointer(ptr, "where", i) if clauses is where else pointer(ptr, "where")
        if type(clause) is not list:
            raise bad("a where clause must be an expression", cptr, clause)
        _flatten_and(clause, cptr, flat)

    def join_units(node):
        """(u, v) when ``node`` is an eq joining two different units, else None."""
        if type(node) is list and len(node) == 3 and node[0] == "eq":
            left, right = _refs(node[1], scope, set(), c.functions), _refs(node[2], scope, set(), c.functions)
            if len(left) == 1 and len(right) == 1 and left != right:
                return next(iter(left)), next(iter(right))
        return None

    # Split the clauses into joins and filters.
    joins: list = []
    filters: list = []  # (units, closure)
    nested: list = []  # (u, v, node, ptr): joins inside or/and clauses
    pairs: set = set()
    rest: list = []
    for clause, cptr in flat:
        units = join_units(clause)
        if units is not None and frozenset(units) not in pairs:
            u, v = units
            pairs.add(frozenset(units))
            joins.append((u, v, _compile(c, clause[1], pointer(cptr, 1), scope),
                          _compile(c, clause[2], pointer(cptr, 2), scope)))
        else:
            rest.append((clause, cptr, units))

    def nested_join_units(node):
        # A join eq inside and/or is tested by overlap unless its pair is
        # already joined at the top level (then it is a plain eq, as there).
        units = join_units(node)
        return units if units is not None and frozenset(units) not in pairs else None

    for clause, cptr, units in rest:
        refs = _refs(clause, scope, set(), c.functions) - {ROOT}
        if units is not None:  # a second join between the same pair: a plain eq
            filters.append((refs, _compile(c, clause, cptr, scope)))
            continue
        _nested_joins(clause, cptr, nested_join_units, nested)
        filters.append((refs, _compile_condition(c, clause, cptr, scope, nested_join_units)))

    # Follow joins breadth-first from the context; aliases that only
    # nested joins reach are bound optionally, after all plain joins.
    bound = {ROOT}
    steps: list[Step] = []
    pending = list(joins)
    progress = True
    while progress:
        progress = False
        for j in pending:
            u, v, su, sv = j
            if (u in bound) != (v in bound):
                if v in bound:
                    u, v, su, sv = v, u, sv, su
                steps.append(Step(v, datasets[v], su, sv))
                bound.add(v)
                pending.remove(j)
                progress = True
                break
        if progress:
            continue
        for u, v, node, nptr in nested:
            if (u in bound) != (v in bound):
                alias = v if u in bound else u
                step = Step(alias, datasets[alias], None, None, optional=True)
                step.alts = []
                for u2, v2, node2, nptr2 in nested:
                    if alias in (u2, v2) and ({u2, v2} - {alias}) <= bound:
                        sides = (_compile(c, node2[1], pointer(nptr2, 1), scope),
                                 _compile(c, node2[2], pointer(nptr2, 2), scope))
                        step.alts.append(sides if v2 == alias else sides[::-1])
                steps.append(step)
                bound.add(alias)
                progress = True
                break
    missing = [a for a in datasets if a not in bound]
    if missing:
        raise bad(
            f"alias(es) {missing} are not joined to the source: every alias needs an "
            '["eq", ...] join that connects it, directly or through other aliases, to _S'
        )
    # Joins between already bound units still have to hold: test the overlap.
    for u, v, su, sv in pending:
        filters.append(({u, v} - {ROOT}, _overlap_filter(su, sv)))

    position = {s.alias: i + 1 for i, s in enumerate(steps)}
    out = Spec()
    out.pre_filters = []
    for units, f in filters:
        level = max((position[a] for a in units), default=0)
        (out.pre_filters if level == 0 else steps[level - 1].filters).append(f)

    subsets = spec.get("subsets", spec.get("prefilters")) or {}
    if type(subsets) is not dict:
        raise bad('"subsets" must be a dict of alias -> ["eq", index-expression, value]')
    by_alias = {s.alias: s for s in steps}
    for alias, sub in subsets.items():
        sptr = pointer(ptr, "subsets", alias)
        if alias not in by_alias:
            raise bad(f"subset for unknown alias {alias!r}", sptr, sub)
        if type(sub) is not list or len(sub) != 3 or sub[0] != "eq":
            raise bad('a subset must be ["eq", index-expression, value]', sptr, sub)
        by_alias[alias].subset = (c.expr(sub[1], pointer(sptr, 1)), c.expr(sub[2], pointer(sptr, 2)))

    out.scope = scope
    out.steps = steps
    out.recurse = recurse
    out.exclude_root = spec.get("exclude_root", False)
    out.max_depth = max_depth
    out.last_alias = list(datasets)[-1]
    out.return_aliases = [out.last_alias]
    out.template = None
    out.flatten_template = False
    ret = spec.get("return")
    if type(ret) is str and all(p.strip() in datasets for p in ret.split(",")):
        out.return_aliases = [p.strip() for p in ret.split(",")]
    elif ret is not None:
        out.template = _compile(c, ret, pointer(ptr, "return"), scope)
        out.flatten_template = scope.alias_of(ret) is not None
    return out


def _flatten_and(clause, cptr, out: list) -> None:
    if type(clause) is list and clause and clause[0] == "and":
        for i, part in enumerate(clause[1:]):
            if type(part) is list:
                _flatten_and(part, pointer(cptr, i + 1), out)
                continue
            out.append((part, pointer(cptr, i + 1)))
        return
    out.append((clause, cptr))


def _nested_joins(node, nptr, join_units, out: list) -> None:
    """Join eqs inside the and/or structure of a where clause."""
    if type(node) is not list or not node or node[0] not in ("and", "or"):
        return
    for i, part in enumerate(node[1:]):
        units = join_units(part)
        if units is not None:
            out.append((*units, part, pointer(nptr, i + 1)))
        else:
            _nested_joins(part, pointer(nptr, i + 1), join_units, out)


def _compile_condition(c, node, cptr, scope, join_units):
    """A where clause as a filter; its and/or structure is kept so that join
    eqs inside it test overlap (as joins do) rather than exact equality."""
    if type(node) is list and node and node[0] in ("and", "or") and len(node) > 1:
        parts = [_compile_condition(c, n, pointer(cptr, i + 1), scope, join_units) for i, n in enumerate(node[1:])]
        if node[0] == "and":
            return lambda ctx: all(truthy(f(ctx)) for f in parts)
        return lambda ctx: any(truthy(f(ctx)) for f in parts)
    if join_units(node) is not None:
        return _overlap_filter(_compile(c, node[1], pointer(cptr, 1), scope),
                               _compile(c, node[2], pointer(cptr, 2), scope))
    return _compile(c, node, cptr, scope)


def _overlap_filter(su, sv):
    def overlap(ctx):
        a = {hashable_key(x) for x in as_list(su(ctx)) if x is not None}
        return any(hashable_key(y) in a for y in as_list(sv(ctx)) if y is not None)

    return overlap


# ---------------------------------------------------------------- running a spec


def _index(ctx, spec: Spec, step: Step, ds: Dataset, index_side) -> dict:
    env = ctx.env
    key = ("hops-index", id(index_side))
    entry = env.indexes.get(key)
    if _fresh(entry, ds.source) and entry[3] is index_side:
        return entry[2]
    index: dict = {}
    for pos, entity in enumerate(ds.entities):
        seen = set()
        for value in as_list(spec.scope.evaluate(index_side, ctx, {step.alias: entity})):
            if value is None:
                continue
            k = hashable_key(value)
            if k not in seen:
                seen.add(k)
                index.setdefault(k, []).append(pos)
    env.indexes[key] = (ds.source, len(ds.source), index, index_side)
    return index


def _subset_positions(ctx, step: Step, ds: Dataset) -> set:
    index_expr, value_expr = step.subset
    env = ctx.env
    key = ("hops-subset", id(step))
    entry = env.indexes.get(key)
    if not (_fresh(entry, ds.source) and entry[3] is step):
        index: dict = {}
        for pos, entity in enumerate(ds.entities):
            for value in as_list(index_expr(Ctx(entity, {}, env))):
                if value is not None:
                    index.setdefault(hashable_key(value), set()).add(pos)
        entry = (ds.source, len(ds.source), index, step)
        env.indexes[key] = entry
    out: set = set()
    for value in as_list(value_expr(ctx)):
        if value is not None:
            out |= entry[2].get(hashable_key(value), set())
    return out


def _rows(spec: Spec, ctx) -> list[dict]:
    scope = spec.scope
    if not all(truthy(scope.evaluate(f, ctx, {})) for f in spec.pre_filters):
        return []
    rows: list[dict] = [{}]
    for step in spec.steps:
        ds = dataset(ctx.env, step.dataset_id)
        indexes = [(from_side, _index(ctx, spec, step, ds, index_side)) for from_side, index_side in step.alts]
        allowed = _subset_positions(ctx, step, ds) if step.subset else None
        new_rows = []
        for row in rows:
            positions: set = set()
            for from_side, index in indexes:
                for value in as_list(scope.evaluate(from_side, ctx, row)):
                    if value is not None:
                        positions.update(index.get(hashable_key(value), ()))
            if allowed is not None:
                positions &= allowed
            if not positions and step.optional:
                candidate = dict(row)
                candidate[step.alias] = None
                if all(truthy(scope.evaluate(f, ctx, candidate)) for f in step.filters):
                    new_rows.append(candidate)
                continue
            for pos in sorted(positions):
                if allowed is None or pos in allowed:
                    candidate = dict(row)
                    candidate[step.alias] = ds.entities[pos]
                    if all(truthy(scope.evaluate(f, ctx, candidate)) for f in step.filters):
                        new_rows.append(candidate)
        rows = new_rows
        if not rows:
            break
    return rows


def _entities(rows: list[dict], aliases: list[str], seen: set) -> list:
    out = []
    for row in rows:
        for alias in aliases:
            e = row.get(alias)
            if e is not None and id(e) not in seen:
                seen.add(id(e))
                out.append(e)
    return out


def _child(ctx, entity) -> Ctx:
    child = Ctx(entity, ctx.T, ctx.env, ctx.P, ctx.R)
    child.item = ctx.item
    return child


def _recurse(spec: Spec, inputs: list) -> list:
    seen = {id(i.S) for i in inputs}
    out = [] if spec.exclude_root else [i.S for i in inputs]
    frontier = inputs
    depth = 0
    while frontier and (spec.max_depth is None or depth < spec.max_depth):
        depth += 1
        nxt = []
        for f in frontier:
            for e in _entities(_rows(spec, f), [spec.last_alias], seen):
                out.append(e)
                nxt.append(_child(f, e))
        frontier = nxt
    return out


def _project(spec: Spec, rows: list[dict], ctx, seen: set) -> list:
    if spec.template is None:
        return _entities(rows, spec.return_aliases, seen)
    out = []
    for row in rows:
        v = spec.scope.evaluate(spec.template, ctx, row)
        if v is None:
            continue
        if spec.flatten_template and type(v) is list:
            out.extend(v)
        else:
            out.append(v)
    return out


def _compile_hops(c, specs: list, ptr: str, first_index: int):
    if not specs:
        raise c.error("hops needs at least one HOPS_SPEC", ptr, specs, code="arity")
    compiled = [
        _compile_spec(c, s, pointer(ptr, first_index + i), i == len(specs) - 1)
        for i, s in enumerate(specs)
    ]

    def hops(ctx):
        inputs = [ctx]
        outputs: list = []
        for k, spec in enumerate(compiled):
            if spec.recurse:
                outputs = _recurse(spec, inputs)
            else:
                seen: set = set()
                outputs = []
                for i in inputs:
                    outputs.extend(_project(spec, _rows(spec, i), i, seen))
            if k < len(compiled) - 1:
                inputs = [_child(ctx, e) for e in outputs if type(e) is dict]
        return outputs

    return hops


@registry.special("hops", 1, None, signature="HOPS_SPEC+", pure=False)
def compile_hops(c, args, ptr):
    """Join the source entity to entities of other datasets (see the module
    docstring); returns a list.

    >>> evaluate(["hops", {"datasets": ["orders o"], "where": ["eq", "_S._id", "o.cust_id"]}],
    ...          {"_id": "c1"}, datasets={"orders": [{"_id": "o1", "cust_id": "c1"}]})
    [{'_id': 'o1', 'cust_id': 'c1'}]
    """
    return c.guarded(_compile_hops(c, list(args), ptr, 1), ptr, ["hops", *args], "hops")


@registry.special("apply-hops", 2, None, signature="RULE_ID HOPS_SPEC+", pure=False)
def compile_apply_hops(c, args, ptr):
    """``hops``, then rule RULE_ID applied to each result (filtered ones left out).

    >>> # ["apply-hops", "order", {"datasets": ["orders o"], "where": ["eq", "_S._id", "o.cust_id"]}]
    """
    if type(args[0]) is not str:
        raise c.error("apply-hops needs the rule name as a constant string", pointer(ptr, 1), args[0],
                      code="invalid-argument")
    ref = c.rule(args[0], pointer(ptr, 1), args[0])
    hops = _compile_hops(c, list(args[1:]), ptr, 2)
    file = c.file

    def apply_hops(ctx):
        out = []
        for entity in hops(ctx):
            t = apply_rule(ref, entity, ctx, file)
            if t is not None:
                out.append(t)
        return out

    return c.guarded(apply_hops, ptr, ["apply-hops", *args], "apply-hops")


@registry.special("lookup-entity", 2, signature="DATASET_ID ENTITY_ID", pure=False)
def compile_lookup_entity(c, args, ptr):
    """The entity with ``_id`` ENTITY_ID in dataset DATASET_ID, or null
    (deleted entities are not found). A list of ids gives the found entities.

    >>> evaluate(["lookup-entity", "code-table", "foo"], datasets={"code-table": [{"_id": "foo"}]})
    {'_id': 'foo'}
    """
    dataset_id = c.expr(args[0], pointer(ptr, 1))
    entity_id = c.expr(args[1], pointer(ptr, 2))

    def lookup_entity(ctx):
        ds_id = dataset_id(ctx)
        if type(ds_id) is list and len(ds_id) == 1:
            ds_id = ds_id[0]
        ds = dataset(ctx.env, ds_id)
        ids = entity_id(ctx)
        if type(ids) is list:
            return [ds.by_id[i] for i in ids if type(i) is str and i in ds.by_id]
        return ds.by_id.get(ids) if type(ids) is str else None

    return c.guarded(lookup_entity, ptr, ["lookup-entity", *args], "lookup-entity")


def _reference(ref: Any) -> tuple[str | None, str] | None:
    """(dataset or None, id) of a ``~rsesam:DS/ID`` URI, ``sesam:DS/ID`` or plain id."""
    if tagged(ref, "r"):
        ref = ref[2:]
    elif type(ref) is not str or (len(ref) > 1 and ref[0] == "~"):
        return None
    if ref.startswith("sesam:") and "/" in ref:
        ds, _, ident = ref[len("sesam:"):].partition("/")
        return unquote(ds), unquote(ident)
    return None, ref


@registry.special("lookup", 1, 2, signature="DATASET_IDS? REFERENCES", pure=False)
def compile_lookup(c, args, ptr):
    """Deprecated (use lookup-entity): the entities that REFERENCES name, with
    a ``_dataset`` property added. ``sesam:DS/ID`` references name their
    dataset; plain ids are looked up in DATASET_IDS (offline there is no
    "current dataset", so without DATASET_IDS they find nothing).

    >>> evaluate(["lookup", "~rsesam:A/foo"], datasets={"A": [{"_id": "foo"}]})
    {'_id': 'foo', '_dataset': 'A'}
    """
    datasets = c.expr(args[0], pointer(ptr, 1)) if len(args) == 2 else None
    refs = c.expr(args[-1], pointer(ptr, len(args)))

    def lookup(ctx):
        default = [d for d in as_list(datasets(ctx)) if type(d) is str] if datasets else []
        found = []
        values = refs(ctx)
        for ref in as_list(values):
            parsed = _reference(ref)
            if parsed is None:
                continue
            ds_id, ident = parsed
            for d in [ds_id] if ds_id is not None else default:
                e = dataset(ctx.env, d).by_id.get(ident)
                if e is not None:
                    found.append({**e, "_dataset": d})
        if type(values) is list:
            return found
        return found[0] if found else None

    return c.guarded(lookup, ptr, ["lookup", *args], "lookup")
