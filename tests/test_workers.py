"""--workers N: several processes, the same output in the same order."""

import json

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


@pytest.mark.parametrize("block", [1, 7, 23, 64, 5000])
def test_file_ranges_own_each_line_once_with_true_line_numbers(tmp_path, block):
    from dtlpy.stream import file_ranges

    text = '\ufeff{"a": 1}\n\n{"b": "long line ' + "x" * 40 + '"}\r\n  \n{"c": 3}\n{"d": 4}'
    path = tmp_path / "in.jsonl"
    path.write_text(text, encoding="utf-8")
    size = path.stat().st_size
    got, before = [], 0
    for r in file_ranges(str(path), size, block):
        lines, newlines = r.load()
        got += [(before + n, json.loads(raw)) for n, raw in lines.records()]
        before += newlines
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
