"""Two-way sync: the QA scenarios, the CLI, and the stated rules one by one."""

import json

import pytest

from dtlpy.cli import main
from dtlpy.errors import DtlError
from dtlpy.sync import Clock, SimSystem, SyncEngine, empty
from dtlpy.sync_scenario import run_scenario, scenario_files


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_qa_scenario(path):
    result = run_scenario(path)
    assert result.checks > 0
    assert result.passed, "\n".join(result.failures + result.flows)


def test_there_are_scenarios_for_the_checklist_rows():
    names = {p.stem for p in scenario_files()}
    assert {"01-link-established", "02-edit-in-customerp-reaches-custompms", "03-edit-in-custompms-reaches-customerp",
            "06-concurrent-edits-newest-wins", "08-delete-is-not-propagated"} <= names


def test_a_failing_expectation_fails_the_scenario():
    result = run_scenario({"steps": [
        {"create": "custompms-customer", "as": "c", "data": {"name": "A", "type": "company", "status": "active"}},
        {"sync": True}, {"expect": {"record": "c", "side": "other", "fields": {"name": "B"}}}]})
    assert not result.passed and "expected 'B'" in result.failures[0]


def test_cli_prints_flows_and_json(capsys, tmp_path):
    assert main(["sync", str(scenario_files()[0])]) == 0
    out = capsys.readouterr().out
    assert "insert custompms-customer:cus_1 -> customerp-customer:1" in out and "1 scenarios: 1 passed" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"steps": [{"sync": True}, {"expect": {"count": {"customerp-customer": 3}}}]}))
    assert main(["sync", str(bad), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 1 and report["scenarios"][0]["failures"]


def make():
    clock = Clock()
    pms, erp = SimSystem("custompms", clock), SimSystem("customerp", clock)
    return pms, erp, SyncEngine(pms, erp)


def test_systems_assign_ids_and_track_modified():
    pms, erp, _ = make()
    assert pms.insert("task", {"title": "x"}) == "tsk_1" and pms.insert("task", {"title": "y"}) == "tsk_2"
    assert erp.insert("project", {"name": "p"}) == 1
    before = pms.get("task", "tsk_1")["modified"]
    pms.update("task", "tsk_1", {"title": "z"})
    assert pms.get("task", "tsk_1")["modified"] > before
    with pytest.raises(DtlError):
        erp.insert("task", {})


def test_new_id_is_linked_back_through_ids():
    pms, erp, engine = make()
    pms.insert("customer", {"name": "A", "type": "company", "status": "active"})
    engine.sync()
    entity = engine.store.dataset("custompms-customer").get("cus_1")
    assert entity["$ids"] == ["~:custompms-customer:cus_1", "~:customerp-customer:1"]
    assert engine.store.dataset("custompms-customer-to-customerp-customer").get("custompms-customer:cus_1")["id"] == 1


def test_concurrent_edit_tie_break_is_custompms_when_pms_edited_last():
    pms, erp, engine = make()
    pms.insert("customer", {"name": "A", "type": "company", "status": "active"})
    engine.sync()
    erp.update("customer", 1, {"name": "from erp"})
    pms.update("customer", "cus_1", {"name": "from pms"})
    engine.sync()
    assert pms.get("customer", "cus_1")["data"]["name"] == "from pms" == erp.get("customer", 1)["data"]["name"]


def test_clearing_a_value_after_linking_propagates():
    pms, erp, engine = make()
    pms.insert("customer", {"name": "A", "type": "company", "status": "active", "website": "https://a.no"})
    engine.sync()
    erp.update("customer", 1, {"website": None})
    engine.sync()
    assert pms.get("customer", "cus_1")["data"]["website"] is None


def test_no_fixpoint_is_reported():
    pms, erp, engine = make()
    pms.insert("customer", {"name": "A", "type": "company", "status": "active"})
    engine.max_rounds = 1
    with pytest.raises(DtlError) as e:
        engine.sync()
    assert e.value.code == "no-fixpoint"


def test_empty():
    assert empty(None) and empty("") and empty([]) and empty({}) and not empty(0) and not empty(False)


def test_null_versus_empty_description_converges_and_keeps_later_edits():
    # Regression (found by the stateful test): a description null on one side
    # and "" on the other made the sync echo forever, or lose the next edit.
    pms, erp, engine = make()
    pms.insert("project", {"name": "P", "status": "active", "billingMethod": "hourly", "description": None})
    engine.sync()
    quiet = engine.sync()
    assert quiet.rounds <= 1
    erp_id = 1
    erp.update("project", erp_id, {"description": "from erp"})
    engine.sync()
    pid = "prj_1"
    assert pms.get("project", pid)["data"]["description"] == "from erp"
    pms.update("project", pid, {"description": None})
    engine.sync()
    assert erp.get("project", erp_id)["data"]["description"] in (None, "")
    erp.update("project", erp_id, {"description": "again"})
    engine.sync()
    assert pms.get("project", pid)["data"]["description"] == "again"
