"""The offline node: sources, transforms, sinks, namespaces, scheduler."""

import doctest
import copy
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import dtlpy.node as node_mod
from dtlpy.errors import DtlError
from dtlpy.node import Node, remove_namespaces
from dtlpy.store import Store, strip_bookkeeping

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
    no_id = {"type": "dtl", "id_required": False, "rules": {"default": [["add", "v", 1], ["remove", "_id"]]}}
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


# ---------------------------------------------------------------- incremental runs


def _dtl(*rules, **named):
    return {"type": "dtl", "rules": {"default": list(rules), **named}}


# Pipes that exercise what incremental runs must get right: 1:1 copies with a
# hops dependency, _filtered outputs, discarded entities, ids made from a field
# (several sources -> one output), children, a chain through lookup-entity on
# an upstream input, a sink without deletion tracking, a union source, a
# transform that fails (dead letters), and a merge source (always full).
INC_PIPES = [
    {"_id": "labelled", "source": {"type": "dataset", "dataset": "src"},
     "transform": _dtl(["copy", "*"], ["add", "label", ["hops", {
         "datasets": ["ref r"], "where": [["eq", "_S.ref", "r._id"]], "return": "r.label"}]])},
    {"_id": "filtered", "source": {"type": "dataset", "dataset": "src"},
     "transform": _dtl(["copy", "_id"], ["add", "v", "_S.v"], ["filter", ["neq", ["mod", "_S.v", 3], 0]])},
    {"_id": "discarded", "source": {"type": "dataset", "dataset": "src"},
     "transform": _dtl(["copy", "_id"], ["add", "k", "_S.k"], ["discard", ["eq", "_S.k", "b"]])},
    {"_id": "by-key", "source": {"type": "dataset", "dataset": "src"},
     "transform": _dtl(["add", "_id", ["concat", "key-", "_S.k"]], ["add", "v", "_S.v"])},
    {"_id": "kids", "source": {"type": "dataset", "dataset": "src"},
     "transform": [_dtl(["copy", "_id"], ["create-child", ["apply", "kid", ["range", 0, ["mod", "_S.v", 3]]]],
                        kid=[["add", "_id", ["concat", "_P._S._id", "-", ["string", "_S."]]]]),
                   {"type": "emit_children"}]},
    {"_id": "chained", "source": {"type": "dataset", "dataset": "labelled"},
     "transform": _dtl(["copy", "_id"], ["add", "label", "_S.label"],
                       ["add", "same", ["path", "label", ["lookup-entity", "ref", ["string", "_S.ref"]]]])},
    {"_id": "kept", "source": {"type": "dataset", "dataset": "src"},
     "transform": _dtl(["copy", "_id"], ["add", "k", "_S.k"], ["filter", ["neq", "_S.k", "c"]]),
     "sink": {"type": "dataset", "deletion_tracking": False}},
    {"_id": "both", "source": {"type": "union_datasets", "datasets": ["src", "ref"]}},
    {"_id": "fragile", "source": {"type": "dataset", "dataset": "src"},
     "transform": _dtl(["copy", "*"], ["if", ["eq", "_S.v", 4], [["fail!", "v is 4"]]])},
    {"_id": "merged", "source": {"type": "merge", "datasets": ["src s", "ref r"], "identity": "first",
                                 "equality": [["eq", "s.ref", "r._id"]]}},
]
INPUTS = ("src", "ref")
run = st.tuples(st.just("run"))
edit = st.one_of(
    st.tuples(st.just("put-src"), st.integers(0, 3), st.sampled_from("abc"), st.integers(0, 6), st.integers(0, 2)),
    run,
    st.tuples(st.just("put-ref"), st.integers(0, 2), st.sampled_from(["x", "y", None])),
    run,
    st.tuples(st.just("delete"), st.sampled_from(INPUTS), st.integers(0, 3)),
    st.tuples(st.just("full")),
    st.tuples(st.just("reset"), st.sampled_from([p["_id"] for p in INC_PIPES])),
)


def _apply(store, op):
    if op[0] == "put-src":
        _, n, k, v, ref = op
        store.dataset("src").put({"_id": f"s{n}", "k": k, "v": v, "ref": f"r{ref}"})
    elif op[0] == "put-ref":
        _, n, label = op
        store.dataset("ref").put({"_id": f"r{n}", "label": label})
    elif op[0] == "delete":
        store.dataset(op[1]).delete(("s" if op[1] == "src" else "r") + str(op[2]))


def _live(store):
    """Every dataset's live entities, without bookkeeping (dead letters are a
    log of every failure in the history, so they are compared apart)."""
    return {name: sorted((json.dumps(strip_bookkeeping(e), sort_keys=True) for e in store.dataset(name).latest()))
            for name in store.names() if not name.startswith("system:")}


def _node(store):
    return Node(copy.deepcopy(INC_PIPES), store=store, now="2024-01-01T00:00:00Z", dead_letters=True)


R, F = ("run",), ("full",)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edit, min_size=1, max_size=25))
# one table row per rule the incremental runner has to get right
@example([("put-src", 0, "a", 1, 0), ("put-src", 1, "a", 2, 0), R, ("put-src", 1, "b", 2, 0)])  # shared output id
@example([("put-src", 0, "a", 1, 2), R, ("put-ref", 2, "x"), R, ("put-ref", 2, None)])  # hops dependency
@example([("put-src", 0, "a", 1, 0), R, ("delete", "src", 0), R, ("put-src", 0, "b", 1, 0)])  # delete, resurrect
@example([("put-src", 0, "a", 1, 0), R, ("put-src", 0, "a", 3, 0), R, ("put-src", 0, "a", 4, 0)])  # filter, fail
@example([("put-src", 0, "a", 2, 0), R, ("put-src", 0, "a", 1, 0), R, ("put-src", 0, "a", 0, 0)])  # fewer children
@example([("put-src", 0, "c", 1, 0), R, ("put-src", 0, "a", 1, 0), R, ("put-src", 0, "c", 1, 0)])  # no deletion tracking
@example([("put-src", 0, "b", 1, 0), R, ("put-src", 0, "a", 1, 0), R, ("put-src", 0, "b", 1, 0)])  # discard
@example([("put-src", 0, "a", 1, 0), R, ("reset", "labelled"), ("put-src", 1, "a", 1, 1), F, ("put-src", 2, "a", 1, 1)])
def test_incremental_runs_give_the_datasets_of_a_full_run_from_scratch(ops):
    store = Store()
    for name in INPUTS:
        store.dataset(name).create()
    node = _node(store)
    for op in [*ops, ("run",)]:
        if op[0] in ("run", "full"):
            node.run(incremental=op[0] == "run")
        elif op[0] == "reset":
            node.reset(op[1])
        else:
            _apply(store, op)
    # From scratch: a fresh store with the same input history, every pipe run in full.
    fresh = Store()
    for name in INPUTS:
        ds = fresh.dataset(name)
        ds.create()
        for version in store.dataset(name).since(0, latest_only=False):
            ds.put(strip_bookkeeping(version))
    _node(fresh).run(incremental=False)
    assert _live(store) == _live(fresh)
    for name in fresh.names():
        if name.startswith("system:dead-letter:"):
            assert fresh.dataset(name).ids() <= store.dataset(name).ids()


def test_incremental_run_reads_only_changes_and_falls_back_when_needed():
    store = Store()
    store.dataset("ref").put({"_id": "r0", "label": "x"})
    store.dataset("src").put_many([{"_id": f"s{i}", "k": "a", "v": i, "ref": "r0"} for i in range(5)])
    node = _node(store)
    report = node.run()
    # first round: all full; later rounds: only the merge pipe (always full)
    assert report.full_runs == len(INC_PIPES) + report.rounds - 1
    assert report.incremental_runs == (len(INC_PIPES) - 1) * (report.rounds - 1)
    assert node.pipes["labelled"].last_run == ("incremental", None)
    store.dataset("src").put({"_id": "s1", "k": "b", "v": 7, "ref": "r0"})
    node.run_pipe("labelled")
    assert node.pipes["labelled"].last_run == ("incremental", None)
    assert node.dataset("labelled").get("s1")["v"] == 7
    # every source entity makes "key-a" / "key-b": which one wins needs the whole source
    node.run_pipe("by-key")
    assert node.pipes["by-key"].last_run[0] == "full" and "another source entity" in node.pipes["by-key"].last_run[1]
    assert node.dataset("by-key").get("key-b")["v"] == 7
    # a dataset read through hops changed: full run
    store.dataset("ref").put({"_id": "r0", "label": "y"})
    node.run_pipe("labelled")
    assert node.pipes["labelled"].last_run == ("full", "dataset 'ref', read through hops/lookups, changed")
    assert [e["label"] for e in node.dataset("labelled").latest()] == [["y"]] * 5
    node.run_pipe("merged")
    assert node.pipes["merged"].last_run == ("full", "'merge' sources are read in full")
    node.reset("labelled")
    node.run_pipe("labelled")
    assert node.pipes["labelled"].last_run == ("full", "no saved position (first run or reset)")
    node.run_pipe("labelled", incremental=False)
    assert node.pipes["labelled"].last_run == ("full", "full run requested")


def test_changed_pipe_config_means_a_full_run():
    store = Store()
    store.dataset("src").put({"_id": "a", "v": 1})
    pipe = {"_id": "out", "source": {"type": "dataset", "dataset": "src"}, "transform": COPY}
    Node([pipe], store=store).run()
    changed = dict(pipe, transform=_dtl(["copy", "_id"], ["add", "w", "_S.v"]))
    node = Node([changed], store=store)
    node.run_pipe("out")
    assert node.pipes["out"].last_run == ("full", "the pipe config changed")
    assert node.dataset("out").get("a") == {**node.dataset("out").get("a"), "w": 1} and "v" not in node.dataset("out").get("a")


def test_position_survives_a_restart_and_uncommitted_work_is_redone(tmp_path):
    path = str(tmp_path / "node.sqlite")
    store = Store(path)
    store.dataset("src").put_many([{"_id": str(i), "v": i} for i in range(3)])
    store.commit()
    pipe = {"_id": "out", "source": {"type": "dataset", "dataset": "src"}, "transform": COPY}
    Node([pipe], store=store).run()
    store.dataset("src").put({"_id": "1", "v": 10})
    store.commit()
    node = Node([pipe], store=store)
    node.run_pipe("out")  # written but never committed: the process "dies"
    store.close()
    store = Store(path)
    assert store.pipe_state("out").sources == {"src": 3}
    node = Node([pipe], store=store)
    assert node.run_pipe("out") == 1 and node.pipes["out"].last_run == ("incremental", None)
    assert node.dataset("out").get("1")["v"] == 10


def test_shared_sinks_and_endpoint_sinks_run_in_full():
    store = Store()
    store.dataset("src").put({"_id": "a", "v": 1})
    a = {"_id": "a", "source": {"type": "dataset", "dataset": "src"}, "sink": {"type": "dataset", "dataset": "common"}}
    b = {"_id": "b", "source": {"type": "dataset", "dataset": "src"}, "sink": {"type": "dataset", "dataset": "common"}}
    out = {"_id": "o", "source": {"type": "dataset", "dataset": "src"}, "sink": {"type": "json"}}
    node = Node([a, b, out], store=store)
    node.run()
    assert node.pipes["a"].last_run == ("full", "another pipe writes the same dataset")
    assert node.pipes["o"].last_run == ("full", "its sink is not a dataset")
