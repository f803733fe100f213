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
        if self.fragment is not None:
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
