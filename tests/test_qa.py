"""dtlpy qa: the checklist, its formats, failure reporting and the section hook."""

from __future__ import annotations

import json
import shutil
import xml.dom.minidom
from pathlib import Path

import pytest

from dtlpy import qa, verify
from dtlpy.cli import main

ROOT = Path(__file__).resolve().parent.parent
# This module tests the flow checklist; sections other parts of dtlpy add
# (two-way sync scenarios under fixtures/sync) are tested where they live.
FLOW_PROVIDERS = ["dtlpy.qa:flow_sections", "dtlpy.qa:case_sections"]


@pytest.fixture(scope="module")
def report():
    return qa.build_report(ROOT, providers=FLOW_PROVIDERS)


@pytest.fixture()
def project(tmp_path):
    """A copy of dtl/ and the flow fixtures (not fixtures/sync) that a test may break."""
    shutil.copytree(ROOT / "dtl", tmp_path / "dtl")
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures", ignore=shutil.ignore_patterns("sync"))
    return tmp_path


def test_every_row_of_every_flow_passes(report):
    s = report.summary()
    assert report.ok and s["failed"] == 0 and s["untested"] == 0
    assert s["cases"] >= 80 and s["cases_failed"] == 0
    flow_sections = [sec for sec in report.sections if sec.title.endswith(")")]
    assert len(flow_sections) == 6
    assert sum(len(sec.rows) for sec in flow_sections) == sum(len(f.rows) for f in report.context.flows)


def test_rows_are_mapped_to_the_cases_that_cover_them(report):
    task = report.sections[0]
    assert task.title.startswith("Custompms Task to Customerp Project")
    by_source = {r.cells[0]: r for r in task.rows}
    project_row = by_source["projectId"]
    assert "custompms-task-to-customerp-project/project-not-yet-linked" in project_row.cases
    # the nulls case has no value for projectId, so it does not count as covering it
    assert "custompms-task-to-customerp-project/nulls" not in project_row.cases


def test_text_output_and_exit_code(project, capsys):
    assert main(["qa", "--root", str(project)]) == 0
    out = capsys.readouterr().out
    assert "PASS    projectId" in out
    assert out.rstrip().splitlines()[-1].startswith("QA PASSED: ")


def test_a_broken_golden_fails_with_a_readable_diff(project, capsys):
    golden = project / "fixtures/custompms-task-to-customerp-project/status-blocked/expected.json"
    golden.write_text(golden.read_text().replace('"ON_HOLD"', '"ACTIVE"'))
    assert main(["qa", "--root", str(project)]) == 1
    out = capsys.readouterr().out
    assert "FAIL    status" in out
    assert "--- custompms-task-to-customerp-project/status-blocked" in out
    assert '-    "status": "ACTIVE"' in out and '+    "status": "ON_HOLD"' in out
    assert "QA FAILED" in out


def test_a_row_without_a_covering_case_is_untested(project):
    shutil.rmtree(project / "fixtures/customerp-customer-to-custompms-customer")
    report = qa.build_report(project)
    assert not report.ok and report.summary()["untested"] == 15


def test_a_dtl_error_fails_the_case(project):
    pipe = project / "dtl/custompms-customer-to-customerp-customer.conf.json"
    pipe.write_text(pipe.read_text().replace('["integer", "_S.number"]', '["integer", "_S.number", 1, 2, 3]'))
    report = qa.build_report(project)
    failed = [r for r in report.context.results.values() if not r.ok]
    assert failed and all("[" in r.error for r in failed)


@pytest.mark.parametrize("fmt", ["markdown", "json", "junit", "html"])
def test_formats_written_atomically(fmt, project, tmp_path, capsys):
    tmp_path = tmp_path / "out"
    out = tmp_path / f"report.{fmt}"
    assert main(["qa", "--root", str(project), "--format", fmt, "-o", str(out)]) == 0
    assert "checklist rows passed" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp file left behind
    if fmt == "json":
        data = json.loads(text)
        assert data["ok"] is True and data["summary"]["failed"] == 0
        assert data["sections"][0]["rows"][0]["status"] == "pass"
    elif fmt == "junit":
        doc = xml.dom.minidom.parseString(text)
        assert len(doc.getElementsByTagName("testsuite")) == 7  # six flows + the case list
        assert not doc.getElementsByTagName("failure")
    elif fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and "<h2>Sign-off</h2>" in text
        assert "<script" not in text and 'href="http' not in text and "<link" not in text  # self-contained
    else:
        assert "| PASS | projectId | mainProject.id |" in text


def test_junit_reports_failures(project):
    from dtlpy.commands.qa import render_junit

    golden = project / "fixtures/custompms-project-to-customerp-project/hourly/expected.json"
    golden.write_text(golden.read_text().replace('"isFixedPrice": false', '"isFixedPrice": true'))
    doc = xml.dom.minidom.parseString(render_junit(qa.build_report(project)))
    messages = [f.getAttribute("message") for f in doc.getElementsByTagName("failure")]
    assert messages and set(messages) == {"fail"}


def test_extra_sections_from_providers(project):
    def sync_rows(ctx):
        return [qa.Section("Sync scenarios", ["Scenario"], [qa.SectionRow(["ping-pong"], qa.FAIL)],
                           [("ping-pong", "never reached a fixpoint")])]

    report = qa.build_report(project, providers=[*FLOW_PROVIDERS, sync_rows])
    assert report.sections[-1].title == "Sync scenarios" and not report.ok
    assert report.summary()["failed"] == 1


def test_verify_rules_match_sesam_verify():
    exp = [{"_id": "b", "x": 1}, {"_id": "a", "_deleted": True}]
    act = [{"_id": "a", "_deleted": True, "_updated": 3}, {"_id": "c", "_deleted": True},
           {"_id": "b", "x": 1.0, "_ts": 1, "n": {"_hidden": 1}}]
    assert verify.compare(exp, act)[0] is False          # n == {} is extra
    assert verify.compare(exp, act, blacklist=["n"]) == (True, "")
    assert verify.compare(exp, act, blacklist=["n"], ignore_deletes=False)[0] is False  # c is deleted
    nested = {"_id": "x", "foos": [{"bar": 1, "baz": 2}], "sesam_ts": 1, "a.b": 3}
    assert verify.normalize_entity(nested, ["foos.*.bar", "sesam_*", r"a\.b"]) == {"_id": "x", "foos": [{"baz": 2}]}
    assert verify.format_expected([{"_id": "1", "t": "<&>"}]).splitlines()[3] == '    "t": "\\u003c\\u0026\\u003e"'
