"""Derive dataflow property tables from DTL pipes and render the document.

Nothing in the generated document is written by hand: every row is found by
walking a pipe's rules, and every data type comes from a cast in the DTL or,
when there is none, from the target JSON schema.

How a row is found (one row per source property -> target property):

- ``["add", P, EXPR]`` (also ``add-if``, ``default``): target ``P``; the
  sources are the ``_S.`` paths used in EXPR. Nested targets are followed
  through ``["dict", k, v, ...]`` (``P.k``), ``["apply", RULE, "_S.x"]``
  (the rule's rows, with sources under ``x.`` and targets under ``P.``),
  ``first``, ``path`` and the branches of ``if``. When ``apply`` runs over
  something other than a plain source path (a ``hops`` or ``lookup-entity``
  result), the rule's targets are fed by the source paths of that lookup:
  ``projectId -> mainProject.id``.
- ``["rename", A, B]``: ``A -> B``; ``["copy", PATTERNS, EXCLUDE?]``: every
  source-schema property matching the patterns, same name on both sides.
- ``["if", COND, THEN, ELSE]`` and the ``case``/``case-eq`` transforms:
  the rows found in a branch are annotated ``(only when ...)``.
- Targets starting with ``_`` or ``$`` and constant values (no source path)
  give no row. Rows are sorted by source property, as in Sesam Talk's tables.

The type column is the outermost cast (``["integer", ...]`` -> ``"integer"``),
else the target schema's type of that property (``"string"``, ``"date"``,
``"decimal"`` ...), else ``N/A``.

>>> conf = {"transform": {"type": "dtl", "rules": {"default": [
...     ["add", "_id", "_S._id"], ["rename", "title", "name"],
...     ["add", "number", ["string", "_S.projectNumber"]]]}}}
>>> [r.cells() for r in derive_rows(conf)]
[('projectNumber', 'number', '"string"'), ('title', 'name', 'N/A')]
"""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Iterable

CASTS = {"string": "string", "integer": "integer", "decimal": "decimal", "float": "float",
         "boolean": "boolean", "datetime": "datetime"}
_REF_TYPES = {"date": "date", "datetime": "datetime", "money": "decimal", "ni": "ni",
              "email": "string", "phone": "string", "ids": "list"}
_JSON_TYPES = {"string": "string", "integer": "integer", "number": "float", "boolean": "boolean",
               "object": "object", "array": "list"}


@dataclass(frozen=True, order=True)
class Row:
    """One line of a property table."""

    source: str
    target: str
    type: str = "N/A"
    condition: str | None = None

    @property
    def source_cell(self) -> str:
        return self.source + (f" (only when {self.condition})" if self.condition else "")

    def cells(self) -> tuple[str, str, str]:
        return (self.source_cell, self.target, self.type)

    def key(self) -> str:
        """A stable id for the QA checklist."""
        return f"{self.source_cell} -> {self.target}"


@dataclass
class Flow:
    """A pipe with what the document and the QA checklist need to know."""

    pipe_id: str
    path: Path
    conf: dict
    source_system: str
    source_type: str
    target_system: str
    target_type: str
    source_schema: dict | None
    target_schema: dict | None
    order: int = 0
    rows: list[Row] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)  # rendered "not synchronised when" conditions
    marks_deletes: bool = False

    @property
    def title(self) -> str:
        return f"{self.source_system} {self.source_type} to {self.target_system} {self.target_type}"


# ------------------------------------------------------------------ conditions


def _operand(x: Any, src_prefix: str = "") -> str:
    if isinstance(x, str):
        if x.startswith("_S."):
            return src_prefix + x[3:]
        if x.startswith("_T."):
            return f"{x[3:]} (as mapped)"
        return json.dumps(x, ensure_ascii=False)
    if isinstance(x, list) and x and x[0] == "list":
        return "[" + ", ".join(_operand(v, src_prefix) for v in x[1:]) + "]"
    return json.dumps(x, ensure_ascii=False)


_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_NEGATED = {"eq": "neq", "neq": "eq", "is-null": "is-not-null", "is-not-null": "is-null",
            "gt": "lte", "lte": "gt", "lt": "gte", "gte": "lt"}


def render_condition(expr: Any, src_prefix: str = "", negate: bool = False) -> str:
    """A DTL condition in words.

    >>> render_condition(["eq", "_S.address.country", "NO"])
    'address.country is "NO"'
    >>> render_condition(["is-null", "_S.parentTaskId"], negate=True)
    'parentTaskId is set'
    """
    if isinstance(expr, list) and expr and isinstance(expr[0], str):
        op, args = expr[0], expr[1:]
        if negate and op in _NEGATED:
            return render_condition([_NEGATED[op], *args], src_prefix)
        if negate and op == "not" and len(args) == 1:
            return render_condition(args[0], src_prefix)
        if negate:
            return f"not ({render_condition(expr, src_prefix)})"
        if op in ("eq", "neq") and len(args) == 2:
            word = "is" if op == "eq" else "is not"
            return f"{_operand(args[0], src_prefix)} {word} {_operand(args[1], src_prefix)}"
        if op in ("is-null", "is-not-null") and len(args) == 1:
            return f"{_operand(args[0], src_prefix)} is {'empty' if op == 'is-null' else 'set'}"
        if op in _OPS and len(args) == 2:
            return f"{_operand(args[0], src_prefix)} {_OPS[op]} {_operand(args[1], src_prefix)}"
        if op == "in" and len(args) == 2:
            return f"{_operand(args[0], src_prefix)} is one of {_operand(args[1], src_prefix)}"
        if op in ("and", "or"):
            return f" {op} ".join(render_condition(a, src_prefix) for a in args)
        if op == "not":
            return render_condition(["and", *args] if len(args) > 1 else args[0], src_prefix, negate=True)
    if negate:
        return f"not ({_operand(expr, src_prefix)})"
    return _operand(expr, src_prefix)


# ------------------------------------------------------------------ schemas


def _resolve(sub: Any, root: dict | None) -> Any:
    while isinstance(sub, dict) and "$ref" in sub and root is not None:
        ref = sub["$ref"]
        if not ref.startswith("#/$defs/"):
            return sub
        sub = root.get("$defs", {}).get(ref[len("#/$defs/"):])
    return sub


def _non_null(sub: Any, root: dict | None) -> Any:
    """The non-null branch of a nullable ``anyOf``; a ``$ref`` stays unresolved
    so its ``$defs`` name (date, money ...) can still name the type."""
    resolved = _resolve(sub, root)
    if isinstance(resolved, dict) and "anyOf" in resolved:
        for branch in resolved["anyOf"]:
            b = _resolve(branch, root)
            if not (isinstance(b, dict) and b.get("type") == "null"):
                return branch  # unresolved, so a $ref name stays visible
    return sub


def schema_at(schema: dict | None, path: str) -> Any:
    """The (non-null) subschema of a dotted property path, or None."""
    if not schema:
        return None
    sub: Any = schema
    for part in path.split("."):
        sub = _resolve(_non_null(sub, schema), schema)
        props = sub.get("properties") if isinstance(sub, dict) else None
        if not props or part not in props:
            return None
        sub = props[part]
    return _non_null(sub, schema)


def schema_type(schema: dict | None, path: str) -> str | None:
    """Type name of a property in a schema (date/datetime/decimal by ``$defs`` name)."""
    sub = schema_at(schema, path)
    if sub is None:
        return None
    if isinstance(sub, dict) and "$ref" in sub:
        name = sub["$ref"].rsplit("/", 1)[-1]
        if name in _REF_TYPES:
            return _REF_TYPES[name]
        sub = _resolve(sub, schema)
    if not isinstance(sub, dict):
        return None
    if "enum" in sub:
        kinds = {type(v).__name__ for v in sub["enum"] if v is not None}
        return "string" if kinds == {"str"} else None
    t = sub.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return _JSON_TYPES.get(t)


def _property_names(schema: dict | None, prefix: str) -> list[str]:
    sub = schema_at(schema, prefix[:-1]) if prefix else schema
    sub = _resolve(sub, schema)
    if isinstance(sub, dict) and isinstance(sub.get("properties"), dict):
        return [k for k in sub["properties"] if not k.startswith(("_", "$"))]
    return []


# ------------------------------------------------------------------ walking the rules


def source_paths(expr: Any, src_prefix: str = "") -> list[str]:
    """``_S.`` paths used anywhere in an expression, in order, without ``_id``/``_deleted``.

    >>> source_paths(["concat", "_S.a", ["upper", "_S.b.c"], "_S._id"])
    ['a', 'b.c']
    """
    found: list[str] = []

    def walk(x):
        if isinstance(x, str):
            if x.startswith("_S.") and len(x) > 3 and x[3:] not in ("_id", "_deleted"):
                found.append(src_prefix + x[3:])
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)

    walk(expr)
    return list(dict.fromkeys(found))


def _cast(expr: Any) -> str | None:
    if isinstance(expr, list) and expr and expr[0] in CASTS:
        return CASTS[expr[0]]
    return None


def _patterns(arg: Any) -> list[str]:
    if isinstance(arg, str):
        return [arg]
    if isinstance(arg, list) and arg and arg[0] == "list":
        return [p for p in arg[1:] if isinstance(p, str)]
    return []


class _Walker:
    def __init__(self, rules: dict, source_schema: dict | None, target_schema: dict | None):
        self.rules = rules
        self.source_schema = source_schema
        self.target_schema = target_schema
        self.rows: list[Row] = []
        self.filters: list[str] = []
        self.marks_deletes = False

    def row(self, sources, target, cast, cond):
        t = cast or schema_type(self.target_schema, target)
        typ = f'"{t}"' if t else "N/A"
        for s in sources:
            self.rows.append(Row(s, target, typ, cond))

    # A rule body: a list of transforms.
    def rule(self, name, sp, tp, cond, override, depth=0):
        if depth > 8 or name not in self.rules:
            return
        for step in self.rules[name]:
            self.transform(step, sp, tp, cond, override, name, depth)

    def transforms(self, body, sp, tp, cond, override, rule, depth):
        if isinstance(body, list) and body and isinstance(body[0], list):
            for step in body:
                self.transform(step, sp, tp, cond, override, rule, depth)
        elif isinstance(body, list) and body:
            self.transform(body, sp, tp, cond, override, rule, depth)

    def transform(self, step, sp, tp, cond, override, rule, depth):
        if not (isinstance(step, list) and step and isinstance(step[0], str)):
            return
        op, args = step[0], step[1:]
        both = lambda c: c if not cond else (f"{cond} and {c}" if c else cond)
        if op in ("add", "add-if", "default") and len(args) >= 2 and isinstance(args[0], str):
            name = args[0]
            if name.startswith("_deleted") and rule == "default":
                self.marks_deletes = True
            if name.startswith(("_", "$")):
                return
            self.value(args[-1], sp, tp + name, cond, override, depth)
        elif op == "rename" and len(args) == 2 and all(isinstance(a, str) for a in args):
            self.row(override or [sp + args[0]], tp + args[1], None, cond)
        elif op == "copy" and args:
            exclude = _patterns(args[1]) if len(args) > 1 else []
            include = _patterns(args[0])
            names = _property_names(self.source_schema, sp) if not override else []
            literal = [p for p in include if not any(ch in p for ch in "*?[")]
            for n in dict.fromkeys(names + literal):
                if any(fnmatchcase(n, p) for p in include) and not any(fnmatchcase(n, p) for p in exclude):
                    if n.startswith(("_", "$")):
                        continue
                    self.row(override or [sp + n], tp + n, None, cond)
        elif op == "if" and len(args) >= 2:
            c = render_condition(args[0], sp)
            self.transforms(args[1], sp, tp, both(c), override, rule, depth)
            if len(args) > 2:
                self.transforms(args[2], sp, tp, both(render_condition(args[0], sp, negate=True)),
                                override, rule, depth)
        elif op == "case" and args:
            for i in range(0, len(args) - 1, 2):
                self.transforms(args[i + 1], sp, tp, both(render_condition(args[i], sp)), override, rule, depth)
            if len(args) % 2:
                self.transforms(args[-1], sp, tp, both("no other case matches"), override, rule, depth)
        elif op == "case-eq" and len(args) >= 3:
            subject = _operand(args[0], sp)
            rest = args[1:]
            for i in range(0, len(rest) - 1, 2):
                c = f"{subject} is {_operand(rest[i], sp)}"
                self.transforms(rest[i + 1], sp, tp, both(c), override, rule, depth)
            if len(rest) % 2:
                self.transforms(rest[-1], sp, tp, both(f"{subject} matches no case"), override, rule, depth)
        elif op == "merge" and args:
            self.value(args[0], sp, tp[:-1] if tp.endswith(".") else tp, cond, override, depth, merge=True)
        elif op in ("filter", "discard") and rule == "default" and not cond and args:
            self.filters.append(render_condition(args[0], sp, negate=True))

    # A value expression feeding target ``target``.
    def value(self, expr, sp, target, cond, override, depth, merge=False):
        before = len(self.rows)
        prefix = "" if merge and not target else target + "."
        if isinstance(expr, list) and expr and isinstance(expr[0], str):
            op, args = expr[0], expr[1:]
            if op == "dict" and len(args) >= 2 and len(args) % 2 == 0:
                for i in range(0, len(args), 2):
                    if isinstance(args[i], str):
                        self.value(args[i + 1], sp, prefix + args[i], cond, override, depth)
                return
            if op == "apply" and len(args) == 2 and isinstance(args[0], str):
                values = args[1]
                if isinstance(values, str) and values.startswith("_S.") and not override:
                    self.rule(args[0], sp + values[3:] + ".", prefix, cond, None, depth + 1)
                else:
                    self.rule(args[0], sp, prefix, cond, override or source_paths(values, sp), depth + 1)
                return
            if op == "first" and len(args) == 1:
                self.value(args[0], sp, target, cond, override, depth)
                return
            if op == "path" and len(args) == 2 and isinstance(args[0], str):
                sub = _Walker(self.rules, self.source_schema, None)
                sub.value(args[1], sp, "@", cond, override, depth)
                for r in sub.rows:
                    if r.target == "@." + args[0]:
                        self.row([r.source], target, _cast(args[1]), r.condition)
                if len(self.rows) > before:
                    return
            if op == "if" and len(args) >= 2:
                for branch in args[1:]:
                    self.value(branch, sp, target, cond, override, depth)
                if len(self.rows) > before:
                    return
        sources = override or source_paths(expr, sp)
        self.row(sources, target, _cast(expr), cond)


def derive_rows(conf: dict, source_schema: dict | None = None, target_schema: dict | None = None) -> list[Row]:
    """Property rows of a pipe config (sorted, duplicates removed)."""
    return _walk(conf, source_schema, target_schema).rows_sorted


def _walk(conf, source_schema, target_schema):
    rules = conf.get("transform", {}).get("rules", {})
    w = _Walker(rules, source_schema, target_schema)
    w.rule("default", "", "", None, None)
    w.rows_sorted = sorted(set(w.rows), key=lambda r: (r.source.lower(), r.target.lower(), r.condition or ""))
    return w


# ------------------------------------------------------------------ flows on disk


def load_flows(dtl_dir: str | Path = "dtl") -> list[Flow]:
    """Every ``*.conf.json`` pipe in ``dtl_dir`` with its schemas and derived rows,
    in ``metadata.doc_order``."""
    from .io import read_json_file

    dtl_dir = Path(dtl_dir)
    schemas_dir = dtl_dir / "schemas"
    flows = []
    for path in sorted(dtl_dir.glob("*.conf.json")):
        conf = read_json_file(path)
        meta = conf.get("metadata") or {}

        def schema(name):
            p = schemas_dir / f"{name}.schema.json"
            return read_json_file(p) if name and p.exists() else None

        src, dst = schema(meta.get("source_schema")), schema(meta.get("target_schema"))
        w = _walk(conf, src, dst)
        flows.append(Flow(
            pipe_id=conf.get("_id", path.name[: -len(".conf.json")]), path=path, conf=conf,
            source_system=meta.get("source_system", "Source"), source_type=meta.get("source_type", "Entity"),
            target_system=meta.get("target_system", "Target"), target_type=meta.get("target_type", "Entity"),
            source_schema=src, target_schema=dst, order=int(meta.get("doc_order", 0)),
            rows=w.rows_sorted, filters=w.filters, marks_deletes=w.marks_deletes,
        ))
    flows.sort(key=lambda f: (f.order, f.pipe_id))
    return flows


def document_date(dtl_dir: str | Path = "dtl") -> str:
    """Date of the newest git commit touching the DTL folder (UTC,
    ``YYYY-MM-DD HH:MM:SS``): regenerating without a DTL change gives the
    same text. Falls back to the newest file modification time."""
    dtl_dir = Path(dtl_dir)
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%ct", "--", "."], cwd=dtl_dir, capture_output=True,
            text=True, timeout=20, check=True,
        ).stdout.strip()
        stamp = int(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        files = list(dtl_dir.rglob("*.json"))
        stamp = int(max((f.stat().st_mtime for f in files), default=0))
    return _dt.datetime.fromtimestamp(stamp, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------ rendering


def _heading(text: str, char: str, over: bool = False) -> list[str]:
    line = char * len(text)
    return [line, text, line] if over else [text, line]


INTRODUCTION = (
    "This document describes, property by property, how records travel from {src} to {dst} "
    "through Sesam Talk. It is generated from the DTL mappings and JSON schemas in this "
    "repository and doubles as the QA checklist: every row below is exercised by at least one "
    "golden fixture, and ``dtlpy qa`` reports each row as passed or failed. Treat it as "
    "confidential project material."
)


def render_section(flow: Flow) -> list[str]:
    s, t = f"{flow.source_system} {flow.source_type}", f"{flow.target_system} {flow.target_type}"
    lines = _heading(flow.title, "-")
    lines.append(f"Each {s} is kept in step with one {t}; when no linked {t} exists yet, one is created.")
    lines.append("")
    for cond in flow.filters:
        lines.append(f"A {s} is not synchronised when {cond}.")
        lines.append("")
    if flow.marks_deletes:
        lines.append(f"A {s} deleted in {flow.source_system} is passed on marked as deleted; "
                     f"the {t} is not removed by the mapping itself.")
        lines.append("")
    lines.append(f"After a {s} and a {t} have been linked, an edit made in either system is carried over to the other.")
    lines.append("")
    lines.append(f"Properties synchronised from a {s} to a {t}:")
    lines.append("")
    lines += [".. list-table::", "   :header-rows: 1", ""]
    header = (f"{s} Property", f"{t} Property", f"{flow.target_system} Data Type")
    for cells in [header] + [r.cells() for r in flow.rows]:
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {c}" for c in cells[1:]]
    lines += ["", ""]
    return lines


def render_document(flows: Iterable[Flow], *, source_system: str = "Custompms",
                    target_system: str = "Customerp", date: str) -> str:
    """The dataflow document (reStructuredText) for the flows from one system to another."""
    chosen = [f for f in flows if f.source_system == source_system and f.target_system == target_system]
    lines = _heading(f"{source_system} to {target_system} Dataflow", "=", over=True)
    lines += ["", f"Generated: {date}", ""]
    lines += _heading("Introduction", "-")
    lines += ["", INTRODUCTION.format(src=source_system, dst=target_system), ""]
    for flow in chosen:
        lines += render_section(flow)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def without_date(text: str) -> str:
    """The document with its ``Generated:`` line blanked (for --check)."""
    return "\n".join("Generated: -" if l.startswith("Generated: ") else l for l in text.splitlines())
