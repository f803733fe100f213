"""``dtlpy run``: inputs of every shape, outputs, exit codes 0/1/2."""

from __future__ import annotations

import json

import pytest

from dtlpy.cli import main

RULES = {"default": [["copy", "_id"], ["add", "n", ["upper", "_S.n"]]]}
EXPECTED = [{"_id": "a", "n": "X"}, {"_id": "b", "n": "Y"}]


@pytest.fixture
def files(tmp_path):
    def write(name, value):
        path = tmp_path / name
        path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
        return str(path)

    return write


@pytest.mark.parametrize(
    "text",
    [
        '[{"_id": "a", "n": "x"},\n {"_id": "b", "n": "y"}]',
        '{"_id": "a", "n": "x"}\n\n{"_id": "b", "n": "y"}\n',
    ],
    ids=["array", "jsonl"],
)
def test_run_rules_to_stdout(files, capsys, text):
    assert main(["run", files("r.json", RULES), files("in.json", text)]) == 0
    assert json.loads(capsys.readouterr().out) == EXPECTED


def test_single_pretty_printed_object(files, capsys):
    src = files("one.json", '{\n  "_id": "a",\n  "n": "x"\n}\n')
    assert main(["run", files("r.json", RULES), src]) == 0
    assert json.loads(capsys.readouterr().out) == [EXPECTED[0]]


def test_output_file_and_pipe_config(files, tmp_path, capsys):
    pipe = files("p.conf.json", {"_id": "p", "type": "pipe", "transform": [
        {"type": "dtl", "rules": RULES},
        {"type": "dtl", "rules": {"default": [["copy", "*"], ["filter", ["neq", "_S._id", "b"]]]}}]})
    out = tmp_path / "sub" / "out.json"
    assert main(["run", pipe, files("in.json", '[{"_id": "a", "n": "x"}, {"_id": "b", "n": "y"}]'), "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text()) == [EXPECTED[0]]
    assert [p.name for p in out.parent.iterdir()] == ["out.json"]  # no temp files left


def test_now_and_empty_input(files, capsys):
    rules = files("r.json", {"default": [["copy", "_id"], ["add", "t", ["now"]]]})
    assert main(["run", rules, files("in.jsonl", '{"_id": "a"}\n'), "--now", "2020-01-02T03:04:05Z"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"_id": "a", "t": "~t2020-01-02T03:04:05Z"}]
    assert main(["run", rules, files("empty.json", "  \n")]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_runtime_error_names_rules_pointer_entity_and_record(files, tmp_path, capsys):
    rules = files("r.json", {"default": [["copy", "_id"], ["if", ["eq", "_S.bad", True], ["fail!", "bad input"]]]})
    out = tmp_path / "out.json"
    code = main(["run", rules, files("in.json", '[{"_id": "ok"},\n {"_id": "x9", "bad": true}]'), "-o", str(out)])
    assert code == 1
    err = capsys.readouterr().err
    assert "[fail]" in err and "bad input" in err
    assert rules in err and "/default/1" in err and "'x9'" in err and "line 2" in err
    assert not out.exists()  # nothing half-written


def test_compile_error_exit_1(files, capsys):
    rules = files("r.json", {"default": [["add", "x", ["no-such-fn"]]]})
    assert main(["run", rules, files("in.json", "[]")]) == 1
    err = capsys.readouterr().err
    assert "unknown-function" in err and "/default/0/2" in err


def test_malformed_inputs_exit_1(files, capsys):
    rules = files("r.json", RULES)
    assert main(["run", rules, files("bad.json", '[{"_id": "a"},')]) == 1
    assert "invalid-json" in capsys.readouterr().err
    assert main(["run", rules, files("bad.jsonl", '{"_id": "a"}\n{"_id": \n')]) == 1
    assert "line 2" in capsys.readouterr().err
    assert main(["run", rules, files("nums.json", "[1, 2]")]) == 1
    assert "invalid-entity" in capsys.readouterr().err
    assert main(["run", files("broken.json", '{"default": [\n'), files("in.json", "[]")]) == 1
    err = capsys.readouterr().err
    assert "broken.json" in err and "line 2" in err
    assert main(["run", rules, "/nonexistent/input.json"]) == 1
    assert "file-not-found" in capsys.readouterr().err


def test_missing_target_id_exit_1(files, capsys):
    rules = files("r.json", {"default": [["add", "x", 1], ["remove", "_id"]]})
    assert main(["run", rules, files("in.json", '{"_id": "a"}')]) == 1
    assert "missing-id" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["run", "a", "b", "--seed", "notanumber"])
    assert info.value.code == 2
