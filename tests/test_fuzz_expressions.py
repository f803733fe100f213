"""Property tests over the whole function and transform tables.

1. Random expressions built from ``dtlpy.functions.FUNCTIONS`` (every name,
   with an argument count inside its arity range; arguments drawn from
   literals, typed transit strings, paths and nested calls), evaluated
   against random entities: ``dtlpy.evaluate`` must return a JSON value or
   raise a ``DtlError`` that is not a crash in disguise.
2. Random rule documents from ``dtlpy.transforms.TRANSFORMS`` (and junk
   names and shapes): ``dtlpy.compile`` gives a Transform or a DtlError, and
   running the Transform on an entity gives entities or a DtlError.

What counts as a crash in disguise: the engine turns any stray Python
exception into a DtlError, so the code alone cannot tell a bug from a
refused argument. We count as crashes
- code ``internal-error`` (an exception escaped every guard), and
- a generic "cannot use its arguments" DtlError whose underlying exception
  is a programming error (AttributeError, NameError, KeyError, IndexError,
  AssertionError, UnboundLocalError) or MemoryError.

Exclusions (nothing is left out silently):
- ``sleep!`` takes part in the compile property but rules containing it are
  not run: it would sleep for the drawn number of seconds.
- Decimal literals with huge exponents (``~f1e999999999``) are not in the
  random pool because converting one to an integer can spin in C code that
  no timeout interrupts; they are checked in ``test_no_hang`` instead, each
  in a subprocess with a time limit.

Uses the Hypothesis profile from conftest.py (``ci`` by default).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import dtlpy
from dtlpy.functions import FUNCTIONS
from dtlpy.transforms import TRANSFORMS
from dtlpy.values import is_json_value

NOW = "~t2016-05-13T14:32:00.431Z"
BUG_EXCEPTIONS = (AttributeError, NameError, KeyError, IndexError, AssertionError, UnboundLocalError, MemoryError)
SECONDS_PER_EXAMPLE = 20

TYPED = [
    "~t2015-12-31", "~t2015-07-28T09:46:00.123456789Z", "~t0001-01-01T00:00:00Z",
    "~t9999-12-31T23:59:59.999999999Z", "~tnot-a-date", "~t2016-02-29T12:00:00Z",
    "~f1.50", "~f-0.0", "~f1e50", "~f-1e-30", "~fNaN", "~fInfinity", "~fabc", "~f12345678901234567890.123456789",
    "~:ns:id", "~:bar", "~:a:b:c", "~:", "~rhttp://example.org/x", "~rtel:+47-22-22-22-22", "~rtel:garbage",
    "~bYWJj", "~b!!notbase64", "~b", "~u531a379e-31bb-4ce1-8690-158dceb64be6", "~ubad", "~x-unknown-tag", "~",
]
WORDS = [
    "", "a", "hello", "Hello World", "1", "-17", "3.5", "0x1f", "true", "null", "æøå", "\u0000", " padded ",
    "2015-07-28T09:46:00Z", "2015-07-28", "28.07.2015", "%Y-%m-%d", "%d.%m.%Y %H:%M", "%z%Y", "%",
    "Europe/Oslo", "UTC", "Nowhere/Land", "NO", "US", "e164", "national", "day", "month", "year", "nanosecond",
    "+4722222222", "22225555", "murmur3", "$SECRET(x)", "*", "foo:*", "_id", "x", "a.b", "[1, 2]", '{"a": 1}',
    "http://example.org/", "ns:id", "\\d+", "(", "[", "{", "b'",
]
PATHS = ["_S.x", "_S.a", "_S.a.b", "_S._id", "_S.list", "_S.missing", "_T.x", "_T._id", "_.", "_", "_.a", "_S", "_P._S.x", "_R._S.a", "_B.x", "_S.$ids"]
INTS = st.one_of(
    st.integers(-1000, 1000),
    st.sampled_from([0, 1, -1, 2**31, 2**63, -(2**63), 10**18, 1438076760123450000, 10**30]),
)
FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64) | st.sampled_from([0.5, -0.0, 1e308, 1e-320, 2.5])
STRINGS = st.sampled_from(WORDS + TYPED) | st.text(max_size=6)
SCALARS = st.one_of(st.none(), st.booleans(), INTS, FLOATS, STRINGS, st.sampled_from(PATHS))

NAMES = sorted(FUNCTIONS)
TRANSFORM_NAMES = sorted(TRANSFORMS)


def _arg_counts(name: str):
    entry = FUNCTIONS[name]
    high = entry.max_args if entry.max_args is not None else entry.min_args + 3
    return st.integers(entry.min_args, min(high, entry.min_args + 3))


@st.composite
def calls(draw, children):
    """One call of a random function with an argument count within its arity
    (and now and then one outside it, to exercise the arity check)."""
    name = draw(st.sampled_from(NAMES))
    n = draw(_arg_counts(name))
    if draw(st.integers(0, 19)) == 0:
        n = max(0, n + draw(st.sampled_from([-1, 1])))
    return [name, *draw(st.lists(children, min_size=n, max_size=n))]


def _constants(children):
    return st.one_of(
        st.dictionaries(st.sampled_from(["a", "b", "_id", "x"]), children, max_size=3),
        st.lists(children, max_size=3).map(lambda xs: ["list", *xs]),
    )


EXPRESSIONS = st.recursive(
    SCALARS,
    lambda children: st.one_of(calls(children), calls(children), _constants(children)),
    max_leaves=12,
)

DATA = st.recursive(
    st.one_of(st.none(), st.booleans(), INTS, FLOATS, STRINGS),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "x", "list", "_id", "$ids"]), children, max_size=4),
    ),
    max_leaves=10,
)
ENTITIES = st.fixed_dictionaries(
    {"_id": st.sampled_from(["e1", "ns:e2"])},
    optional={"x": DATA, "a": DATA, "list": st.lists(DATA, max_size=4), "$ids": DATA},
)
DATASETS = {"people": [{"_id": "p1", "name": "Ada", "x": 1}, {"_id": "p2", "name": "Bob", "x": [1, 2]}]}


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def _crash(error: BaseException) -> str | None:
    """Why an exception is a crash, or None if it is a proper DtlError."""
    if not isinstance(error, dtlpy.DtlError):
        return f"non-DtlError escaped: {error!r}"
    if error.code == "internal-error":
        return f"internal error: {error}"
    cause = error.__cause__ or error.__context__
    if "cannot use its arguments" in error.message and isinstance(cause, BUG_EXCEPTIONS):
        return f"bug exception behind {error.code}: {cause!r}"
    return None


def _bounded(fn):
    """Run fn() with a wall-clock limit (interruptible Python code only)."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_EXAMPLE)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@given(expr=EXPRESSIONS, entity=ENTITIES)
def test_evaluate_returns_json_or_dtl_error(expr, entity):
    note(json.dumps(expr))
    try:
        value = _bounded(
            lambda: dtlpy.evaluate(expr, entity, target={"_id": "t", "x": 1}, datasets=DATASETS, now=NOW, seed=1)
        )
    except Timeout:
        pytest.fail(f"evaluation took over {SECONDS_PER_EXAMPLE}s: {json.dumps(expr)}")
    except Exception as e:  # noqa: BLE001 - the property is about which exceptions escape
        reason = _crash(e)
        assert reason is None, f"{json.dumps(expr)} on {json.dumps(entity)}: {reason}"
        return
    assert is_json_value(value), f"{json.dumps(expr)} returned a non-JSON value {value!r}"


TRANSFORM_CALLS = st.builds(
    lambda name, args: [name, *args],
    st.sampled_from(TRANSFORM_NAMES + ["no-such-transform", "upper"]),
    st.lists(EXPRESSIONS, max_size=3),
)
RULE_BODIES = st.lists(st.one_of(TRANSFORM_CALLS, TRANSFORM_CALLS, SCALARS), max_size=4)
RULES = st.one_of(
    st.fixed_dictionaries({"default": RULE_BODIES}, optional={"other": RULE_BODIES}),
    st.dictionaries(st.sampled_from(["default", "other", "x"]), RULE_BODIES | SCALARS, max_size=3),
    SCALARS,
)


@given(rules=RULES, entity=ENTITIES)
def test_compile_gives_transform_or_dtl_error(rules, entity):
    note(json.dumps(rules))
    try:
        t = dtlpy.compile(rules, datasets=DATASETS, now=NOW, seed=1)
    except Exception as e:  # noqa: BLE001
        reason = _crash(e)
        assert reason is None, f"compile {json.dumps(rules)}: {reason}"
        return
    assert isinstance(t, dtlpy.Transform)
    if "sleep!" in json.dumps(rules):
        return  # compiled, but not run: it would really sleep
    try:
        out = _bounded(lambda: t.transform(entity))
    except Timeout:
        pytest.fail(f"transform took over {SECONDS_PER_EXAMPLE}s: {json.dumps(rules)}")
    except Exception as e:  # noqa: BLE001
        reason = _crash(e)
        assert reason is None, f"run {json.dumps(rules)} on {json.dumps(entity)}: {reason}"
        return
    assert type(out) is list and all(type(x) is dict for x in out)
    assert is_json_value(out), f"{json.dumps(rules)} emitted non-JSON values {out!r}"


def test_every_function_is_reachable():
    """The generator draws from the live table; guard against an empty one."""
    assert len(NAMES) > 100 and "datetime-parse" in NAMES and "add" in TRANSFORM_NAMES


# Expressions that can hang in C code, so each runs in a child process.
HAZARDS = [
    ["integer", "~f1e999999999"],
    ["float", "~f1e999999999"],
    ["decimal", "1e999999999"],
    ["round", "~f1e999999999", 2],
    ["^", 10, 100000000000],
    ["pow", "~f1e999999", 2],
    ["ljust", "a", 1000000000000, "x"],
    ["*", "abc", 1000000000000],
    ["datetime", "~f1e999999999"],
    ["string", "~f1e999999999"],
    ["hex", "~f1e999999999"],
]


@pytest.mark.parametrize("expr", HAZARDS, ids=[json.dumps(h) for h in HAZARDS])
def test_no_hang(expr):
    code = (
        "import json, sys, dtlpy\n"
        "try:\n"
        "    v = dtlpy.evaluate(json.loads(sys.argv[1]))\n"
        "    assert dtlpy.values.is_json_value(v)\n"
        "except dtlpy.DtlError as e:\n"
        "    assert e.code != 'internal-error', str(e)\n"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, json.dumps(expr)], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{json.dumps(expr)} did not finish within 20s")
    assert proc.returncode == 0, proc.stderr[-2000:]
