"""``dtlpy doc [-o FILE] [--check] [--date TEXT]``: regenerate the dataflow document.

The property tables are derived from the DTL pipes and JSON schemas in
``--dtl`` (see :mod:`dtlpy.docgen`). ``--check`` compares the generated text
with FILE (ignoring the ``Generated:`` line) and exits 1 when they differ,
so CI notices a DTL change whose document was not regenerated.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

DEFAULT_OUTPUT = "docs/custompms-to-customerp-dataflow.rst"


def register(sub) -> None:
    p = sub.add_parser("doc", help="regenerate the Custompms -> Customerp dataflow document from the DTL")
    p.add_argument("-o", "--output", metavar="FILE", default=DEFAULT_OUTPUT,
                   help=f"where to write the document (default {DEFAULT_OUTPUT}; '-' for stdout)")
    p.add_argument("--check", action="store_true", help="do not write; exit 1 if FILE is out of date")
    p.add_argument("--dtl", metavar="DIR", default="dtl", help="folder with *.conf.json pipes and schemas/ (default dtl)")
    p.add_argument("--date", help="the Generated: date (default: date of the newest commit touching --dtl)")
    p.add_argument("--source-system", default="Custompms")
    p.add_argument("--target-system", default="Customerp")
    p.set_defaults(func=run)


def generate(dtl: str = "dtl", date: str | None = None, source_system: str = "Custompms",
             target_system: str = "Customerp") -> str:
    from ..docgen import document_date, load_flows, render_document

    flows = load_flows(dtl)
    return render_document(flows, source_system=source_system, target_system=target_system,
                           date=date or document_date(dtl))


def run(args) -> int:
    from ..docgen import without_date
    from ..errors import DtlInputError
    from ..io import atomic_write

    if not Path(args.dtl).is_dir():
        raise DtlInputError(f"no such folder: {args.dtl}", code="file-not-found")
    text = generate(args.dtl, args.date, args.source_system, args.target_system)
    if args.check:
        path = Path(args.output)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if without_date(current) == without_date(text):
            print(f"{path} is up to date")
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(path), "generated", lineterm="")
        print("\n".join(diff))
        print(f"{path} is out of date: run `dtlpy doc -o {path}`", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    with atomic_write(args.output) as fh:
        fh.write(text)
    print(f"wrote {args.output}")
    return 0
