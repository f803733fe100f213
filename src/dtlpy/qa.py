"""The QA checklist: run every flow's golden fixtures and map them to property rows.

Layout (one folder per case)::

    dtl/<pipe-id>.conf.json                  the pipe (its rows come from dtlpy.docgen)
    fixtures/<pipe-id>/<case>/input.json     the source entity
    fixtures/<pipe-id>/<case>/datasets.json  optional: {dataset id: [entities]} for hops/lookup-entity
    fixtures/<pipe-id>/<case>/expected.json  golden output, sesam-verify style (dtlpy.verify)
    fixtures/<pipe-id>/<case>/case.json      optional: {"description": "..."}

A case runs the pipe's DTL on its input with the clock pinned to
:data:`PINNED_NOW` and compares the emitted entities with the golden file the
way ``sesam verify`` does. A property row (``source -> target``) is *covered*
by a case when the input has a non-null value at the row's source path and
the golden output has the row's target property (null included, also a null
parent object: a row that maps a value to null on purpose is still exercised). A row passes when it is
covered and every covering case passes; an uncovered row fails the checklist.

Other parts of dtlpy add checklist sections through :data:`SECTION_PROVIDERS`:
``"module:function"`` names of functions ``fn(ctx: QaContext) -> list[Section]``,
imported only when the checklist is built (or call :func:`register_section_provider`).

>>> report = build_report(root=".")            # doctest: +SKIP
>>> report.ok, report.summary()                # doctest: +SKIP
(True, {'rows': 84, 'passed': 84, ...})
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import verify
from .docgen import Flow, Row, load_flows
from .errors import DtlError
from .io import read_json_file

PINNED_NOW = "2024-06-01T12:00:00Z"
PINNED_SEED = 0

PASS, FAIL, UNTESTED = "pass", "fail", "untested"

# Checklist sections, in order. A later issue (two-way sync) appends its own
# provider here, e.g. "dtlpy.sync_qa:qa_sections".
SECTION_PROVIDERS: list[str | Callable[["QaContext"], list["Section"]]] = [
    "dtlpy.qa:flow_sections",
    "dtlpy.qa:case_sections",
    "dtlpy.sync_scenario:qa_sections",
]


def register_section_provider(provider: str | Callable[["QaContext"], list["Section"]]) -> None:
    """Add a checklist section provider (idempotent)."""
    if provider not in SECTION_PROVIDERS:
        SECTION_PROVIDERS.append(provider)


@dataclass
class Case:
    pipe_id: str
    name: str
    path: Path
    input: Any
    datasets: dict
    expected: list | None
    description: str = ""

    @property
    def id(self) -> str:
        return f"{self.pipe_id}/{self.name}"


@dataclass
class CaseResult:
    case: Case
    ok: bool
    actual: list | None = None
    diff: str = ""
    error: str = ""

    @property
    def status(self) -> str:
        return PASS if self.ok else FAIL


@dataclass
class SectionRow:
    """One checklist line: display cells, a status and the cases behind it."""

    cells: list[str]
    status: str
    cases: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[SectionRow] = field(default_factory=list)
    # (title, text) pairs printed after the table, e.g. readable diffs.
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status == PASS for r in self.rows)


@dataclass
class QaContext:
    root: Path
    flows: list[Flow]
    cases: dict[str, list[Case]]
    results: dict[str, CaseResult]
    now: str = PINNED_NOW


@dataclass
class Report:
    sections: list[Section]
    context: QaContext

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sections)

    def summary(self) -> dict:
        rows = [r for s in self.sections for r in s.rows]
        count = lambda st: sum(1 for r in rows if r.status == st)
        return {"rows": len(rows), "passed": count(PASS), "failed": count(FAIL),
                "untested": count(UNTESTED), "cases": len(self.context.results),
                "cases_failed": sum(1 for r in self.context.results.values() if not r.ok)}


# ------------------------------------------------------------------ fixtures


def discover_cases(fixtures_dir: str | Path, pipe_id: str) -> list[Case]:
    """The cases of one pipe, sorted by name."""
    base = Path(fixtures_dir) / pipe_id
    cases = []
    if not base.is_dir():
        return cases
    for d in sorted(p for p in base.iterdir() if p.is_dir() and (p / "input.json").exists()):
        meta = read_json_file(d / "case.json") if (d / "case.json").exists() else {}
        cases.append(Case(
            pipe_id=pipe_id, name=d.name, path=d, input=read_json_file(d / "input.json"),
            datasets=read_json_file(d / "datasets.json") if (d / "datasets.json").exists() else {},
            expected=read_json_file(d / "expected.json") if (d / "expected.json").exists() else None,
            description=meta.get("description", "") if isinstance(meta, dict) else "",
        ))
    return cases


def run_flow(flow: Flow, entity: Any, datasets: dict | None = None, now: str = PINNED_NOW) -> list[dict]:
    """Entities a flow emits for one source entity (pinned clock and seed)."""
    from . import compile as compile_rules

    rules = flow.conf.get("transform", {}).get("rules")
    t = compile_rules(rules, pipe=flow.conf, datasets=datasets or {}, now=now, seed=PINNED_SEED,
                      file=str(flow.path))
    return t.transform(entity)


def run_case(flow: Flow, case: Case, now: str = PINNED_NOW) -> CaseResult:
    try:
        actual = run_flow(flow, case.input, case.datasets, now)
    except DtlError as e:
        return CaseResult(case, False, None, error=str(e))
    if case.expected is None:
        return CaseResult(case, False, actual, error="no expected.json (run pytest --snapshot-update)")
    ok, diff = verify.compare(case.expected, actual)
    return CaseResult(case, ok, actual, diff=diff)


def golden_text(entities: list) -> str:
    """The text of an expected.json for these entities."""
    return verify.format_expected(entities)


# ------------------------------------------------------------------ coverage


def _get(value: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if type(value) is not dict or part not in value:
            return False, None
        value = value[part]
    return True, value


def _target_present(entity: Any, path: str) -> bool:
    """The target property is there, or a parent object of it is null on
    purpose (``mainProject: null`` exercises ``mainProject.id``)."""
    value = entity
    for part in path.split("."):
        if value is None and value is not entity:
            return True
        if type(value) is not dict or part not in value:
            return False
        value = value[part]
    return True


def covers(row: Row, case: Case, output: list | None) -> bool:
    """Does this case exercise this row? (see the module docstring)"""
    present, value = _get(case.input, row.source)
    if not present or value is None:
        return False
    return any(_target_present(e, row.target) for e in output or [] if type(e) is dict)


def row_cases(flow: Flow, row: Row, ctx: QaContext) -> list[Case]:
    out = []
    for case in ctx.cases.get(flow.pipe_id, []):
        result = ctx.results[case.id]
        output = case.expected if case.expected is not None else result.actual
        if covers(row, case, output):
            out.append(case)
    return out


# ------------------------------------------------------------------ sections


def flow_sections(ctx: QaContext) -> list[Section]:
    """One section per flow: each property row with pass / fail / untested."""
    sections = []
    for flow in ctx.flows:
        sec = Section(
            title=f"{flow.title} ({flow.pipe_id})",
            columns=[f"{flow.source_system} {flow.source_type} Property",
                     f"{flow.target_system} {flow.target_type} Property",
                     f"{flow.target_system} Data Type", "Cases"],
        )
        for row in flow.rows:
            cases = row_cases(flow, row, ctx)
            if not cases:
                status = UNTESTED
            elif all(ctx.results[c.id].ok for c in cases):
                status = PASS
            else:
                status = FAIL
            names = [c.name for c in cases]
            sec.rows.append(SectionRow([*row.cells(), ", ".join(names) or "-"], status, [c.id for c in cases]))
        sections.append(sec)
    return sections


def case_sections(ctx: QaContext) -> list[Section]:
    """Every fixture case (edge cases included) with its result and diff."""
    sec = Section(title="Fixture cases", columns=["Pipe", "Case", "Description"])
    for flow in ctx.flows:
        for case in ctx.cases.get(flow.pipe_id, []):
            r = ctx.results[case.id]
            sec.rows.append(SectionRow([flow.pipe_id, case.name, case.description], r.status, [case.id]))
            if not r.ok:
                sec.failures.append((case.id, r.error or r.diff))
    return [sec]


def _provider(p) -> Callable[[QaContext], list[Section]]:
    if callable(p):
        return p
    module, _, name = p.partition(":")
    return getattr(importlib.import_module(module), name)


def build_report(root: str | Path = ".", *, dtl_dir: str = "dtl", fixtures_dir: str = "fixtures",
                 now: str = PINNED_NOW, providers=None) -> Report:
    """Run everything and build the checklist."""
    root = Path(root)
    flows = load_flows(root / dtl_dir)
    cases = {f.pipe_id: discover_cases(root / fixtures_dir, f.pipe_id) for f in flows}
    results = {c.id: run_case(f, c, now) for f in flows for c in cases[f.pipe_id]}
    ctx = QaContext(root=root, flows=flows, cases=cases, results=results, now=now)
    sections: list[Section] = []
    for p in SECTION_PROVIDERS if providers is None else providers:
        sections.extend(_provider(p)(ctx))
    return Report(sections, ctx)


def report_json(report: Report) -> dict:
    """The report as plain JSON data (the ``--format json`` output)."""
    return {
        "ok": report.ok,
        "summary": report.summary(),
        "pinned_now": report.context.now,
        "sections": [
            {"title": s.title, "columns": s.columns, "ok": s.ok,
             "rows": [{"cells": r.cells, "status": r.status, "cases": r.cases} for r in s.rows],
             "failures": [{"title": t, "text": x} for t, x in s.failures]}
            for s in report.sections
        ],
    }


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
