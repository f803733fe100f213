"""``dtlpy eval EXPR [--source FILE] [--target FILE]``: print an expression's value."""

from __future__ import annotations

import json

from ..errors import DtlInputError
from ..io import read_json_file


def register(sub) -> None:
    p = sub.add_parser("eval", help="evaluate one DTL expression and print its value")
    p.add_argument("expr", help='the expression as JSON, e.g. \'["upper", "_S.name"]\'')
    p.add_argument("--source", metavar="FILE", help="JSON file with the source entity (_S)")
    p.add_argument("--target", metavar="FILE", help="JSON file with the target entity (_T)")
    p.add_argument("--now", help="pin the clock, e.g. 2024-01-01T00:00:00Z")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import evaluate

    try:
        expr = json.loads(args.expr)
    except json.JSONDecodeError as e:
        # A bare word that is not JSON is most likely meant as a string or path.
        if args.expr.strip().startswith(("[", "{", '"')):
            raise DtlInputError(f"EXPR is not valid JSON: {e}", code="invalid-json") from None
        expr = args.expr
    source = read_json_file(args.source) if args.source else None
    target = read_json_file(args.target) if args.target else None
    value = evaluate(expr, source, target=target, now=args.now)
    print(json.dumps(value, ensure_ascii=False, indent=2))
    return 0
