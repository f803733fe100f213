"""The shipped JSON Schemas (dtlpy/schemas/dtl-rules.schema.json,
pipe.schema.json): up to date with the registry, accept every compliance
case and every flow in dtl/, reject broken documents."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from dtlpy import schemagen
from dtlpy.functions import FUNCTIONS

REPO = Path(__file__).resolve().parents[1]
COMPLIANCE = REPO / "tests" / "compliance"


def shipped(name: str) -> dict:
    return json.loads(resources.files("dtlpy").joinpath("schemas", name).read_text(encoding="utf-8"))


RULES = shipped("dtl-rules.schema.json")
PIPE = shipped("pipe.schema.json")
RULES_V = jsonschema.Draft7Validator(RULES)
PIPE_V = jsonschema.Draft7Validator(PIPE)
EXPR_V = jsonschema.Draft7Validator({"$ref": "#/definitions/expression", "definitions": RULES["definitions"]})


def _cases():
    for path in sorted(COMPLIANCE.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            yield path.stem, case


def test_committed_schemas_match_the_registry():
    for name, text in schemagen.generated().items():
        committed = (schemagen.SCHEMA_DIR / name).read_text(encoding="utf-8")
        assert committed == text, f"{name} is stale: run python -m dtlpy.schemagen --write"
    assert schemagen.main(["--check"]) == 0


def test_schemas_are_valid_draft7_and_name_every_builtin():
    jsonschema.Draft7Validator.check_schema(RULES)
    jsonschema.Draft7Validator.check_schema(PIPE)
    names = RULES["definitions"]["functionName"]
    assert names["enum"] == sorted(FUNCTIONS)
    assert len(names["enumDescriptions"]) == len(names["enum"])
    upper = names["enumDescriptions"][names["enum"].index("upper")]
    assert upper.startswith("upper ")


def test_every_compliance_case_validates():
    bad = []
    for family, case in _cases():
        if "error" in case:
            continue
        if "rules" in case:
            ok = RULES_V.is_valid(case["rules"])
        else:
            ok = EXPR_V.is_valid(case["expr"])
        if not ok:
            bad.append((family, case.get("name"), case.get("rules", case.get("expr"))))
    assert not bad, bad[:10]


def test_compliance_cases_of_compile_errors_are_rejected():
    rejected = 0
    for family, case in _cases():
        code = case.get("error")
        if code not in ("arity", "unknown-function", "unknown-transform", "malformed-expression", "missing-default"):
            continue
        if code == "arity" and "expr" in case and case["expr"][0] == "dict":
            continue  # an odd number of key/value arguments: not expressible as minItems/maxItems
        if "rules" in case:
            assert not RULES_V.is_valid(case["rules"]), (family, case)
        else:
            assert not EXPR_V.is_valid(case["expr"]), (family, case)
        rejected += 1
    assert rejected >= 10


def test_every_flow_in_dtl_validates():
    pipes = sorted((REPO / "dtl").glob("*.conf.json"))
    assert pipes, "dtl/ has no pipe configs"
    for path in pipes:
        doc = json.loads(path.read_text(encoding="utf-8"))
        errors = [e.message for e in PIPE_V.iter_errors(doc)]
        assert not errors, (path.name, errors[:3])
        transforms = doc["transform"] if isinstance(doc["transform"], list) else [doc["transform"]]
        for t in transforms:
            if t.get("type") == "dtl":
                assert RULES_V.is_valid(t["rules"]), path.name


@pytest.mark.parametrize(
    "rules",
    [
        {"rules": []},                                     # no default
        {"default": {"add": 1}},                           # a rule is a list
        {"default": [["ad", "x", 1]]},                     # unknown transform
        {"default": [["add", "x"]]},                       # transform arity
        {"default": [["add", "x", ["uper", "_S.x"]]]},     # unknown function
        {"default": [["add", "x", ["upper"]]]},            # function arity
        {"default": [["add", "x", [1, 2]]]},               # a list must start with a name
        {"default": [["add", "x", ["apply", 5, "_S.y"]]]},  # RULE_ID is a string
        {"default": [["if", ["eq", 1, 1], "not a transform"]]},
        {"default": ["add"]},
    ],
)
def test_invalid_rules_are_rejected(rules):
    assert not RULES_V.is_valid(rules)


def test_literal_and_comment_take_any_json():
    assert RULES_V.is_valid({"default": [["comment", {"x": [1, 2]}, [1]],
                                         ["add", "x", ["literal", [1, "_S.x", ["nope"]]]]]})


def test_invalid_pipes_are_rejected():
    good = {"_id": "p", "type": "pipe", "transform": {"type": "dtl", "rules": {"default": [["copy", "*"]]}}}
    assert PIPE_V.is_valid(good)
    assert PIPE_V.is_valid({**good, "transform": [good["transform"], {"type": "emit_children"}]})
    assert not PIPE_V.is_valid({**good, "type": "system"})
    assert not PIPE_V.is_valid({"type": "pipe"})                                    # no _id
    assert not PIPE_V.is_valid({**good, "transform": {"type": "dtl"}})              # dtl without rules
    assert not PIPE_V.is_valid({**good, "transform": {"type": "dtl", "rules": {"default": [["ad", 1]]}}})
    chained = {"type": "chained", "transforms": [{"type": "dtl", "rules": {"x": []}}]}
    assert not PIPE_V.is_valid({**good, "transform": chained})
