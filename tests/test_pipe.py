"""load_pipe: pipe configs, chained transforms, trigger_on, namespaces, errors."""

from __future__ import annotations

import json

import pytest

import dtlpy
from dtlpy.namespaces import add_namespaces, compile_patterns, pipe_flags, remove_namespaces
from dtlpy.pipe import load_rules_or_pipe, pipe_from_config


def write(tmp_path, name, value):
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value, indent=2), encoding="utf-8")
    return path


def dtl(*steps, **extra):
    return {"type": "dtl", "rules": {"default": list(steps)}, **extra}


def test_single_dtl_transform(tmp_path):
    path = write(tmp_path, "p.conf.json", {
        "_id": "person-with-orders", "type": "pipe",
        "source": {"type": "dataset", "dataset": "person"},
        "transform": dtl(["copy", "_id"], ["add", "name", ["upper", "_S.name"]]),
    })
    pipe = dtlpy.load_pipe(path)
    assert pipe.id == "person-with-orders"
    assert pipe.source == {"type": "dataset", "dataset": "person"}
    assert pipe.sink == {"type": "dataset", "dataset": "person-with-orders"}
    assert [t.type for t in pipe.transforms] == ["dtl"]
    assert pipe.transform({"_id": "1", "name": "john"}) == [{"_id": "1", "name": "JOHN"}]
    assert list(pipe.run([{"_id": "1"}, {"_id": "2", "name": "a"}])) == [
        {"_id": "1", "name": None}, {"_id": "2", "name": "A"}]


@pytest.mark.parametrize("shape", ["list", "chained"])
def test_chained_transforms_feed_each_other(tmp_path, shape):
    first = dtl(["copy", "*"], ["add", "n", 1], ["create", {"_id": "extra"}])
    second = dtl(["copy", "*"], ["add", "m", ["if", "_S.n", 2, 11]])
    transform = [first, second] if shape == "list" else {"type": "chained", "transforms": [first, second]}
    path = write(tmp_path, "p.conf.json", {"_id": "p", "transform": transform})
    pipe = dtlpy.load_pipe(path)
    assert len(pipe.transforms) == 2
    # The created entity goes through the second transform too, in order.
    assert pipe.transform({"_id": "a"}) == [{"_id": "extra", "m": 11}, {"_id": "a", "n": 1, "m": 2}]


def test_filter_in_first_transform_stops_the_chain(tmp_path):
    path = write(tmp_path, "p.conf.json", {"_id": "p", "transform": [
        dtl(["copy", "*"], ["filter", ["eq", "_S.keep", True]]),
        dtl(["copy", "*"], ["add", "seen", True])]})
    pipe = dtlpy.load_pipe(path)
    assert pipe.transform({"_id": "a", "keep": False}) == []
    assert pipe.transform({"_id": "b", "keep": True}) == [{"_id": "b", "keep": True, "seen": True}]
    # What a dataset sink receives: a _filtered tombstone travels on.
    tomb = pipe.transform_for_sink({"_id": "a", "keep": False})
    assert tomb and tomb[-1]["_id"] == "a" and tomb[-1]["_filtered"] is True


def test_compile_errors_name_the_file_and_pointer(tmp_path):
    path = write(tmp_path, "bad.conf.json", {"_id": "p", "transform": [
        dtl(["copy", "*"]), dtl(["copy", "*"], ["add", "x", ["no-such-fn", 1]])]})
    with pytest.raises(dtlpy.DtlCompileError) as info:
        dtlpy.load_pipe(path)
    e = info.value
    assert e.code == "unknown-function"
    assert e.file == str(path)
    assert e.pointer == "/transform/1/rules/default/1/2"
    chained = write(tmp_path, "c.conf.json", {"_id": "p", "transform": {"type": "chained", "transforms": [
        dtl(["nope"])]}})
    with pytest.raises(dtlpy.DtlCompileError) as info:
        dtlpy.load_pipe(chained)
    assert info.value.pointer == "/transform/transforms/0/rules/default/0"


def test_runtime_errors_name_file_pointer_and_entity(tmp_path):
    path = write(tmp_path, "p.conf.json", {"_id": "p", "transform": dtl(["copy", "_id"], ["fail!", "stop here"])})
    pipe = dtlpy.load_pipe(path)
    with pytest.raises(dtlpy.DtlFailError) as info:
        pipe.transform({"_id": "e1"})
    e = info.value
    assert (e.code, e.file, e.pointer, e.entity_id) == ("fail", str(path), "/transform/rules/default/1", "e1")
    assert "stop here" in str(e)


def test_malformed_json_names_file_and_line(tmp_path):
    path = write(tmp_path, "broken.conf.json", '{\n  "_id": "p",\n  "transform": [\n}\n')
    with pytest.raises(dtlpy.DtlInputError) as info:
        dtlpy.load_pipe(path)
    assert info.value.code == "invalid-json"
    assert info.value.file == str(path)
    assert "line 4" in str(info.value)


def test_not_a_pipe_object(tmp_path):
    with pytest.raises(dtlpy.DtlInputError) as info:
        dtlpy.load_pipe(write(tmp_path, "x.conf.json", [1, 2]))
    assert info.value.code == "invalid-pipe"
    with pytest.raises(dtlpy.DtlInputError) as info:
        dtlpy.load_pipe(write(tmp_path, "y.conf.json", {"_id": "p", "transform": {"type": "dtl"}}))
    assert info.value.code == "missing-rules" and info.value.pointer == "/transform"
    with pytest.raises(dtlpy.DtlInputError) as info:  # the 2017 spelling, seen in old public configs
        dtlpy.load_pipe(write(tmp_path, "z.conf.json", {"_id": "p", "transform": {"type": "dtl", "transforms": {}}}))
    assert info.value.code == "missing-rules" and "pre-2017" in str(info.value)


def test_unsupported_transform_type(tmp_path):
    path = write(tmp_path, "p.conf.json", {"_id": "p", "transform": [dtl(["copy", "*"]), {"type": "rest", "system": "x"}]})
    with pytest.raises(dtlpy.DtlError) as info:
        dtlpy.load_pipe(path)
    assert info.value.code == "unsupported-transform"
    assert "'rest'" in str(info.value) and info.value.pointer == "/transform/1/type"


def test_emit_children(tmp_path):
    path = write(tmp_path, "p.conf.json", {"_id": "p", "transform": [
        dtl(["copy", "_id"], ["create-child", "_S.kids"]), {"type": "emit_children"}]})
    pipe = dtlpy.load_pipe(path)
    assert pipe.transform({"_id": "a", "kids": [{"_id": "k1", "v": 1}, {"_id": "k2"}]}) == [
        {"_id": "k1", "v": 1}, {"_id": "k2"}]
    assert pipe.transform({"_id": "b"}) == []


def test_conditional_transform_uses_env(tmp_path):
    cfg = {"_id": "p", "transform": {"type": "conditional", "condition": "$ENV(node-env)", "alternatives": {
        "prod": {"type": "rest"}, "test": dtl(["copy", "_id"], ["add", "env", "test"])}}}
    pipe = pipe_from_config(cfg, env={"node-env": "test"})
    assert pipe.transform({"_id": "a"}) == [{"_id": "a", "env": "test"}]
    with pytest.raises(dtlpy.DtlError) as info:
        pipe_from_config(cfg, env={"node-env": "prod"})
    assert info.value.code == "unsupported-transform"
    with pytest.raises(dtlpy.DtlError) as info:
        pipe_from_config(cfg, env={})
    assert info.value.code == "unsupported-transform"


def test_trigger_on(tmp_path):
    path = write(tmp_path, "p.conf.json", {"_id": "p", "transform": dtl(
        ["copy", "_id"], ["add", "done", True], trigger_on={"key": "$operation", "value": "ins*"})})
    pipe = dtlpy.load_pipe(path)
    assert pipe.transform({"_id": "a", "$operation": "insert"}) == [{"_id": "a", "done": True}]
    # Not matching or missing: passed through untransformed.
    assert pipe.transform({"_id": "b", "$operation": "update"}) == [{"_id": "b", "$operation": "update"}]
    assert pipe.transform({"_id": "c"}) == [{"_id": "c"}]


def test_trigger_on_default_key(tmp_path):
    path = write(tmp_path, "p.conf.json", {"_id": "p", "transform": dtl(
        ["copy", "_id"], ["add", "t", 1], trigger_on={"value": "go"})})
    pipe = dtlpy.load_pipe(path)
    assert pipe.transform({"_id": "a", "_trigger": "go"}) == [{"_id": "a", "t": 1}]
    assert pipe.transform({"_id": "b", "_trigger": "stop"}) == [{"_id": "b", "_trigger": "stop"}]


def test_id_required_false(tmp_path):
    path = write(tmp_path, "p.conf.json", {"_id": "p", "transform": dtl(
        ["create", "_S.x"], ["add", "a", 1], ["remove", "_id"], id_required=False)})
    pipe = dtlpy.load_pipe(path)
    assert pipe.transform({"_id": "a", "x": [{"_id": "c"}, 5, {"no": 1}]}) == [{"_id": "c"}]
    strict = write(tmp_path, "s.conf.json", {"_id": "p", "transform": dtl(["create", "_S.x"], ["copy", "_id"])})
    with pytest.raises(dtlpy.DtlError) as info:
        dtlpy.load_pipe(strict).transform({"_id": "a", "x": [5]})
    assert info.value.code == "invalid-entity" and info.value.entity_id == "a"


def test_namespaced_pipe_add_and_remove_namespaces(tmp_path):
    path = write(tmp_path, "crm-person.conf.json", {
        "_id": "crm-person", "type": "pipe",
        "add_namespaces": True, "namespaced_identifiers": True,
        "transform": dtl(["copy", "*"], ["add", "rdf:type", ["ni", "crm:person"]], ["make-ni", "crm-org", "org"])})
    pipe = dtlpy.load_pipe(path)
    assert (pipe.namespaced_identifiers, pipe.add_namespaces, pipe.remove_namespaces) == (True, True, False)
    out = pipe.transform({"_id": "1", "name": "Ann", "org": "7", "$ids": ["~:x:1"]})
    assert out == [{"_id": "crm-person:1", "crm-person:name": "Ann", "crm-person:org": "7", "$ids": ["~:x:1"],
                    "rdf:type": "~:crm:person", "crm-person:org-ni": "~:crm-org:7"}]
    out_path = write(tmp_path, "share.conf.json", {
        "_id": "share", "namespaced_identifiers": True, "remove_namespaces": True,
        "transform": dtl(["copy", "*"], ["add", "flag", True])})
    share = dtlpy.load_pipe(out_path)
    assert share.transform(out[0]) == [{"_id": "1", "name": "Ann", "org": "7", "$ids": ["~:1"],
                                       "type": "~:person", "org-ni": "~:7", "flag": True}]


def test_namespace_settings_and_node_metadata_defaults(tmp_path):
    cfg = {"_id": "p", "source": {"type": "sql"}, "sink": {"type": "rest"},
           "namespaces": {"identity": "id-ns", "property": "prop-ns"},
           "transform": dtl(["add", "_id", "_S.k"], ["add", "v", 1])}
    # Without namespaced identifiers anywhere, nothing is rewritten.
    plain = pipe_from_config(cfg)
    assert plain.transform({"k": "1"}) == [{"_id": "1", "v": 1}]
    # Turned on by the service metadata: sql source adds, rest sink removes by default.
    meta = pipe_from_config(cfg, node_metadata={"namespaced_identifiers": True})
    assert (meta.add_namespaces, meta.remove_namespaces) == (True, True)
    assert meta.transform({"k": "1"}) == [{"_id": "1", "v": 1}]
    # The NI rules inside the DTL used the pipe's namespaces.
    kept = pipe_from_config({**cfg, "remove_namespaces": False}, node_metadata={"namespaced_identifiers": True})
    assert kept.transform({"k": "1"}) == [{"_id": "id-ns:1", "prop-ns:v": 1}]


def test_pipe_flags_defaults():
    assert pipe_flags({}) == (False, False, False)
    assert pipe_flags({"namespaced_identifiers": True}) == (True, False, False)
    assert pipe_flags({"namespaced_identifiers": True, "source": {"type": "embedded"}, "sink": {"type": "json"}}) == (True, True, True)
    assert pipe_flags({"source": {"type": "embedded"}}, {"namespaced_identifiers": True}) == (True, True, False)
    assert pipe_flags({"namespaced_identifiers": False}, {"namespaced_identifiers": True}) == (False, False, False)
    assert pipe_flags({"add_namespaces": True}) == (False, True, False)


def test_add_and_remove_namespaces_functions():
    e = {"_id": "1", "a": {"b": [{"c": 1}]}, "_deleted": True, "$x": {"y": 1}, "crm:z": 2}
    added = add_namespaces(e, "i", "crm")
    assert added == {"_id": "i:1", "crm:a": {"crm:b": [{"crm:c": 1}]}, "_deleted": True, "$x": {"y": 1}, "crm:z": 2}
    assert e["_id"] == "1"  # input untouched
    assert remove_namespaces(added) == {"_id": "1", "a": {"b": [{"c": 1}]}, "_deleted": True, "$x": {"y": 1}, "z": 2}
    assert remove_namespaces({"_id": "x", "a:k": ["~:ns:v", "~rhttp://x/"], "b:k": 2}) == {"_id": "x", "k": 2}


def test_wildcard_patterns():
    m = compile_patterns(["a*", "?b"], ni_mode=False, property_ns="p")
    assert [k for k in ["a", "abc", "xb", "xxb", "ba"] if m(k)] == ["a", "abc", "xb"]
    ni = compile_patterns(["x*:*e"], ni_mode=True, property_ns="p")
    assert [k for k in ["age", "x:age", "xyz:age", "x:ag"] if ni(k)] == ["x:age", "xyz:age"]
    esc = compile_patterns([":a", "::b"], ni_mode=True, property_ns="p")
    assert [k for k in ["a", "p:a", "q:a", "b", "p:b"] if esc(k)] == ["p:a", "b"]


def test_load_rules_or_pipe(tmp_path):
    rules = load_rules_or_pipe(write(tmp_path, "r.json", {"default": [["copy", "_id"], ["add", "x", 1]]}))
    assert rules.transform({"_id": "a"}) == [{"_id": "a", "x": 1}]
    one = load_rules_or_pipe(write(tmp_path, "t.json", dtl(["copy", "_id"], ["add", "y", ["now"]])), now="2024-01-01T00:00:00Z")
    assert one.transform({"_id": "a"}) == [{"_id": "a", "y": "~t2024-01-01T00:00:00Z"}]
    with pytest.raises(dtlpy.DtlCompileError) as info:
        load_rules_or_pipe(write(tmp_path, "t2.json", dtl(["bad"])))
    assert info.value.pointer == "/rules/default/0"
    pipe = load_rules_or_pipe(write(tmp_path, "p.conf.json", {"_id": "p", "type": "pipe",
                                                              "source": {"type": "embedded", "entities": [{"_id": "e"}]}}))
    assert pipe.transforms == [] and pipe.source_entities() == [{"_id": "e"}]
    assert list(pipe.run(pipe.source_entities())) == [{"_id": "e"}]
    with pytest.raises(dtlpy.DtlInputError):
        load_rules_or_pipe(write(tmp_path, "n.json", [1]))
    with pytest.raises(dtlpy.DtlCompileError) as info:
        load_rules_or_pipe(write(tmp_path, "nodefault.json", {"other": []}))
    assert info.value.code == "missing-default"


def test_hops_datasets_reach_the_pipe(tmp_path):
    path = write(tmp_path, "p.conf.json", {"_id": "p", "transform": dtl(
        ["copy", "_id"], ["add", "n", ["count", ["hops", {"datasets": ["orders o"], "where": [["eq", "_S._id", "o.cust"]]}]]])})
    pipe = dtlpy.load_pipe(path, datasets={"orders": [{"_id": "o1", "cust": "1"}, {"_id": "o2", "cust": "2"}]})
    assert pipe.transform({"_id": "1"}) == [{"_id": "1", "n": 1}]


def test_env_placeholders_in_rules(tmp_path):
    # A pattern from a public connector: ["matches", "$ENV(service_url)*", ...].
    cfg = {"_id": "p", "transform": dtl(["copy", "_id"], ["add", "ours", ["matches", "$ENV(service_url)*", "_S.url"]],
                                        ["add", "limit", "$ENV(limit)"], ["add", "secret", "$SECRET(token)"],
                                        ["add", "unknown", "$ENV(nope)"])}
    pipe = pipe_from_config(cfg, env={"service_url": "https://svc/", "limit": 5})
    out = pipe.transform({"_id": "a", "url": "https://svc/hook/1"})
    assert out == [{"_id": "a", "ours": True, "limit": 5, "secret": "$SECRET(token)", "unknown": "$ENV(nope)"}]


def test_load_pipe_reads_the_node_folder(tmp_path):
    node = tmp_path / "node"
    (node / "pipes").mkdir(parents=True)
    (node / "node-metadata.conf.json").write_text(json.dumps({"_id": "node", "type": "metadata", "namespaced_identifiers": True}))
    (node / "test-env.json").write_text("\ufeff" + json.dumps({"node-env": "test", "prefix": "X-"}), encoding="utf-8")
    cfg = {"_id": "p", "source": {"type": "dataset", "dataset": "src"},
           "transform": {"type": "conditional", "condition": "$ENV(node-env)", "alternatives": {
               "prod": {"type": "rest"},
               "test": dtl(["copy", "_id"], ["add", "code", ["concat", "$ENV(prefix)", "_S.src:code"]])}}}
    path = node / "pipes" / "p.conf.json"
    path.write_text(json.dumps(cfg))
    pipe = dtlpy.load_pipe(path)
    assert pipe.namespaced_identifiers is True
    assert pipe.transform({"_id": "src:1", "src:code": "a"}) == [{"_id": "src:1", "p:code": "X-a"}]
    # explicit arguments still win
    assert dtlpy.load_pipe(path, node_metadata={}, env={"node-env": "test"}).namespaced_identifiers is False
