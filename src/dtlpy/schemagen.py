"""JSON Schemas for DTL rules files and pipe configs, generated from the
function and transform tables, so editors validate and complete DTL while a
person types.

The schemas are shipped in ``dtlpy/schemas/`` (``dtl-rules.schema.json``,
``pipe.schema.json``); regenerate them after adding a built-in with
``python -m dtlpy.schemagen --write`` (``--check`` exits 1 when the committed
files are stale; a test runs it). Draft-07 is used because that is what
editors (VS Code's JSON language server among them) support best.

What the schemas know: the names of every transform and function (with
their signature and the first paragraph of their docstring in VS Code's
``enumDescriptions``, shown while completing), the arity of each
(``minItems``/``maxItems``, one ``if``/``then`` per distinct argument shape
so validation stays fast), where THEN/ELSE take transforms, which
arguments must be strings (a rule id, a separator, a date part ...; an
expression computing the string is accepted too) and that ``literal`` and
``comment`` arguments are free JSON.

>>> schema = rules_schema()
>>> import jsonschema
>>> jsonschema.Draft7Validator(schema).is_valid({"default": [["add", "x", ["upper", "_S.x"]]]})
True
>>> jsonschema.Draft7Validator(schema).is_valid({"default": [["add", "x", ["upper"]]]})
False
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .checkrules import STRING_ARGS, align
from .functions import FUNCTIONS
from .registry import Builtin
from .transforms import TRANSFORMS

__all__ = ["rules_schema", "pipe_schema", "SCHEMA_DIR", "render", "main"]

SCHEMA_DIR = Path(__file__).parent / "schemas"
DRAFT = "http://json-schema.org/draft-07/schema#"
BASE_ID = "https://dtlpy.example/schemas/"

EXPR = {"$ref": "#/definitions/expression"}
TRANSFORMS_ARG = {"$ref": "#/definitions/transforms"}
ANY: dict = {}
# A string argument: a constant string, or an expression that computes one.
STRING_OR_EXPR = {"anyOf": [{"type": "string"}, {"$ref": "#/definitions/call"}]}


def _describe(entry: Builtin) -> str:
    """``name SIGNATURE`` and the first paragraph of the docstring."""
    head = f"{entry.name} {entry.signature}".strip()
    paragraph = []
    for line in entry.doc.splitlines():
        line = line.strip()
        if not line or line.startswith(">>>"):
            break
        paragraph.append(line)
    text = " ".join(paragraph)
    return f"{head} — {text}" if text else head


def _function_args(entry: Builtin) -> tuple[list, Any]:
    """(schemas of the leading arguments, schema of the rest) for a function."""
    if entry.name == "literal":
        return [], ANY
    words = align(entry.signature, entry.min_args) if entry.min_args == entry.max_args else None
    if words is None or len(words) != entry.min_args:
        # Positions move with optional arguments: only say "an expression".
        rule_first = entry.signature.split()[:1] == ["RULE_ID"]
        return ([{"type": "string"}] if rule_first else []), EXPR
    lead = []
    for w in words:
        if w == "RULE_ID":
            lead.append({"type": "string", "description": "the name of a rule in this rules object"})
        elif w in STRING_ARGS:
            lead.append(STRING_OR_EXPR)
        else:
            lead.append(EXPR)
    return lead, EXPR


def _transform_args(entry: Builtin) -> tuple[list, Any]:
    name = entry.name
    if name == "comment":
        return [], ANY
    if name == "if":
        return [EXPR, TRANSFORMS_ARG, TRANSFORMS_ARG], ANY
    if name in ("case", "case-eq"):
        return [], {"anyOf": [EXPR, TRANSFORMS_ARG]}
    if name == "make-ni":
        return [STRING_OR_EXPR] * 3, ANY
    if name in ("fail!", "trip!"):
        return [STRING_OR_EXPR], ANY
    return [], EXPR


def _arity_rules(table: dict[str, Builtin], args_of) -> list[dict]:
    """One ``if``/``then`` per distinct argument shape (arity and argument
    schemas), naming every built-in of that shape: validating a call then
    costs a few checks instead of one per built-in."""
    groups: dict[str, tuple[list[str], dict]] = {}
    for name in sorted(table):
        entry = table[name]
        lead, rest = args_of(entry)
        then: dict[str, Any] = {"minItems": entry.min_args + 1}
        if entry.max_args is not None:
            then["maxItems"] = entry.max_args + 1
        then["items"] = [True, *lead]
        then["additionalItems"] = rest
        key = json.dumps(then, sort_keys=True)
        groups.setdefault(key, ([], then))[0].append(name)
    rules = []
    for names, then in sorted(groups.values(), key=lambda g: g[0][0]):
        rules.append({"if": {"items": [{"enum": names}]}, "then": then})
    return rules


def _names(table: dict[str, Builtin], what: str) -> dict:
    names = sorted(table)
    return {
        "type": "string",
        "description": f"the name of a DTL {what}",
        "enum": names,
        "enumDescriptions": [_describe(table[n]) for n in names],
    }


def _definitions() -> dict:
    return {
        "rule": {
            "type": "array",
            "description": "a list of transforms, run in order",
            "items": {"$ref": "#/definitions/transform"},
        },
        "transforms": {
            "description": "one transform, or a list of transforms",
            "anyOf": [
                {"$ref": "#/definitions/transform"},
                {"type": "array", "items": {"$ref": "#/definitions/transform"}},
            ],
        },
        "transform": {
            "type": "array",
            "description": 'a transform: ["name", arguments...], e.g. ["add", "x", "_S.y"]',
            "minItems": 1,
            "items": [{"$ref": "#/definitions/transformName"}],
            "allOf": _arity_rules(TRANSFORMS, _transform_args),
        },
        "transformName": _names(TRANSFORMS, "transform"),
        "expression": {
            "description": "a DTL expression: a constant, a path such as \"_S.name\", or a function call",
            "anyOf": [
                {"type": ["string", "number", "boolean", "null", "object"]},
                {"type": "array", "maxItems": 0},
                {"$ref": "#/definitions/call"},
            ],
        },
        "call": {
            "type": "array",
            "description": 'a function call: ["name", arguments...]; build lists with ["list", ...]',
            "minItems": 1,
            "items": [{"$ref": "#/definitions/functionName"}],
            "allOf": _arity_rules(FUNCTIONS, _function_args),
        },
        "functionName": _names(FUNCTIONS, "function"),
    }


def _rules_body() -> dict:
    return {
        "type": "object",
        "description": 'DTL rules: rule name -> list of transforms; "default" runs for every entity',
        "required": ["default"],
        "properties": {
            "default": {"$ref": "#/definitions/rule", "description": "the rule applied to every source entity"}
        },
        "additionalProperties": {"$ref": "#/definitions/rule"},
    }


def rules_schema() -> dict:
    """The JSON Schema of a rules file (``{"default": [...], ...}``)."""
    return {
        "$schema": DRAFT,
        "$id": BASE_ID + "dtl-rules.schema.json",
        "title": "DTL rules",
        **_rules_body(),
        "definitions": _definitions(),
    }


def pipe_schema() -> dict:
    """The JSON Schema of a Sesam pipe config (``*.conf.json``) with DTL transforms."""
    definitions = _definitions()
    definitions["rules"] = _rules_body()
    definitions["pipeTransform"] = {
        "type": "object",
        "description": "one transform of the pipe; a dtl transform has rules",
        "required": ["type"],
        "properties": {"type": {"type": "string", "examples": ["dtl", "chained", "emit_children", "conditional"]}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": "dtl"}}},
                "then": {
                    "required": ["rules"],
                    "properties": {
                        "rules": {"$ref": "#/definitions/rules"},
                        "id_required": {"type": "boolean"},
                        "trigger_on": {"type": "object"},
                    },
                },
            },
            {
                "if": {"properties": {"type": {"const": "chained"}}},
                "then": {"properties": {"transforms": {"type": "array", "items": {"$ref": "#/definitions/pipeTransform"}}}},
            },
        ],
    }
    definitions["transformChain"] = {
        "anyOf": [
            {"$ref": "#/definitions/pipeTransform"},
            {"type": "array", "items": {"$ref": "#/definitions/pipeTransform"}},
        ]
    }
    return {
        "$schema": DRAFT,
        "$id": BASE_ID + "pipe.schema.json",
        "title": "Sesam pipe config",
        "type": "object",
        "required": ["_id", "type"],
        "properties": {
            "_id": {"type": "string", "description": "the pipe id"},
            "type": {"const": "pipe"},
            "source": {"type": "object"},
            "sink": {"type": "object"},
            "transform": {"$ref": "#/definitions/transformChain"},
            "namespaced_identifiers": {"type": "boolean"},
            "add_namespaces": {"type": "boolean"},
            "remove_namespaces": {"type": "boolean"},
            "namespaces": {"type": "object"},
            "metadata": {"type": "object"},
        },
        "definitions": definitions,
    }


def render(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=1) + "\n"


def generated() -> dict[str, str]:
    """File name -> text of every shipped schema."""
    return {"dtl-rules.schema.json": render(rules_schema()), "pipe.schema.json": render(pipe_schema())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dtlpy.schemagen", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate the files in dtlpy/schemas/")
    mode.add_argument("--check", action="store_true", help="exit 1 if the committed files are stale")
    args = parser.parse_args(argv)
    stale = []
    for name, text in generated().items():
        path = SCHEMA_DIR / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(name)
            if args.write:
                from .io import atomic_write

                with atomic_write(path) as fh:
                    fh.write(text)
                path.chmod(0o644)  # package data: readable by everyone
    if args.check and stale:
        print(f"stale: {', '.join(stale)}; run python -m dtlpy.schemagen --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
