"""The rules walker behind ``dtlpy check`` (see :mod:`dtlpy.check` for the
list of findings): one pass over a rules document, no data, each problem a
:class:`Finding` with pointer, fragment and hint."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any

from .compiler import Compiler, is_const, nearest, pointer
from .errors import DtlError, mark_fragment
from .functions import FUNCTIONS
from .paths import is_path, split_path
from .schemaview import SchemaView
from .transforms import TRANSFORMS
from .values import truthy

__all__ = ["Finding", "RulesChecker", "align", "STRING_ARGS", "FUNCTION_ARGS"]

# Signature words naming arguments that must be strings: a constant of another
# type there can never work. RULE_ID must moreover be a constant.
STRING_ARGS = {
    "SEPARATOR", "FORMAT", "TIMEZONE", "FROM_TIMEZONE", "TO_TIMEZONE", "DATEPART", "NAMESPACE",
    "DATASET_ID", "VIA_DATASET_ID", "PATTERN", "CHARACTERS", "FILL_CHARACTER", "SAFE_CHARS",
    "DEFAULT_REGION", "PASSPHRASE", "PRIVATE_KEY", "PUBLIC_KEY", "MESSAGE",
}
# Signature words of function-expressions (evaluated with `_` bound).
FUNCTION_ARGS = {"FUNCTION", "DEFAULT", "KEY_FUNCTION", "VALUE_FUNCTION", "STRING_FUNCTION"}


@dataclass
class Finding:
    """One problem found by the checker."""

    severity: str  # "error" | "warning"
    code: str
    message: str
    file: str | None
    pointer: str
    fragment: Any = None
    hint: str | None = None
    context: Any = field(default=None, repr=False)  # enclosing transform step
    context_pointer: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "pointer": self.pointer,
            "fragment": self.fragment,
            "hint": self.hint,
        }

    def render(self) -> str:
        head = f"{self.file or '<rules>'}:{self.pointer or '/'}: {self.severity}[{self.code}]: {self.message}"
        if self.context is not None and self.context_pointer is not None and self.pointer.startswith(
            self.context_pointer
        ):
            line, marks = mark_fragment(self.context, self.pointer[len(self.context_pointer):])
        else:
            line, marks = mark_fragment(self.fragment)
        text = f"{head}\n    {line}\n    {marks}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


def align(signature: str, n: int) -> list[str] | None:
    """Signature words for the first arguments of a call with ``n`` arguments.

    Optional words (``X?``) are filled left to right as the count allows;
    after a repeated word (``X*``/``X+``) positions are unknown. None when the
    signature has groups or alternatives.

    >>> align("TIMEZONE? FORMAT VALUES", 2)
    ['FORMAT', 'VALUES']
    """
    tokens = signature.split()
    if not tokens or any(c in signature for c in "()|\""):
        return None
    if any(t.endswith(("*", "+")) for t in tokens):
        out = []
        for t in tokens:
            if t.endswith(("?", "*", "+")):
                break
            out.append(t)
        return out
    optional = n - sum(1 for t in tokens if not t.endswith("?"))
    out = []
    for t in tokens:
        if t.endswith("?"):
            if optional > 0:
                out.append(t[:-1])
                optional -= 1
        else:
            out.append(t)
    return out


class RulesChecker:
    """Checks one rules document (``{"default": [...], ...}``)."""

    def __init__(self, rules: Any, *, file: str | None, base: str = "", source: SchemaView | None = None,
                 target: SchemaView | None = None, ni_mode: bool = False, pipe: dict | None = None) -> None:
        self.rules = rules
        self.file = file
        self.base = base
        self.source = source
        self.target = target
        self.ni_mode = ni_mode
        self.pipe = pipe
        self.findings: list[Finding] = []
        self.applied: dict[str, list[str]] = {}  # rule name -> rules that apply it
        self.rule = "default"
        self.step: tuple[str, Any] = ("", None)
        self.compiler = Compiler(FUNCTIONS, TRANSFORMS, rule_names=set(rules) if isinstance(rules, dict) else set(),
                                 ni_mode=ni_mode, file=file)
        self.t_known: set[str] = set()
        self.t_open = False
        self.writes: dict[str, tuple[str, Any]] = {}  # final target properties of default

    # ------------------------------------------------------------ reporting

    def add(self, severity: str, code: str, message: str, ptr: str, node: Any, hint: str | None = None) -> None:
        ctx_ptr, ctx_node = self.step
        self.findings.append(Finding(severity, code, message, self.file, ptr, node, hint, ctx_node, ctx_ptr))

    # ------------------------------------------------------------ entry

    def run(self) -> list[Finding]:
        rules = self.rules
        if type(rules) is not dict or type(rules.get("default")) is not list:
            self.add("error", "missing-default", 'rules must be an object with a "default" list of transforms',
                     self.base, rules, 'start from {"default": [["copy", "*"]]}')
            return self.findings
        for name, body in rules.items():
            self.rule = name
            self.t_known, self.t_open = set(), False
            rptr = pointer(self.base, name)
            if type(body) is not list:
                self.step = (rptr, body)
                self.add("error", "malformed-rules", f"rule {name!r} must be a list of transforms", rptr, body)
                continue
            self.transforms(body, rptr, top=True)
        self.unused_rules()
        if self.target is not None and not self.ni_mode:
            self.target_properties()
        self.compile_check()
        return self.findings

    def unused_rules(self) -> None:
        reached, todo = {"default"}, ["default"]
        while todo:
            current = todo.pop()
            for name, users in self.applied.items():
                if current in users and name not in reached:
                    reached.add(name)
                    todo.append(name)
        for name in self.rules:
            if name not in reached:
                ptr = pointer(self.base, name)
                self.step = (ptr, None)
                how = "only from rules that are never applied themselves" if name in self.applied else "by no apply"
                self.add("warning", "unused-rule", f"rule {name!r} is never applied ({how})", ptr,
                         name, f'call it with ["apply", "{name}", VALUES] or delete it')

    def compile_check(self) -> None:
        from .engine import Transform

        try:
            Transform(self.rules, pipe=self.pipe, file=self.file, base_pointer=self.base, now=0, seed=0)
        except DtlError as e:
            ptr = e.pointer or self.base
            for f in self.findings:
                if f.severity == "error" and (ptr.startswith(f.pointer) or f.pointer.startswith(ptr)):
                    return  # already reported, with more detail
            self.step = (ptr, e.fragment)
            self.add("error", e.code, e.message, ptr, e.fragment, e.hint)

    # ------------------------------------------------------------ transforms

    def transforms(self, body: Any, ptr: str, top: bool = False) -> None:
        """A transform, or a list of transforms (THEN/ELSE bodies)."""
        if type(body) is list and body and type(body[0]) is str:
            self.transform(body, ptr, top)
        elif type(body) is list:
            for i, node in enumerate(body):
                self.transform(node, pointer(ptr, i), top)
        else:
            self.add("error", "malformed-transform", "expected a transform or a list of transforms", ptr, body,
                     'write ["add", "x", 1] or [["add", "x", 1], ...]')

    def transform(self, node: Any, ptr: str, top: bool = False) -> None:
        if top:
            self.step = (ptr, node)
        if type(node) is not list or not node or type(node[0]) is not str:
            self.add("error", "malformed-transform", "a transform must be a list starting with its name", ptr, node,
                     'e.g. ["add", "x", 1]')
            return
        name, args = node[0], node[1:]
        entry = TRANSFORMS.get(name)
        if entry is None:
            if name in FUNCTIONS:
                hint = f"{name!r} is an expression function; use it inside a transform, e.g. [\"add\", \"x\", [\"{name}\", ...]]"
            else:
                near = nearest(name, TRANSFORMS)
                hint = f"did you mean {near!r}?" if near else "see `dtlpy doc` for the transforms"
            self.add("error", "unknown-transform", f"unknown transform {name!r}", ptr, node, hint)
            return
        if not self.arity(entry, args, ptr, node):
            return
        handler = getattr(self, "t_" + name.replace("-", "_").rstrip("!"), None)
        if handler is not None:
            handler(args, ptr, node, top)
        else:
            self.exprs(args, ptr)

    def t_comment(self, args, ptr, node, top):
        pass  # never evaluated

    def t_add(self, args, ptr, node, top):
        self.expr(args[0], pointer(ptr, 1))
        if len(args) == 3:  # add-if with a condition: `_` is the value
            self.expr(args[1], pointer(ptr, 2), bound=True)
        self.expr(args[-1], pointer(ptr, len(args)))
        self.wrote(args[0], pointer(ptr, 1))

    t_default = t_add_if = t_add

    def t_rename(self, args, ptr, node, top):
        self.exprs(args, ptr)
        self.source_name(args[0], pointer(ptr, 1))
        self.wrote(args[1], pointer(ptr, 2))

    def t_make_ni(self, args, ptr, node, top):
        for i, a in enumerate(args):
            self.string_arg(a, pointer(ptr, i + 1), ("NAMESPACE", "FROM_PROPERTY", "TO_PROPERTY")[i])
        self.exprs(args, ptr)
        self.source_name(args[1], pointer(ptr, 2))
        to = args[2] if len(args) > 2 else (args[1] + "-ni" if type(args[1]) is str else None)
        self.wrote(to, pointer(ptr, len(args)))

    def t_copy(self, args, ptr, node, top):
        include = self.patterns(args[0], pointer(ptr, 1))
        exclude = self.patterns(args[1], pointer(ptr, 2)) if len(args) > 1 else []
        if include is None or exclude is None:
            self.t_open = True
            return
        names = self.source.names() if self.source is not None and not self.ni_mode else None
        for pat in include:
            wild = any(c in pat for c in "*?[")
            if pat.startswith("_") and not wild:
                self.wrote(pat, pointer(ptr, 1))
                continue
            if names is not None and self.rule == "default":
                hits = [n for n in names if fnmatch.fnmatchcase(n, pat)]
                if not hits and not self.source.open:
                    self.missing_source(pat, pointer(ptr, 1), [])
                for n in hits:
                    if not any(fnmatch.fnmatchcase(n, x) for x in exclude):
                        self.wrote(n, pointer(ptr, 1))
                if wild and self.source.open:
                    self.t_open = True
            elif wild:
                self.t_open = True
            else:
                self.wrote(pat, pointer(ptr, 1))

    def t_remove(self, args, ptr, node, top):
        pats = self.patterns(args[0], pointer(ptr, 1))
        for pat in pats or []:
            for n in [n for n in self.writes if fnmatch.fnmatchcase(n, pat)]:
                del self.writes[n]

    def t_merge(self, args, ptr, node, top):
        self.exprs(args, ptr)
        self.t_open = True

    t_merge_union = t_merge

    def t_create_child(self, args, ptr, node, top):
        self.exprs(args, ptr)
        self.t_known.add("$children")

    def t_filter(self, args, ptr, node, top):
        if not args:
            if top:
                self.add("warning", "filter-never-passes",
                         f"a bare {node[0]!r} at the top of rule {self.rule!r} drops every entity; "
                         "the steps after it never run", ptr, node,
                         f'give it a condition, e.g. ["{node[0]}", ["neq", "_S._deleted", true]]')
            return
        self.expr(args[0], pointer(ptr, 1))
        try:
            fn = self.compiler.expr(args[0], pointer(ptr, 1))
        except DtlError:
            return  # reported by the walk or the compile check
        if is_const(fn) and not truthy(fn.value):
            self.add("error", "filter-never-passes",
                     f"the condition of this {node[0]!r} is always {json.dumps(fn.value)}, so no entity ever passes",
                     pointer(ptr, 1), args[0], "the condition must be true for entities to keep; check it")

    t_discard = t_filter

    def t_if(self, args, ptr, node, top):
        self.expr(args[0], pointer(ptr, 1))
        for i in (1, 2):
            if i < len(args):
                self.transforms(args[i], pointer(ptr, i + 1))

    def t_case(self, args, ptr, node, top):
        pairs = len(args) // 2 * 2
        for i in range(0, pairs, 2):
            self.expr(args[i], pointer(ptr, i + 1))
            self.transforms(args[i + 1], pointer(ptr, i + 2))
        if len(args) % 2:
            self.transforms(args[-1], pointer(ptr, len(args)))

    def t_case_eq(self, args, ptr, node, top):
        self.expr(args[0], pointer(ptr, 1))
        rest = args[1:]
        for i in range(0, len(rest) // 2 * 2, 2):
            self.expr(rest[i], pointer(ptr, i + 2))
            self.transforms(rest[i + 1], pointer(ptr, i + 3))
        if len(rest) % 2:
            self.transforms(rest[-1], pointer(ptr, len(args)))

    def t_fail(self, args, ptr, node, top):
        self.string_arg(args[0], pointer(ptr, 1), "MESSAGE")
        self.exprs(args, ptr)

    t_trip = t_fail

    # ------------------------------------------------------------ target tracking

    def wrote(self, prop: Any, ptr: str) -> None:
        """A step sets target property ``prop`` (a constant name, else unknown)."""
        if type(prop) is str and not is_path(prop):
            self.t_known.add(prop)
            if self.rule == "default":
                self.writes[prop] = (ptr, self.step)
        else:
            self.t_open = True

    def patterns(self, node: Any, ptr: str) -> list[str] | None:
        """Constant wildcard patterns of copy/remove, or None if computed."""
        if type(node) is str and not is_path(node):
            return [node]
        if type(node) is list and node and node[0] == "list" and all(type(x) is str for x in node[1:]):
            return list(node[1:])
        if node is None or type(node) in (int, float, bool, dict):
            self.add("error", "invalid-argument", f"a property pattern must be a string or a list of strings, "
                     f"not {json.dumps(node)}", ptr, node, 'e.g. "name" or ["list", "name", "age*"]')
            return []
        self.expr(node, ptr)
        return None

    def target_properties(self) -> None:
        for prop, (ptr, step) in self.writes.items():
            if prop.startswith("_"):
                continue  # Sesam's own properties (_id, _deleted ...) are never in a target schema
            status, names = self.target.lookup([prop])
            if status in ("missing", "forbidden"):
                self.step = step
                severity = "error" if status == "forbidden" else "warning"
                near = nearest(prop, names)
                self.add(severity, "target-property",
                         f"the target schema does not {'allow' if status == 'forbidden' else 'list'} property {prop!r}",
                         ptr, prop, f"did you mean {near!r}?" if near else "add it to the target schema or remove it")

    # ------------------------------------------------------------ expressions

    def exprs(self, args: list, ptr: str, bound: bool = False) -> None:
        for i, a in enumerate(args):
            self.expr(a, pointer(ptr, i + 1), bound)

    def expr(self, node: Any, ptr: str, bound: bool = False) -> None:
        t = type(node)
        if t is str:
            if is_path(node):
                self.path(node, ptr, bound)
            return
        if t is not list or not node:
            return
        name, args = node[0], node[1:]
        if type(name) is not str:
            self.add("error", "malformed-expression", "an expression list must start with a function name",
                     ptr, node, 'build a list with ["list", ...]')
            return
        entry = FUNCTIONS.get(name)
        if entry is None:
            if name in TRANSFORMS:
                hint = f"{name!r} is a transform; it can only stand directly in a rule's list"
            else:
                near = nearest(name, FUNCTIONS)
                hint = f"did you mean {near!r}?" if near else 'to build a list of constants use ["list", ...]'
            self.add("error", "unknown-function", f"unknown function {name!r}", ptr, node, hint)
            self.exprs(args, ptr, bound)
            return
        if not self.arity(entry, args, ptr, node):
            self.exprs(args, ptr, bound)
            return
        if name == "literal":
            return
        words = align(entry.signature, len(args))
        func_words = {w for i, w in enumerate(entry.signature.split()) if i in entry.function_args}
        func_words = {w.rstrip("?*+") for w in func_words} | FUNCTION_ARGS
        for i, a in enumerate(args):
            aptr = pointer(ptr, i + 1)
            word = words[i] if words is not None and i < len(words) else None
            if word == "RULE_ID":
                self.rule_id(a, aptr)
                continue
            if word in STRING_ARGS:
                self.string_arg(a, aptr, word)
            if word == "HOPS_SPEC" and type(a) is dict:
                self.expr(a.get("where"), pointer(aptr, "where"), bound)
            arg_bound = bound or word in func_words or (words is None and bool(entry.function_args))
            if word in func_words and word != "DEFAULT" and not _uses_item(a):
                self.add("warning", "item-unused",
                         f"{word} of {name!r} is evaluated once per item with `_` bound, but does not use `_`",
                         aptr, a, f"refer to the item as \"_.\" or \"_.property\" (argument {i + 1} is read as "
                         f"{word} because {name!r} got {len(args)} arguments)")
            self.expr(a, aptr, arg_bound)

    def arity(self, entry, args: list, ptr: str, node: Any) -> bool:
        n = len(args)
        if n < entry.min_args or (entry.max_args is not None and n > entry.max_args):
            sig = f"[\"{entry.name}\", {', '.join(entry.signature.split())}]" if entry.signature else None
            self.add("error", "arity", f"{entry.name!r} takes {entry.arity_text()} argument(s), got {n}", ptr, node,
                     f"write it as {sig}" if sig else None)
            return False
        return True

    def string_arg(self, node: Any, ptr: str, word: str) -> None:
        if node is None or type(node) in (int, float, bool, dict):
            self.add("error", "invalid-argument", f"{word} must be a string, not {json.dumps(node)}", ptr, node,
                     f"quote it: {json.dumps(str(node))}" if type(node) in (int, float) else "give a string")

    def rule_id(self, node: Any, ptr: str) -> None:
        if type(node) is not str:
            self.add("error", "invalid-argument", "RULE_ID must be the rule name as a constant string", ptr, node,
                     "write the rule's name, e.g. \"order\"")
            return
        if node not in self.rules:
            near = nearest(node, [r for r in self.rules if r != "default"])
            self.add("error", "unknown-rule", f"there is no rule named {node!r}", ptr, node,
                     f"did you mean {near!r}?" if near else f'add a rule "{node}": [...] next to "default"')
            return
        self.applied.setdefault(node, [])
        if self.rule not in self.applied[node]:
            self.applied[node].append(self.rule)

    # ------------------------------------------------------------ paths

    def path(self, text: str, ptr: str, bound: bool) -> None:
        try:
            var, keys = split_path(text)
        except ValueError as e:
            self.add("error", "invalid-path", str(e), ptr, text, "close the quote: _S.'a.b'")
            return
        if var == "_" and not bound:
            self.add("warning", "unbound-item", f"{text!r} reads `_`, which is only set inside function-expressions "
                     "(map, filter, sorted ...); here it is always null", ptr, text,
                     f"did you mean {'_S.' + '.'.join(keys)!r}?" if keys else "use a path such as _S.x")
            return
        if var == "_R" and keys[:1] == ["_S"]:
            var, keys = "_S", keys[1:]
        elif var == "_S" and self.rule != "default":
            return  # _S of an applied rule: not the source entity
        if var == "_T" and keys:
            key = keys[0]
            if not self.t_open and key not in self.t_known and not self._ni_known(key):
                self.add("warning", "target-path", f"{text!r}: no earlier step of rule {self.rule!r} sets {key!r}",
                         ptr, text, self._near_hint(key, self.t_known, "add it before this step"))
            return
        if var == "_S" and keys and self.source is not None and not self.ni_mode:
            if keys[0].startswith("_") or keys[0] == "$ids":
                return
            status, names = self.source.lookup(keys)
            if status in ("missing", "forbidden"):
                self.missing_source(text, ptr, names, status == "forbidden")

    def source_name(self, node: Any, ptr: str) -> None:
        """A source property named by a constant (rename, make-ni)."""
        if type(node) is str and not is_path(node) and self.rule == "default" and self.source is not None:
            self.path("_S." + node if "." not in node else f"_S.'{node}'", ptr, False)

    def missing_source(self, text: str, ptr: str, names: list, forbidden: bool | None = None) -> None:
        if forbidden is None:
            forbidden = not self.source.open
        last = text.split(".")[-1]
        self.add("error" if forbidden else "warning", "source-path",
                 f"{text!r}: the source schema has no such property (it is always null)", ptr, text,
                 self._near_hint(last, names, "check the spelling against the source schema"))

    def _ni_known(self, key: str) -> bool:
        return self.ni_mode and any(k.rsplit(":", 1)[-1] == key.rsplit(":", 1)[-1] for k in self.t_known)

    @staticmethod
    def _near_hint(key: str, names, fallback: str) -> str:
        near = nearest(key, list(names))
        return f"did you mean {near!r}?" if near else fallback


def _uses_item(node: Any) -> bool:
    """Whether an expression mentions ``_`` (at any depth)."""
    if type(node) is str:
        return node == "_." or node.startswith("_.")
    if type(node) is list:
        return any(_uses_item(n) for n in node)
    if type(node) is dict:
        return any(_uses_item(n) for n in node.values())
    return False
