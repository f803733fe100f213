from dtlpy.sync import Clock, SimSystem, SyncEngine


def make():
    clock = Clock()
    pms, erp = SimSystem("custompms", clock), SimSystem("customerp", clock)
    return pms, erp, SyncEngine(pms, erp)


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
