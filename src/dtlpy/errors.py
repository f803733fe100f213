"""Error types of dtlpy.

Every failure that reaches a caller of the public API is a :class:`DtlError`
(or a subclass) carrying a stable ``code`` that tests assert on, a human
message, and where known: the rules file, the JSON Pointer into the rules
(``/default/3/2``), the offending rule fragment and the entity ``_id``.

Like glom's errors, the compile and type errors also subclass the matching
built-in (``ValueError``, ``TypeError``) so ``except ValueError`` style code
written by callers keeps working.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "DtlError",
    "DtlCompileError",
    "DtlRuntimeError",
    "DtlTypeError",
    "DtlInputError",
    "DtlFailError",
]


def _fragment_text(fragment: Any, limit: int = 120) -> str:
    try:
        text = json.dumps(fragment, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(fragment)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _dump_marked(node: Any, target: list[str] | None, out: list[str], span: list[int]) -> None:
    """Compact JSON of ``node`` into ``out``; records in ``span`` where the
    sub-node at relative pointer parts ``target`` starts and ends
    (``target`` None: the marked part is not inside this node)."""
    here = sum(map(len, out))
    if target == []:
        span[:] = [here, -1]

    def sub(key: str) -> list[str] | None:
        return target[1:] if target and target[0] == key else None

    if type(node) is list:
        out.append("[")
        for i, item in enumerate(node):
            if i:
                out.append(", ")
            _dump_marked(item, sub(str(i)), out, span)
        out.append("]")
    elif type(node) is dict:
        out.append("{")
        for i, (k, v) in enumerate(node.items()):
            if i:
                out.append(", ")
            out.append(json.dumps(str(k), ensure_ascii=False) + ": ")
            _dump_marked(v, sub(str(k)), out, span)
        out.append("}")
    else:
        try:
            out.append(json.dumps(node, ensure_ascii=False, default=str))
        except (TypeError, ValueError):
            out.append(repr(node))
    if target == []:
        span[1] = sum(map(len, out))


def mark_fragment(root: Any, rel_pointer: str = "", width: int = 100) -> tuple[str, str]:
    """One line of compact JSON for ``root`` and a line of ``^`` under the
    part at ``rel_pointer`` (relative JSON Pointer, "" = all of it).

    >>> mark_fragment(["add", "n", ["uper", "_S.n"]], "/2")
    ('["add", "n", ["uper", "_S.n"]]', '             ^^^^^^^^^^^^^^^^')

    Long lines are cut to a window around the marked part.
    """
    parts = [p.replace("~1", "/").replace("~0", "~") for p in rel_pointer.split("/")[1:]]
    out: list[str] = []
    span = [0, -1]
    try:
        _dump_marked(root, parts, out, span)
    except RecursionError:
        return _fragment_text(root, width), ""
    text = "".join(out)
    start, end = span if span[1] >= 0 else (0, len(text))
    if len(text) > width:
        left = max(0, min(start - 10, len(text) - width))
        cut = text[left : left + width]
        prefix = "..." if left else ""
        suffix = "..." if left + width < len(text) else ""
        text = prefix + cut + suffix
        start = start - left + len(prefix)
        end = min(end - left, width) + len(prefix)
    return text, " " * start + "^" * max(1, end - start)


class DtlError(Exception):
    """Base of every error dtlpy raises.

    Attributes:
        code: stable machine-readable code, e.g. ``"unknown-function"``.
        message: what went wrong, in one sentence.
        pointer: JSON Pointer into the rules document, or ``None``.
        file: the rules or pipe file, when known.
        entity_id: ``_id`` of the entity being transformed, when known.
        fragment: the rule fragment at ``pointer``, when known.
    """

    code = "dtl-error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        pointer: str | None = None,
        file: str | None = None,
        entity_id: Any = None,
        fragment: Any = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.pointer = pointer
        self.file = file
        self.entity_id = entity_id
        self.fragment = fragment
        self.hint = hint
        # The enclosing transform step and its pointer, so the message can
        # show the fragment inside its rule with a marker under it.
        self.context: Any = None
        self.context_pointer: str | None = None

    def located(self, *, pointer=None, file=None, entity_id=None, fragment=None) -> "DtlError":
        """Fill in location details that are not set yet; returns self."""
        if self.pointer is None and pointer is not None:
            self.pointer = pointer
        if self.file is None and file is not None:
            self.file = file
        if self.entity_id is None and entity_id is not None:
            self.entity_id = entity_id
        if self.fragment is None and fragment is not None:
            self.fragment = fragment
        elif (
            fragment is not None
            and self.context is None
            and pointer is not None
            and self.pointer is not None
            and self.pointer.startswith(pointer + "/")
        ):
            self.context, self.context_pointer = fragment, pointer
        return self

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "pointer": self.pointer,
            "entity_id": self.entity_id,
            "fragment": self.fragment,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.pointer is not None:
            where.append(f"at {self.pointer or '/'}")
        if self.entity_id is not None:
            where.append(f"entity _id={self.entity_id!r}")
        text = f"[{self.code}] {self.message}"
        if where:
            text += " (" + ", ".join(where) + ")"
        if self.context is not None and self.context_pointer is not None:
            line, marks = mark_fragment(self.context, self.pointer[len(self.context_pointer):])
            text += f"\n    rule: {line}\n          {marks}"
        elif self.fragment is not None:
            text += f"\n    rule: {_fragment_text(self.fragment)}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class DtlCompileError(DtlError, ValueError):
    """The rules are not valid DTL (raised by ``compile``, before any data)."""

    code = "invalid-rules"


class DtlRuntimeError(DtlError):
    """A rule failed while transforming an entity."""

    code = "runtime-error"


class DtlTypeError(DtlRuntimeError, TypeError):
    """A function got an argument of a type it cannot use."""

    code = "type-error"


class DtlInputError(DtlError, ValueError):
    """Input data (an entity, a file, JSON text) is malformed."""

    code = "invalid-input"


class DtlFailError(DtlRuntimeError):
    """Raised by the ``fail!`` and ``trip!`` transforms."""

    code = "fail"
