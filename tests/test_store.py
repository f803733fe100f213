"""Datasets: Sesam bookkeeping, hash-based change tracking, offsets, persistence."""

import doctest

import pytest

import dtlpy.store as store_mod
from dtlpy.errors import DtlError
from dtlpy.store import Store, content_hash


def test_doctests():
    result = doctest.testmod(store_mod)
    assert result.failed == 0 and result.attempted > 0


def make():
    ticks = iter(range(1000, 10**6))
    return Store(clock=lambda: next(ticks))


def test_bookkeeping_fields_on_each_version():
    ds = make().dataset("d")
    assert ds.put({"_id": "a", "x": 1})
    assert ds.put({"_id": "a", "x": 2})
    v = ds.get("a")
    assert v["_updated"] == 1 and v["_previous"] == 0 and v["x"] == 2
    assert v["_hash"] == content_hash({"_id": "a", "x": 2})
    assert type(v["_ts"]) is int
    first, second = list(ds.since(0, latest_only=False))
    assert first["_previous"] is None and first["_ts"] < second["_ts"]


def test_same_content_is_not_a_new_version_but_other_underscore_keys_are_ignored():
    ds = make().dataset("d")
    assert ds.put({"_id": "a", "x": 1, "_ts": 1})
    assert not ds.put({"_id": "a", "x": 1, "_updated": 77, "_foo": "bar"})
    assert ds.offset == 1
    # $-properties are ordinary content
    assert ds.put({"_id": "a", "x": 1, "$ids": ["~:n:a"]})


def test_deleted_counts_in_the_hash_and_delete_keeps_content():
    ds = make().dataset("d")
    ds.put({"_id": "a", "x": 1})
    assert ds.delete("a")
    assert not ds.delete("a")
    v = ds.get("a")
    assert v["_deleted"] is True and v["x"] == 1
    assert ds.latest() == [] and len(ds.latest(include_deleted=True)) == 1
    assert ds.put({"_id": "a", "x": 1})  # resurrected
    assert ds.ids() == {"a"}


def test_deleting_an_unknown_entity_stores_nothing():
    ds = make().dataset("d")
    assert not ds.put({"_id": "zz", "_deleted": True})
    assert ds.offset == 0


def test_false_deleted_is_the_same_as_absent():
    ds = make().dataset("d")
    ds.put({"_id": "a"})
    assert not ds.put({"_id": "a", "_deleted": False})


def test_read_from_any_offset_gives_later_changes_only():
    ds = make().dataset("d")
    for i in range(5):
        ds.put({"_id": str(i), "v": i})
    off = ds.offset
    ds.put({"_id": "1", "v": 10})
    ds.put({"_id": "9", "v": 9})
    assert [e["_id"] for e in ds.since(off)] == ["1", "9"]
    assert [e["_id"] for e in ds.since(0)] == ["0", "2", "3", "4", "1", "9"]
    assert len(list(ds.since(0, latest_only=False))) == 7


def test_file_store_persists(tmp_path):
    path = tmp_path / "node.sqlite"
    s = Store(str(path))
    s.dataset("d").put({"_id": "a", "x": "é"})
    s.commit()
    s.close()
    s2 = Store(str(path))
    assert s2.dataset("d").get("a")["x"] == "é"
    assert s2.exists("d") and not s2.exists("other")
    assert s2.dataset("d").put({"_id": "b"}) and s2.dataset("d").get("b")["_updated"] == 1


def test_invalid_entities_raise_dtl_errors():
    ds = make().dataset("d")
    with pytest.raises(DtlError) as e:
        ds.put({"x": 1})
    assert e.value.code == "missing-id"
    with pytest.raises(DtlError) as e:
        ds.put([1])
    assert e.value.code == "invalid-entity"


def test_pinned_clock_still_gives_increasing_ts():
    s = Store(clock=lambda: 5)
    ds = s.dataset("d")
    ds.put({"_id": "a"})
    ds.put({"_id": "b"})
    assert ds.get("a")["_ts"] < ds.get("b")["_ts"]


def test_pipe_position_and_lineage(tmp_path):
    path = str(tmp_path / "node.sqlite")
    s = Store(path)
    assert s.pipe_state("p") is None
    s.save_pipe_state("p", "h", sources={"src": 3}, dependencies={"ref": 1, "codes": 0})
    many = {f"s{i}": {f"o{i}", "shared"} for i in range(1200)}  # more ids than one IN (...) chunk
    s.set_lineage("p", many, replace_all=True)
    s.set_lineage("q", {"s1": {"other"}})
    s.commit()
    s.close()
    s = Store(path)
    state = s.pipe_state("p")
    assert (state.config_hash, state.sources, state.dependencies) == ("h", {"src": 3}, {"ref": 1, "codes": 0})
    assert s.lineage("p", ["s1", "s1100", "nope"]) == {"s1": {"o1", "shared"}, "s1100": {"o1100", "shared"}}
    assert len(s.producers("p", ["shared"])["shared"]) == 1200
    s.set_lineage("p", {"s1": {"x"}, "s2": set()})  # replaces the rows of s1 and s2 only
    assert s.lineage("p", ["s1", "s2", "s3"]) == {"s1": {"x"}, "s3": {"o3", "shared"}}
    assert s.producers("p", ["o1", "x"]) == {"x": {"s1"}}
    s.save_pipe_state("p", "h2", sources={"src": 4}, dependencies={})
    assert s.pipe_state("p").dependencies == {} and s.pipe_state("p").config_hash == "h2"
    s.reset_pipe("p")
    assert s.pipe_state("p") is None and s.lineage("p", ["s3"]) == {}
    assert s.lineage("q", ["s1"]) == {"s1": {"other"}}  # other pipes keep theirs


def test_since_reads_latest_versions_of_a_large_dataset_in_order():
    ds = make().dataset("d")
    ds.put_many([{"_id": str(i), "v": i} for i in range(3000)])
    ds.put({"_id": "7", "v": -7})
    ds.delete("8")
    latest = list(ds.since(0))
    assert len(latest) == 3000 and [e["_id"] for e in latest[-2:]] == ["7", "8"]
    assert [e["_id"] for e in ds.since(2999)] == ["2999", "7", "8"]
