"""``dtlpy qa [--format text|markdown|json|junit|html] [-o FILE]``: the QA checklist.

Runs every flow's golden fixtures (see :mod:`dtlpy.qa`), prints each
property row of each flow with pass / fail / untested, then the failures
with a readable diff. Exit code 1 when anything failed or is untested.
``-o FILE`` writes the report atomically; the HTML report is one
self-contained file with a sign-off section for the QA lead.
"""

from __future__ import annotations

import html
import sys
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

FORMATS = ("text", "markdown", "json", "junit", "html")
MARK = {"pass": "PASS", "fail": "FAIL", "untested": "UNTESTED"}


def register(sub) -> None:
    p = sub.add_parser("qa", help="run the Custompms <-> Customerp QA checklist (golden fixtures per property row)")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    p.add_argument("--root", default=".", help="project folder holding dtl/ and fixtures/ (default .)")
    p.add_argument("--dtl", default="dtl", help="pipes folder, relative to --root")
    p.add_argument("--fixtures", default="fixtures", help="fixtures folder, relative to --root")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..io import atomic_write
    from ..qa import build_report

    report = build_report(args.root, dtl_dir=args.dtl, fixtures_dir=args.fixtures)
    text = RENDERERS[args.format](report)
    if args.output:
        with atomic_write(args.output) as fh:
            fh.write(text)
        s = report.summary()
        print(f"wrote {args.output}: {s['passed']}/{s['rows']} checklist rows passed, "
              f"{s['cases'] - s['cases_failed']}/{s['cases']} cases passed")
    else:
        sys.stdout.write(text)
    return 0 if report.ok else 1


# ------------------------------------------------------------------ text


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [columns, *rows]) for i in range(len(columns))]
    fmt = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    return [fmt(columns), "  ".join("-" * w for w in widths), *[fmt(r) for r in rows]]


def _summary_line(report) -> str:
    s = report.summary()
    verdict = "PASSED" if report.ok else "FAILED"
    return (f"QA {verdict}: {s['passed']}/{s['rows']} checklist rows passed, {s['failed']} failed, "
            f"{s['untested']} untested; {s['cases'] - s['cases_failed']}/{s['cases']} fixture cases passed")


def _short(cell: str, width: int = 60) -> str:
    """Long case lists: the first names and a count (the other formats keep them all)."""
    cell = str(cell)
    if len(cell) <= width:
        return cell
    names = cell.split(", ")
    shown = []
    for n in names:
        if len(", ".join(shown + [n])) > width - 12:
            break
        shown.append(n)
    return ", ".join(shown) + f" +{len(names) - len(shown)} more"


def _clip(cell: str, width: int = 70) -> str:
    """Long prose cells: cut at a word boundary (the other formats keep them whole)."""
    cell = str(cell)
    if len(cell) <= width:
        return cell
    return cell[: width - 1].rsplit(" ", 1)[0] + "…"


def render_text(report) -> str:
    out = []
    for sec in report.sections:
        out += [sec.title, "=" * len(sec.title)]
        shorten = [_short if col == "Cases" else _clip for col in sec.columns]
        out += _table(["Status", *sec.columns],
                      [[MARK.get(r.status, r.status), *(f(c) for f, c in zip(shorten, r.cells))]
                       for r in sec.rows])
        out.append("")
    failures = [(t, x) for sec in report.sections for t, x in sec.failures]
    if failures:
        out += ["Failures", "========"]
        for title, text in failures:
            out += [f"--- {title}", text.rstrip(), ""]
    out.append(_summary_line(report))
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ markdown


def _md(cell: str) -> str:
    return str(cell).replace("|", "\\|").replace("\n", " ")


def render_markdown(report) -> str:
    out = ["# QA checklist: Custompms <-> Customerp", "", f"**{_summary_line(report)}**", ""]
    for sec in report.sections:
        out += [f"## {sec.title}", ""]
        cols = ["Status", *sec.columns]
        out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in sec.rows:
            out.append("| " + " | ".join(_md(c) for c in [MARK.get(r.status, r.status), *r.cells]) + " |")
        out.append("")
    failures = [(t, x) for sec in report.sections for t, x in sec.failures]
    if failures:
        out += ["## Failures", ""]
        for title, text in failures:
            out += [f"### {title}", "", "```diff", text.rstrip(), "```", ""]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ json


def render_json(report) -> str:
    from ..qa import dumps, report_json

    return dumps(report_json(report)) + "\n"


# ------------------------------------------------------------------ junit


def render_junit(report) -> str:
    """One testsuite per section, one testcase per checklist row."""
    s = report.summary()
    failed_total = s["failed"] + s["untested"]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="dtlpy qa" tests="{s["rows"]}" failures="{failed_total}">']
    for sec in report.sections:
        fails = sum(1 for r in sec.rows if r.status != "pass")
        out.append(f'  <testsuite name={quoteattr(sec.title)} tests="{len(sec.rows)}" failures="{fails}">')
        diffs = dict(sec.failures)
        for r in sec.rows:
            name = " -> ".join(r.cells[:2]) if len(r.cells) >= 2 else r.cells[0]
            out.append(f"    <testcase classname={quoteattr(sec.title)} name={quoteattr(name)}>")
            if r.status != "pass":
                detail = "\n".join(diffs.get(c, "") for c in r.cases if c in diffs) or \
                    ("no fixture case covers this row" if r.status == "untested" else "a covering case failed")
                out.append(f"      <failure message={quoteattr(r.status)}>{xml_escape(detail)}</failure>")
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ html

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#1d2330;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #ccd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f6}td.pass{background:#e3f6e5;color:#14591d;font-weight:600}td.fail{background:#fde4e4;color:#8a1111;font-weight:600}
td.untested{background:#fff4d6;color:#7a5700;font-weight:600}.summary{padding:.6rem 1rem;border-radius:.3rem;font-weight:600}
.summary.ok{background:#e3f6e5}.summary.bad{background:#fde4e4}pre{background:#f6f7fb;padding:.6rem;overflow:auto;font-size:.8rem}
.signoff td{height:2.2rem}.signoff th{width:14rem}code{font-size:.85rem}
@media print{details{display:block}details>pre{display:block}}
"""


def render_html(report) -> str:
    from ..docgen import document_date

    s = report.summary()
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>QA checklist: Custompms &lt;-&gt; Customerp</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>QA checklist: Custompms &harr; Customerp</h1>",
           f'<p class="summary {"ok" if report.ok else "bad"}">{e(_summary_line(report))}</p>',
           f"<p>DTL version: {e(document_date(report.context.root / 'dtl'))} (newest DTL commit). "
           f"Fixtures run with the clock pinned to <code>{e(report.context.now)}</code>. "
           "A property row passes when at least one fixture case covers it and every covering case matches its golden output.</p>"]
    for sec in report.sections:
        out.append(f"<h2>{e(sec.title)}</h2><table><tr><th>Status</th>"
                   + "".join(f"<th>{e(c)}</th>" for c in sec.columns) + "</tr>")
        for r in sec.rows:
            out.append(f'<tr><td class="{e(r.status)}">{e(MARK.get(r.status, r.status))}</td>'
                       + "".join(f"<td>{e(str(c))}</td>" for c in r.cells) + "</tr>")
        out.append("</table>")
    failures = [(t, x) for sec in report.sections for t, x in sec.failures]
    if failures:
        out.append("<h2>Failures</h2>")
        for title, text in failures:
            out.append(f"<details open><summary>{e(title)}</summary><pre>{e(text)}</pre></details>")
    out.append("<h2>Sign-off</h2>"
               "<p>I have reviewed the checklist above and the golden outputs it is based on.</p>"
               '<table class="signoff">'
               "<tr><th>Checklist result accepted</th><td>&#9744; yes &nbsp; &#9744; no</td></tr>"
               "<tr><th>Name</th><td></td></tr><tr><th>Role</th><td></td></tr>"
               "<tr><th>Date</th><td></td></tr><tr><th>Signature</th><td></td></tr>"
               "<tr><th>Remarks</th><td></td></tr></table>")
    out.append(f"<p><small>{s['rows']} rows, {s['cases']} fixture cases. Generated by <code>dtlpy qa --format html</code>."
               "</small></p></body></html>")
    return "\n".join(out) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json,
             "junit": render_junit, "html": render_html}
