"""The dataflow document is derived from the DTL and must match it."""

from __future__ import annotations

from pathlib import Path

from dtlpy.cli import main
from dtlpy.commands.doc import generate
from dtlpy.docgen import Row, derive_rows, load_flows, render_condition, without_date

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "custompms-to-customerp-dataflow.rst"


def test_committed_document_matches_the_dtl():
    generated = generate(str(ROOT / "dtl"), date="-")
    committed = DOC.read_text(encoding="utf-8")
    assert without_date(committed) == without_date(generated), (
        "docs/custompms-to-customerp-dataflow.rst is stale: run `dtlpy doc`"
    )


def test_document_has_the_seed_structure_with_filled_tables():
    text = DOC.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[:3] == ["=" * 31, "Custompms to Customerp Dataflow", "=" * 31]
    assert lines[4].startswith("Generated: ")
    titles = [lines[i - 1] for i, l in enumerate(lines) if l and set(l) == {"-"} and i > 0]
    assert titles == ["Introduction", "Custompms Task to Customerp Project",
                      "Custompms Customer to Customerp Customer", "Custompms Project to Customerp Project"]
    assert text.count(".. list-table::") == 3
    assert text.count("   * - ") >= 3 + 35
    assert "   * - projectId\n     - mainProject.id\n     - \"integer\"" in text
    assert "   * - organizationNumber (only when address.country is \"NO\")" in text


def test_generated_date_is_deterministic():
    assert generate(str(ROOT / "dtl")) == generate(str(ROOT / "dtl"))
    assert "Generated: 2001-02-03" in generate(str(ROOT / "dtl"), date="2001-02-03")


def test_check_fails_when_the_dtl_changes(tmp_path, capsys):
    import shutil

    dtl = tmp_path / "dtl"
    shutil.copytree(ROOT / "dtl", dtl)
    out = tmp_path / "doc.rst"
    assert main(["doc", "--dtl", str(dtl), "-o", str(out), "--date", "x"]) == 0
    assert main(["doc", "--dtl", str(dtl), "-o", str(out), "--check"]) == 0
    pipe = dtl / "custompms-task-to-customerp-project.conf.json"
    pipe.write_text(pipe.read_text().replace('["add", "number", "_S.key"]', '["add", "code", "_S.key"]'))
    capsys.readouterr()
    assert main(["doc", "--dtl", str(dtl), "-o", str(out), "--check"]) == 1
    assert "+     - code" in capsys.readouterr().out


def rows(rules, src=None, dst=None):
    return [r.cells() for r in derive_rows({"transform": {"rules": rules}}, src, dst)]


def test_rows_from_add_rename_copy_and_casts():
    src = {"type": "object", "properties": {"a": {"type": "string"}, "ab": {"type": "string"}, "b": {}}}
    dst = {"type": "object", "$defs": {"date": {"type": "string"}},
           "properties": {"a": {"type": "string"}, "d": {"$ref": "#/$defs/date"}}}
    assert rows({"default": [
        ["copy", "a*", "ab*"], ["rename", "b", "c"], ["add", "d", "_S.x"],
        ["add", "n", ["integer", "_S.y"]], ["add", "k", "constant"], ["add", "_id", "_S.z"],
    ]}, src, dst) == [("a", "a", '"string"'), ("b", "c", "N/A"), ("x", "d", '"date"'), ("y", "n", '"integer"')]


def test_rows_through_nesting_references_and_conditions():
    assert rows({
        "default": [
            ["add", "addr", ["apply", "addr", "_S.address"]],
            ["add", "cur", ["if", ["is-null", "_S.c"], None, ["dict", "code", "_S.c"]]],
            ["add", "parent", ["first", ["apply", "ref", ["hops", {"datasets": ["p p"], "where": ["eq", "_S.pid", "p.id"]}]]]],
            ["if", ["eq", "_S.kind", "x"], ["add", "v", "_S.v"], ["add", "v", None]],
        ],
        "addr": [["add", "line", "_S.street"]],
        "ref": [["add", "id", ["integer", "_S.other"]]],
    }) == [
        ("address.street", "addr.line", "N/A"),
        ("c", "cur.code", "N/A"),
        ("pid", "parent.id", '"integer"'),
        ('v (only when kind is "x")', "v", "N/A"),
    ]


def test_conditions_in_words():
    assert render_condition(["and", ["eq", "_S.a", 1], ["is-not-null", "_S.b"]]) == "a is 1 and b is set"
    assert render_condition(["neq", "_S.t", "internal"], negate=True) == 't is "internal"'
    assert render_condition(["in", "_S.s", ["list", "x", "y"]]) == 's is one of ["x", "y"]'


def test_flows_know_filters_and_deletes():
    flows = {f.pipe_id: f for f in load_flows(ROOT / "dtl")}
    assert flows["custompms-task-to-customerp-project"].filters == ["parentTaskId is set"]
    assert flows["customerp-project-to-custompms-task"].filters == ['category is not "TASK"']
    assert all(f.marks_deletes for f in flows.values())
    assert Row("a", "b", '"string"', "x is 1").source_cell == "a (only when x is 1)"
