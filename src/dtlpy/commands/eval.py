"""``dtlpy eval EXPR [--source FILE] [--target FILE] [--format json|text]``:
print the value of one DTL expression.

EXPR is JSON (``'["upper", "_S.name"]'``); a bare word that is not JSON is
taken as a string or path (``_S.name``), and ``@FILE`` reads the expression
from a file. ``--source``/``--target``/``--previous`` take a JSON file or
inline JSON starting with ``{``. Errors point into EXPR: a JSON syntax error
with a marker under the column, a DTL error with a marker under the
offending sub-expression.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import DtlError, DtlInputError
from ..io import read_json_file


def register(sub) -> None:
    p = sub.add_parser("eval", help="evaluate one DTL expression and print its value")
    p.add_argument("expr", help='the expression as JSON, e.g. \'["upper", "_S.name"]\', or @FILE')
    p.add_argument("--source", metavar="FILE", help="the source entity (_S): a JSON file, or inline JSON")
    p.add_argument("--target", metavar="FILE", help="the target entity (_T): a JSON file, or inline JSON")
    p.add_argument("--previous", metavar="FILE", help="the previous version of the entity (is-changed)")
    p.add_argument("--datasets", metavar="FILE", help='JSON object {"dataset-id": [entities]} for hops')
    p.add_argument("--now", help="pin the clock, e.g. 2024-01-01T00:00:00Z")
    p.add_argument("--seed", type=int, help="seed for uuid and other random values")
    p.add_argument("--format", choices=("json", "text"), default="json",
                   help="json (default): the value as JSON; text: strings unquoted, other values as compact JSON")
    p.set_defaults(func=run)


def parse_expr(text: str) -> Any:
    """EXPR text -> the expression (see the module docstring)."""
    if text.startswith("@"):
        return read_json_file(text[1:])
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        # A bare word that is not JSON is most likely meant as a string or path.
        if not text.strip().startswith(("[", "{", '"')):
            return text
        line = text.splitlines()[e.lineno - 1] if text.splitlines() else text
        raise DtlInputError(
            f"EXPR is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})\n"
            f"    {line}\n    {' ' * (e.colno - 1)}^",
            code="invalid-json",
            hint="EXPR is JSON: strings in double quotes, items separated by commas, and the whole "
            "EXPR in single quotes for the shell, e.g. '[\"upper\", \"_S.name\"]'",
        ) from None


def _entity(value: str | None, what: str) -> Any:
    if value is None:
        return None
    if value.lstrip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise DtlInputError(f"{what} is not valid JSON: {e.msg} (column {e.colno})", code="invalid-json") from None
    return read_json_file(value)


def format_value(value: Any, fmt: str) -> str:
    if fmt == "text":
        return value if type(value) is str else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, indent=2)


def run(args) -> int:
    from .. import evaluate

    expr = parse_expr(args.expr)
    source = _entity(args.source, "--source")
    if source is not None and type(source) is not dict:
        raise DtlInputError(f"--source must be one entity (a JSON object), not {type(source).__name__}",
                            code="invalid-entity")
    target = _entity(args.target, "--target")
    previous = _entity(args.previous, "--previous")
    datasets = read_json_file(args.datasets) if args.datasets else None
    try:
        value = evaluate(expr, source, target=target, previous=previous, datasets=datasets, now=args.now,
                         seed=args.seed)
    except DtlError as e:
        if e.pointer is not None and e.context is None and expr != e.fragment:
            e.context, e.context_pointer = expr, ""  # mark the part inside the whole EXPR
        raise
    print(format_value(value, args.format))
    return 0
