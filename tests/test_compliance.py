"""Language-neutral compliance suite: every ``tests/compliance/*.json`` file.

File format (one file per family)::

    {"family": "strings",
     "cases": [
       {"name": "upper of a list", "expr": ["upper", "_S.xs"],
        "source": {"xs": ["a", 1]}, "expected": ["A"]},
       {"name": "arity", "expr": ["upper"], "error": "arity"},
       {"name": "a rule", "rules": {"default": [["copy", "*"]]},
        "input": {"_id": "a"}, "expected": [{"_id": "a"}]}
     ]}

Case keys: ``expr`` (evaluated with ``source``/``target``/``previous``) or
``rules`` (compiled, then run on ``input``; ``expected`` is the list of
emitted entities). Optional: ``pipe``, ``datasets``, ``now``, ``seed``,
``doc`` (where the case comes from); for ``rules`` also ``id_required``. ``expected`` is compared exactly,
type included (``1`` is not ``1.0`` is not ``true``); ``error`` asserts a
DtlError with that code. ``approx: true`` allows float rounding.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import dtlpy

HERE = Path(__file__).parent / "compliance"


def _cases():
    for path in sorted(HERE.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for i, case in enumerate(data["cases"]):
            name = case.get("name") or json.dumps(case.get("expr", case.get("rules")))[:60]
            yield pytest.param(case, id=f"{path.stem}[{i}] {name}")


def _canonical(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _approx_equal(a, b):
    if type(a) is float or type(b) is float:
        return type(a) in (int, float) and type(b) in (int, float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if type(a) is list and type(b) is list:
        return len(a) == len(b) and all(_approx_equal(x, y) for x, y in zip(a, b))
    if type(a) is dict and type(b) is dict:
        return a.keys() == b.keys() and all(_approx_equal(a[k], b[k]) for k in a)
    return _canonical(a) == _canonical(b)


def _run(case):
    common = {k: case[k] for k in ("pipe", "datasets", "now", "seed") if k in case}
    if "rules" in case:
        extra = {"id_required": case["id_required"]} if "id_required" in case else {}
        # Run both the generated fast path and the closure (reference) path;
        # they must agree, value for value and error code for error code.
        results = []
        for fast in (True, False):
            try:
                t = dtlpy.Transform(case["rules"], fast=fast, **common, **extra)
                inputs = case["inputs"] if "inputs" in case else [case["input"]]
                out = []
                for entity in inputs:
                    out.extend(t.transform(entity, previous=case.get("previous")))
                results.append(("ok", _canonical(out), out))
            except dtlpy.DtlError as e:
                results.append(("error", e.code, e))
        (kind_fast, key_fast, value), (kind_ref, key_ref, _) = results
        assert (kind_fast, key_fast) == (kind_ref, key_ref), (
            f"fast path and reference path disagree: {results[0][:2]} vs {results[1][:2]}"
        )
        if kind_fast == "error":
            raise value
        return value
    return dtlpy.evaluate(
        case["expr"],
        case.get("source"),
        target=case.get("target"),
        previous=case.get("previous"),
        **common,
    )


@pytest.mark.parametrize("case", list(_cases()))
def test_compliance(case):
    if "error" in case:
        with pytest.raises(dtlpy.DtlError) as info:
            _run(case)
        assert info.value.code == case["error"], str(info.value)
        return
    assert "expected" in case, "a case needs 'expected' or 'error'"
    result = _run(case)
    if case.get("approx"):
        assert _approx_equal(result, case["expected"]), f"{result!r} != {case['expected']!r}"
    else:
        assert _canonical(result) == _canonical(case["expected"]), (
            f"\n got:      {_canonical(result)}\n expected: {_canonical(case['expected'])}"
        )


def test_every_builtin_has_a_case():
    """Each function and transform appears in at least one compliance case."""
    from dtlpy.functions import FUNCTIONS
    from dtlpy.transforms import TRANSFORMS

    used: set[str] = set()

    def collect(node):
        if isinstance(node, list):
            if node and isinstance(node[0], str):
                used.add(node[0])
            for n in node:
                collect(n)
        elif isinstance(node, dict):
            for v in node.values():
                collect(v)

    for path in HERE.glob("*.json"):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            collect(case.get("expr"))
            collect(case.get("rules"))
    missing = sorted((set(FUNCTIONS) | set(TRANSFORMS)) - used)
    assert not missing, f"built-ins without a compliance case: {missing}"
