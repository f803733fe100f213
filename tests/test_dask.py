"""Dask: map_pipe over bags and dataframe-like collections, dtlpy run --dask,
all on an in-process LocalCluster (no network)."""

import json

import dask.bag as db  # in the test extras (pyproject): a missing Dask fails, never skips
import pytest
from distributed import Client, LocalCluster

from dtlpy.dask import map_pipe, run_file_dask
from dtlpy.errors import DtlError
from dtlpy.parallel import TransformSpec
from dtlpy.runner import RecordError

RULES = {"default": [["copy", "_id"], ["add", "name", ["upper", "_S.name"]], ["add", "n", "_S.n"]]}


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    with Client(cluster) as c:
        yield c


def entities(n):
    return [{"_id": str(i), "name": f"e{i}", "n": i} for i in range(n)]


def test_map_pipe_on_a_bag_keeps_order(client):
    bag = db.from_sequence(entities(200), npartitions=4)
    out = map_pipe(bag, RULES).compute()
    assert out == [{"_id": str(i), "name": f"E{i}", "n": i} for i in range(200)]


def test_map_pipe_from_a_rules_file(client, tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES))
    out = map_pipe(db.from_sequence(entities(3), npartitions=2), str(path)).compute()
    assert [e["name"] for e in out] == ["E0", "E1", "E2"]


class FakeFrame:
    """What map_pipe uses of a Dask DataFrame: to_bag(format='dict')."""

    def __init__(self, rows):
        self.rows = rows

    def to_bag(self, format):
        assert format == "dict"
        return db.from_sequence(self.rows, npartitions=1)


def test_dataframe_rows_become_entities_and_nan_becomes_null(client):
    frame = FakeFrame([{"_id": "1", "name": "a", "n": float("nan")}])
    assert map_pipe(frame, RULES).compute() == [{"_id": "1", "name": "A", "n": None}]


def test_bad_rules_fail_before_the_cluster_is_used():
    with pytest.raises(DtlError) as info:
        map_pipe(db.from_sequence([{}]), {"default": [["no-such-transform"]]})
    assert info.value.code


def test_run_file_dask_writes_in_order_and_reports_bad_lines(cluster, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(e) + "\n" for e in entities(500)))
    out = tmp_path / "out.jsonl"
    stats = run_file_dask(cluster.scheduler_address, TransformSpec(rules=RULES), str(src), str(out), blocksize=4000)
    assert [json.loads(x)["n"] for x in out.read_text().splitlines()] == list(range(500))
    assert stats.entities_out == 500
    with open(src, "a") as fh:
        fh.write("{broken\n")
    out2 = tmp_path / "out2.jsonl"
    with pytest.raises(RecordError) as info:
        run_file_dask(cluster.scheduler_address, TransformSpec(rules=RULES), str(src), str(out2), blocksize=4000)
    assert info.value.code == "invalid-json"
    assert not out2.exists()


def test_cli_run_dask(cluster, tmp_path):
    from dtlpy.cli import main

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES))
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(e) + "\n" for e in entities(50)))
    out = tmp_path / "out.jsonl"
    assert main(["run", str(rules), str(src), "-o", str(out), "--dask", cluster.scheduler_address]) == 0
    assert [json.loads(x)["name"] for x in out.read_text().splitlines()] == [f"E{i}" for i in range(50)]


def test_rules_file_travels_with_the_job(client, tmp_path):
    # Workers on other machines cannot read our files: the spec carries the text.
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES))
    bag = map_pipe(db.from_sequence(entities(2), npartitions=1), str(path))
    path.unlink()
    assert [e["name"] for e in bag.compute()] == ["E0", "E1"]
