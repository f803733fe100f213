"""DTL rules and expressions -> Python closures, once.

The compiler walks the rules JSON a single time. Every expression becomes a
closure ``f(ctx) -> value`` and every transform a closure ``f(ctx) -> None``;
running an entity is then only calling closures, never re-reading the JSON.
Unknown names, wrong arity and malformed rules are found here, with the JSON
Pointer of the offending fragment, before any data is touched.

Rule values never become Python source: constants are captured in closures
as the JSON values they are.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .context import Ctx
from .errors import DtlCompileError, DtlError, DtlRuntimeError, DtlTypeError
from .paths import is_path, lookup_ni, split_path, walk, walk_ni
from .registry import Builtin

Closure = Callable[[Ctx], Any]


class Stop(Exception):
    """Internal signal of ``filter``/``discard``: stop this rule application.

    Never escapes the public API: the rule runner turns it into "no target".
    """

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def constant(value: Any) -> Closure:
    """A closure returning a fixed value, marked so callers can fold it."""

    def const(ctx):
        return value

    const.is_const = True  # type: ignore[attr-defined]
    const.value = value  # type: ignore[attr-defined]
    return const


def is_const(fn: Closure) -> bool:
    return getattr(fn, "is_const", False)


def pointer(base: str, *parts: Any) -> str:
    """Extend a JSON Pointer, escaping ``~`` and ``/`` in keys."""
    out = base
    for p in parts:
        out += "/" + str(p).replace("~", "~0").replace("/", "~1")
    return out


class RuleRef:
    """A named rule, resolved after every rule is compiled (so rules may
    ``apply`` each other in any order, recursively)."""

    __slots__ = ("name", "steps", "run", "entry")

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list = []
        # run(ctx): the generated fast function, or the closure steps.
        self.run = None
        # For a root default rule that needs no context: entry(general) ->
        # the whole per-entity function (codegen.generate_entry), else None.
        self.entry = None


class Compiler:
    """Compiles one rules document.

    Attributes used by built-in compile hooks:
        ni_mode, property_ns, identity_ns: the pipe's namespace settings.
        file: the rules file, for error messages.
    """

    def __init__(
        self,
        functions: dict[str, Builtin],
        transforms: dict[str, Builtin],
        *,
        rule_names: set[str] | None = None,
        ni_mode: bool = False,
        property_ns: str = "pipe",
        identity_ns: str = "pipe",
        file: str | None = None,
        max_nesting: int = 200,
        fast: bool = True,
    ) -> None:
        self.functions = functions
        self.transforms = transforms
        self.rule_refs: dict[str, RuleRef] = {n: RuleRef(n) for n in (rule_names or ())}
        self.used_rules: set[str] = set()
        self.ni_mode = ni_mode
        self.property_ns = property_ns
        self.identity_ns = identity_ns
        self.file = file
        self.max_nesting = max_nesting
        self.fast = fast
        self._nesting = 0

    # ------------------------------------------------------------ errors

    def error(self, message: str, ptr: str, node: Any, code: str = "invalid-rules", hint=None):
        return DtlCompileError(
            message, code=code, pointer=ptr, file=self.file, fragment=node, hint=hint
        )

    # ------------------------------------------------------------ expressions

    def expr(self, node: Any, ptr: str) -> Closure:
        """Compile an expression to ``f(ctx) -> value``."""
        t = type(node)
        if t is str:
            if is_path(node):
                return self.path(node, ptr)
            return constant(node)
        if t is list:
            if not node:
                return constant([])
            head = node[0]
            if type(head) is not str:
                raise self.error(
                    "an expression list must start with a function name; "
                    'use ["list", ...] to build a list',
                    ptr,
                    node,
                    code="malformed-expression",
                )
            return self.call(head, node[1:], ptr, node)
        if t is float and not math.isfinite(node):
            raise self.error("NaN and infinity are not JSON numbers", ptr, node, code="malformed-expression")
        if t is dict or node is None or t in (bool, int, float):
            return constant(node)
        raise self.error(f"not a JSON value: {node!r}", ptr, node, code="malformed-expression")

    def call(self, name: str, args: list, ptr: str, node: Any) -> Closure:
        entry = self.functions.get(name)
        if entry is None:
            hint = None
            if name in self.transforms:
                hint = f"{name!r} is a transform; it can only stand directly in a rule's list"
            else:
                near = nearest(name, self.functions)
                if near:
                    hint = f"did you mean {near!r}?"
            raise self.error(
                f"unknown function {name!r}", ptr, node, code="unknown-function", hint=hint
            )
        self.check_arity(entry, args, ptr, node)
        self._nesting += 1
        if self._nesting > self.max_nesting:
            raise self.error("expression nested too deeply", ptr, node, code="too-deep")
        try:
            if entry.kind == "special":
                return entry.impl(self, args, ptr)
            arg_fns = [self.expr(a, pointer(ptr, i + 1)) for i, a in enumerate(args)]
            return self.eager_call(entry, arg_fns, ptr, node)
        finally:
            self._nesting -= 1

    def check_arity(self, entry: Builtin, args: list, ptr: str, node: Any) -> None:
        n = len(args)
        if n < entry.min_args or (entry.max_args is not None and n > entry.max_args):
            sig = f" (signature: {entry.name} {entry.signature})" if entry.signature else ""
            raise self.error(
                f"{entry.name!r} takes {entry.arity_text()} argument(s), got {n}{sig}",
                ptr,
                node,
                code="arity",
            )

    def eager_call(self, entry: Builtin, arg_fns: list[Closure], ptr: str, node: Any) -> Closure:
        """Wrap a plain function of values into a closure; fold constants."""
        impl = entry.impl
        name = entry.name
        file = self.file

        def wrap(exc: Exception) -> DtlError:
            if isinstance(exc, MemoryError):
                return DtlRuntimeError(
                    f"{name!r}: the result is too large", code="value-too-large", pointer=ptr,
                    file=file, fragment=node,
                )
            if isinstance(exc, RecursionError):
                return DtlRuntimeError(
                    f"{name!r}: value nested too deeply", code="too-deep", pointer=ptr, file=file,
                    fragment=node,
                )
            return DtlTypeError(
                f"function {name!r} cannot use its arguments: {exc}",
                pointer=ptr, file=file, fragment=node,
            )

        if entry.pure and all(is_const(f) for f in arg_fns):
            values = [f.value for f in arg_fns]  # type: ignore[attr-defined]
            try:
                return constant(impl(*values))
            except Exception:
                pass  # report it per entity at run time, with the entity _id

        n = len(arg_fns)
        if n == 0:

            def call(ctx):
                try:
                    return impl()
                except DtlError as e:
                    raise e.located(pointer=ptr, file=file, fragment=node)
                except Exception as e:
                    raise wrap(e) from None

        elif n == 1:
            (a,) = arg_fns

            def call(ctx):
                try:
                    return impl(a(ctx))
                except DtlError as e:
                    raise e.located(pointer=ptr, file=file, fragment=node)
                except Exception as e:
                    raise wrap(e) from None

        elif n == 2:
            a, b = arg_fns

            def call(ctx):
                try:
                    return impl(a(ctx), b(ctx))
                except DtlError as e:
                    raise e.located(pointer=ptr, file=file, fragment=node)
                except Exception as e:
                    raise wrap(e) from None

        elif n == 3:
            a, b, c = arg_fns

            def call(ctx):
                try:
                    return impl(a(ctx), b(ctx), c(ctx))
                except DtlError as e:
                    raise e.located(pointer=ptr, file=file, fragment=node)
                except Exception as e:
                    raise wrap(e) from None

        else:

            def call(ctx):
                try:
                    return impl(*[f(ctx) for f in arg_fns])
                except DtlError as e:
                    raise e.located(pointer=ptr, file=file, fragment=node)
                except Exception as e:
                    raise wrap(e) from None

        return call

    def guarded(self, fn: Closure, ptr: str, node: Any, name: str) -> Closure:
        """Wrap a special function's closure so stray Python errors become DtlErrors."""
        file = self.file

        def call(ctx):
            try:
                return fn(ctx)
            except DtlError as e:
                raise e.located(pointer=ptr, file=file, fragment=node)
            except Stop:
                raise
            except RecursionError:
                raise DtlRuntimeError(
                    f"{name!r}: nested too deeply", code="too-deep", pointer=ptr, file=file,
                    fragment=node,
                ) from None
            except MemoryError:
                raise DtlRuntimeError(
                    f"{name!r}: the result is too large", code="value-too-large", pointer=ptr,
                    file=file, fragment=node,
                ) from None
            except Exception as e:
                raise DtlTypeError(
                    f"function {name!r} cannot use its arguments: {e}",
                    pointer=ptr, file=file, fragment=node,
                ) from None

        # The generated fast path catches errors itself and re-runs the
        # closures to locate them, so it may call the unguarded closure.
        call.inner = fn  # type: ignore[attr-defined]
        return call

    def item_fn(self, node: Any, ptr: str) -> Callable[[Ctx, Any], Any]:
        """Compile a function-expression: ``g(ctx, item)`` evaluates it with ``_`` = item."""
        f = self.expr(node, ptr)
        if is_const(f):
            value = f.value  # type: ignore[attr-defined]
            return lambda ctx, item: value

        def with_item(ctx, item):
            old = ctx.item
            ctx.item = item
            try:
                return f(ctx)
            finally:
                ctx.item = old

        return with_item

    # ------------------------------------------------------------ paths

    def path(self, text: str, ptr: str) -> Closure:
        try:
            var, keys = split_path(text)
        except ValueError as e:
            raise self.error(str(e), ptr, text, code="invalid-path") from None
        base = self._variable(var, keys, text, ptr)
        # _R._S / _P._T ... were consumed by _variable; what is left are keys.
        getter, keys = base
        keys = tuple(keys)
        if not keys:
            return getter
        if self.ni_mode:
            ns = self.property_ns
            if keys[0] == "$ids" and var == "_S" and getter is _get_S:
                rest = keys[1:]
                identity = self.identity_ns
                return lambda ctx: walk_ni(_dollar_ids(ctx.S, True, identity), rest, ns) if rest else _dollar_ids(ctx.S, True, identity)
            return lambda ctx: walk_ni(getter(ctx), keys, ns)
        if keys[0] == "$ids" and getter is _get_S:
            rest = keys[1:]
            return lambda ctx: walk(_dollar_ids(ctx.S, False, ""), rest)
        if len(keys) == 1:
            (key,) = keys
            if getter is _get_S:

                def get_s(ctx):
                    s = ctx.S
                    if type(s) is dict:
                        return s.get(key)
                    return walk(s, keys)

                return get_s
            if getter is _get_T:
                return lambda ctx: ctx.T.get(key)
            if getter is _get_item:

                def get_item(ctx):
                    s = ctx.item
                    if type(s) is dict:
                        return s.get(key)
                    return walk(s, keys)

                return get_item
        return lambda ctx: walk(getter(ctx), keys)

    def _variable(self, var: str, keys: list[str], text: str, ptr: str):
        """Resolve the variable part of a path: returns (getter, remaining keys)."""
        if var == "_S":
            return _get_S, keys
        if var == "_T":
            return _get_T, keys
        if var == "_":
            return _get_item, keys
        if var == "_B":
            return (lambda ctx: ctx.env.bound or {}), keys
        if var in ("_R", "_P"):
            # Navigate contexts while the keys name context variables.
            steps = [var]
            i = 0
            while i < len(keys) and keys[i] in ("_S", "_T", "_P") and steps[-1] in ("_R", "_P"):
                if keys[i] == "_P" and steps[-1] == "_R":
                    break
                steps.append(keys[i])
                i += 1
            rest = keys[i:]

            def getter(ctx, steps=tuple(steps)):
                c = ctx
                value: Any = None
                for s in steps:
                    if s == "_R":
                        c = c.R
                        value = c.as_dict(with_parent=False)
                    elif s == "_P":
                        c = c.P if c is not None else None
                        if c is None:
                            return None
                        value = c.as_dict()
                    elif s == "_S":
                        return c.S if c is not None else None
                    elif s == "_T":
                        return c.T if c is not None else None
                return value

            return getter, rest
        raise self.error(f"unknown variable {var!r} in path {text!r}", ptr, text, code="invalid-path")

    # ------------------------------------------------------------ transforms

    def transform(self, node: Any, ptr: str) -> Closure:
        """Compile one transform call ``["name", args...]``."""
        if type(node) is not list or not node or type(node[0]) is not str:
            raise self.error(
                'a transform must be a list starting with its name, e.g. ["add", "x", 1]',
                ptr,
                node,
                code="malformed-transform",
            )
        name = node[0]
        entry = self.transforms.get(name)
        if entry is None:
            hint = None
            if name in self.functions:
                hint = f"{name!r} is an expression function; use it inside a transform such as add"
            else:
                near = nearest(name, self.transforms)
                if near:
                    hint = f"did you mean {near!r}?"
            raise self.error(f"unknown transform {name!r}", ptr, node, code="unknown-transform", hint=hint)
        self.check_arity(entry, node[1:], ptr, node)
        return entry.impl(self, node[1:], ptr)

    def transform_list(self, node: Any, ptr: str) -> Closure:
        """Compile THEN/ELSE bodies: one transform or a (possibly empty) list of them."""
        if type(node) is list and node and type(node[0]) is str:
            steps = [self.transform(node, ptr)]
            ptrs = [ptr]
            nodes = [node]
        elif type(node) is list:
            steps = [self.transform(n, pointer(ptr, i)) for i, n in enumerate(node)]
            ptrs = [pointer(ptr, i) for i in range(len(node))]
            nodes = list(node)
        else:
            raise self.error("expected a transform or a list of transforms", ptr, node, code="malformed-transform")
        rule = list(zip(steps, ptrs, nodes))
        file = self.file
        return lambda ctx: execute(rule, ctx, file)

    def rules(self, rules: Any, ptr: str) -> dict[str, RuleRef]:
        """Compile a whole rules dict; ``default`` is required."""
        if type(rules) is not dict:
            raise self.error("rules must be a JSON object of rule name -> list of transforms", ptr, rules, code="malformed-rules")
        if "default" not in rules:
            raise self.error('rules must have a "default" rule', ptr, rules, code="missing-default")
        for name in rules:
            self.rule_refs.setdefault(name, RuleRef(name))
        for name, body in rules.items():
            rptr = pointer(ptr, name)
            if type(body) is not list:
                raise self.error(f"rule {name!r} must be a list of transforms", rptr, body, code="malformed-rules")
            steps = []
            for i, node in enumerate(body):
                tptr = pointer(rptr, i)
                try:
                    steps.append((self.transform(node, tptr), tptr, node))
                except DtlError as e:
                    raise e.located(pointer=tptr, fragment=node)  # quote the whole step around it
            ref = self.rule_refs[name]
            ref.steps = steps
            ref.run = _slow_runner(steps, self.file)
        if self.fast:
            from .codegen import generate_entry, generate_rule

            for name, body in rules.items():
                ref = self.rule_refs[name]
                # "default" runs only at the root unless some apply uses it.
                root = name == "default" and "default" not in self.used_rules
                fast = generate_rule(self, body, pointer(ptr, name), ref.steps, self.file, root=root)
                if fast is not None:
                    ref.run = fast
                if root:
                    ref.entry = generate_entry(self, body, pointer(ptr, name))
        return self.rule_refs

    def rule(self, name: Any, ptr: str, node: Any) -> RuleRef:
        """Reference to a named rule (for ``apply``); unknown names fail here."""
        if type(name) is not str or name not in self.rule_refs:
            near = nearest(str(name), self.rule_refs)
            raise self.error(
                f"there is no rule named {name!r}",
                ptr,
                node,
                code="unknown-rule",
                hint=f"did you mean {near!r}?" if near else None,
            )
        self.used_rules.add(name)
        return self.rule_refs[name]


# ---------------------------------------------------------------- running


def _slow_runner(steps, file):
    return lambda ctx: execute(steps, ctx, file)


def execute(steps, ctx: Ctx, file: str | None = None) -> None:
    """Run compiled transform steps ``[(closure, pointer, node)]`` in order."""
    for fn, ptr, node in steps:
        try:
            fn(ctx)
        except (DtlError, Stop) as e:
            if isinstance(e, DtlError):
                e.located(pointer=ptr, file=file, fragment=node)
            raise
        except RecursionError:
            raise DtlRuntimeError(
                "rules or data nested too deeply", code="too-deep", pointer=ptr, file=file, fragment=node
            ) from None
        except Exception as e:
            raise DtlRuntimeError(
                f"transform {node[0]!r} failed: {e}", pointer=ptr, file=file, fragment=node
            ) from None


def apply_rule(ref: RuleRef, source: Any, parent: Ctx, file: str | None = None) -> Any:
    """Run a named rule with ``source`` as ``_S`` and a fresh ``_T``.

    Returns the target dict, or None when the rule filtered or discarded it.
    """
    env = parent.env
    env.depth += 1
    if env.depth > env.max_depth:
        env.depth -= 1
        raise DtlRuntimeError(
            f"apply of rule {ref.name!r} recursed more than {env.max_depth} levels",
            code="recursion-limit",
        )
    ctx = Ctx(source, {}, env, parent, parent.R)
    try:
        ref.run(ctx)
    except Stop:
        return None
    finally:
        env.depth -= 1
    return ctx.T


def _get_S(ctx):
    return ctx.S


def _get_T(ctx):
    return ctx.T


def _get_item(ctx):
    return ctx.item


def _dollar_ids(source: Any, ni_mode: bool, identity_ns: str) -> Any:
    """``_S.$ids``: the stored value, or the entity's own ``_id`` as an NI."""
    if type(source) is not dict:
        return None
    ids = source.get("$ids")
    if ids is not None:
        return ids
    ident = source.get("_id")
    if type(ident) is not str:
        return None
    if ni_mode and ":" not in ident:
        ident = f"{identity_ns}:{ident}"
    return ["~:" + ident]


def nearest(name: str, names) -> str | None:
    """The closest known name (for "did you mean" hints)."""
    import difflib

    found = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return found[0] if found else None


__all__ = ["Compiler", "Stop", "constant", "is_const", "pointer", "execute", "apply_rule", "lookup_ni"]
