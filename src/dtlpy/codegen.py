"""Generate one Python function per rule, for speed (fastjsonschema's idea).

The closure compiler (``compiler.py``) is the reference: it is complete and
gives precise error locations. This module builds, on top of it, a *fast
path* for each rule: a single generated Python function in which the hot
cases are written out inline — ``add`` with a constant name becomes
``T[K[0]] = ...``, a path ``_S.a`` becomes ``S.get(K[1])``, a call to an
eager built-in becomes a direct call of its implementation — and anything
else calls the closure the compiler made for it.

Safety: rule values never become Python source. Every constant, property
name and key is passed in as an argument ``K0``, ``K1``, ... of the factory
that builds the rule function (so they are closure cells, fast to read);
the generated text consists only of names chosen here.

Typed values: a plain string is told from a typed one (``~t...``, ``~:...``)
by ``x < '~'``, one comparison: a string that sorts before ``"~"`` cannot
start with it. Strings starting with a character after ``"~"`` (non-ASCII
letters) fail the test too and take the built-in, which is exact, only slower.

Errors: the generated function does no bookkeeping of where it is. When a
Python error, or a DtlError that does not know its location yet, comes out
of it, the rule is run again from a clean target by the closure path, which
raises the error with its exact JSON Pointer (or, should the fast path ever
disagree with the reference, gives the reference result). Located errors
pass straight through, so a failure deep inside nested ``apply`` calls is
never retried once per level.
"""

from __future__ import annotations

from typing import Any

from .compiler import Compiler, Stop, execute, is_const, pointer
from .context import initial_target
from .errors import DtlError
from .functions.core import case_eq_matcher
from .paths import is_path, split_path, walk

# Inline these constants as Python literals (exact and safe); all else goes via K.
_LITERALS = {None: "None", True: "True", False: "False"}


class BoolSource(str):
    """Source text of an expression known to give True or False."""


def truthy_test(expr: str) -> str:
    """Inline DTL truthiness (values.truthy): false, null and [] are false."""
    if isinstance(expr, BoolSource):
        return expr
    return f"((_v := {expr}) is True or (_v is not None and _v is not False and _v != []))"


class _Gen:
    def __init__(self, c: Compiler) -> None:
        self.c = c
        self.consts: list[Any] = []
        self.strings: dict[str, str] = {}  # string constant -> its K name
        self.lines: list[str] = []
        self.temps = 0
        # Set when the code written so far calls a closure with ``ctx`` /
        # reads the target: the root entry (generate_entry) needs neither.
        self.uses_ctx = False
        self.reads_target = False
        # Paths whose value an enclosing expression already holds in a local.
        self.known: dict[str, str] = {}
        # How _S.key is read: S.get, or a local bound to it (the entry's G).
        self.source_get = "S.get"

    def closure_call(self, fn: Any) -> str:
        self.uses_ctx = True
        return f"{self.const(fn)}(ctx)"

    def const(self, value: Any) -> str:
        for lit, text in _LITERALS.items():
            if value is lit:
                return text
        if type(value) is int and -(2**31) < value < 2**31:
            return str(value)
        if type(value) is str:
            # One closure variable per distinct name or text: a generated
            # function copies all of them into its frame on every call.
            name = self.strings.get(value)
            if name is None:
                name = self.strings[value] = self._new_const(value)
            return name
        return self._new_const(value)

    def _new_const(self, value: Any) -> str:
        self.consts.append(value)
        return f"K{len(self.consts) - 1}"

    # ------------------------------------------------------------ expressions

    def expr(self, node: Any, ptr: str) -> str:
        c = self.c
        if type(node) is str and node in self.known:
            return self.known[node]
        if type(node) is str and is_path(node) and not c.ni_mode:
            text = self.path(node)
            if text is not None:
                return text
        fn = c.expr(node, ptr)
        if is_const(fn):
            return self.const(fn.value)  # type: ignore[attr-defined]
        if type(node) is list and node and type(node[0]) is str:
            entry = c.functions.get(node[0])
            args = node[1:]
            if entry is not None and entry.kind == "eager":
                parts = [self.expr(a, pointer(ptr, i + 1)) for i, a in enumerate(args)]
                impl = self.const(entry.impl)
                template = _INLINE.get(node[0])
                if template is not None:
                    inlined = template(self, impl, parts, args)
                    if inlined is not None:
                        return inlined
                return f"{impl}({', '.join(parts)})"
            if node[0] == "case-eq":
                inlined = self.case_eq_table(fn, args, ptr)
                if inlined is not None:
                    return inlined
            if node[0] == "if" and len(args) in (2, 3):
                # ["if", ["is-null", "_S.x"], default, "_S.x"] reads _S.x once:
                # the test evaluates it first, the branches reuse its local.
                subject = self.tested_path(args[0])
                if subject is not None:
                    a = self.temp()
                    self.known[subject] = f"({a} := {self.path(subject)})"
                cond = self.expr(args[0], pointer(ptr, 1))
                if subject is not None:
                    self.known[subject] = a
                then = self.expr(args[1], pointer(ptr, 2))
                other = self.expr(args[2], pointer(ptr, 3)) if len(args) == 3 else "None"
                if subject is not None:
                    del self.known[subject]
                return f"({then} if {truthy_test(cond)} else {other})"
            if node[0] == "list":
                parts = [self.expr(a, pointer(ptr, i + 1)) for i, a in enumerate(args)]
                return f"[{', '.join(parts)}]"
            if node[0] in ("and", "or", "not") and args:
                # Same as functions/logic.py: truthiness of each argument,
                # short-circuiting, a boolean result.
                tests = [truthy_test(self.expr(a, pointer(ptr, i + 1))) for i, a in enumerate(args)]
                joined = f" {'or' if node[0] == 'or' else 'and'} ".join(tests)
                return BoolSource(f"(not ({joined}))" if node[0] == "not" else f"({joined})")
            if node[0] == "dict" and args and len(args) % 2 == 0 and all(
                type(k) is str and not is_path(k) for k in args[0::2]
            ):
                # Constant string keys: a dict display (later keys win, as in dicts.py).
                parts = [
                    f"{self.const(args[i])}: {self.expr(args[i + 1], pointer(ptr, i + 2))}"
                    for i in range(0, len(args), 2)
                ]
                return "{" + ", ".join(parts) + "}"
            eager = getattr(fn, "eager", None)
            if eager is not None:
                # A special built-in that declared itself equal to a plain
                # function of some of its argument expressions.
                impl, arg_nodes = eager
                parts = [self.expr(a, p) for a, p in arg_nodes]
                template = _INLINE.get(node[0])
                if template is not None:
                    inlined = template(self, self.const(impl), parts, [a for a, _ in arg_nodes])
                    if inlined is not None:
                        return inlined
                return f"{self.const(impl)}({', '.join(parts)})"
        fn = getattr(fn, "inner", fn)
        return self.closure_call(fn)

    def tested_path(self, cond: Any) -> str | None:
        """The ``_S`` path a condition evaluates before anything else, if it
        is the path itself or ``is-null``/``is-not-null`` of it."""
        if type(cond) is list and len(cond) == 2 and cond[0] in ("is-null", "is-not-null"):
            entry = self.c.functions.get(cond[0])
            if entry is None or entry.kind != "eager":
                return None
            cond = cond[1]
        if type(cond) is not str or cond in self.known or self.c.ni_mode or not cond.startswith("_S."):
            return None
        return cond if is_path(cond) and self.path(cond) is not None else None

    def temp(self) -> str:
        """A fresh local name for a value used twice in one inlined expression."""
        self.temps += 1
        return f"_a{self.temps}"

    def case_eq_table(self, fn, args: list, ptr: str) -> str | None:
        """``case-eq`` with constant string keys and constant results: a dict
        lookup for plain strings; anything else goes to the closure (core.py)."""
        rest = args[1:]
        keys, results = rest[0:-1:2] if len(rest) % 2 else rest[0::2], rest[1::2]
        other = rest[-1] if len(rest) % 2 else None
        constant_value = lambda v: v is None or type(v) in (bool, int, float) or (type(v) is str and not is_path(v))
        if not all(type(k) is str and not is_path(k) for k in keys):
            return None
        if not all(constant_value(v) for v in results) or not constant_value(other):
            return None
        table: dict = {}
        for k, v in zip(keys, results):
            table.setdefault(k, v)
        subject = self.expr(args[0], pointer(ptr, 1))
        a = self.temp()
        return (
            f"({self.const(table)}.get({a}, {self.const(other)}) "
            f"if type({a} := {subject}) is str and {a} < '~' else {self.const(_case_eq_of(keys, results, other))}({a}))"
        )

    def path(self, text: str) -> str | None:
        try:
            var, keys = split_path(text)
        except ValueError:
            return None
        if var == "_S" and keys and keys[0] != "$ids":
            head = f"{self.source_get}({self.const(keys[0])})"
        elif var == "_T" and keys:
            self.reads_target = True
            head = f"T.get({self.const(keys[0])})"
        elif var == "_S" and not keys:
            return "S"
        elif var == "_T" and not keys:
            self.reads_target = True
            return "T"
        else:
            return None
        rest = tuple(keys[1:])
        if not rest:
            return head
        if len(rest) == 1:
            # _S.a.b: one dict lookup more when _S.a is a dict (paths.walk otherwise).
            b = self.temp()
            return f"({b}.get({self.const(rest[0])}) if type({b} := {head}) is dict else WALK({b}, {self.const(rest)}))"
        return f"WALK({head}, {self.const(rest)})"

    # ------------------------------------------------------------ transforms

    def steps(self, body: list, ptr: str, indent: str) -> None:
        if not body:
            self.lines.append(f"{indent}pass")
        for i, node in enumerate(body):
            self.step(node, pointer(ptr, i), indent)

    def step(self, node: Any, ptr: str, indent: str) -> None:
        c = self.c
        name = node[0] if type(node) is list and node and type(node[0]) is str else None
        if _is_builtin_transform(c, name):
            args = node[1:]
            if name == "comment":
                return
            if name == "add" and _is_plain_add(c, node):
                value = self.expr(args[1], pointer(ptr, 2))
                self.lines.append(f"{indent}T[{self.const(args[0])}] = {value}")
                return
            if name == "if" and len(args) in (2, 3):
                c.transform(node, ptr)  # validates exactly as the reference does
                cond = self.expr(args[0], pointer(ptr, 1))
                self.lines.append(f"{indent}if {truthy_test(cond)}:")
                self.branch(args[1], pointer(ptr, 2), indent + "    ")
                if len(args) == 3:
                    self.lines.append(f"{indent}else:")
                    self.branch(args[2], pointer(ptr, 3), indent + "    ")
                return
        fn = c.transform(node, ptr)
        self.lines.append(f"{indent}{self.closure_call(fn)}")

    def branch(self, node: Any, ptr: str, indent: str) -> None:
        if type(node) is list and node and type(node[0]) is str:
            self.step(node, ptr, indent)
        else:
            self.steps(node, ptr, indent)


# ---------------------------------------------------------------- inline cases
# Each template writes the common case of a built-in out inline and leaves
# every other case to the built-in itself (``impl``), so it cannot change
# what the built-in computes; tests/test_fast_paths.py compares both paths.


def _case_eq_of(keys: list, results: list, other: Any):
    """``case-eq`` with constant keys and results as a function of the
    subject's value (functions/core.py's matcher, without a context)."""
    match = case_eq_matcher(keys)
    return lambda value: other if (i := match(value)) is None else results[i]


def _inline_text_case(method: str):
    def template(g: _Gen, impl: str, parts: list[str], args: list) -> str | None:
        (x,) = parts
        a = g.temp()
        return f"({a}.{method}() if type({a} := {x}) is str and {a} < '~' else {impl}({a}))"

    return template


class _StringOf(str):
    """Source text of an inlined ``string`` call, remembering its argument
    (so ``ni`` over it can skip testing the result again)."""

    arg: str
    impl: str


def _inline_string(g: _Gen, impl: str, parts: list[str], args: list) -> str | None:
    (x,) = parts
    a, t = g.temp(), g.temp()
    text = _StringOf(
        f"({a} if ({t} := type({a} := {x})) is str and {a} < '~' "
        f"else str({a}) if {t} is int else {impl}({a}))"
    )
    text.arg, text.impl = x, impl
    return text


def _nullish(g: _Gen, x: str) -> str:
    # nulls.is_nullish written out: null, [] or a list starting with null.
    a = g.temp()
    return f"(({a} := {x}) is None or (type({a}) is list and (not {a} or {a}[0] is None)))"


def _inline_is_null(g: _Gen, impl: str, parts: list[str], args: list) -> str | None:
    return BoolSource(_nullish(g, parts[0]))


def _inline_is_not_null(g: _Gen, impl: str, parts: list[str], args: list) -> str | None:
    return BoolSource(f"(not {_nullish(g, parts[0])})")


def _inline_ni(g: _Gen, impl: str, parts: list[str], args: list) -> str | None:
    # ni with a constant namespace on one plain string (ni.ni_in_namespace).
    if len(args) != 2 or type(args[0]) is not str or is_path(args[0]):
        return None
    a = g.temp()
    prefix = g.const(f"~:{args[0]}:")
    inner = parts[1]
    if isinstance(inner, _StringOf):
        # ["ni", NS, ["string", X]], the usual way to make an identifier of a
        # number: a plain string or an int (whose digits need no test) is
        # prefixed directly; anything else goes through both built-ins.
        t = g.temp()
        return (
            f"({prefix} + {a} if ({t} := type({a} := {inner.arg})) is str and {a} < '~' "
            f"else {prefix} + str({a}) if {t} is int else {impl}({parts[0]}, {inner.impl}({a})))"
        )
    return f"({prefix} + {a} if type({a} := {inner}) is str and {a} < '~' else {impl}({parts[0]}, {a}))"


def _inline_round(g: _Gen, impl: str, parts: list[str], args: list) -> str | None:
    # math._round_float_text written out for a constant DIGITS: format the
    # float unless it is near a tie in decimal place DIGITS+1 or too large.
    if len(args) != 2 or type(args[0]) is not int or not 0 < args[0] < 16:
        return None
    from .functions.math import FAST_ROUND_LIMIT, TIE_BAND

    digits = args[0]
    a, s = g.temp(), g.temp()
    scale = g.const(10.0 ** (digits + 1))
    fmt = g.const(f"~f%.{digits}f")
    return (
        f"({fmt} % {a} if type({a} := {parts[1]}) is float"
        f" and -{FAST_ROUND_LIMIT!r} < ({s} := {a} * {scale}) < {FAST_ROUND_LIMIT!r}"
        f" and not {5.0 - TIE_BAND!r} < {s} % 10.0 < {5.0 + TIE_BAND!r}"
        f" else {impl}({parts[0]}, {a}))"
    )


def _inline_join(g: _Gen, impl: str, parts: list[str], args: list) -> str | None:
    # strings.join on a list of plain strings with a constant separator. Any
    # "~" in the result may be a typed value: the built-in decides. (A list
    # with non-strings makes str.join raise; the rule then runs on the
    # closure path, which gives the built-in's answer.)
    if type(args[0]) is not str or is_path(args[0]):
        return None
    a, j = g.temp(), g.temp()
    return (
        f"({j} if type({a} := {parts[1]}) is list and '~' not in ({j} := {parts[0]}.join({a}))"
        f" else {impl}({parts[0]}, {a}))"
    )


_INLINE = {
    "lower": _inline_text_case("lower"),
    "upper": _inline_text_case("upper"),
    "string": _inline_string,
    "is-null": _inline_is_null,
    "is-not-null": _inline_is_not_null,
    "round": _inline_round,
    "ni": _inline_ni,
    "join": _inline_join,
}


def _factory(g: _Gen, names: str, body: list[str], filename: str):
    """Compile ``def make(<names>, K0, K1, ...): <body>`` and return ``make``:
    the generated function's constants come in as closure variables."""
    consts = "".join(f", K{i}" for i in range(len(g.consts)))
    namespace: dict = {}
    exec(compile("\n".join([f"def make({names}{consts}):", *body]), filename, "exec"), namespace)
    return namespace["make"]


def generate_rule(
    c: Compiler, body: list, ptr: str, slow_steps: list, file: str | None, *, root: bool = False
):
    """A fast function ``run(ctx)`` for one rule, or None if it cannot be built.

    ``root``: the rule only ever runs as the transform's default rule, so
    ``_S`` is an entity (a dict) and nothing was created before it started.
    """
    g = _Gen(c)
    try:
        g.steps(body, ptr, "        ")
        if root:
            prologue = ["    S = ctx.S", "    T = ctx.T", "    created = 0"]
        else:
            prologue = [
                "    S = ctx.S",
                "    if type(S) is not dict:",
                "        return RETRY(ctx, len(ctx.env.created))",
                "    T = ctx.T",
                "    created = len(ctx.env.created)",
            ]
        make = _factory(g, "WALK, RETRY, STOP, DTLERROR", [
            "  def run(ctx):",
            *prologue,
            "    try:",
            *g.lines,
            "    except STOP:",
            "        raise",
            "    except DTLERROR as e:",
            "        if e.pointer is not None:",
            "            raise",
            "        return RETRY(ctx, created)",
            "    except Exception:",
            "        return RETRY(ctx, created)",
            "  return run",
        ], f"<dtl rule {ptr or '/'}>")
    except Exception:
        # RecursionError / SyntaxError ("too many nested parentheses") on
        # pathological rules, or a DtlError found while generating: the
        # closure path is complete and reports errors precisely; use it.
        return None

    def retry(ctx, created: int):
        # Back to the state the rule started from, then the closure path:
        # the root rule's target starts with the source's _id, an applied
        # rule's target starts empty; entities created meanwhile are dropped.
        target = ctx.T
        target.clear()
        if ctx.P is None and type(ctx.S) is dict:
            target.update(initial_target(ctx.S))
        del ctx.env.created[created:]
        execute(slow_steps, ctx, file)

    return make(walk, retry, Stop, DtlError, *g.consts)


def generate_entry(c: Compiler, body: list, ptr: str):
    """The whole per-entity function for a default rule that needs no context,
    or None.

    When every step of the root rule is an inline ``add`` or ``if`` (no
    closure, so no ``ctx``, no ``create``, no ``filter``), after a leading
    ``["copy", "*"]`` or ``["copy", "_id"]`` if any, the target can be
    built as one dict display and returned, with none of the bookkeeping a
    general rule needs. Anything unusual (not a dict, a missing ``_id``, an
    error, a value an inline case does not cover) goes to ``general``, the
    engine's full per-entity function, which runs the entity from the start.

    ``make(general)`` returns ``transform(entity, *, previous=None)``.
    """
    g = _Gen(c)
    g.source_get = "G"
    id_key = g.const("_id")
    head: list[tuple[str, str]] = []  # (key, value) of the leading adds: the dict display
    rest = 0
    try:
        for i, node in enumerate(body):
            step_ptr = pointer(ptr, i)
            name = node[0] if type(node) is list and node and type(node[0]) is str else None
            if not _is_builtin_transform(c, name) or name not in ("add", "comment", "copy"):
                break
            if name == "comment":
                rest = i + 1
                continue
            if name == "copy":
                if node[1:] == ["*"]:  # every source property: the source unpacked
                    head.append(("**", "S"))
                elif node[1:] == ["_id"] and not c.ni_mode and all(k != id_key for k, _ in head):
                    pass  # the target already holds the source's _id
                else:
                    break
                rest = i + 1
                continue
            if not _is_plain_add(c, node):
                break
            g.reads_target = False
            value = g.expr(node[2], pointer(step_ptr, 2))
            if g.reads_target:
                break  # needs the target built so far: a statement, below
            head.append((g.const(node[1]) if node[1] != "_id" else id_key, value))
            rest = i + 1
        for i in range(rest, len(body)):
            g.step(body[i], pointer(ptr, i), "            ")
        if g.uses_ctx:
            return None
        if not head or head[0][0] != id_key:
            # The target starts with the source's _id (context.initial_target).
            head.insert(0, (id_key, f"S[{id_key}]"))
        display = ", ".join(f"**{v}" if k == "**" else f"{k}: {v}" for k, v in head)
        make = _factory(g, "GENERAL, WALK", [
            "  def transform(S, *, previous=None):",
            "    if type(S) is dict:",
            "        G = S.get",
            "        try:",
            f"            T = {{{display}}}",
            *g.lines,
            f"            if type(T[{id_key}]) is str:",  # the display's first key
            "                return [T]",
            "        except Exception:",
            "            pass",
            "    return GENERAL(S, previous=previous)",
            "  return transform",
        ], f"<dtl entry {ptr or '/'}>")
    except Exception:
        return None  # as in generate_rule: the general path always works
    return lambda general: make(general, walk, *g.consts)


def _is_builtin_transform(c: Compiler, name: str | None) -> bool:
    entry = c.transforms.get(name) if name else None
    return entry is not None and entry.impl.__module__.startswith("dtlpy.transforms")


def _is_plain_add(c: Compiler, node: list) -> bool:
    """``["add", NAME, VALUE]`` with a constant, non-path NAME (what step() inlines)."""
    return len(node) == 3 and not c.ni_mode and type(node[1]) is str and not is_path(node[1])
