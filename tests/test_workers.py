"""--workers N: several processes, the same output in the same order."""

import json
import os
import subprocess
import sys
import tempfile
from contextlib import closing

import pytest

from dtlpy.errors import DtlError
from dtlpy.parallel import TransformSpec, map_chunks
from dtlpy.runner import RecordError, run_file

# Some entities are filtered out, so chunks differ in size and order is easy to break.
RULES = {
    "default": [
        ["filter", ["neq", ["mod", 7, "_S.n"], 3]],
        ["copy", "_id"],
        ["add", "sq", ["*", "_S.n", "_S.n"]],
        ["add", "big", ["*", "_S.n", 100000000000000000000000]],
    ]
}


@pytest.fixture
def data(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES))
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"_id": f"e{n}", "n": n}) + "\n" for n in range(3001)))
    return TransformSpec(path=str(rules)), str(src), tmp_path


def test_two_workers_give_the_same_output_in_the_same_order(data):
    spec, src, tmp = data
    one, two = tmp / "one.jsonl", tmp / "two.jsonl"
    s1 = run_file(spec, src, str(one), workers=1, block_bytes=2000)
    s2 = run_file(spec, src, str(two), workers=2, block_bytes=2000)
    assert one.read_bytes() == two.read_bytes()
    ids = [json.loads(line)["_id"] for line in two.read_text().splitlines()]
    assert ids == [f"e{n}" for n in range(3001) if n % 7 != 3]
    assert json.loads(two.read_text().splitlines()[-1])["big"] == 3000 * 100000000000000000000000
    assert (s1.entities_in, s1.entities_out) == (s2.entities_in, s2.entities_out) == (3001, len(ids))


def test_a_bad_record_stops_a_parallel_run_with_its_line(data):
    spec, src, tmp = data
    with open(src, "a") as fh:
        fh.write("{oops\n")
    out = tmp / "out.jsonl"
    with pytest.raises(RecordError, match="line 3002"):
        run_file(spec, src, str(out), workers=2, block_bytes=2000)
    assert not out.exists()


def test_workers_rebuild_rules_given_as_data():
    spec = TransformSpec(rules={"default": [["copy", "_id"], ["add", "x", ["upper", "_S.x"]]]})
    chunks = [[(i, json.dumps({"_id": str(i), "x": "a"}).encode())] for i in range(6)]
    results = list(map_chunks(spec, chunks, workers=2))
    assert [json.loads(r.lines[0])["_id"] for r in results] == [str(i) for i in range(6)]


def test_a_rule_error_in_workers_is_reported_not_hung():
    spec = TransformSpec(rules={"default": [["no-such-transform"]]})
    with pytest.raises(DtlError):
        list(map_chunks(spec, [[(1, b"{}")]], workers=2))


def test_cli_workers_2_matches_workers_1(data):
    from dtlpy.cli import main

    spec, src, tmp = data
    one, two = tmp / "one.json", tmp / "two.json"
    assert main(["run", spec.path, src, "-o", str(one)]) == 0
    assert main(["run", spec.path, src, "-o", str(two), "--workers", "2"]) == 0
    assert one.read_bytes() == two.read_bytes()
    assert len(json.loads(two.read_text())) == 3001 - 429


@pytest.mark.parametrize("block", [1, 2, 3, 5, 7, 11, 13, 23, 64, 5000])
def test_file_ranges_own_each_line_once_with_true_line_numbers(tmp_path, block):
    from dtlpy.stream import file_ranges

    text = '\ufeff{"a": 1}\n\n{"b": "long line ' + "x" * 40 + '"}\r\n  \n{"c": 3}\n{"d": 4}'
    path = tmp_path / "in.jsonl"
    path.write_text(text, encoding="utf-8")
    size = path.stat().st_size
    got, before = [], 0
    for r in file_ranges(str(path), size, block):
        lines, adjust = r.load()
        got += [(before + n, json.loads(raw)) for n, raw in lines.records()]
        before += lines.data.count(b"\n") + adjust
    assert [(n, list(v)[0]) for n, v in got] == [(1, "a"), (3, "b"), (5, "c"), (6, "d")]
    assert before == text.count("\n")


def test_bad_lines_in_parallel_ranges_keep_their_line_numbers(data, capsys):
    spec, src, tmp = data
    lines = open(src).read().splitlines()
    lines[1500] = "{broken"
    lines[2999] = "[1, 2]"
    with open(src, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    rej = tmp / "rej.jsonl"
    run_file(spec, src, str(tmp / "out.jsonl"), workers=2, block_bytes=3000, on_error="skip", reject_path=str(rej))
    assert [json.loads(x)["line"] for x in rej.read_text().splitlines()] == [1501, 3000]


# ----------------------------------------------------------- spooled output

@pytest.fixture
def spy_copies(monkeypatch):
    """Counts spool files the parent copied (so a test knows the spool was used)."""
    from dtlpy import stream

    calls = []
    real = stream.EntityWriter._copy_file

    def spy(self, path, length):
        calls.append(path)
        real(self, path, length)

    monkeypatch.setattr(stream.EntityWriter, "_copy_file", spy)
    return calls


ONLY_LATE = {"default": [["filter", ["gt", "_S.n", 1700]], ["copy", "_id"]]}  # early chunks emit nothing
NOTHING = {"default": [["filter", False]]}


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
@pytest.mark.parametrize("rules", [RULES, ONLY_LATE, NOTHING], ids=["some", "late", "none"])
def test_one_and_two_workers_write_identical_files(data, spy_copies, suffix, rules):
    spec, src, tmp = data
    spec = TransformSpec(rules=rules)
    one, two = tmp / f"one{suffix}", tmp / f"two{suffix}"
    run_file(spec, src, str(one), workers=1, block_bytes=2000)
    run_file(spec, src, str(two), workers=2, block_bytes=2000)
    assert one.read_bytes() == two.read_bytes()
    if suffix == ".json":
        entities = json.loads(two.read_text())
    else:
        entities = [json.loads(line) for line in two.read_text().splitlines()]
    expected = {id(RULES): 3001 - 429, id(ONLY_LATE): 3000 - 1700, id(NOTHING): 0}[id(rules)]
    assert len(entities) == expected
    assert (len(spy_copies) > 1) == (expected > 0)  # the parallel run went through spool files
    assert sorted(os.listdir(tmp)) == ["in.jsonl", f"one{suffix}", "rules.json", f"two{suffix}"]


def test_spool_is_removed_after_a_stop_on_error(data, spy_copies):
    spec, src, tmp = data
    lines = open(src).read().splitlines()
    lines[2500] = "{broken"
    with open(src, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    with pytest.raises(RecordError, match="line 2501"):
        run_file(spec, src, str(tmp / "out.jsonl"), workers=2, block_bytes=2000)
    assert spy_copies  # chunks before the bad line were spooled and copied
    assert sorted(os.listdir(tmp)) == ["in.jsonl", "rules.json"]


def test_spool_is_removed_when_a_worker_fails(tmp_path):
    from dtlpy.stream import FileRange

    src = tmp_path / "in.jsonl"
    src.write_text('{"_id": "a"}\n' * 50)
    spool = tmp_path / "spool"
    spool.mkdir()
    chunks = [FileRange(str(src), 0, 300), FileRange(str(src), 300, 650), FileRange(str(tmp_path / "gone"), 0, 10)]
    spec = TransformSpec(rules={"default": [["copy", "_id"]]})
    seen = []
    with pytest.raises(FileNotFoundError):
        for result in map_chunks(spec, chunks, workers=2, spool_dir=str(spool)):
            seen.append(result.spool_path)
    assert len(seen) == 2 and all(p.startswith(str(spool)) for p in seen)
    assert os.listdir(spool) == []


def test_closing_the_results_early_removes_the_spool(tmp_path):
    from dtlpy.stream import FileRange

    src = tmp_path / "in.jsonl"
    src.write_text('{"_id": "a"}\n' * 500)
    chunks = [FileRange(str(src), s, min(s + 500, 6500)) for s in range(0, 6500, 500)]
    spec = TransformSpec(rules={"default": [["copy", "_id"]]})
    with closing(map_chunks(spec, chunks, workers=2, spool_dir=str(tmp_path))) as results:
        first = next(results)
        assert os.path.exists(first.spool_path)
    assert os.listdir(tmp_path) == ["in.jsonl"]


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The temp dir stdout runs spool into, to check it is left empty."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_two_workers_to_stdout_as_a_file(data, capfd, private_tmp, spy_copies, fmt):
    from dtlpy.cli import main

    spec, src, tmp = data
    assert main(["run", spec.path, src, "--output-format", fmt, "--workers", "1"]) == 0
    one = capfd.readouterr().out
    assert main(["run", spec.path, src, "--output-format", fmt, "--workers", "2"]) == 0
    two = capfd.readouterr().out
    assert one == two and len(one) > 100000
    assert spy_copies and os.listdir(private_tmp) == []


def test_two_workers_to_a_captured_stdout_without_a_file(data, capsys, private_tmp, spy_copies):
    from dtlpy.cli import main

    spec, src, tmp = data
    assert main(["run", spec.path, src, "--workers", "1"]) == 0
    one = capsys.readouterr().out
    assert main(["run", spec.path, src, "--workers", "2"]) == 0
    two = capsys.readouterr().out
    assert one == two and len(json.loads(two)) == 3001 - 429
    assert spy_copies and os.listdir(private_tmp) == []


def test_two_workers_to_a_pipe(data):
    spec, src, tmp = data
    spool_in = tmp / "tmpdir"
    spool_in.mkdir()
    outs = []
    for workers in ("1", "2"):
        cmd = [sys.executable, "-m", "dtlpy", "run", spec.path, src, "--output-format", "jsonl", "--workers", workers]
        env = dict(os.environ, TMPDIR=str(spool_in))
        outs.append(subprocess.run(cmd, capture_output=True, check=True, env=env).stdout)
    assert outs[0] == outs[1]
    assert len(outs[1].splitlines()) == 3001 - 429
    assert os.listdir(spool_in) == []


def test_ctrl_c_in_a_parallel_run_leaves_no_output_and_no_spool(data, monkeypatch):
    from dtlpy import stream

    spec, src, tmp = data
    calls = []
    real = stream.EntityWriter.write_chunk

    def interrupted(self, result):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(self, result)

    monkeypatch.setattr(stream.EntityWriter, "write_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_file(spec, src, str(tmp / "out.json"), workers=2, block_bytes=2000)
    assert sorted(os.listdir(tmp)) == ["in.jsonl", "rules.json"]


@pytest.mark.parametrize("as_array", [False, True])
def test_two_workers_from_stdin(data, monkeypatch, as_array):
    import io

    spec, src, tmp = data
    text = open(src, "rb").read()
    if as_array:
        text = b"[" + b",\n".join(text.splitlines()) + b"]"
    outs = []
    for workers in (1, 2):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(text))))
        out = tmp / f"out{workers}.jsonl"
        run_file(spec, "-", str(out), workers=workers, block_bytes=2000, chunk_size=100)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and len(outs[1].splitlines()) == 3001 - 429
    assert sorted(os.listdir(tmp)) == ["in.jsonl", "out1.jsonl", "out2.jsonl", "rules.json"]


def test_parallel_runs_sync_the_output_as_it_grows(data, monkeypatch):
    import dtlpy.runner as runner

    spec, src, tmp = data
    synced = []
    real = getattr(os, "fdatasync", os.fsync)

    def spy(fd):
        synced.append(os.fstat(fd).st_size)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", spy, raising=False)
    monkeypatch.setattr(runner, "SYNC_BYTES", 20000)
    run_file(spec, src, str(tmp / "one.jsonl"), workers=1, block_bytes=2000)
    assert synced == []  # one process: syncing would only stall the work
    run_file(spec, src, str(tmp / "two.jsonl"), workers=2, block_bytes=2000)
    size = (tmp / "two.jsonl").stat().st_size
    assert len(synced) >= size // 20000 - 1 and synced == sorted(synced) and synced[-1] <= size
    assert (tmp / "one.jsonl").read_bytes() == (tmp / "two.jsonl").read_bytes()


def test_the_parent_works_on_chunks_while_it_waits_and_keeps_the_order(tmp_path):
    # Given the compiled rules, the parent is one of the workers: whenever the
    # next result in order is not ready, it works on a chunk itself. A slow
    # pool (the transform sleeps in every process but this one) makes it do so.
    import time

    from dtlpy import compile

    parent = os.getpid()
    rules = compile({"default": [["copy", "_id"]]}).transform

    def transform(entity):
        if os.getpid() != parent:
            time.sleep(0.02)
        return rules(entity)

    chunks = [[(i, b'{"_id": "%d"}' % i)] for i in range(12)]
    spec = TransformSpec(rules={"default": [["copy", "_id"]]})
    texts, where = [], set()
    for r in map_chunks(spec, chunks, workers=2, transform=transform, spool_dir=str(tmp_path)):
        texts.append(open(r.spool_path, "rb").read() if r.spool_path else bytes(r.data))
        where.add("pool" if r.spool_path else "here")
    assert texts == [b'{"_id":"%d"}\n' % i for i in range(12)]
    assert where == {"pool", "here"}


def test_an_error_in_a_chunk_the_parent_worked_on_comes_in_its_turn(tmp_path):
    from dtlpy.parallel import _Here
    from dtlpy.stream import FileRange

    failed = _Here(lambda e: [e], FileRange(str(tmp_path / "gone"), 0, 10))
    assert failed.ready()
    with pytest.raises(FileNotFoundError):
        failed.get()
