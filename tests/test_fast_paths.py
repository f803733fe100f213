"""The speed-ups must give exactly what the plain implementations give."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dtlpy
from dtlpy.functions import math as dtl_math
from dtlpy.values import decimal_value


_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e16, max_value=1e16),
    # Short decimals: the values where ties and short reprs happen.
    st.builds(lambda i, k: i / 10**k, st.integers(-10**13, 10**13), st.integers(0, 8)),
)


@given(_floats, st.integers(1, 15))
def test_float_rounding_fast_path_agrees_with_decimal_rounding(n, digits):
    with localcontext(prec=100):
        exact = decimal_value(Decimal(repr(n)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN))
    fast = dtl_math._round_float_text(n, digits)
    assert fast is None or fast == exact, (n, digits, fast, exact)


def test_float_rounding_ties_take_the_exact_path():
    # 2.675 is stored as 2.67499999...; its repr "2.675" is a tie at 2 digits.
    assert dtl_math._round_float_text(2.675, 2) is None
    assert dtlpy.evaluate(["round", 2, 2.675]) == "~f2.68"
    assert dtlpy.evaluate(["round", 1, 0.25]) == "~f0.2"
    assert dtlpy.evaluate(["round", 1, -0.35]) == "~f-0.4"
    # A tie just inside the fast path's range still takes the exact path.
    assert dtl_math._round_float_text(99999999.95, 1) is None
    assert dtlpy.evaluate(["round", 1, 99999999.95]) == "~f100000000.0"
    # Fast and exact paths through a whole rule (generated code) agree too.
    t = dtlpy.compile({"default": [["add", "_id", "x"], ["add", "r", ["round", 1, "_S.v"]]]})
    assert [t.transform({"v": v})[0]["r"] for v in (0.25, 2.675, 0.05, 1.2345)] == ["~f0.2", "~f2.7", "~f0.0", "~f1.2"]


_RULES = {
    "default": [
        ["add", "_id", ["concat", "x-", ["string", "_S.id"]]],
        ["add", "flag", ["not", "_S.a", "_S.b"]],
        ["add", "either", ["or", "_S.a", "_S.b"]],
        ["add", "d", ["dict", "k", "_S.a", "k", "_S.b"]],
        ["add", "n", ["ni", "ns", "_S.s"]],
        ["if", ["is-not-null", "_S.a"], ["add", "pick", ["if", "_S.b", "_S.a", "_S.s"]], ["add", "pick", "none"]],
        ["add", "deep", "_S.nested.x"],
        ["add", "l", ["list", "_S.a", ["lower", "_S.s"], ["upper", "_S.s"]]],
        ["add", "nulls", ["list", ["is-null", "_S.a"], ["is-not-null", "_S.b"]]],
        ["add", "str", ["string", "_S.a"]],
        ["add", "nis", ["ni", "ns", ["string", "_S.id"]]],
        ["add", "joined", ["join", ",", "_S.s"]],
        ["add", "r", ["round", 2, "_S.f"]],
        ["add", "code", ["case-eq", "_S.s", "a", "A", "b", 2, "~:q", "typed", "other"]],
        ["add", "walked", ["lower", "_S.nested.x"]],
    ]
}

# Whole default rules that need no context: the generated entry function
# (codegen.generate_entry) builds the target as one dict display.
_ENTRY_RULES = [
    _RULES,
    # No leading "add _id": the target starts with the source's _id.
    {"default": [["add", "n", ["ni", "ns", "_S.s"]], ["comment", "x"], ["add", "_id", ["string", "_S.id"]]]},
    # A target read ends the display; later steps are statements.
    {"default": [["add", "_id", "_S.s"], ["add", "a", "_S.a"], ["add", "again", "_T.a"],
                 ["if", ["is-null", "_S.b"], ["add", "b", "none"]]]},
    # _id last: its value replaces the inherited one, in the first position.
    {"default": [["add", "x", "_S.a"], ["add", "_id", ["lower", "_S.s"]]]},
    # Leading copies: "_id" is what the target starts with; "*" unpacks the source.
    {"default": [["copy", "_id"], ["add", "n", ["lower", "_S.s"]], ["copy", "_id"]]},
    {"default": [["copy", "*"], ["add", "_id", ["string", "_S.id"]], ["add", "a", ["is-null", "_S.a"]]]},
    {"default": [["add", "_id", ["string", "_S.id"]], ["copy", "*"], ["add", "x", "_T.s"]]},
    # A tested path is read once and its value reused in the branches.
    {"default": [["add", "d", ["if", ["is-null", "_S.a"], "", "_S.a"]],
                 ["add", "e", ["if", "_S.b", ["list", "_S.b", "_S.a"],
                               ["if", ["is-not-null", "_S.nested.x"], ["upper", "_S.nested.x"], "_S.b"]]]]},
]

_values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3), st.just([]), st.just([None]),
    st.lists(st.one_of(st.none(), st.booleans(), st.text(max_size=2)), max_size=3),
    st.just("~t2020-01-01"), st.just("~:a:b"),
)


# copy "_id" after an add of _id is not a no-op: this one is not an entry.
_AFTER_ID = {"default": [["add", "_id", "_S.s"], ["copy", "_id"], ["add", "b", "_S.b"]]}


@given(
    st.fixed_dictionaries(
        {
            "id": st.one_of(st.integers(0, 9), st.text(max_size=2), st.just("~:x:y")),
            "a": _values,
            "b": _values,
            "s": st.one_of(_values, st.lists(st.one_of(st.text(max_size=2), st.integers(0, 3), st.just("~:q")), max_size=3)),
            "f": st.one_of(st.none(), st.integers(-5, 5), st.just(2.675), st.just(0.125), _floats, st.just("~f1.005")),
        },
        optional={"nested": st.one_of(_values, st.fixed_dictionaries({"x": _values}), st.lists(st.fixed_dictionaries({"x": _values}), max_size=2))},
    )
)
def test_generated_rule_agrees_with_closures(entity):
    for rules in [*_ENTRY_RULES, _AFTER_ID]:
        for source in (entity, {**entity, "_id": entity["id"]}, {"_id": "e", **entity}):
            fast = dtlpy.Transform(rules, fast=True)
            reference = dtlpy.Transform(rules, fast=False)

            def outcome(t):
                try:
                    return json.dumps(t.transform(source))  # key order counts too
                except dtlpy.DtlError as e:
                    return ("error", e.code, e.pointer, e.entity_id)

            assert outcome(fast) == outcome(reference), rules


def test_context_free_default_rules_get_the_entry_function():
    from dtlpy.compiler import Compiler  # noqa: F401  (the entry lives on the default RuleRef)

    for rules in _ENTRY_RULES:
        t = dtlpy.Transform(rules, fast=True)
        assert t.transform.__code__.co_filename.startswith("<dtl entry"), rules
    # A closure step (a copy that is not a no-op or "*"), a trigger or the
    # closure path: the general hot path.
    for rules in ({"default": [["copy", "a*"]]}, _AFTER_ID):
        assert not dtlpy.Transform(rules).transform.__code__.co_filename.startswith("<dtl")
    assert not dtlpy.Transform(_RULES, fast=False).transform.__code__.co_filename.startswith("<dtl")
    triggered = dtlpy.Transform(_RULES, trigger_on={"key": "s", "value": "a*"})
    assert not triggered.transform.__code__.co_filename.startswith("<dtl")
    assert triggered.transform({"_id": "z", "s": "b"}) == [{"_id": "z", "s": "b"}]


def test_the_entry_function_hands_odd_entities_to_the_general_path():
    t = dtlpy.Transform(_ENTRY_RULES[1])
    assert t.transform({"s": "a", "id": 1}) == [{"n": "~:ns:a", "_id": "1"}]  # no _id to inherit
    assert t.transform({"_id": "0", "s": "a", "id": 1}) == [{"_id": "1", "n": "~:ns:a"}]
    with pytest.raises(dtlpy.DtlError) as e:
        t.transform({"_id": "0", "s": "a", "id": None})  # _id becomes null
    assert e.value.code == "missing-id" and e.value.entity_id == "0"
    with pytest.raises(dtlpy.DtlError) as e:
        t.transform(["not", "an", "entity"])
    assert e.value.code == "invalid-entity"
    assert dtlpy.Transform(_ENTRY_RULES[1], id_required=False).transform({"s": "a", "id": None}) == []


def test_pathological_wildcards_finish_quickly():
    """Patterns with many stars match by automaton, never by exponential backtracking."""
    import time

    text = "a" * 3000
    pattern = "*a*a*a*a*a*a*a*a*a*a*b"
    started = time.process_time()
    assert dtlpy.evaluate(["matches", pattern, text]) is False
    rules = {"default": [["add", "_id", "x"], ["copy", pattern]]}
    assert dtlpy.compile(rules).transform({text: 1, text + "b": 2}) == [{"_id": "x", text + "b": 2}]
    ni = dtlpy.compile(rules, pipe={"namespaced_identifiers": True, "namespaces": {"property": "p"}})
    out = ni.transform({"x:" + text: 1, "x:" + text + "b": 2})[0]
    assert "x:" + text not in out and out["x:" + text + "b"] == 2
    # Generous bound: the automaton takes milliseconds; backtracking would take years.
    assert time.process_time() - started < 5


@given(st.text(alphabet="ab:*?", max_size=8), st.text(alphabet="ab:", max_size=10), st.booleans())
def test_wildcard_automaton_agrees_with_regex(pattern, text, colon_ok):
    import re

    from dtlpy import wildcards

    toks = wildcards.tokens(pattern, colon_ok)
    expected = re.fullmatch(wildcards._regex(toks), text, re.DOTALL) is not None
    assert wildcards._automaton(toks)(text) == expected
    assert wildcards.compile_tokens(toks)(text) == expected


def test_a_compiled_transform_pickles_and_runs_the_same():
    import pickle

    t = dtlpy.compile(_RULES, now="~t2024-01-01T00:00:00Z")
    again = pickle.loads(pickle.dumps(t))
    entity = {"id": 3, "a": True, "b": None, "s": "Hello", "f": 2.675}
    assert again.transform(entity) == t.transform(entity)
    t.last_stop = "filter"
    assert t.transform_for_sink(entity)[-1]["_id"] == "x-3"  # last_stop is reset per call


def test_a_fallback_to_the_closure_path_keeps_the_inherited_id():
    # join over a list holding a number makes the generated code raise and
    # re-run the rule on the closure path, which must start from the same
    # target: the source's _id (and no duplicate created entities).
    rules = {"default": [["create", {"_id": "c"}], ["add", "tags", ["join", ",", "_S.tags"]]]}
    for fast in (True, False):
        t = dtlpy.Transform(rules, fast=fast)
        assert t.transform({"_id": "a", "tags": ["x", 1]}) == [{"_id": "c"}, {"_id": "a", "tags": "x"}]
    applied = {"default": [["add", "kids", ["apply", "kid", "_S.kids"]]],
               "kid": [["add", "t", ["join", ",", "_S.tags"]]]}
    assert dtlpy.compile(applied).transform({"_id": "p", "kids": [{"_id": "k", "tags": ["y", 2]}]}) == [
        {"_id": "p", "kids": [{"t": "y"}]}
    ]


def test_a_default_rule_that_is_also_applied_still_works_on_the_fast_path():
    # "default" applied to itself gets the general prologue (non-dict _S, created entities).
    rules = {"default": [["add", "n", ["apply", "default", "_S.sub"]], ["create", {"_id": "c"}]]}
    for fast in (True, False):
        out = dtlpy.Transform(rules, fast=fast).transform({"_id": "a", "sub": [1, {"sub": None}]})
        assert out == [{"_id": "c"}, {"_id": "c"}, {"_id": "c"}, {"_id": "a", "n": [{"n": None}, {"n": None}]}], out
