"""dtlpy test: sesam verify/update semantics on node folders."""

import doctest
import json
import shutil
from pathlib import Path

import pytest

import dtlpy.nodetest as nt
from dtlpy.cli import main
from dtlpy.nodetest import TestSpec, filter_entity, fix_numbers, pipe_kind, run_node_tests, summary, verify_entities

BASIC = Path(__file__).parent / "nodes" / "basic"


@pytest.fixture
def node_dir(tmp_path):
    d = tmp_path / "node"
    shutil.copytree(BASIC, d)
    return d


def test_doctests():
    assert doctest.testmod(nt).failed == 0


def test_shipped_example_node_passes(capsys):
    assert main(["test", str(BASIC), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] == 2 and report["failed"] == 0
    assert {t["name"]: t["status"] for t in report["tests"]} == {"person-report": "passed", "person-share": "passed"}


def test_pipe_kinds_follow_sesam_py():
    assert pipe_kind({"_id": "a", "source": {"type": "embedded"}, "sink": {"type": "http_endpoint"}}) == "input"
    assert pipe_kind({"_id": "a", "source": {"type": "dataset", "dataset": "x"}, "sink": {"type": "xml_endpoint"}}) == "endpoint"
    assert pipe_kind({"_id": "a", "source": {"type": "dataset", "dataset": "x"}}) == "internal"
    assert pipe_kind({"_id": "a", "source": {"type": "conditional"}}) == "internal"
    assert pipe_kind({"_id": "a", "source": {"type": "dataset", "dataset": "x"}, "sink": {"type": "rest"}}) == "output"


def test_changed_output_fails_with_unified_diff(node_dir, capsys):
    expected = node_dir / "expected" / "person-share.json"
    data = json.loads(expected.read_text())
    data[0]["fullName"] = "Someone Else"
    expected.write_text(json.dumps(data))
    assert main(["test", str(node_dir)]) == 1
    out = capsys.readouterr().out
    assert "FAILED   person-share: content mismatch" in out
    assert "--- expected/person-share.json" in out and "+++ current-output.json" in out
    assert '-    "fullName": "Someone Else",' in out and '+    "fullName": "Ada Lovelace",' in out


def test_length_mismatch_and_missing_test_and_stray_spec(node_dir):
    (node_dir / "expected" / "person-share.json").write_text("[]")
    (node_dir / "expected" / "person-report.test.json").unlink()
    (node_dir / "expected" / "nope.test.json").write_text("{}")
    results = {r.name: r for r in run_node_tests(node_dir)}
    assert results["person-share"].status == "failed" and "expected 0 got 2" in results["person-share"].message
    assert results["person-report"].status == "failed" and "missing test" in results["person-report"].message
    assert results["nope"].status == "error"
    assert summary(list(results.values()))["failed"] == 3


def test_update_creates_specs_and_removes_stray_ones(node_dir):
    (node_dir / "expected" / "person-report.test.json").unlink()
    (node_dir / "expected" / "person-report.json").unlink()
    (node_dir / "expected" / "nope.test.json").write_text("{}")
    run_node_tests(node_dir, update=True)
    assert (node_dir / "expected" / "person-report.test.json").read_text() == "{\n}"
    assert not (node_dir / "expected" / "nope.test.json").exists()
    text = (node_dir / "expected" / "person-share.json").read_text()
    assert "\\u003cBuilder\\u003e \\u0026 Co" in text and text.endswith("}\n]\n") and '\n  {\n    "_id"' in text
    assert all(r.status == "passed" for r in run_node_tests(node_dir))


def test_ignored_spec_and_its_expected_file(node_dir):
    (node_dir / "expected" / "person-report.test.json").write_text('{"ignore": true}')
    results = {r.name: r.status for r in run_node_tests(node_dir, update=True)}
    assert results["person-report"] == "ignored"
    assert not (node_dir / "expected" / "person-report.json").exists()


def test_ignore_deletes_keeps_expected_deletes_only():
    spec = TestSpec("p", {})
    current = [{"_id": "1", "x": 1}, {"_id": "2", "_deleted": True}, {"_id": "3", "_deleted": True}]
    assert verify_entities(spec, current, [{"_id": "1", "x": 1}]).status == "passed"
    assert verify_entities(spec, current, [{"_id": "1", "x": 1}, {"_id": "3", "_deleted": True}]).status == "passed"
    strict = TestSpec("p", {"ignore_deletes": False})
    assert verify_entities(strict, current, [{"_id": "1", "x": 1}]).status == "failed"


def test_float_fix_and_large_int_bug():
    assert fix_numbers({"a": [1.0, 1.5, 12345678901234567]}) == {"a": [1, 1.5, 12345678901234568]}
    assert fix_numbers(12345678901234567, large_int_bug=False) == 12345678901234567
    # expected files are not fixed: a 2.0 there never matches
    assert verify_entities(TestSpec("p", {}), [{"_id": "1", "v": 2.0}], [{"_id": "1", "v": 2}]).status == "passed"
    assert verify_entities(TestSpec("p", {}), [{"_id": "1", "v": 2}], [{"_id": "1", "v": 2.0}]).status == "failed"


def test_blacklist_paths_and_sorting():
    # as in sesam-py: list items keep their parent's path, so "list[].x" only
    # reaches deeper nesting, and a dotted key is matched by a plain dotted pattern
    spec = TestSpec("p", {"blacklist": ["a.b", "list[].x", "c.d", "glob*"], "fields_to_sort_by": ["n"]})
    e = {"_id": "1", "a": {"b": 1, "c": 2}, "list": [{"x": 1, "y": 2}], "c.d": 3, "globber": 4, "n": 1}
    assert filter_entity(e, spec) == {"_id": "1", "a": {"c": 2}, "list": [{"x": 1, "y": 2}], "n": 1}
    # sorted by n first, then canonical JSON; mixed types do not crash
    entities = [{"_id": "b", "n": 2}, {"_id": "a", "n": None}, {"_id": "c", "n": 1}]
    assert [x["_id"] for x in sorted(entities, key=spec.sort_key)] == ["a", "c", "b"]


def test_non_json_endpoint_is_an_error(node_dir):
    (node_dir / "expected" / "person-share.test.json").write_text('{"endpoint": "xml"}')
    results = {r.name: r.status for r in run_node_tests(node_dir)}
    assert results["person-share"] == "error"


ROOT = Path(__file__).resolve().parents[1]


def test_our_flows_node_folder_passes():
    results = run_node_tests(ROOT / "node")
    assert len(results) == 7 and all(r.status == "passed" for r in results), [r.to_dict() for r in results]


def test_node_folder_carries_the_dtl_pipes_unchanged():
    # node/pipes holds copies of the six dtl/ pipes so the folder can be lifted onto a node as is
    for path in sorted((ROOT / "dtl").glob("*.conf.json")):
        assert json.loads((ROOT / "node" / "pipes" / path.name).read_text()) == json.loads(path.read_text()), path.name


def test_failures_name_the_upstream_pipes_not_run_offline(tmp_path):
    pipes = tmp_path / "pipes"
    pipes.mkdir()
    (pipes / "crm.conf.json").write_text(json.dumps({"_id": "crm", "source": {"type": "json", "system": "s", "url": "/x"}}))
    (pipes / "mid.conf.json").write_text(json.dumps({"_id": "mid", "source": {"type": "dataset", "dataset": "crm"}}))
    (pipes / "out.conf.json").write_text(json.dumps(
        {"_id": "out", "source": {"type": "dataset", "dataset": "mid"}, "sink": {"type": "http_endpoint"}}))
    (tmp_path / "expected").mkdir()
    (tmp_path / "expected" / "out.test.json").write_text("{}")
    (tmp_path / "expected" / "out.json").write_text(json.dumps([{"_id": "1"}]))
    [result] = run_node_tests(tmp_path)
    assert result.status == "failed"
    assert "not run offline upstream" in result.message and "source type 'json'" in result.message
