"""Two-way sync between two simulated systems, Custompms and Customerp,
around the six mapping pipes in ``dtl/``.

Each sync *round* does what a Sesam Talk node does in one pass:

1. **collect**: every system record becomes an entity in the dataset named
   after its type (``custompms-task`` ...): ``_id`` and ``id`` are the
   system's id, ``$ids`` lists the record's own namespaced identifier and
   the one of the record it is linked to (``~:customerp-project:7``), and
   ``$last-modified`` its last-modified time. A malformed record is
   quarantined in ``system:dead-letter:<type>`` and reported; the rest flows on.
2. **transform**: the six pipes run on an offline :class:`~dtlpy.node.Node`
   to a fixpoint (references resolve through ``$ids``, hops and lookups).
3. **share**: a pipe output with no target ``id`` is *inserted* in the other
   system (the system assigns the id) and the new id is linked back; a linked
   pair is *updated* property by property (see below).
4. after writes, the datasets are collected and transformed again and the
   pair's *base* (what both sides and their mapped images looked like after
   the sync) is stored - the echo breaker: next round, only a difference from
   the base counts as a change, so a value that came from the other side is
   never sent back.

A sync repeats rounds until one writes nothing (a fixpoint), at most
``max_rounds`` (then ``no-fixpoint`` is raised: a ping-pong).

**Conflict rule** (Sesam Talk's): per property, a change on one side since
the base is copied to the other side; when both sides changed the same
property, the value of the record with the most recent last-modified time
wins, and on equal times Custompms wins. On *first linking* of two records
that already existed (customers matched by organization number or e-mail),
an empty value never wins over a non-empty one; between two non-empty values
the more recently modified record wins.

**Delete policy** (Sesam Talk's default): a delete is never propagated. The
counterpart is kept as it is, the link is retired (later edits of the
surviving record do not re-create the deleted one), and the event is reported.

**Inserts survive crashes**: before inserting, the intent is stored (and
committed) in ``sync-intents``; if the run dies between the insert and the
link-back, the next run finds the pending intent, looks for an unlinked
record in the target that equals the intended payload and adopts it instead
of inserting again - no duplicate, no loss.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import DtlError, DtlInputError
from .io import read_json_file
from .node import Node
from .store import Store

SYSTEMS = {"custompms": ("customer", "project", "task"), "customerp": ("customer", "project")}
PMS_PREFIX = {"customer": "cus", "project": "prj", "task": "tsk"}
# Which field must be a non-empty string for a record to be processable.
REQUIRED = {"customer": "name", "project": "name", "task": "title"}
# First-linking criteria: (namespace A, namespace B) -> [(field in A, field in B)].
MATCH_KEYS = {("custompms-customer", "customerp-customer"): [("organizationNumber", "organizationNumber"), ("email", "email")]}
DTL_DIR = Path(__file__).resolve().parents[2] / "dtl"
EPOCH = 1_700_000_000  # seconds; tick n of the logical clock is EPOCH + n


class SimulatedCrash(RuntimeError):
    """Raised by a fault hook to simulate the process dying mid-sync."""


class Clock:
    """A logical clock shared by both systems: every write is one tick later."""

    def __init__(self, start: int = 0) -> None:
        self.now = start

    def tick(self) -> int:
        self.now += 1
        return self.now


def empty(v: Any) -> bool:
    return v is None or v == "" or v == [] or v == {}


class SimSystem:
    """A system of record: typed records in SQLite, ids assigned on insert,
    a last-modified tick per record. ``custompms`` ids look like ``cus_3``,
    ``customerp`` ids are integers."""

    def __init__(self, name: str, clock: Clock, path: str = ":memory:") -> None:
        if name not in SYSTEMS:
            raise DtlInputError(f"unknown system {name!r}", code="invalid-argument")
        self.name = name
        self.clock = clock
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS records (type TEXT, n INTEGER, id TEXT, data TEXT, "
                        "modified INTEGER, deleted INTEGER, PRIMARY KEY (type, id))")

    def _key(self, type_: str, n: int):
        return f"{PMS_PREFIX[type_]}_{n}" if self.name == "custompms" else n

    def _check_type(self, type_: str) -> None:
        if type_ not in SYSTEMS[self.name]:
            raise DtlInputError(f"{self.name} has no type {type_!r}", code="invalid-argument")

    def insert(self, type_: str, data: Any) -> Any:
        self._check_type(type_)
        (n,) = self.db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM records WHERE type=?", (type_,)).fetchone()
        ident = self._key(type_, n)
        body = dict(data, id=ident) if isinstance(data, dict) else data
        self.db.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, 0)",
                        (type_, n, str(ident), json.dumps(body, ensure_ascii=False), self.clock.tick()))
        self.db.commit()
        return ident

    def update(self, type_: str, ident: Any, changes: dict) -> None:
        rec = self.get(type_, ident)
        if rec is None:
            raise DtlInputError(f"{self.name} has no {type_} {ident!r}", code="unknown-record")
        data = dict(rec["data"], **changes) if isinstance(rec["data"], dict) else dict(changes)
        self.db.execute("UPDATE records SET data=?, modified=? WHERE type=? AND id=?",
                        (json.dumps(data, ensure_ascii=False), self.clock.tick(), type_, str(ident)))
        self.db.commit()

    def replace_raw(self, type_: str, ident: Any, data: Any) -> None:
        """Overwrite a record's data with anything (to simulate a malformed record)."""
        self.db.execute("UPDATE records SET data=?, modified=? WHERE type=? AND id=?",
                        (json.dumps(data), self.clock.tick(), type_, str(ident)))
        self.db.commit()

    def delete(self, type_: str, ident: Any) -> None:
        self.db.execute("UPDATE records SET deleted=1, modified=? WHERE type=? AND id=?", (self.clock.tick(), type_, str(ident)))
        self.db.commit()

    def get(self, type_: str, ident: Any) -> dict | None:
        row = self.db.execute("SELECT data, modified, deleted FROM records WHERE type=? AND id=?", (type_, str(ident))).fetchone()
        if row is None:
            return None
        return {"id": ident, "data": json.loads(row[0]), "modified": row[1], "deleted": bool(row[2])}

    def records(self, type_: str, *, include_deleted: bool = True) -> list[dict]:
        out = []
        for n, data, modified, deleted in self.db.execute(
                "SELECT n, data, modified, deleted FROM records WHERE type=? ORDER BY n", (type_,)):
            if deleted and not include_deleted:
                continue
            out.append({"id": self._key(type_, n), "data": json.loads(data), "modified": modified, "deleted": bool(deleted)})
        return out


@dataclass
class Flow:
    """One thing the sync did (printed by ``dtlpy sync``)."""

    round: int
    kind: str  # insert | adopt | link | update | delete-kept | quarantine
    source: str
    target: str | None = None
    fields: dict = field(default_factory=dict)
    note: str = ""

    def text(self) -> str:
        arrow = f" -> {self.target}" if self.target else ""
        names = f" ({', '.join(sorted(self.fields))})" if self.fields else ""
        note = f" - {self.note}" if self.note else ""
        return f"round {self.round}: {self.kind} {self.source}{arrow}{names}{note}"


@dataclass
class SyncReport:
    rounds: int = 0
    flows: list[Flow] = field(default_factory=list)


def load_pipes(folder: str | Path = DTL_DIR) -> list[dict]:
    paths = sorted(Path(folder).glob("*.conf.json"))
    if not paths:
        raise DtlInputError(f"no pipe configs in {folder}", code="file-not-found")
    return [read_json_file(p) for p in paths]


def split_ns(text: str) -> tuple[str, str]:
    ns, _, ident = text.partition(":")
    return ns, ident


class SyncEngine:
    """Runs sync rounds between ``pms`` and ``erp`` (see the module docs).

    ``store`` keeps datasets, links and insert intents; reopening an engine on
    the same store (a file) continues where a crashed run stopped.
    """

    def __init__(self, pms: SimSystem, erp: SimSystem, *, store: Store | None = None, pipes: list[dict] | None = None,
                 now: Any = None, max_rounds: int = 10) -> None:
        self.systems = {"custompms": pms, "customerp": erp}
        self.store = store or Store()
        self.max_rounds = max_rounds
        self.fault: Callable[[str], None] | None = None  # fault hook, called at named points
        pipes = pipes if pipes is not None else load_pipes()
        for sysname, types in SYSTEMS.items():
            for t in types:
                self.store.dataset(f"{sysname}-{t}").create()
        self.node = Node(pipes, store=self.store, now=now or "2024-01-01T00:00:00Z", dead_letters=True)
        self.pipe_of: dict[tuple[str, str], str] = {}
        for pid, p in self.node.pipes.items():
            meta = p.config.get("metadata") or {}
            src, tgt = meta.get("source_schema"), meta.get("target_schema")
            if src and tgt:
                self.pipe_of[(src, tgt)] = pid
        # Linked type pairs, Custompms side first: (ns A, ns B, pipe A->B, pipe B->A).
        self.pairs = [(a, b, f, self.pipe_of[(b, a)]) for (a, b), f in sorted(self.pipe_of.items())
                      if a.startswith("custompms") and (b, a) in self.pipe_of]
        self.links = self.store.dataset("sync-links")
        self.intents = self.store.dataset("sync-intents")
        self.round = 0

    # ------------------------------------------------------------ records

    def system_of(self, ns: str) -> tuple[SimSystem, str]:
        sysname, _, type_ = ns.partition("-")
        return self.systems[sysname], type_

    def record(self, ref: str) -> dict | None:
        ns, ident = split_ns(ref)
        system, type_ = self.system_of(ns)
        return system.get(type_, int(ident) if system.name == "customerp" else ident)

    def ref(self, ns: str, ident: Any) -> str:
        return f"{ns}:{ident}"

    def link_of(self, ref: str) -> dict | None:
        """The live link a record takes part in (either side)."""
        for link in self.links.latest():
            if ref in (link["a"], link["b"]):
                return link
        return None

    def counterpart(self, ref: str) -> str | None:
        link = self.link_of(ref)
        if link is None:
            return None
        return link["b"] if link["a"] == ref else link["a"]

    # ------------------------------------------------------------ collect

    def collect(self, report: SyncReport) -> None:
        partner: dict[str, list[str]] = {}
        for link in self.links.latest():
            partner.setdefault(link["a"], []).append(link["b"])
            partner.setdefault(link["b"], []).append(link["a"])
        for sysname, types in SYSTEMS.items():
            system = self.systems[sysname]
            for type_ in types:
                ns = f"{sysname}-{type_}"
                ds = self.store.dataset(ns)
                seen = set()
                for rec in system.records(type_):
                    key = str(rec["id"])
                    ref = self.ref(ns, rec["id"])
                    data = rec["data"]
                    problem = self._problem(type_, data)
                    if problem:
                        dl = self.store.dataset(f"system:dead-letter:{ns}")
                        if dl.put({"_id": key, "record": data, "error": problem}):
                            report.flows.append(Flow(self.round, "quarantine", ref, note=problem))
                        continue
                    seen.add(key)
                    if rec["deleted"]:
                        ds.delete(key)
                        continue
                    entity = {k: v for k, v in data.items() if not k.startswith(("_", "$"))}
                    entity.update({"_id": key, "id": rec["id"], "$last-modified": f"~t{_iso(rec['modified'])}",
                                   "$ids": ["~:" + ref] + ["~:" + p for p in partner.get(ref, [])]})
                    ds.put(entity)
                for gone in ds.ids() - seen:
                    ds.delete(gone)
        self.store.commit()

    @staticmethod
    def _problem(type_: str, data: Any) -> str | None:
        if not isinstance(data, dict):
            return f"the record is not a JSON object but {type(data).__name__}"
        need = REQUIRED[type_]
        if type(data.get(need)) is not str or not data.get(need):
            return f"the record has no {need!r} text"
        return None

    def outputs(self, pipe_id: str) -> dict[str, dict]:
        return {e["_id"]: e for e in self.node.dataset(pipe_id).latest()}

    # ------------------------------------------------------------ a sync

    def sync(self) -> SyncReport:
        """Rounds until nothing more is written (a fixpoint)."""
        report = SyncReport()
        while True:
            if report.rounds >= self.max_rounds:
                raise DtlError(f"no fixpoint: the sync still wrote data after {self.max_rounds} rounds", code="no-fixpoint")
            self.round += 1
            report.rounds += 1
            if not self.sync_round(report):
                return report

    def sync_round(self, report: SyncReport) -> bool:
        self.collect(report)
        self.node.run()
        touched: dict[str, dict] = {}  # link id -> the images the decision was based on
        for a_ns, b_ns, f, g in self.pairs:
            self._inserts(report, a_ns, b_ns, f, touched)
            self._inserts(report, b_ns, a_ns, g, touched)
        for link in self.links.latest():
            self._update_link(report, link, touched)
        if touched:
            self.collect(report)
            self.node.run()
            for link in self.links.latest():
                if link["_id"] in touched:
                    self._set_base(link, touched[link["_id"]])
        self.store.commit()
        return bool(touched)

    def _pair(self, link: dict):
        for pair in self.pairs:
            if pair[0] == split_ns(link["a"])[0] and pair[1] == split_ns(link["b"])[0]:
                return pair
        raise DtlError(f"no pipes link {link['a']} and {link['b']}", code="invalid-link")

    def _images(self, link: dict) -> tuple[dict | None, dict | None]:
        _a_ns, _b_ns, f, g = self._pair(link)
        return self.outputs(f).get(link["a"]), self.outputs(g).get(link["b"])

    def _set_base(self, link: dict, decided: dict) -> None:
        """The base after a write: both records as they are now, and each
        image as it was when the decision was made (an image that changed
        since - a reference that resolved - then counts as a change next
        round), except where the image now equals the other record: that is
        the echo of a value just written (or a resolved reference that needs
        no write), and keeping the old value there would count the echo as a
        change - a lost update or a ping-pong. A side that was just inserted
        gets its image as it is now."""
        fa, gb = self._images(link)
        a, b = self.record(link["a"]), self.record(link["b"])
        base = {"a": a and a["data"], "b": b and b["data"],
                "fa": _settled(decided["fa"], fa, b) if "fa" in decided else _payload(fa),
                "gb": _settled(decided["gb"], gb, a) if "gb" in decided else _payload(gb)}
        self.links.put(dict(_plain(link), base=base))

    def _new_link(self, a_ref: str, b_ref: str) -> dict:
        link = {"_id": f"{a_ref}|{b_ref}", "a": a_ref, "b": b_ref, "$ids": ["~:" + a_ref, "~:" + b_ref], "base": None}
        self.links.put(link)
        return link

    # ------------------------------------------------------------ inserts and first linking

    def _inserts(self, report: SyncReport, src_ns: str, tgt_ns: str, pipe_id: str, touched: dict) -> None:
        system, type_ = self.system_of(tgt_ns)
        for out in self.outputs(pipe_id).values():
            if out.get("id") is not None:
                continue
            src_ref = out["_id"]
            if self.link_of(src_ref) is not None:
                continue
            payload = _payload(out)
            pms_side = src_ns.startswith("custompms")
            match = self._match(src_ns, tgt_ns, src_ref)
            if match is not None:
                a_ref, b_ref = (src_ref, match) if pms_side else (match, src_ref)
                link = self._new_link(a_ref, b_ref)
                touched[link["_id"]] = self._first_link(report, link)
                continue
            intent = self.intents.get(src_ref)
            adopted = None
            if intent is not None and intent.get("status") == "pending":
                adopted = self._find_orphan(system, type_, tgt_ns, intent["payload"])
            if adopted is not None:
                new_id, kind = adopted, "adopt"
            else:
                self.intents.put({"_id": src_ref, "target": tgt_ns, "payload": payload, "status": "pending"})
                self.store.commit()
                new_id, kind = system.insert(type_, payload), "insert"
                if self.fault:
                    self.fault("after-insert")
            tgt_ref = self.ref(tgt_ns, new_id)
            link = self._new_link(src_ref, tgt_ref) if pms_side else self._new_link(tgt_ref, src_ref)
            self.intents.put({"_id": src_ref, "target": tgt_ns, "payload": payload, "status": "linked", "linked": tgt_ref})
            self.store.commit()
            report.flows.append(Flow(self.round, kind, src_ref, tgt_ref, payload))
            touched[link["_id"]] = {"fa": payload} if pms_side else {"gb": payload}

    def _find_orphan(self, system: SimSystem, type_: str, ns: str, payload: dict) -> Any:
        for rec in system.records(type_, include_deleted=False):
            if self.link_of(self.ref(ns, rec["id"])) is None and all(rec["data"].get(k) == v for k, v in payload.items()):
                return rec["id"]
        return None

    def _match(self, src_ns: str, tgt_ns: str, src_ref: str) -> str | None:
        """An unlinked target record equal on a merge criterion (first linking)."""
        pms_side = src_ns.startswith("custompms")
        keys = MATCH_KEYS.get((src_ns, tgt_ns) if pms_side else (tgt_ns, src_ns))
        if not keys:
            return None
        src = self.record(src_ref)
        if src is None or src["deleted"]:
            return None
        system, type_ = self.system_of(tgt_ns)
        for a_key, b_key in keys:
            s_key, t_key = (a_key, b_key) if pms_side else (b_key, a_key)
            value = src["data"].get(s_key)
            if empty(value):
                continue
            for rec in system.records(type_, include_deleted=False):
                ref = self.ref(tgt_ns, rec["id"])
                if rec["data"].get(t_key) == value and self.link_of(ref) is None:
                    return ref
        return None

    def _first_link(self, report: SyncReport, link: dict) -> dict:
        """Two existing records meet: empty never wins; else the newer record wins."""
        report.flows.append(Flow(self.round, "link", link["a"], link["b"], note="matched on a merge criterion"))
        a, b = self.record(link["a"]), self.record(link["b"])
        fa, gb = self._images(link)
        a_newer = a["modified"] >= b["modified"]
        to_b = {p: v for p, v in _payload(fa).items()
                if v != b["data"].get(p) and not empty(v) and (empty(b["data"].get(p)) or a_newer)}
        to_a = {q: v for q, v in _payload(gb).items()
                if v != a["data"].get(q) and not empty(v) and (empty(a["data"].get(q)) or not a_newer)}
        self._write(report, link["b"], to_b, link["a"])
        self._write(report, link["a"], to_a, link["b"])
        return {"fa": _payload(fa), "gb": _payload(gb)}

    # ------------------------------------------------------------ updates

    def _update_link(self, report: SyncReport, link: dict, touched: dict) -> None:
        if link.get("retired") or link.get("base") is None:
            return
        a, b = self.record(link["a"]), self.record(link["b"])
        if a is None or b is None or a["deleted"] or b["deleted"]:
            gone = link["a"] if (a is None or a["deleted"]) else link["b"]
            other = link["b"] if gone == link["a"] else link["a"]
            self.links.put(dict(_plain(link), retired=True))
            report.flows.append(Flow(self.round, "delete-kept", gone, other, note="deletes are not propagated; link retired"))
            return
        fa, gb = self._images(link)
        if fa is None or gb is None:
            return  # filtered on one side (e.g. became a template or a sub-task): no flow
        base = link["base"]
        fa, gb = _payload(fa), _payload(gb)
        a_wins_ties = a["modified"] >= b["modified"]
        to_b = {}
        for p, v in fa.items():
            if v == b["data"].get(p) or v == base["fa"].get(p):
                continue  # agrees already, or A did not change it
            if b["data"].get(p) == base["b"].get(p) or a_wins_ties:
                to_b[p] = v
        to_a = {}
        for q, v in gb.items():
            if v == a["data"].get(q) or v == base["gb"].get(q):
                continue
            if a["data"].get(q) == base["a"].get(q) or not a_wins_ties:
                to_a[q] = v
        if to_b or to_a:
            self._write(report, link["b"], to_b, link["a"])
            self._write(report, link["a"], to_a, link["b"])
            touched[link["_id"]] = {"fa": fa, "gb": gb}

    def _write(self, report: SyncReport, target_ref: str, changes: dict, source_ref: str) -> None:
        if not changes:
            return
        ns, ident = split_ns(target_ref)
        system, type_ = self.system_of(ns)
        system.update(type_, int(ident) if system.name == "customerp" else ident, changes)
        report.flows.append(Flow(self.round, "update", source_ref, target_ref, changes))


def _payload(out: dict | None) -> dict:
    """A pipe output as the fields to write in the target record."""
    if out is None:
        return {}
    return {k: v for k, v in out.items() if not k.startswith(("_", "$")) and k != "id"}


def _settled(decided: dict, image: dict | None, record: dict | None) -> dict:
    """A decision-time image, with the properties where the current image
    already equals the other side's record taken from the current image."""
    out = dict(decided)
    data = record["data"] if record is not None and isinstance(record["data"], dict) else {}
    for key, value in _payload(image).items():
        if key in data and data[key] == value:
            out[key] = value
    return out


def _plain(entity: dict) -> dict:
    return {k: v for k, v in entity.items() if k not in ("_updated", "_previous", "_hash", "_ts")}


def _iso(tick: int) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(EPOCH + tick, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["SimSystem", "SyncEngine", "SyncReport", "Flow", "Clock", "SimulatedCrash", "load_pipes", "empty"]
