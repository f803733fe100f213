"""``dtlpy check``: each kind of finding on small rule files, exit codes, and
the repository's own ``dtl/`` flows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dtlpy.check import check_paths
from dtlpy.cli import main

REPO = Path(__file__).resolve().parents[1]

SOURCE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "_id": {"type": "string"},
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
        "orders": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                              "properties": {"amount": {"type": "number"}}}},
    },
}
TARGET_SCHEMA = {"type": "object", "additionalProperties": False, "properties": {"name": {}, "city": {}}}


def write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def findings(tmp_path, rules, **schemas):
    path = write(tmp_path, "rules.json", rules)
    found, files = check_paths([path], **schemas)
    assert files == [path]
    return [(f.severity, f.code, f.pointer) for f in found], found


def test_unknown_function_with_nearest_name(tmp_path):
    codes, found = findings(tmp_path, {"default": [["copy", "_id"], ["add", "n", ["uper", "_S.name"]]]})
    assert codes == [("error", "unknown-function", "/default/1/2")]
    assert found[0].hint == "did you mean 'upper'?"
    assert found[0].fragment == ["uper", "_S.name"]
    text = found[0].render()
    assert '["add", "n", ["uper", "_S.name"]]' in text and "^^^^" in text


def test_unknown_transform_and_function_used_as_transform(tmp_path):
    codes, found = findings(tmp_path, {"default": [["ad", "x", 1], ["upper", "x"]]})
    assert codes == [("error", "unknown-transform", "/default/0"), ("error", "unknown-transform", "/default/1")]
    assert "'add'" in found[0].hint
    assert "expression function" in found[1].hint


def test_arity_of_functions_and_transforms(tmp_path):
    codes, found = findings(tmp_path, {"default": [["copy", "_id"], ["add", "x"], ["add", "y", ["upper"]]]})
    assert codes == [("error", "arity", "/default/1"), ("error", "arity", "/default/2/2")]
    assert "takes exactly 2" in found[0].message


def test_argument_kind_non_string_constant(tmp_path):
    codes, found = findings(tmp_path, {"default": [["copy", "_id"], ["add", "x", ["join", 5, "_S.tags"]],
                                                  ["copy", 7]]})
    assert ("error", "invalid-argument", "/default/1/2/1") in codes
    assert ("error", "invalid-argument", "/default/2/1") in codes
    assert found[0].hint == 'quote it: "5"'


def test_apply_rule_id_must_be_a_constant_string(tmp_path):
    rules = {"default": [["copy", "_id"], ["add", "x", ["apply", ["concat", "a"], "_S.tags"]]], "a": [["copy", "*"]]}
    codes, _ = findings(tmp_path, rules)
    assert ("error", "invalid-argument", "/default/1/2/1") in codes


def test_unbound_item_outside_function_expression(tmp_path):
    rules = {"default": [["copy", "_id"], ["add", "x", "_.name"],
                         ["add", "y", ["map", ["upper", "_."], "_S.tags"]],
                         ["add-if", "z", ["gt", "_.", 1], "_S.n"],
                         ["add", "w", ["integer", "_.", "_S.n"]]]}
    codes, found = findings(tmp_path, rules)
    assert codes == [("warning", "unbound-item", "/default/1/2")]
    assert found[0].hint == "did you mean '_S.name'?"


def test_function_expression_that_ignores_the_item(tmp_path):
    rules = {"default": [["copy", "_id"], ["add", "m", ["max", "_S.a", "_S.b"]],
                         ["add", "c", ["is-changed", "_S.a"]],
                         ["add", "ok", ["map", ["upper", "_.name"], "_S.xs"]],
                         ["add", "d", ["integer", 0, "_S.n"]]]}
    codes, found = findings(tmp_path, rules)
    assert codes == [("warning", "item-unused", "/default/1/2/1"), ("warning", "item-unused", "/default/2/2/1")]
    assert "FUNCTION of 'max'" in found[0].message


def test_source_paths_against_schema(tmp_path):
    rules = {"default": [["copy", "_id"],
                         ["add", "name", ["upper", "_S.nmae"]],
                         ["add", "city", "_S.address.city"],
                         ["add", "x", "_S.orders.amount"],
                         ["add", "y", "_S.orders.amont"],
                         ["add", "z", "_R._S.nam"],
                         ["copy", "nam*"]]}
    codes, found = findings(tmp_path, rules, source_schema=SOURCE_SCHEMA)
    assert codes == [("error", "source-path", "/default/1/2/1"), ("error", "source-path", "/default/4/2"),
                     ("error", "source-path", "/default/5/2")]
    assert found[0].hint == "did you mean 'name'?"
    assert found[1].hint == "did you mean 'amount'?"


def test_source_path_in_open_schema_is_a_warning(tmp_path):
    schema = {"type": "object", "properties": {"name": {}}}
    codes, _ = findings(tmp_path, {"default": [["copy", "_id"], ["add", "n", "_S.nme"]]}, source_schema=schema)
    assert codes == [("warning", "source-path", "/default/1/2")]


def test_applied_rules_do_not_read_the_root_source(tmp_path):
    rules = {"default": [["copy", "_id"], ["add", "o", ["apply", "order", "_S.orders"]]],
             "order": [["add", "n", "_S.whatever"]]}
    codes, _ = findings(tmp_path, rules, source_schema=SOURCE_SCHEMA)
    assert codes == []


def test_target_paths_need_an_earlier_step(tmp_path):
    rules = {"default": [["copy", "_id"], ["add", "a", "_T.b"], ["add", "b", 1], ["add", "c", "_T.b"],
                         ["if", true_(), ["add", "d", 1]], ["add", "e", "_T.d"]]}
    codes, _ = findings(tmp_path, rules)
    assert codes == [("warning", "target-path", "/default/1/2")]


def true_():
    return ["eq", "_S.x", 1]


def test_target_paths_after_merge_are_not_reported(tmp_path):
    rules = {"default": [["merge", "_S.sub"], ["add", "a", "_T.anything"]]}
    codes, _ = findings(tmp_path, rules)
    assert codes == []


def test_target_properties_against_schema(tmp_path):
    rules = {"default": [["copy", "_id"], ["add", "name", "_S.name"], ["add", "nmae", 1], ["copy", "*"],
                         ["remove", "tags"], ["remove", "orders"]]}
    codes, found = findings(tmp_path, rules, source_schema=SOURCE_SCHEMA, target_schema=TARGET_SCHEMA)
    assert codes == [("error", "target-property", "/default/2/1"), ("error", "target-property", "/default/3/1")]
    assert found[0].hint == "did you mean 'name'?"
    assert found[1].fragment == "address"  # copied by "*"; tags and orders were removed again


def test_target_property_listed_only_is_a_warning(tmp_path):
    codes, _ = findings(tmp_path, {"default": [["copy", "_id"], ["add", "zip", 1]]},
                        target_schema={"properties": {"name": {}}})
    assert codes == [("warning", "target-property", "/default/1/1")]


def test_unused_rules_and_unknown_rule(tmp_path):
    rules = {"default": [["copy", "_id"], ["add", "a", ["apply", "used", "_S.x"]],
                         ["add", "b", ["apply", "mising", "_S.y"]]],
             "used": [["copy", "*"]],
             "missing": [["copy", "*"], ["add", "c", ["apply", "island", "_S.z"]]],
             "island": [["copy", "*"]]}
    codes, found = findings(tmp_path, rules)
    assert codes == [("error", "unknown-rule", "/default/2/2/1"), ("warning", "unused-rule", "/missing"),
                     ("warning", "unused-rule", "/island")]
    assert found[0].hint == "did you mean 'missing'?"


def test_filter_that_can_never_pass(tmp_path):
    rules = {"default": [["copy", "_id"], ["filter", False], ["filter", None], ["discard", []],
                         ["filter", ["and", True, ["eq", 1, 2]]], ["filter", ["eq", "_S.x", 1]],
                         ["if", ["eq", "_S.y", 2], ["filter"]]]}
    codes, found = findings(tmp_path, rules)
    assert codes == [("error", "filter-never-passes", f"/default/{i}/1") for i in (1, 2, 3, 4)]
    assert "always false" in found[0].message


def test_bare_filter_at_rule_top_is_a_warning(tmp_path):
    codes, _ = findings(tmp_path, {"default": [["copy", "_id"], ["filter"]]})
    assert codes == [("warning", "filter-never-passes", "/default/1")]


def test_compile_errors_are_reported(tmp_path):
    codes, _ = findings(tmp_path, {"default": [["copy", "_id"]], "x": "not a list"})
    assert ("error", "malformed-rules", "/x") in codes
    # Found only by the compiler's own hooks: reported once, with its code.
    codes, found = findings(tmp_path, {"default": [["copy", "_id"],
                                                  ["add", "x", ["datetime-plus", "bogus", 1, "_S.d"]]]})
    assert codes == [("error", "invalid-argument", "/default/1/2/1")]
    assert "bogus" in found[0].message


def test_missing_default(tmp_path):
    path = write(tmp_path, "p.conf.json", {"_id": "p", "type": "pipe", "transform": {"type": "dtl", "rules": {"a": []}}})
    found, _ = check_paths([path])
    assert [(f.code, f.pointer) for f in found] == [("missing-default", "/transform/rules")]


def test_pipe_with_chained_transforms_points_into_the_chain(tmp_path):
    pipe = {"_id": "p", "type": "pipe", "transform": [
        {"type": "dtl", "rules": {"default": [["copy", "*"]]}},
        {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "x", ["lowr", "_S.a"]]]}}]}
    path = write(tmp_path, "p.conf.json", pipe)
    found, files = check_paths([path])
    assert [(f.code, f.pointer) for f in found] == [("unknown-function", "/transform/1/rules/default/1/2")]
    assert found[0].file == path


def test_directory_walk_and_exit_codes(tmp_path, capsys):
    d = tmp_path / "dtl"
    d.mkdir()
    write(d, "ok.conf.json", {"_id": "ok", "type": "pipe",
                              "transform": {"type": "dtl", "rules": {"default": [["copy", "*"]]}}})
    write(d, "data.json", [{"_id": "a"}])  # not DTL: skipped inside a directory
    assert main(["check", str(d)]) == 0
    assert "0 error(s), 0 warning(s) in 1 file(s)" in capsys.readouterr().out
    write(d, "warn.json", {"default": [["copy", "*"]], "unused": []})
    assert main(["check", str(d)]) == 0
    capsys.readouterr()
    write(d, "bad.json", {"default": [["add", "x", ["nope"]]]})
    assert main(["check", str(d), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 1 and report["warnings"] == 1
    assert {f["code"] for f in report["findings"]} == {"unknown-function", "unused-rule"}
    assert len(report["files"]) == 3


def test_explicit_non_dtl_file_is_an_error(tmp_path, capsys):
    path = write(tmp_path, "data.json", [1, 2])
    assert main(["check", path]) == 1
    assert "not-dtl" in capsys.readouterr().out


def test_invalid_json_is_an_error(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"default": [', encoding="utf-8")
    assert main(["check", str(path)]) == 1
    assert "invalid-json" in capsys.readouterr().out


def test_schema_options_on_the_command_line(tmp_path, capsys):
    rules = write(tmp_path, "r.json", {"default": [["copy", "_id"], ["add", "name", "_S.nam"]]})
    source = write(tmp_path, "s.json", SOURCE_SCHEMA)
    target = write(tmp_path, "t.json", TARGET_SCHEMA)
    assert main(["check", rules, "--source-schema", source, "--target-schema", target]) == 1
    out = capsys.readouterr().out
    assert "source-path" in out and "did you mean 'name'?" in out


def test_repository_dtl_directory_is_clean(capsys):
    """CI runs `dtlpy check dtl/`: the shipped flows have no errors."""
    dtl = REPO / "dtl"
    if not any(dtl.glob("*.conf.json")):
        pytest.fail("dtl/ has no pipe configs yet")
    code = main(["check", str(dtl), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, json.dumps(report["findings"], indent=2)
    assert report["errors"] == 0
    assert len(report["files"]) >= len(list(dtl.glob("*.conf.json")))


def test_compile_error_message_marks_the_argument_inside_its_step():
    import dtlpy

    with pytest.raises(dtlpy.DtlError) as info:
        dtlpy.compile({"default": [["copy", "_id"], ["add", "n", ["concat", "x", ["uper", "_S.n"]]]]}, file="r.json")
    e = info.value
    assert (e.code, e.pointer, e.fragment) == ("unknown-function", "/default/1/2/2", ["uper", "_S.n"])
    lines = str(e).splitlines()
    assert lines[0] == "[unknown-function] unknown function 'uper' (r.json, at /default/1/2/2)"
    assert lines[1] == '    rule: ["add", "n", ["concat", "x", ["uper", "_S.n"]]]'
    assert lines[2] == "          " + " " * lines[1][10:].index('["uper"') + "^" * len('["uper", "_S.n"]')
    assert lines[3] == "    hint: did you mean 'upper'?"
