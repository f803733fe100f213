"""The offline node: sources, transforms, sinks, namespaces, scheduler."""

import doctest
import json

import pytest

import dtlpy.node as node_mod
from dtlpy.errors import DtlError
from dtlpy.node import Node, remove_namespaces
from dtlpy.store import Store

COPY = {"type": "dtl", "rules": {"default": [["add", "_id", "_S._id"], ["add", "v", "_S.v"]]}}


def embedded(pid, entities, **extra):
    return {"_id": pid, "source": {"type": "embedded", "entities": entities}, **extra}


def test_doctests():
    assert doctest.testmod(node_mod).failed == 0


def test_merge_source_doc_example():
    a = embedded("A", [{"_id": "a1", "f1": 1}, {"_id": "a2", "f1": 2}])
    b = embedded("B", [{"_id": "b1", "f1": 1, "f2": "x"}, {"_id": "b2", "f1": 3}])
    c = embedded("C", [{"_id": "c1", "f3": "X"}, {"_id": "c2", "_deleted": True, "f3": "Y"},
                       {"_id": "c3", "_deleted": True, "f3": "X"}])
    result = {"_id": "result", "source": {"type": "merge", "datasets": ["A a", "B b", "C c"],
                                          "equality": [["eq", "a.f1", "b.f1"], ["eq", "b.f2", ["lower", "c.f3"]]]}}
    node = Node([a, b, c, result])
    node.run()
    out = {e["_id"]: {k: v for k, v in e.items() if not k.startswith("_") or k in ("_id", "_deleted")}
           for e in node.dataset("result").latest()}
    assert set(out) == {"0|a1|1|b1|2|c1", "0|a2", "1|b2"}
    merged = out["0|a1|1|b1|2|c1"]
    assert merged["$ids"] == ["a1", "b1", "c1"] and merged["f1"] == [1, 1] and merged["f2"] == "x"
    assert out["0|a2"] == {"_id": "0|a2", "$ids": ["a2"], "f1": 2}
    # deleted source entities are never merged (and never stored as live entities)
    assert node.dataset("result").get("2|c2") is None


def test_merge_identity_first_compact_and_replaced():
    store = Store()
    a, b = store.dataset("a"), store.dataset("b")
    a.put({"_id": "a1", "email": "x@y", "tags": ["t"]})
    b.put({"_id": "b1", "mail": "other", "tags": ["t", "u"]})
    pipe = {"_id": "global", "source": {"type": "merge", "version": 2, "identity": "first", "strategy": "compact",
                                        "datasets": ["a a", "b b"], "equality_sets": [["a.email", "b.mail"]]}}
    node = Node([pipe], store=store)
    node.run()
    assert {e["_id"] for e in node.dataset("global").latest()} == {"a1", "b1"}
    b.put({"_id": "b1", "mail": "x@y", "tags": ["t", "u"]})
    b.put({"_id": "b0", "mail": "x@y"})
    node.run()
    live = node.dataset("global").latest()
    assert [(e["_id"], e["$ids"]) for e in live] == [("a1", ["a1", "b0", "b1"])]
    assert live[0]["tags"] == ["t", "u"] and live[0]["email"] == "x@y" and live[0]["mail"] == "x@y"
    gone = node.dataset("global").get("b1")
    assert gone["_deleted"] is True and gone["$replaced"] is True


def test_merge_on_ids_with_namespaced_identifiers():
    store = Store()
    store.dataset("pms").put({"_id": "pms:1", "$ids": ["~:pms:1", "~:erp:7"], "pms:name": "A"})
    store.dataset("erp").put({"_id": "erp:7", "erp:name": "B"})
    pipe = {"_id": "g", "namespaced_identifiers": True,
            "source": {"type": "merge", "version": 2, "identity": "first", "datasets": ["pms p", "erp e"],
                       "equality_sets": [["p.$ids", "e.$ids"]]}}
    node = Node([pipe], store=store)
    node.run()
    (g,) = node.dataset("g").latest()
    assert g["_id"] == "pms:1" and g["$ids"] == ["~:pms:1", "~:erp:7"] and g["pms:name"] == "A" and g["erp:name"] == "B"


def test_conditional_source_uses_node_env_test_and_env_substitution():
    pipe = {"_id": "in", "source": {"type": "conditional", "condition": "$ENV(node-env)",
                                    "alternatives": {"prod": {"type": "sql"},
                                                     "test": {"type": "embedded", "entities": [{"_id": "1", "v": "$ENV(greeting)"}]}}}}
    node = Node([pipe], env={"greeting": "hei"})
    node.run()
    assert node.dataset("in").get("1")["v"] == "hei"
    with pytest.raises(DtlError) as e:
        Node([pipe])
    assert e.value.code == "missing-env"


def test_dataset_sink_deletion_tracking_and_filtered_entities():
    store = Store()
    src = store.dataset("src")
    src.put({"_id": "1", "v": 1})
    src.put({"_id": "2", "v": 2})
    pipe = {"_id": "out", "source": {"type": "dataset", "dataset": "src"},
            "transform": {"type": "dtl", "rules": {"default": [["add", "_id", "_S._id"], ["add", "v", "_S.v"]]}}}
    node = Node([pipe], store=store)
    node.run()
    assert node.dataset("out").ids() == {"1", "2"}
    src.delete("2")
    node.run()
    assert node.dataset("out").ids() == {"1"}
    assert node.dataset("out").get("2")["_deleted"] is True


def test_union_and_merge_datasets_sources():
    store = Store(clock=iter(range(10, 10**6)).__next__)
    store.dataset("men").put({"_id": "dave", "v": 1})
    store.dataset("women").put({"_id": "claire", "v": 2})
    store.dataset("women").put({"_id": "dave", "v": 3})
    union = {"_id": "u", "source": {"type": "union_datasets", "datasets": ["men", "women"]}}
    merged = {"_id": "m", "source": {"type": "merge_datasets", "datasets": ["men", "women"]}}
    node = Node([union, merged], store=store)
    node.run()
    assert node.dataset("u").ids() == {"men:dave", "women:claire", "women:dave"}
    assert node.dataset("m").get("dave")["v"] == 3 and node.dataset("m").ids() == {"dave", "claire"}


def test_hops_datasets_are_live_views():
    store = Store()
    node = Node([embedded("p", [{"_id": "1"}])], store=store)
    node.run()
    assert node.live["p"] == [node.dataset("p").get("1")]
    node.dataset("p").put({"_id": "2"})
    assert len(node.live["p"]) == 2
    assert node.pipes["p"].transforms == []


def test_missing_dataset_is_a_clear_error_in_strict_mode():
    pipe = {"_id": "x", "source": {"type": "dataset", "dataset": "nowhere"}}
    with pytest.raises(DtlError) as e:
        Node([pipe])
    assert e.value.code == "missing-dataset" and "nowhere" in str(e.value) and "'x'" in str(e.value)
    lenient = Node([pipe], strict=False)
    lenient.run()
    assert lenient.dataset("x").latest() == []


def test_dead_letter_datasets_read_as_empty():
    pipe = {"_id": "dl", "source": {"type": "dataset", "dataset": "system:dead-letter:foo"}, "sink": {"type": "json"}}
    node = Node([pipe])
    node.run()
    assert node.outputs["dl"] == []


def test_namespaces_added_at_input_and_removed_at_endpoint_sinks():
    src = embedded("crm-person", [{"_id": "1", "name": "Ada", "org": "~:crm-org:2"}])
    out = {"_id": "share", "source": {"type": "dataset", "dataset": "crm-person"},
           "transform": {"type": "dtl", "rules": {"default": [["add", "_id", "_S._id"], ["add", "name", "_S.crm-person:name"],
                                                               ["add", "org", "_S.crm-person:org"]]}},
           "sink": {"type": "http_endpoint"}}
    node = Node([src, out], metadata={"namespaced_identifiers": True})
    node.run()
    stored = node.dataset("crm-person").get("crm-person:1")
    assert stored["crm-person:name"] == "Ada"
    assert node.outputs["share"] == [{"_id": "1", "name": "Ada", "org": "~:2"}]


def test_remove_namespaces_function():
    assert remove_namespaces({"_id": "a:b:c", "x:y": {"p:q": ["~:n:1"]}, "$ids": ["~:n:2"]}) == \
        {"_id": "b:c", "y": {"q": ["~:1"]}, "$ids": ["~:2"]}


def test_no_fixpoint_is_reported():
    grow = {"type": "dtl", "rules": {"default": [["add", "_id", "_S._id"], ["add", "v", ["combine", "_S.v", 1]]]}}
    store = Store()
    store.dataset("b").put({"_id": "x", "v": []})
    a = {"_id": "a", "source": {"type": "dataset", "dataset": "b"}, "transform": grow}
    b = {"_id": "b", "source": {"type": "dataset", "dataset": "a"}, "transform": COPY, "sink": {"type": "dataset", "dataset": "b", "deletion_tracking": False}}
    node = Node([a, b], store=store)
    with pytest.raises(DtlError) as e:
        node.run(max_rounds=6)
    assert e.value.code == "no-fixpoint"


def test_pinned_now_reaches_dtl():
    rules = {"type": "dtl", "rules": {"default": [["add", "_id", "_S._id"], ["add", "t", ["now"]]]}}
    node = Node([embedded("p", [{"_id": "1"}], transform=rules)], now="2024-01-02T03:04:05Z")
    node.run()
    assert node.dataset("p").get("1")["t"] == "~t2024-01-02T03:04:05Z"


def test_unsupported_transform_and_bad_pipe():
    with pytest.raises(DtlError) as e:
        Node([embedded("p", [], transform={"type": "rest"})])
    assert e.value.code == "unsupported-transform"
    with pytest.raises(DtlError) as e:
        Node([{"source": {}}])
    assert e.value.code == "invalid-pipe"


# ---------------------------------------------------------------- patterns from public Sesam configs


def test_emit_children_and_conditional_transforms():
    rules = {"type": "dtl", "rules": {"default": [["copy", "_id"], ["create-child", ["apply", "kid", "_S.kids"]]],
                                      "kid": [["add", "_id", ["string", "_S."]]]}}
    cond = {"type": "conditional", "condition": "$ENV(node-env)",
            "alternatives": {"prod": {"type": "rest"}, "test": [rules, {"type": "emit_children"}]}}
    node = Node([embedded("p", [{"_id": "a", "kids": [1, 2]}], transform=cond)])
    node.run()
    assert sorted(e["_id"] for e in node.dataset("p").latest()) == ["1", "2"]


def test_dtl_transform_options_reach_the_node():
    no_id = {"type": "dtl", "id_required": False, "rules": {"default": [["add", "v", 1]]}}
    node = Node([embedded("p", [{"_id": "a"}], transform=no_id)])
    node.run()  # no _id on the target: dropped, not an error
    assert node.dataset("p").latest() == []
    trig = {"type": "dtl", "trigger_on": {"value": "go"},
            "rules": {"default": [["copy", "_id"], ["add", "done", True]]}}
    node = Node([embedded("q", [{"_id": "a", "_trigger": "go"}, {"_id": "b"}], transform=trig)])
    node.run()
    got = {e["_id"]: e.get("done") for e in node.dataset("q").latest()}
    assert got == {"a": True, "b": None}


def test_old_transforms_key_gets_a_hint():
    with pytest.raises(DtlError) as e:
        Node([embedded("p", [], transform={"type": "dtl", "transforms": {"default": []}})])
    assert e.value.code == "missing-rules" and "pre-2017" in str(e.value)


def test_skip_unsupported_pipes():
    pipes = [{"_id": "crm", "source": {"type": "json", "system": "crm", "url": "/people"}},
             embedded("local", [{"_id": "x", "v": 1}]),
             {"_id": "enrich", "source": {"type": "dataset", "dataset": "local"}, "transform": [COPY, {"type": "rest"}]},
             {"_id": "out", "source": {"type": "dataset", "dataset": "crm"}, "transform": COPY}]
    with pytest.raises(DtlError) as e:
        Node(pipes)  # by default a node refuses pipes it cannot run
    assert e.value.code == "unsupported-transform"
    node = Node(pipes, skip_unsupported=True, strict=False)
    node.run()
    assert set(node.skipped) == {"crm", "enrich"}
    assert "source type 'json'" in node.skipped["crm"] and "'rest'" in node.skipped["enrich"]
    assert [e["_id"] for e in node.dataset("local").latest()] == ["x"]
    assert node.read("out") == []
    with pytest.raises(DtlError) as e:
        node.pipes["crm"].stage("sink")
    assert e.value.code == "unsupported-source"


def test_unsupported_source_fails_the_run_when_not_skipping():
    node = Node([{"_id": "crm", "source": {"type": "sql", "table": "t"}}])
    with pytest.raises(DtlError) as e:
        node.run()
    assert e.value.code == "unsupported-source"


def test_from_folder_skips_unsupported_and_reads_files_with_a_bom(tmp_path):
    (tmp_path / "pipes").mkdir()
    (tmp_path / "pipes" / "crm.conf.json").write_text(json.dumps(
        {"_id": "crm", "source": {"type": "conditional", "condition": "$ENV(node-env)",
                                  "alternatives": {"prod": {"type": "sql"}, "test": {"type": "embedded", "entities": [{"_id": "1"}]}}}}))
    (tmp_path / "pipes" / "erp.conf.json").write_text(json.dumps({"_id": "erp", "source": {"type": "rest"}}))
    (tmp_path / "test-env.json").write_text("\ufeff" + json.dumps({"node-env": "test"}), encoding="utf-8")
    node = Node.from_folder(tmp_path)
    node.run()
    assert list(node.skipped) == ["erp"] and node.read("crm")[0]["_id"] == "1"


def test_skipping_node_keeps_unknown_env_variables_literal():
    pipes = [{"_id": "crm", "source": {"type": "rest", "url": "$ENV(base_url)/people"}},
             embedded("p", [{"_id": "a"}], transform={"type": "dtl", "rules": {"default": [
                 ["copy", "_id"], ["add", "u", "$ENV(base_url)"], ["add", "n", "$ENV(n)"]]}})]
    with pytest.raises(DtlError) as e:
        Node(pipes, env={"n": 1})
    assert e.value.code == "missing-env"
    node = Node(pipes, env={"n": 1}, skip_unsupported=True)
    node.run()
    assert node.read("p")[0]["u"] == "$ENV(base_url)" and node.read("p")[0]["n"] == 1
