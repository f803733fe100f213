"""Evaluation context: the DTL variables of one rule application, and the
per-run environment they share.

A ``Ctx`` is created per entity (and per ``apply`` value); compiled closures
take it as their only argument. ``Env`` holds what is fixed for a run:
datasets for hops, the pinned clock, the pipe's namespace settings, the
entities ``create`` emitted so far.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable

from .values import format_datetime_ns


class Env:
    """State shared by every context of one transform run."""

    __slots__ = (
        "rules",
        "datasets",
        "indexes",
        "previous",
        "bound",
        "now",
        "random",
        "ni_mode",
        "identity_ns",
        "property_ns",
        "pipe_id",
        "id_required",
        "created",
        "entity_id",
        "depth",
        "max_depth",
        "uri_namespaces",
        "extra",
    )

    def __init__(
        self,
        *,
        datasets: dict | None = None,
        now: Any = None,
        seed: int | None = None,
        pipe: dict | None = None,
        bound: dict | None = None,
    ) -> None:
        pipe = pipe or {}
        self.rules: dict[str, list] = {}
        self.datasets: dict[str, list] = dict(datasets or {})
        self.indexes: dict = {}
        self.previous: Any = None
        self.bound = bound
        self.now = _clock(now)
        if seed is not None and type(seed) not in (int, str):
            from .errors import DtlError

            raise DtlError(f"seed must be an integer or a string, got {type(seed).__name__}", code="invalid-argument")
        self.random = random.Random(seed) if seed is not None else random.SystemRandom()
        namespaces = pipe.get("namespaces") or {}
        self.pipe_id = pipe.get("_id") or pipe.get("id") or "pipe"
        self.ni_mode = bool(pipe.get("namespaced_identifiers", False))
        self.identity_ns = namespaces.get("identity") or self.pipe_id
        self.property_ns = namespaces.get("property") or self.pipe_id
        self.id_required = True
        self.created: list = []
        self.entity_id: Any = None
        self.depth = 0
        self.max_depth = 64  # apply nesting; well inside Python's recursion limit
        self.uri_namespaces: dict = dict(pipe.get("uri_namespaces") or {})
        self.extra: dict = {}


def _clock(now: Any) -> Callable[[], str]:
    """A function returning the current time as ``~t`` text.

    ``now`` may be None (the real clock), a ``~t``/ISO string, or an integer
    of nanoseconds since the epoch (a pinned clock for reproducible runs).
    """
    if now is None:
        return lambda: format_datetime_ns(time.time_ns())
    if type(now) is int:
        fixed = format_datetime_ns(now)
    else:
        from .values import parse_datetime_text

        text = now[2:] if isinstance(now, str) and now.startswith("~t") else str(now)
        parsed = parse_datetime_text(text)
        if parsed is None:
            from .errors import DtlError

            raise DtlError(f"cannot read the pinned clock value {now!r}", code="invalid-argument")
        fixed = format_datetime_ns(parsed.ns)
    return lambda: fixed


class Ctx:
    """The variables of one rule application.

    S, T: source and target; P: the parent Ctx inside ``apply`` (else None);
    R: the root Ctx; item: the value of ``_`` inside function-expressions.
    """

    __slots__ = ("S", "T", "P", "R", "item", "env")

    def __init__(self, S: Any, T: dict, env: Env, P: "Ctx | None" = None, R: "Ctx | None" = None):
        self.S = S
        self.T = T
        self.P = P
        self.R = R if R is not None else self
        self.item = None
        self.env = env

    def as_dict(self, with_parent: bool = True) -> dict:
        """``_R.`` / ``_P.`` as a value: a dict with ``_S``, ``_T`` (and ``_P``)."""
        d = {"_S": self.S, "_T": self.T}
        if with_parent and self.P is not None:
            d["_P"] = self.P.as_dict()
        return d


def initial_target(entity: dict) -> dict:
    """The target entity a rule run starts from: the source's ``_id`` only.

    The docs never say what ``_T`` holds before the first transform, but
    published Sesam connectors rely on this: whole DTL transforms such as
    ``[["create-child", ...]]`` or ``[["if", ..., ["filter"]], ["copy", "id"]]``
    never set ``_id``, and would fail every entity under the documented
    ``id_required`` check if the target started empty (see DEVIATIONS.md).
    """
    return {"_id": entity["_id"]} if "_id" in entity else {}
