"""``dtlpy eval``: values, inputs, formats and error messages."""

from __future__ import annotations

import json

from dtlpy.cli import main


def run(capsys, *argv):
    code = main(["eval", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_value_as_json_by_default(capsys, tmp_path):
    src = tmp_path / "s.json"
    src.write_text(json.dumps({"_id": "a", "name": "ada", "n": [1, 2]}), encoding="utf-8")
    code, out, _ = run(capsys, '["upper", "_S.name"]', "--source", str(src))
    assert (code, json.loads(out)) == (0, "ADA")
    code, out, _ = run(capsys, "_S.n", "--source", str(src))  # a bare path is not JSON: taken as the path
    assert (code, json.loads(out)) == (0, [1, 2])


def test_text_format_prints_strings_unquoted(capsys):
    code, out, _ = run(capsys, '["concat", "a", "b"]', "--format", "text")
    assert (code, out) == (0, "ab\n")
    code, out, _ = run(capsys, '["list", 1, "x", null]', "--format", "text")
    assert out == '[1, "x", null]\n'


def test_inline_source_target_and_previous(capsys):
    code, out, _ = run(capsys, '["concat", "_S.a", "_T.b"]', "--source", '{"a": "x"}', "--target", '{"b": "y"}')
    assert json.loads(out) == "xy"
    code, out, _ = run(capsys, '["is-changed", "_.a"]', "--source", '{"a": 1}', "--previous", '{"a": 2}')
    assert (code, json.loads(out)) == (0, True)


def test_expression_from_file_and_pinned_clock(capsys, tmp_path):
    expr = tmp_path / "e.json"
    expr.write_text('["datetime-format", "%Y", ["now"]]', encoding="utf-8")
    code, out, _ = run(capsys, "@" + str(expr), "--now", "2024-05-06T07:08:09Z")
    assert (code, json.loads(out)) == (0, "2024")


def test_invalid_json_points_at_the_column(capsys):
    code, out, err = run(capsys, '["upper" "x"]')
    assert code == 1 and out == ""
    assert "[invalid-json]" in err and "column 10" in err
    lines = err.splitlines()
    assert lines[1].strip() == '["upper" "x"]'
    assert lines[2].index("^") == lines[1].index('"x"')


def test_dtl_error_marks_the_sub_expression(capsys):
    code, _, err = run(capsys, '["concat", "a", ["uper", "_S.x"]]')
    assert code == 1
    assert "[unknown-function] unknown function 'uper'" in err
    lines = err.splitlines()
    rule = next(i for i, line in enumerate(lines) if "rule:" in line)
    assert lines[rule].endswith('["concat", "a", ["uper", "_S.x"]]')
    marks = lines[rule + 1]
    assert marks.index("^") == lines[rule].index('["uper"') and marks.count("^") == len('["uper", "_S.x"]')
    assert "did you mean 'upper'?" in err


def test_arity_error_names_the_signature(capsys):
    code, _, err = run(capsys, '["upper", 1, 2]')
    assert code == 1 and "[arity]" in err and "exactly 1" in err


def test_source_must_be_an_entity(capsys):
    code, _, err = run(capsys, '"_S.x"', "--source", "[1, 2]")
    assert code == 1 and "[invalid-entity]" in err


def test_missing_source_file(capsys, tmp_path):
    code, _, err = run(capsys, '"_S.x"', "--source", str(tmp_path / "nope.json"))
    assert code == 1 and "[file-not-found]" in err
