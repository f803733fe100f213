"""Bad input to the public API ends in a DtlError with a stable code, never
another exception type."""

from __future__ import annotations

import pytest

import dtlpy

CASES = [
    ("rules are not a dict", lambda: dtlpy.compile(None), "malformed-rules"),
    ("a rule is not a list", lambda: dtlpy.compile({"default": "x"}), "malformed-rules"),
    ("a transform is not a list", lambda: dtlpy.compile({"default": [None]}), "malformed-transform"),
    ("NaN is not JSON", lambda: dtlpy.evaluate(float("nan")), "malformed-expression"),
    ("an expression of a Python object", lambda: dtlpy.evaluate(object()), "malformed-expression"),
    ("an entity that is not a dict", lambda: dtlpy.compile({"default": [["copy", "*"]]}).transform("x"), "invalid-entity"),
    ("run over something not iterable", lambda: list(dtlpy.compile({"default": []}).run(None)), "invalid-argument"),
    ("a pipe path that is not a path", lambda: dtlpy.load_pipe(123), "invalid-argument"),
    ("a missing pipe file", lambda: dtlpy.load_pipe("/nonexistent/pipe.conf.json"), "file-not-found"),
    ("pipe settings that are not a dict", lambda: dtlpy.compile({"default": []}, pipe="x"), "invalid-argument"),
    ("datasets that are not a dict", lambda: dtlpy.compile({"default": []}, datasets=[1]), "invalid-argument"),
    ("a clock that is not a time", lambda: dtlpy.compile({"default": []}, now="garbage"), "invalid-argument"),
    ("a seed that is not a number", lambda: dtlpy.compile({"default": []}, seed=[1]), "invalid-argument"),
]


@pytest.mark.parametrize("make", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_dtl_error(make):
    code = dict((id(c[1]), c[2]) for c in CASES)[id(make)]
    with pytest.raises(dtlpy.DtlError) as info:
        make()
    assert info.value.code == code
