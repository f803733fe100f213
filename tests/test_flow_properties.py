"""Property-based regression of the six flows, with entities generated from the JSON schemas.

The strategy builder below reads a schema and produces valid entities; the
``$defs`` types get value generators that know the transit encoding (real
calendar dates from 0001 to 9999, UTC datetimes with up to nanosecond
fractions, ``~f`` money). For every pipe:

- the output validates against the target schema;
- the same input gives the same output (a fresh compile each time);
- junk input raises nothing but ``DtlError``;
- forward then reverse gives back every synced property (see the round-trip
  tests for exactly which).

Example counts come from the Hypothesis profile (tests/conftest.py):
``ci`` (default, bounded) or ``nightly`` (``make nightly``).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dtlpy import DtlError, qa
from dtlpy.docgen import load_flows

ROOT = Path(__file__).resolve().parent.parent
FLOWS = {f.pipe_id: f for f in load_flows(ROOT / "dtl")}
SKIP = {"_updated", "_ts", "_deleted", "$ids"}  # bookkeeping; the tests set links themselves

# ------------------------------------------------------------------ strategies from schemas


def _date_text(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


DATES = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
DATETIMES = st.builds(
    lambda d, t, frac: "~t" + _date_text(d) + "T" + t.strftime("%H:%M:%S") + frac + "Z",
    DATES, st.times(), st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,9}", fullmatch=True)),
)
MONEY = st.builds(lambda n, f: f"~f{n}{f}", st.integers(-10**15 + 1, 10**15 - 1),
                  st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,4}", fullmatch=True)))
EMAIL = st.from_regex(r"[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True)
SPECIAL = {
    "date": DATES.map(lambda d: "~t" + _date_text(d)),
    "datetime": DATETIMES,
    "money": MONEY,
    "email": EMAIL,
}


def from_schema(sub, root):
    """A Hypothesis strategy for the values a (sub)schema accepts."""
    if "$ref" in sub:
        name = sub["$ref"].rsplit("/", 1)[-1]
        return SPECIAL[name] if name in SPECIAL else from_schema(root["$defs"][name], root)
    if "anyOf" in sub:
        return st.one_of([from_schema(b, root) for b in sub["anyOf"]])
    if "enum" in sub:
        return st.sampled_from(sub["enum"])
    t = sub.get("type")
    if isinstance(t, list):
        return st.one_of([from_schema(dict(sub, type=x), root) for x in t])
    if t == "null":
        return st.none()
    if t == "boolean":
        return st.booleans()
    if t == "integer":
        return st.integers(sub.get("minimum"), sub.get("maximum"))
    if t == "number":
        return st.one_of(st.integers(sub.get("minimum"), sub.get("maximum")),
                         st.floats(sub.get("minimum"), sub.get("maximum"), allow_nan=False))
    if t == "string":
        if "pattern" in sub:
            # fullmatch: Python's "$" would also allow a trailing newline, which
            # JSON Schema's ECMA-262 "$" does not.
            return st.from_regex(sub["pattern"], fullmatch=True).filter(lambda s: len(s) <= sub.get("maxLength", 10**6))
        return st.text(min_size=sub.get("minLength", 0), max_size=min(sub.get("maxLength", 40), 40))
    if t == "array":
        return st.lists(from_schema(sub.get("items", {}), root), max_size=3)
    if t == "object":
        props = {k: v for k, v in sub.get("properties", {}).items() if k not in SKIP}
        required = [k for k in sub.get("required", []) if k in props]
        return st.fixed_dictionaries(
            {k: from_schema(props[k], root) for k in required},
            optional={k: from_schema(v, root) for k, v in props.items() if k not in required},
        )
    return st.nothing()


def with_id(e):
    e = dict(e)
    if e.get("id") is None:
        e["id"] = "gen_" + str(abs(hash(json.dumps(e, sort_keys=True, default=str))) % 10**9)
    e["_id"] = str(e["id"])
    return e


def source_entities(flow):
    schema = flow.source_schema
    strat = from_schema(schema, schema)
    if flow.source_system == "Custompms":
        return strat.map(with_id)
    return strat.map(lambda e: {**e, "id": e.get("id") or 1}).map(lambda e: {**e, "_id": str(e["id"])})


def run(flow, entity, datasets=None):
    return qa.run_flow(flow, entity, datasets or {})


_VALIDATORS: dict = {}


def validate(flow, out):
    v = _VALIDATORS.get(flow.pipe_id)
    if v is None:
        v = _VALIDATORS[flow.pipe_id] = jsonschema.Draft202012Validator(
            flow.target_schema, format_checker=jsonschema.FormatChecker())
    for e in out:
        errs = [f"{x.json_path}: {x.message}" for x in v.iter_errors(e)]
        assert not errs, (errs, e)


# ------------------------------------------------------------------ every pipe

PIPES = sorted(FLOWS)


@pytest.mark.parametrize("pipe_id", PIPES)
def test_output_is_valid_and_deterministic(pipe_id):
    flow = FLOWS[pipe_id]

    @given(source_entities(flow))
    def check(entity):
        out = run(flow, entity)
        validate(flow, out)
        assert run(flow, json.loads(json.dumps(entity))) == out
        assert len(out) <= 1

    check()


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["~t2024-01-01", "~tnot-a-date", "~f1.5", "~fx", "~:a:b", "~rhttp://x/", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
FIELDS = st.sampled_from(["id", "title", "name", "status", "dueAt", "endDate", "startDate", "billable",
                          "hourlyRate", "projectId", "customerId", "assignee", "address", "postalAddress",
                          "number", "customerNumber", "projectNumber", "$ids", "category", "customer",
                          "mainProject", "projectManager", "owner", "type", "isPrivateIndividual",
                          "billingMethod", "budget", "fixedPrice", "currency", "_deleted"])


@pytest.mark.parametrize("pipe_id", PIPES)
def test_junk_raises_nothing_but_dtl_errors(pipe_id):
    flow = FLOWS[pipe_id]

    @given(st.dictionaries(FIELDS, JUNK, max_size=12), JUNK)
    def check(entity, junk_dataset_entity):
        entity = {**entity, "_id": "x1"}
        datasets = {"custompms-project": [junk_dataset_entity], "customerp-project": [junk_dataset_entity]}
        try:
            run(flow, entity, datasets)
        except DtlError:
            pass

    check()


# ------------------------------------------------------------------ round trips

IDS = st.integers(1, 2**53 - 1)
PMS_IDS = st.from_regex(r"[a-z]{2,4}_[0-9A-Za-z]{1,20}", fullmatch=True)


def same_decimal(a, b):
    if a is None or b is None:
        return a is b
    return Decimal(a[2:]) == Decimal(b[2:])


def erp_side(out, erp_id, own_ns, pms_id):
    """What Customerp holds after the insert/update: the forward output keyed
    by its Customerp id, linked back through $ids (as the global merge does)."""
    e = {k: v for k, v in out.items() if k != "_id"}
    return {**e, "_id": str(erp_id), "id": erp_id, "$ids": [f"~:{own_ns[1]}:{erp_id}", f"~:{own_ns[0]}:{pms_id}"]}


def link_datasets(pms_project, erp_project, pms_customer, erp_customer):
    fwd = {"custompms-project": [], "custompms-customer-to-customerp-customer": []}
    rev = {"customerp-project": [], "customerp-customer-to-custompms-customer": []}
    if pms_project:
        fwd["custompms-project"].append({"_id": pms_project, "id": pms_project, "$ids": [
            f"~:custompms-project:{pms_project}", f"~:customerp-project:{erp_project}"]})
        rev["customerp-project"].append({"_id": str(erp_project), "id": erp_project, "$ids": [
            f"~:customerp-project:{erp_project}", f"~:custompms-project:{pms_project}"]})
    if pms_customer:
        fwd["custompms-customer-to-customerp-customer"].append(
            {"_id": f"custompms-customer:{pms_customer}", "id": erp_customer})
        rev["customerp-customer-to-custompms-customer"].append(
            {"_id": f"customerp-customer:{erp_customer}", "id": pms_customer})
    return fwd, rev


def g(e, key):
    return (e or {}).get(key)


def round_trip(forward_id, reverse_id, entity, erp_id, fwd_ds, rev_ds, namespaces):
    out = run(FLOWS[forward_id], entity, fwd_ds)
    assert len(out) == 1
    back = run(FLOWS[reverse_id], erp_side(out[0], erp_id, namespaces, entity["id"]), rev_ds)
    assert len(back) == 1
    return back[0]


@given(source_entities(FLOWS["custompms-task-to-customerp-project"]), IDS, IDS, IDS)
def test_task_round_trip(task, erp_id, erp_project, erp_customer):
    """Task -> Customerp Project (TASK) -> Task gives back: id, key, title, description,
    status, startDate, projectId and customerId (when their records are linked), assignee,
    hourlyRate when billable (an unbilled rate is not sent), and dueAt as its UTC date at
    midnight (Customerp keeps dates only). Not synced back: priority, estimateHours,
    billable, parentTaskId, createdAt, updatedAt. Sub-tasks are filtered, so excluded."""
    task["parentTaskId"] = None
    fwd, rev = link_datasets(task.get("projectId"), erp_project, task.get("customerId"), erp_customer)
    back = round_trip("custompms-task-to-customerp-project", "customerp-project-to-custompms-task",
                      task, erp_id, fwd, rev, ("custompms-task", "customerp-project"))
    for key in ("id", "key", "title", "description", "status", "startDate", "projectId", "customerId", "assignee"):
        assert g(back, key) == g(task, key), key
    if task.get("billable") is True:
        assert same_decimal(back["hourlyRate"], task.get("hourlyRate"))
    due = task.get("dueAt")
    assert back["dueAt"] == (None if due is None else due[:12] + "T00:00:00Z")


@given(source_entities(FLOWS["custompms-customer-to-customerp-customer"]), IDS)
def test_customer_round_trip(customer, erp_id):
    """Customer -> Customerp Customer -> Customer gives back: id, number, name, type
    (company/person; internal customers are filtered, so excluded), status, email,
    phone, website, creditLimit, address (street, street2, postalCode, city, country)
    and organizationNumber when the address is in Norway (Customerp's field is the
    Norwegian register number). Not synced back: createdAt, updatedAt."""
    assume(customer["type"] != "internal")
    back = round_trip("custompms-customer-to-customerp-customer", "customerp-customer-to-custompms-customer",
                      customer, erp_id, {}, {}, ("custompms-customer", "customerp-customer"))
    for key in ("id", "number", "name", "type", "status", "email", "phone", "website"):
        assert g(back, key) == g(customer, key), key
    assert same_decimal(back.get("creditLimit"), customer.get("creditLimit"))
    address = customer.get("address")
    if address is None:
        assert back["address"] is None
    else:
        for key in ("street", "street2", "postalCode", "city", "country"):
            assert g(back["address"], key) == g(address, key), key
        if address.get("country") == "NO":
            assert back["organizationNumber"] == customer.get("organizationNumber")


@given(source_entities(FLOWS["custompms-project-to-customerp-project"]), IDS, IDS, IDS)
def test_project_round_trip(project, erp_id, erp_parent, erp_customer):
    """Project -> Customerp Project (PROJECT) -> Project gives back: id, projectNumber,
    name, description, status (all five values), startDate, endDate, billingMethod,
    budget when fixed price (an hourly budget is not a Customerp price), currency,
    parentProjectId and customerId (when linked), owner. Not synced back: tags,
    createdAt, updatedAt. Templates are filtered, so excluded."""
    project["isTemplate"] = False
    fwd, rev = link_datasets(project.get("parentProjectId"), erp_parent, project.get("customerId"), erp_customer)
    back = round_trip("custompms-project-to-customerp-project", "customerp-project-to-custompms-project",
                      project, erp_id, fwd, rev, ("custompms-project", "customerp-project"))
    for key in ("id", "projectNumber", "name", "description", "status", "startDate", "endDate",
                "billingMethod", "currency", "parentProjectId", "customerId", "owner"):
        assert g(back, key) == g(project, key), key
    if project["billingMethod"] == "fixed_price":
        assert same_decimal(back["budget"], project.get("budget"))


def test_task_and_project_never_collide():
    """A Task and a Project with the same Custompms id stay two Customerp Projects,
    and each reverse pipe takes only its own category."""
    task = {"_id": "ab_1", "id": "ab_1", "title": "T", "status": "todo"}
    proj = {"_id": "ab_1", "id": "ab_1", "name": "P", "status": "planned", "billingMethod": "hourly"}
    t = run(FLOWS["custompms-task-to-customerp-project"], task)[0]
    p = run(FLOWS["custompms-project-to-customerp-project"], proj)[0]
    assert t["_id"] != p["_id"] and (t["category"], p["category"]) == ("TASK", "PROJECT")
    for e in (t, p):
        erp = {**e, "_id": "77", "id": 77}
        to_task = run(FLOWS["customerp-project-to-custompms-task"], erp)
        to_proj = run(FLOWS["customerp-project-to-custompms-project"], erp)
        assert (len(to_task), len(to_proj)) == ((1, 0) if e is t else (0, 1))
