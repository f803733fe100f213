"""Golden outputs of the six Custompms <-> Customerp flows.

Each case under ``fixtures/<pipe>/<case>/`` runs its pipe on ``input.json``
(with ``datasets.json`` for links and lookups, the clock pinned) and must
reproduce ``expected.json`` byte for byte, in the format ``sesam update``
writes. ``pytest --snapshot-update tests/test_golden.py`` rewrites the
goldens for review in ``git diff``. On a mismatch the test prints a
deepdiff of the sesam-verify-normalised entities, so the change reads as
"root[0]['status']: 'ACTIVE' -> 'ON_HOLD'" instead of a wall of JSON.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from deepdiff import DeepDiff

from dtlpy import qa, verify
from dtlpy.docgen import load_flows

ROOT = Path(__file__).resolve().parent.parent
FLOWS = load_flows(ROOT / "dtl")
CASES = [(f, c) for f in FLOWS for c in qa.discover_cases(ROOT / "fixtures", f.pipe_id)]


def test_every_pipe_has_fixtures():
    assert len(FLOWS) == 6
    for f in FLOWS:
        names = [c.name for c in qa.discover_cases(ROOT / "fixtures", f.pipe_id)]
        assert len(names) >= 8, f.pipe_id
        assert "deleted" in names, f.pipe_id


def readable_diff(expected, actual) -> str:
    exp = verify.sort_entities(verify.normalize_entities(expected or []))
    act = verify.sort_entities(verify.normalize_entities(actual))
    return DeepDiff(exp, act, verbose_level=2).pretty() or "(no semantic difference: formatting only)"


@pytest.mark.parametrize("flow,case", CASES, ids=[c.id for _, c in CASES])
def test_golden(flow, case, snapshot):
    actual = qa.run_flow(flow, case.input, case.datasets)
    snapshot.snapshot_dir = case.path
    try:
        snapshot.assert_match(qa.golden_text(actual), "expected.json")
    except AssertionError:
        print(f"\n{case.id}: output differs from expected.json\n{readable_diff(case.expected, actual)}")
        raise
    if case.expected is not None and not snapshot._snapshot_update:
        ok, diff = verify.compare(case.expected, actual)
        assert ok, diff


def test_golden_detects_a_change_and_explains_it():
    flow, case = next((f, c) for f, c in CASES if c.name == "full-linked")
    actual = qa.run_flow(flow, case.input, case.datasets)
    changed = [dict(actual[0], status="ON_HOLD")]
    ok, diff = verify.compare(case.expected, changed)
    assert not ok and '-    "status": "ACTIVE"' in diff and '+    "status": "ON_HOLD"' in diff
    assert readable_diff(case.expected, changed) == (
        "Value of root[0]['status'] changed from \"ACTIVE\" to \"ON_HOLD\"."
    )


@pytest.mark.parametrize("flow", FLOWS, ids=[f.pipe_id for f in FLOWS])
def test_pipes_load_with_load_pipe_and_agree_with_the_qa_runner(flow):
    import dtlpy

    for case in qa.discover_cases(ROOT / "fixtures", flow.pipe_id):
        pipe = dtlpy.load_pipe(flow.path, datasets=case.datasets, now=qa.PINNED_NOW, seed=qa.PINNED_SEED)
        assert pipe.transform(case.input) == qa.run_flow(flow, case.input, case.datasets), case.id
