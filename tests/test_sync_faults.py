"""Faults: a crash between an insert and its link-back, a malformed record,
a pipe config that references a missing dataset."""

import pytest

from dtlpy.errors import DtlError
from dtlpy.node import Node
from dtlpy.store import Store
from dtlpy.sync import Clock, SimSystem, SimulatedCrash, SyncEngine, load_pipes

ACME = {"name": "Acme AS", "type": "company", "status": "active", "email": "post@acme.no"}


def systems(tmp_path, clock):
    return SimSystem("custompms", clock, str(tmp_path / "pms.db")), SimSystem("customerp", clock, str(tmp_path / "erp.db"))


def crash_once(point):
    def hook(name):
        if name == point:
            raise SimulatedCrash(name)
    return hook


def test_crash_between_insert_and_link_back_neither_duplicates_nor_loses(tmp_path):
    clock = Clock()
    pms, erp = systems(tmp_path, clock)
    # no e-mail: nothing a merge criterion could match on, so only the intent can save us
    pms.insert("customer", dict(ACME, email=None))
    pms.insert("customer", dict(ACME, name="Beta AS", email=None))
    engine = SyncEngine(pms, erp, store=Store(str(tmp_path / "node.sqlite")))
    engine.fault = crash_once("after-insert")
    with pytest.raises(SimulatedCrash):
        engine.sync()
    # the first insert reached Customerp, its link did not
    assert len(erp.records("customer")) == 1
    assert engine.link_of("custompms-customer:cus_1") is None
    engine.store.close()

    # restart from the datasets on disk, with fresh system connections
    clock2 = Clock(start=clock.now)
    pms2, erp2 = systems(tmp_path, clock2)
    engine2 = SyncEngine(pms2, erp2, store=Store(str(tmp_path / "node.sqlite")))
    report = engine2.sync()
    kinds = sorted(f.kind for f in report.flows if f.kind in ("insert", "adopt"))
    assert kinds == ["adopt", "insert"]
    names = sorted(r["data"]["name"] for r in erp2.records("customer"))
    assert names == ["Acme AS", "Beta AS"]  # no duplicate, no loss
    assert engine2.counterpart("custompms-customer:cus_1") == "customerp-customer:1"
    assert engine2.counterpart("custompms-customer:cus_2") == "customerp-customer:2"
    assert engine2.sync().flows == []


def test_pending_intent_without_a_record_inserts_again(tmp_path):
    clock = Clock()
    pms, erp = systems(tmp_path, clock)
    pms.insert("customer", ACME)
    engine = SyncEngine(pms, erp)
    engine.intents.put({"_id": "custompms-customer:cus_1", "target": "customerp-customer",
                        "payload": {"name": "something else"}, "status": "pending"})
    report = engine.sync()
    assert [f.kind for f in report.flows if f.kind in ("insert", "adopt")] == ["insert"]
    assert len(erp.records("customer")) == 1


def test_malformed_record_is_quarantined_and_the_rest_flows_on():
    clock = Clock()
    pms, erp = SimSystem("custompms", clock), SimSystem("customerp", clock)
    bad = pms.insert("customer", ACME)
    pms.replace_raw("customer", bad, {"type": "company"})  # no name
    pms.insert("customer", dict(ACME, name="Good AS", email="post@good.no"))
    engine = SyncEngine(pms, erp)
    report = engine.sync()
    quarantined = [f for f in report.flows if f.kind == "quarantine"]
    assert len(quarantined) == 1 and "'name'" in quarantined[0].note
    dl = engine.store.dataset("system:dead-letter:custompms-customer").get(bad)
    assert dl["record"] == {"type": "company"}
    assert [r["data"]["name"] for r in erp.records("customer")] == ["Good AS"]
    # once repaired, the record flows
    pms.update("customer", bad, {"name": "Repaired AS"})
    engine.sync()
    assert sorted(r["data"]["name"] for r in erp.records("customer")) == ["Good AS", "Repaired AS"]


def test_record_that_breaks_a_pipe_goes_to_the_pipe_dead_letters():
    pipes = load_pipes()
    for p in pipes:
        if p["_id"] == "custompms-customer-to-customerp-customer":
            p["transform"]["rules"]["default"].insert(0, ["if", ["eq", "_S.name", "boom"], ["fail!", "cannot map boom"]])
    clock = Clock()
    pms, erp = SimSystem("custompms", clock), SimSystem("customerp", clock)
    pms.insert("customer", dict(ACME, name="boom"))
    pms.insert("customer", dict(ACME, name="fine", email="f@x.no"))
    engine = SyncEngine(pms, erp, pipes=pipes)
    engine.sync()
    dead = engine.store.dataset("system:dead-letter:custompms-customer-to-customerp-customer").latest()
    assert [d["_id"] for d in dead] == ["cus_1"] and dead[0]["error"]["code"] == "fail"
    assert [r["data"]["name"] for r in erp.records("customer")] == ["fine"]


def test_pipe_config_referencing_a_missing_dataset_is_a_clear_error():
    pipes = load_pipes()
    pipes[0]["source"]["dataset"] = "customerp-kunde"
    clock = Clock()
    with pytest.raises(DtlError) as e:
        SyncEngine(SimSystem("custompms", clock), SimSystem("customerp", clock), pipes=pipes)
    assert e.value.code == "missing-dataset"
    assert "customerp-kunde" in str(e.value) and pipes[0]["_id"] in str(e.value)


def test_hops_into_a_missing_dataset_is_a_clear_error_in_strict_mode():
    pipe = {"_id": "p", "source": {"type": "embedded", "entities": [{"_id": "1"}]},
            "transform": {"type": "dtl", "rules": {"default": [["add", "_id", "_S._id"],
                                                               ["add", "x", ["lookup-entity", "nowhere", "1"]]]}}}
    with pytest.raises(DtlError) as e:
        Node([pipe]).run()
    assert e.value.code == "missing-dataset"
    lenient = Node([pipe], strict=False)
    lenient.run()
    assert lenient.dataset("p").get("1")["x"] is None
