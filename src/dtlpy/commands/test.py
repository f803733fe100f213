"""``dtlpy test NODE_DIR [--update] [--format json]``: an offline ``sesam test``."""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("test", help="run a Sesam node folder offline and verify expected/ like `sesam verify`")
    p.add_argument("node_dir", metavar="NODE_DIR", help="folder with pipes/, systems/, expected/, testdata/")
    p.add_argument("--update", action="store_true", help="write expected files from the current output (`sesam update`)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--now", help="pin the DTL clock, e.g. 2024-01-01T00:00:00Z")
    p.add_argument("--strict", action="store_true", help="a dataset no pipe produces is an error instead of empty")
    p.add_argument("--no-large-int-bugs", action="store_true", help="do not round ints over 16 digits through float")
    p.add_argument("--disable-json-html-escape", action="store_true", help="--update: keep <, >, & unescaped")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..node import Node
    from ..nodetest import run_node_tests, summary

    node = Node.from_folder(args.node_dir, now=args.now, strict=args.strict)
    results = run_node_tests(args.node_dir, update=args.update, node=node,
                             large_int_bug=not args.no_large_int_bugs,
                             html_escape=not args.disable_json_html_escape)
    report = summary(results)
    if args.format == "json":
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for r in results:
            line = f"{r.status.upper():8} {r.name}" + (f" (pipe {r.pipe})" if r.pipe != r.name else "")
            if r.message:
                line += f": {r.message}"
            print(line)
            if r.diff:
                print(r.diff)
        verb = "updated" if args.update else "passed"
        print(f"{len(results)} tests: {report['passed']} {verb}, {report['failed']} failed")
    return 1 if report["failed"] else 0
