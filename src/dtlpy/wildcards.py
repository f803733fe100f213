"""Wildcard patterns (``*`` any run, ``?`` one character) that match in
linear-ish time, whatever the pattern.

A regex such as ``.*a.*a.*a.*b`` backtracks exponentially on ``"aaaa..."``,
and rule files are data that anyone can write, so patterns with more than
one ``*`` are matched by simulating the pattern's automaton instead: the set
of pattern positions reachable after each character, O(len(text) *
len(pattern)) at worst. Patterns with at most one ``*`` cannot blow up and
use a compiled regex (faster in C).

In namespaced-identifier mode the wildcards of the identifier part must not
match a colon; a pattern is a list of tokens that says so per token.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

# Token kinds: (LITERAL, char), (ONE, colon_ok), (ANY_RUN, colon_ok).
LITERAL, ONE, ANY_RUN = 0, 1, 2

Token = tuple[int, object]


def tokens(pattern: str, colon_ok: bool = True) -> list[Token]:
    """Tokens of a wildcard pattern; ``colon_ok=False`` keeps ``*``/``?`` off colons."""
    out: list[Token] = []
    for ch in pattern:
        if ch == "*":
            if not (out and out[-1] == (ANY_RUN, colon_ok)):  # "**" is "*"
                out.append((ANY_RUN, colon_ok))
        elif ch == "?":
            out.append((ONE, colon_ok))
        else:
            out.append((LITERAL, ch))
    return out


def literal_tokens(text: str) -> list[Token]:
    return [(LITERAL, ch) for ch in text]


def compile_tokens(toks: list[Token]) -> Callable[[str], bool]:
    """A predicate: does the whole text match the tokens?"""
    runs = sum(1 for kind, _ in toks if kind == ANY_RUN)
    if runs == 0 and all(kind == LITERAL for kind, _ in toks):
        text = "".join(ch for _, ch in toks)  # type: ignore[misc]
        return text.__eq__
    if runs <= 1:
        rx = re.compile(_regex(toks), re.DOTALL)
        fullmatch = rx.fullmatch
        return lambda s: fullmatch(s) is not None
    return _automaton(toks)


def _regex(toks: list[Token]) -> str:
    parts = []
    for kind, arg in toks:
        if kind == LITERAL:
            parts.append(re.escape(arg))  # type: ignore[arg-type]
        elif kind == ONE:
            parts.append("." if arg else "[^:]")
        else:
            parts.append(".*" if arg else "[^:]*")
    return "".join(parts)


def _automaton(toks: list[Token]) -> Callable[[str], bool]:
    n = len(toks)

    def closure(states: set[int]) -> set[int]:
        # An ANY_RUN may match nothing: a state before it also stands after it.
        out = set(states)
        for j in sorted(states):
            while j < n and toks[j][0] == ANY_RUN:
                j += 1
                out.add(j)
        return out

    start = frozenset(closure({0}))

    def match(text: str) -> bool:
        states = start
        for ch in text:
            nxt: set[int] = set()
            for j in states:
                if j == n:
                    continue
                kind, arg = toks[j]
                if kind == LITERAL:
                    if arg == ch:
                        nxt.add(j + 1)
                elif arg or ch != ":":
                    nxt.add(j + 1 if kind == ONE else j)
            if not nxt:
                return False
            states = closure(nxt)
        return n in states

    return match


@lru_cache(maxsize=512)
def compile_wildcard(pattern: str) -> Callable[[str], bool]:
    """A predicate for one plain wildcard pattern (cached).

    >>> compile_wildcard("a*p*a")("alpaca"), compile_wildcard("?b")("abc")
    (True, False)
    """
    return compile_tokens(tokens(pattern))
