"""Fixture inputs validate against their source schema, goldens against their target schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from dtlpy import qa
from dtlpy.docgen import load_flows

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = sorted((ROOT / "dtl" / "schemas").glob("*.schema.json"))
FLOWS = load_flows(ROOT / "dtl")
CASES = [(f, c) for f in FLOWS for c in qa.discover_cases(ROOT / "fixtures", f.pipe_id)]


def validator(schema):
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def errors(schema, value):
    return [f"{e.json_path}: {e.message}" for e in validator(schema).iter_errors(value)]


@pytest.mark.parametrize("path", SCHEMAS, ids=[p.name for p in SCHEMAS])
def test_schema_is_valid_draft_2020_12(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    own = [k for k in schema["properties"] if not k.startswith(("_", "$"))]
    assert len(own) >= 10, own


def test_five_schemas_and_every_pipe_names_two_of_them():
    names = {p.name[: -len(".schema.json")] for p in SCHEMAS}
    assert names == {"custompms-task", "custompms-customer", "custompms-project",
                     "customerp-project", "customerp-customer"}
    for f in FLOWS:
        assert f.source_schema is not None and f.target_schema is not None, f.pipe_id


def test_typed_strings_are_checked():
    task = next(f for f in FLOWS if f.pipe_id == "custompms-task-to-customerp-project").source_schema
    good = {"_id": "tsk_1", "id": "tsk_1", "title": "t", "status": "todo"}
    assert errors(task, good) == []
    assert errors(task, dict(good, startDate="2024-01-01"))            # no ~t tag
    assert errors(task, dict(good, startDate="~t2024-13-01"))          # month 13
    assert errors(task, dict(good, dueAt="~t2024-01-01T10:00:00"))     # Z is mandatory
    assert errors(task, dict(good, hourlyRate="~f1,5"))                # not a decimal
    assert errors(task, dict(good, status="Done"))                     # enum
    assert errors(task, dict(good, assignee={"email": "not-an-email"}))
    assert errors(task, dict(good, surprise=1))                        # no unknown properties


@pytest.mark.parametrize("flow,case", CASES, ids=[c.id for _, c in CASES])
def test_input_and_golden_match_their_schemas(flow, case):
    assert errors(flow.source_schema, case.input) == []
    for name, entities in case.datasets.items():
        assert isinstance(entities, list), name
    assert isinstance(case.expected, list)
    for entity in case.expected:
        assert errors(flow.target_schema, entity) == [], entity.get("_id")
