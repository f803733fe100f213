"""``dtlpy explain``: per-step diffs of _T, branches, filters, created
entities, chained pipes, and the final output."""

from __future__ import annotations

import json

from dtlpy.cli import main

RULES = {
    "default": [
        ["comment", "not shown"],
        ["copy", "*"],
        ["add", "n", ["upper", "_S.n"]],
        ["remove", "x"],
        ["create", ["dict", "_id", "c1"]],
        ["case", ["eq", "_S.k", 1], ["add", "k1", True],
                 ["eq", "_S.k", 2], [["add", "k2", True], ["add", "n", "two"]],
                 ["add", "kx", True]],
        ["if", ["eq", "_S.k", 2], ["add", "two", True]],
        ["filter", ["neq", "_S.drop", True]],
        ["add", "after", 1],
    ]
}


def write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def explain_json(tmp_path, capsys, rules, entity, *extra):
    r = write(tmp_path, "rules.json", rules)
    e = write(tmp_path, "entity.json", entity)
    code = main(["explain", r, e, "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_steps_show_what_each_transform_did(tmp_path, capsys):
    code, report = explain_json(tmp_path, capsys, RULES, {"_id": "a", "n": "ab", "x": 1, "k": 2})
    assert code == 0
    steps = {s["pointer"]: s for s in report["transforms"][0]["runs"][0]["steps"]}
    assert "/default/0" not in steps  # comments are left out
    assert steps["/default/1"]["added"] == {"n": "ab", "x": 1, "k": 2}  # _id was there from the start
    assert steps["/default/2"]["changed"] == {"n": ["ab", "AB"]}
    assert steps["/default/3"]["removed"] == ["x"]
    assert steps["/default/4"]["created"] == [{"_id": "c1"}]
    assert steps["/default/5"]["branch"] == "condition 2 is true"
    assert steps["/default/5/4/0"] == {"pointer": "/default/5/4/0", "fragment": ["add", "k2", True], "depth": 1,
                                       "added": {"k2": True}}
    assert steps["/default/5/4/1"]["changed"] == {"n": ["AB", "two"]}
    assert steps["/default/6"]["branch"] == "condition is true: THEN"
    assert steps["/default/6/2"]["added"] == {"two": True}
    assert steps["/default/7"]["passed"] is True
    assert report["output"] == [{"_id": "c1"}, {"_id": "a", "n": "two", "k": 2, "k2": True, "two": True, "after": 1}]
    assert "note" not in report


def test_filtered_entity_stops_and_else_branch(tmp_path, capsys):
    code, report = explain_json(tmp_path, capsys, RULES, [{"_id": "a", "drop": True}, {"_id": "b"}], "--id", "a")
    assert code == 0
    steps = report["transforms"][0]["runs"][0]["steps"]
    assert steps[-1]["pointer"] == "/default/7" and steps[-1]["stopped"] == "filter"
    case = next(s for s in steps if s["pointer"] == "/default/5")
    assert case["branch"] == "no condition matched: ELSE"
    assert any(s["pointer"] == "/default/5/5" and s["added"] == {"kx": True} for s in steps)
    assert next(s for s in steps if s["pointer"] == "/default/6")["branch"] == "condition is false: no ELSE, nothing done"
    assert report["output"] == [{"_id": "c1"}]  # created entities survive the filter


def test_text_output(tmp_path, capsys):
    r = write(tmp_path, "rules.json", RULES)
    e = write(tmp_path, "entity.json", {"_id": "a", "n": "x" * 200, "x": 1, "k": 1, "drop": True})
    assert main(["explain", r, e]) == 0
    out = capsys.readouterr().out
    assert "/default/2  [\"add\", \"n\", [\"upper\", \"_S.n\"]]" in out
    assert "~ n: " in out and "..." in out  # long values are shortened
    assert "- x" in out
    assert "created {\"_id\": \"c1\"}" in out
    assert "condition 1 is true" in out and "+ k1 = true" in out
    assert "filtered: the entity stops here" in out
    assert out.rstrip().endswith('{"_id": "c1"}')


def test_chained_pipe_explains_each_transform(tmp_path, capsys):
    pipe = {"_id": "p", "type": "pipe", "transform": [
        {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "n", 1]]}},
        {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "m", ["+", "_S.n", 1]]]}}]}
    p = write(tmp_path, "p.conf.json", pipe)
    e = write(tmp_path, "e.json", {"_id": "a"})
    assert main(["explain", p, e, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [t["runs"][0]["steps"][-1]["pointer"] for t in report["transforms"]] == [
        "/transform/0/rules/default/1", "/transform/1/rules/default/1"]
    assert report["transforms"][1]["runs"][0]["steps"][-1]["added"] == {"m": 2}
    assert report["output"] == [{"_id": "a", "n": 1, "m": 2}]
    assert main(["explain", p, e]) == 0
    assert "transform 1 (dtl):" in capsys.readouterr().out


def test_runtime_error_is_shown_with_its_step(tmp_path, capsys):
    rules = {"default": [["copy", "*"], ["fail!", "stop here"]]}
    r = write(tmp_path, "rules.json", rules)
    e = write(tmp_path, "entity.json", {"_id": "a"})
    assert main(["explain", r, e]) == 1
    out = capsys.readouterr().out
    assert "/default/1" in out and "stop here" in out and "error:" in out


def test_missing_entity_id_is_a_clear_error(tmp_path, capsys):
    r = write(tmp_path, "rules.json", RULES)
    e = write(tmp_path, "entity.json", [{"_id": "a"}])
    assert main(["explain", r, e, "--id", "zz"]) == 1
    err = capsys.readouterr().err
    assert "[invalid-entity] there is no entity with _id 'zz' in the file" in err and "entity.json" in err
