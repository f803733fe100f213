"""``dtlpy sync SCENARIO... [--format json]``: run sync scenarios, print what flowed where."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("sync", help="run two-way sync scenarios between simulated Custompms and Customerp")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="scenario JSON files or folders (default: fixtures/sync/)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..sync_scenario import SCENARIO_DIR, run_scenario, scenario_files

    paths = []
    for item in args.scenarios or [str(SCENARIO_DIR)]:
        p = Path(item)
        paths.extend(scenario_files(p) if p.is_dir() else [p])
    results = [run_scenario(p) for p in paths]
    if args.format == "json":
        json.dump({"scenarios": [r.to_dict() for r in results], "passed": sum(r.passed for r in results),
                   "failed": sum(not r.passed for r in results)}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for r in results:
            print(f"{'PASSED' if r.passed else 'FAILED'} {r.name}" + (f" - {r.description}" if r.description else ""))
            for line in r.flows:
                print(f"  {line}")
            for failure in r.failures:
                print(f"  ! {failure}")
        print(f"{len(results)} scenarios: {sum(r.passed for r in results)} passed, {sum(not r.passed for r in results)} failed")
    return 0 if all(r.passed for r in results) else 1
