"""Streaming runs: JSON array / JSON Lines reading, bad records, atomic output."""

import io
import json
import os

import pytest

import dtlpy.stream as stream
from dtlpy.errors import DtlError, DtlInputError
from dtlpy.parallel import TransformSpec
import dtlpy.runner as runner
from dtlpy.runner import RecordError, run_file
from dtlpy.stream import dumps, loads, read_records

RULES = {"default": [["copy", "_id"], ["copy", "big"], ["add", "name", ["upper", "_S.name"]]]}


def records(data: bytes, chunk: int | None = None, monkeypatch=None):
    if chunk is not None:
        monkeypatch.setattr(stream, "CHUNK_BYTES", chunk)
    return list(read_records(io.BytesIO(data)))


def test_array_elements_with_line_numbers_and_tricky_strings():
    data = b'[\n  {"_id": "a", "s": "]}{[\\"\\\\"},\n  {"_id": "b", "n": [{"x": [1, {"y": 2}]}]}\n]\n'
    got = records(data)
    assert [line for line, _ in got] == [2, 3]
    assert [loads(raw) for _, raw in got] == json.loads(data)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_array_split_across_tiny_read_buffers(chunk, monkeypatch):
    entities = [{"_id": str(i), "t": "a]b}" * i, "deep": [[[[[[[[{"k": i}]]]]]]]]} for i in range(12)]
    data = json.dumps(entities, indent=1).encode()
    got = records(data, chunk, monkeypatch)
    assert [loads(raw) for _, raw in got] == entities
    lines = data.split(b"\n")
    for line, raw in got:
        assert lines[line - 1].strip().startswith(raw.split(b"\n")[0].strip())


def test_bare_scalars_in_an_array_are_records_not_lost():
    got = records(b'[{"_id": "a"}, 5,\n "s", [1], true]')
    assert [(line, raw) for line, raw in got] == [(1, b'{"_id": "a"}'), (1, b"5"), (2, b'"s"'), (2, b"[1]"), (2, b"true")]


@pytest.mark.parametrize(
    "data, fragment",
    [(b'[{"_id": "a"},\n{"_id": "b"', "line 2: the JSON array is not closed"),
     (b'[{"_id": "a"}]\n]', "unexpected text after the closing"),
     (b'[{"_id": "a"}, {"s": "unterminated', "not closed")],
)
def test_broken_arrays_fail_with_a_line_number(data, fragment):
    with pytest.raises(DtlInputError, match=fragment) as info:
        records(data)
    assert info.value.code == "invalid-json"


def test_jsonl_skips_blank_lines_and_keeps_numbers():
    assert records(b'{"a": 1}\n\n  \n{"b": 2}\n') == [(1, b'{"a": 1}\n'), (4, b'{"b": 2}\n')]


@pytest.mark.parametrize("block", [1, 5, 9, 1000])
def test_jsonl_blocks_cut_at_line_ends_and_count_lines(block):
    data = b'\xef\xbb\xbf{"a": 1}\n\n  \n{"b": 2}\r\n{"c": "x"}'
    blocks = list(stream.jsonl_blocks(io.BytesIO(data), block))
    assert b"".join(b.data for b in blocks) == data[3:]
    assert all(b.first_line is None for b in blocks)  # relative: numbered by whoever counts the newlines
    got, before = [], 0
    for b in blocks:
        got += [(before + line, loads(raw)) for line, raw in b.records()]
        before += b.data.count(b"\n")
    assert got == [(1, {"a": 1}), (4, {"b": 2}), (5, {"c": "x"})]


def test_big_integer_in_a_block_is_exact(tmp_path, rules_file):
    lines = [f'{{"_id": "{i}", "name": "n"}}' for i in range(50)]
    lines[37] = '{"_id": "37", "name": "n", "big": 1234567890123456789012345}'
    src = write(tmp_path / "in.jsonl", "\n".join(lines))
    out = tmp_path / "out.jsonl"
    run_file(rules_file, src, str(out))
    assert json.loads(out.read_text().splitlines()[37])["big"] == 1234567890123456789012345


def test_huge_integers_survive_parse_and_dump():
    # A float-based parser would lose digits here; Sesam integers are unbounded.
    raw = b'{"a": 123456789012345678901234567890, "b": -9223372036854775809, "c": 18446744073709551615}'
    value = loads(raw)
    assert value == {"a": 123456789012345678901234567890, "b": -9223372036854775809, "c": 18446744073709551615}
    assert type(value["b"]) is int
    assert json.loads(dumps(value)) == value


def test_digit_runs_inside_strings_still_parse_exactly():
    assert loads(b'{"s": "12345678901234567890", "f": 1.5}') == {"s": "12345678901234567890", "f": 1.5}


@pytest.fixture
def rules_file(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES))
    return TransformSpec(path=str(path))


def write(path, text):
    path.write_bytes(text.encode())
    return str(path)


def test_run_jsonl_to_json_array_with_huge_ints(tmp_path, rules_file):
    src = write(tmp_path / "in.jsonl", '{"_id": "1", "name": "ada", "big": 99999999999999999999999}\n{"_id": "2", "name": "bo"}\n')
    out = tmp_path / "out.json"
    stats = run_file(rules_file, src, str(out))
    assert json.loads(out.read_text()) == [
        {"_id": "1", "big": 99999999999999999999999, "name": "ADA"},
        {"_id": "2", "name": "BO"},
    ]
    assert (stats.entities_in, stats.entities_out, stats.rejected) == (2, 2, 0)


def test_run_array_to_jsonl(tmp_path, rules_file):
    src = write(tmp_path / "in.json", json.dumps([{"_id": str(i), "name": "x"} for i in range(2500)]))
    out = tmp_path / "out.jsonl"
    run_file(rules_file, src, str(out))
    lines = out.read_text().splitlines()
    assert len(lines) == 2500 and json.loads(lines[-1]) == {"_id": "2499", "name": "X"}


BAD = '{"_id": "1", "name": "a"}\n{"_id": "2", "name": \n{"name": "no id"}\n[1]\n{"_id": "5", "name": "e"}\n'


def test_on_error_stop_names_the_line_and_leaves_no_output(tmp_path, rules_file):
    src = write(tmp_path / "in.jsonl", BAD)
    out = tmp_path / "out.jsonl"
    with pytest.raises(RecordError) as info:
        run_file(rules_file, src, str(out))
    assert info.value.code == "invalid-json"
    assert "line 2" in str(info.value)
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "rules.json"]  # no temp files left


def test_on_error_skip_writes_reject_file_with_line_numbers(tmp_path, rules_file, capsys):
    src = write(tmp_path / "in.jsonl", BAD)
    out, rej = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    stats = run_file(rules_file, src, str(out), on_error="skip", reject_path=str(rej))
    assert [json.loads(x)["_id"] for x in out.read_text().splitlines()] == ["1", "5"]
    rejected = [json.loads(x) for x in rej.read_text().splitlines()]
    assert [(r["line"], r["code"]) for r in rejected] == [
        (2, "invalid-json"),
        (3, "missing-id"),
        (4, "invalid-entity"),
    ]
    assert rejected[0]["input"] == '{"_id": "2", "name": '
    assert stats.rejected == 3
    err = capsys.readouterr().err
    assert "line 2" in err and "line 3" in err and "3 bad record(s) skipped" in err


def test_skip_without_reject_file_still_reports_every_line(tmp_path, rules_file, capsys):
    src = write(tmp_path / "in.jsonl", BAD)
    run_file(rules_file, src, str(tmp_path / "out.jsonl"), on_error="skip")
    err = capsys.readouterr().err
    assert all(f"line {n}:" in err for n in (2, 3, 4))


def test_reject_needs_skip(tmp_path, rules_file):
    src = write(tmp_path / "in.jsonl", "{}\n")
    with pytest.raises(DtlInputError) as info:
        run_file(rules_file, src, str(tmp_path / "o.jsonl"), reject_path=str(tmp_path / "r.jsonl"))
    assert info.value.code == "invalid-argument"


def test_interrupt_mid_run_leaves_no_partial_output(tmp_path, rules_file, monkeypatch):
    src = write(tmp_path / "in.jsonl", "".join(f'{{"_id": "{i}", "name": "n"}}\n' for i in range(5000)))
    out = tmp_path / "out.jsonl"
    calls = {"n": 0}
    real = stream.EntityWriter.write_chunk

    def interrupted(self, result):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real(self, result)

    monkeypatch.setattr(stream.EntityWriter, "write_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_file(rules_file, src, str(out), block_bytes=4000)
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "rules.json"]


def test_failed_run_keeps_an_existing_output_untouched(tmp_path, rules_file):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    src = write(tmp_path / "in.jsonl", '{"_id": "1"}\nnot json\n')
    with pytest.raises(DtlError):
        run_file(rules_file, src, str(out))
    assert out.read_text() == "previous\n"


def test_compile_errors_come_before_any_output(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"default": [["no-such-transform"]]}))
    src = write(tmp_path / "in.jsonl", '{"_id": "1"}\n')
    with pytest.raises(DtlError):
        run_file(TransformSpec(path=str(bad)), src, str(tmp_path / "out.jsonl"))
    assert not (tmp_path / "out.jsonl").exists()


# ------------------------------------------------------------------ through the CLI

def cli(*argv):
    from dtlpy.cli import main

    return main(["run", *map(str, argv)])


def test_cli_run_jsonl_to_array(tmp_path, rules_file):
    src = write(tmp_path / "in.jsonl", '{"_id": "1", "name": "ada"}\n')
    out = tmp_path / "out.json"
    assert cli(rules_file.path, src, "-o", out) == 0
    assert json.loads(out.read_text()) == [{"_id": "1", "name": "ADA"}]


def test_cli_bad_line_stop_exits_1_and_names_the_line(tmp_path, rules_file, capsys):
    src = write(tmp_path / "in.jsonl", BAD)
    out = tmp_path / "out.jsonl"
    assert cli(rules_file.path, src, "-o", out) == 1
    assert "line 2" in capsys.readouterr().err
    assert not out.exists()


def test_cli_skip_with_reject_file(tmp_path, rules_file):
    src = write(tmp_path / "in.jsonl", BAD)
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    assert cli(rules_file.path, src, "-o", out, "--on-error", "skip", "--reject", rej) == 0
    assert len(out.read_text().splitlines()) == 2
    assert [json.loads(x)["line"] for x in rej.read_text().splitlines()] == [2, 3, 4]


def test_cli_usage_errors_exit_2(tmp_path, rules_file):
    src = write(tmp_path / "in.jsonl", "{}\n")
    with pytest.raises(SystemExit) as info:
        cli(rules_file.path, src, "--on-error", "sometimes")
    assert info.value.code == 2


def test_progress_bar_shows_rate_and_eta_when_enabled(tmp_path, rules_file, capsys):
    src = write(tmp_path / "in.jsonl", "".join(f'{{"_id": "{i}", "name": "n"}}\n' for i in range(3000)))
    run_file(rules_file, src, str(tmp_path / "out.jsonl"), progress=True, block_bytes=4000)
    err = capsys.readouterr().err
    assert "3,000 entities" in err and "B/s" in err and "100%" in err


def test_no_progress_bar_when_not_a_terminal(tmp_path, rules_file, capsys):
    src = write(tmp_path / "in.jsonl", '{"_id": "1", "name": "n"}\n')
    run_file(rules_file, src, str(tmp_path / "out.jsonl"))  # stderr is captured: not a TTY
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------ whole-block decoding

def _chunk(lines: list[bytes], rules=None):
    """process_chunk over one LineBlock: (outputs, [(line, code, raw)])."""
    from dtlpy import compile

    t = compile(rules or RULES).transform
    result = stream.process_chunk(t, stream.LineBlock(10, b"".join(lines)))
    outputs = [json.loads(x) for x in bytes(result.data).splitlines()]
    return outputs, [(line, code, raw) for line, raw, code, _ in result.rejects], result


def test_a_clean_block_is_decoded_whole_with_exact_integers(monkeypatch):
    def line_by_line(*args):
        raise AssertionError("a clean block should not go line by line")

    monkeypatch.setattr(stream, "_records", line_by_line)
    lines = [b'{"_id": "%d", "name": "n", "big": %d}\n' % (i, 10**30 + i) for i in range(50)]
    outputs, rejects, result = _chunk(lines)
    assert rejects == [] and result.n_in == 50 and result.n_out == 50
    assert [o["big"] for o in outputs] == [10**30 + i for i in range(50)]


@pytest.mark.parametrize("piece", [1, 40, 100, 1 << 16])
def test_pieces_of_a_block_keep_order_and_line_numbers(monkeypatch, piece):
    monkeypatch.setattr(stream, "PIECE_BYTES", piece)
    lines = [b'{"_id": "%d", "name": "n"}\n' % i for i in range(30)]
    lines[7] = b"\n"  # a blank line: its piece goes line by line
    lines[12] = b'{"name": "no id"}\n'
    lines[20] = b"{broken\n"
    outputs, rejects, result = _chunk(lines)
    assert [o["_id"] for o in outputs] == [str(i) for i in range(30) if i not in (7, 12, 20)]
    assert [(line, code) for line, code, _ in rejects] == [(22, "missing-id"), (30, "invalid-json")]
    assert result.n_in == 29


def test_in_a_whole_block_a_bad_entity_keeps_its_own_line_number():
    lines = [b'{"_id": "a", "name": "x"}\n', b'[1, 2]\n', b'{"name": "no id"}\n', b'{"_id": "d", "name": "y"}']
    outputs, rejects, _ = _chunk(lines)
    assert [o["_id"] for o in outputs] == ["a", "d"]
    assert rejects == [(11, "invalid-entity", b"[1, 2]"), (12, "missing-id", b'{"name": "no id"}')]


@pytest.mark.parametrize(
    "bad, code",
    [
        (b'{"_id": "b"}{"_id": "c"}\n', "invalid-json"),  # two entities on one line
        (b'{"_id": "b",\n"name": "c"}\n', "invalid-json"),  # one entity over two lines
        (b'{"_id": "b", "n": ' + b"[" * 5000 + b"]" * 5000 + b"}\n", "invalid-json"),  # nested too deeply
        (b'{"_id": "b", "n": 1e400}\n', "invalid-json"),
        (b'{"_id": "b", "s": "\xff"}\n', "invalid-json"),
    ],
)
def test_lines_that_are_not_one_entity_each_are_reported_line_by_line(bad, code):
    lines = [b'{"_id": "a", "name": "x"}\n', bad, b'{"_id": "z", "name": "y"}\n']
    outputs, rejects, _ = _chunk(lines)
    assert [o["_id"] for o in outputs] == ["a", "z"]
    assert rejects and {c for _, c, _ in rejects} == {code}
    assert rejects[0][0] == 11


def test_blank_and_crlf_lines_in_a_block():
    lines = [b'{"_id": "a", "name": "x"}\r\n', b"\r\n", b"   \n", b'{"_id": "b", "name": "y"}\r\n']
    outputs, rejects, result = _chunk(lines)
    assert [o["_id"] for o in outputs] == ["a", "b"] and rejects == [] and result.n_in == 2
