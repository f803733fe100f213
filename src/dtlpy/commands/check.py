"""``dtlpy check PIPE_OR_RULES... [--source-schema S] [--target-schema T] [--format text|json]``.

Static checks of pipe configs and rules files (see :mod:`dtlpy.check`);
directories are searched for ``*.json`` pipe configs and rules files.
Exit code 1 when any finding is an error, 0 with warnings only.
"""

from __future__ import annotations

import json

from ..io import read_json_file


def register(sub) -> None:
    p = sub.add_parser("check", help="find mistakes in DTL rules and pipe configs without running them")
    p.add_argument("paths", nargs="+", metavar="PIPE_OR_RULES", help="pipe configs, rules files or directories")
    p.add_argument("--source-schema", metavar="S", help="JSON Schema of the source entities (_S)")
    p.add_argument("--target-schema", metavar="T", help="JSON Schema of the target entities (_T)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..check import check_paths

    source = read_json_file(args.source_schema) if args.source_schema else None
    target = read_json_file(args.target_schema) if args.target_schema else None
    findings, files = check_paths(args.paths, source_schema=source, target_schema=target)
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    if args.format == "json":
        print(json.dumps({"files": files, "errors": errors, "warnings": warnings,
                          "findings": [f.to_dict() for f in findings]}, ensure_ascii=False, indent=2))
    else:
        for f in findings:
            print(f.render())
            print()
        print(f"{errors} error(s), {warnings} warning(s) in {len(files)} file(s)")
    return 1 if errors else 0
