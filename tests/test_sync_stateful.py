"""Proof by random testing: two-way sync converges and loses nothing.

A Hypothesis state machine creates, edits and deletes Custompms and Customerp
customers and projects at random and syncs in between. A model predicts the
value of every synced property with the stated rule (a change on one side
wins; when both sides changed a property since the last sync, the record
modified most recently wins, Custompms on a tie); deletes are never
propagated. After every sync:

- every live record is linked, links are one-to-one, nothing is duplicated;
- both sides hold the model's value for every synced property (no lost update);
- the sync reached its fixpoint within BOUND rounds, and an immediate second
  sync writes nothing (no ping-pong).

Synced properties are those whose mapping is a bijection for the generated
values (names, e-mails, descriptions, and the status tables' one-to-one part).
"""

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from dtlpy.sync import Clock, SimSystem, SyncEngine, load_pipes

PIPES = load_pipes()
BOUND = 4
CUSTOMER_STATUS = {"active": "OPEN", "inactive": "BLOCKED", "prospect": "LEAD"}
PROJECT_STATUS = {"planned": "NOT_STARTED", "active": "ACTIVE", "on_hold": "ON_HOLD", "completed": "COMPLETED"}
# model property -> (custompms field, customerp field, value map pms->erp or None)
PROPS = {
    "customer": {"name": ("name", "name", None), "email": ("email", "email", None),
                 "status": ("status", "accountStatus", CUSTOMER_STATUS)},
    "project": {"name": ("name", "name", None), "description": ("description", "description", None),
                "status": ("status", "status", PROJECT_STATUS)},
}
names = st.text(alphabet="abcÆø ", min_size=1, max_size=6).filter(lambda s: s.strip() == s and s)
descriptions = st.one_of(st.none(), st.text(alphabet="xyz<&", max_size=5))


def value_strategy(kind, prop, serial):
    if prop == "name":
        return names
    if prop == "description":
        return descriptions
    if prop == "email":
        return st.one_of(st.none(), st.just(f"e{serial}@x.no"), st.just(f"f{serial}@x.no"))
    return st.sampled_from(sorted((CUSTOMER_STATUS if kind == "customer" else PROJECT_STATUS)))


def to_side(kind, side, prop, value):
    pms_field, erp_field, table = PROPS[kind][prop]
    if side == "custompms":
        return pms_field, value
    return erp_field, (table[value] if table and value is not None else value)


def from_side(kind, side, prop, data):
    pms_field, erp_field, table = PROPS[kind][prop]
    if side == "custompms":
        return data.get(pms_field)
    v = data.get(erp_field)
    if table:
        reverse = {b: a for a, b in table.items()}
        return reverse.get(v, v)
    return v


def base_record(kind, side):
    if kind == "customer":
        return {"type": "company"} if side == "custompms" else {"isPrivateIndividual": False}
    if side == "custompms":
        return {"billingMethod": "hourly"}
    return {"category": "PROJECT", "isClosed": False, "isFixedPrice": False}


class SyncMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.clock = Clock()
        self.sys = {"custompms": SimSystem("custompms", self.clock), "customerp": SimSystem("customerp", self.clock)}
        self.engine = SyncEngine(self.sys["custompms"], self.sys["customerp"], pipes=PIPES)
        self.entities = []  # {"kind", "refs": {side: ref}, "dead": {side: bool}, "agreed": dict | None}

    def _ident(self, side, ref):
        ident = ref.split(":", 1)[1]
        return int(ident) if side == "customerp" else ident

    def _data(self, e, side):
        rec = self.sys[side].get(e["kind"], self._ident(side, e["refs"][side]))
        return rec

    @rule(kind=st.sampled_from(["customer", "project"]), side=st.sampled_from(["custompms", "customerp"]), data=st.data())
    def create(self, kind, side, data):
        serial = len(self.entities)
        values = {p: data.draw(value_strategy(kind, p, serial), label=p) for p in PROPS[kind]}
        record = base_record(kind, side)
        for p, v in values.items():
            f, sv = to_side(kind, side, p, v)
            record[f] = sv
        ident = self.sys[side].insert(kind, record)
        self.entities.append({"kind": kind, "refs": {side: f"{side}-{kind}:{ident}"}, "dead": {}, "agreed": None})

    def _alive(self):
        return [(i, s) for i, e in enumerate(self.entities) for s in e["refs"] if not e["dead"].get(s)]

    @precondition(lambda self: any(True for _ in self._alive()))
    @rule(data=st.data())
    def edit(self, data):
        i, side = data.draw(st.sampled_from(self._alive()), label="record")
        e = self.entities[i]
        prop = data.draw(st.sampled_from(sorted(PROPS[e["kind"]])), label="prop")
        value = data.draw(value_strategy(e["kind"], prop, i), label="value")
        f, sv = to_side(e["kind"], side, prop, value)
        self.sys[side].update(e["kind"], self._ident(side, e["refs"][side]), {f: sv})

    def _linked(self):
        return [i for i, e in enumerate(self.entities) if len(e["refs"]) == 2 and not e["dead"]]

    @precondition(lambda self: bool(self._linked()))
    @rule(data=st.data(), pms_first=st.booleans())
    def concurrent_edit(self, data, pms_first):
        """Both sides change the same property before the next sync."""
        i = data.draw(st.sampled_from(self._linked()), label="entity")
        e = self.entities[i]
        prop = data.draw(st.sampled_from(sorted(PROPS[e["kind"]])), label="prop")
        for side in (["custompms", "customerp"] if pms_first else ["customerp", "custompms"]):
            value = data.draw(value_strategy(e["kind"], prop, i), label=f"{side} value")
            f, sv = to_side(e["kind"], side, prop, value)
            self.sys[side].update(e["kind"], self._ident(side, e["refs"][side]), {f: sv})

    @precondition(lambda self: any(True for _ in self._alive()))
    @rule(data=st.data())
    def delete(self, data):
        i, side = data.draw(st.sampled_from(self._alive()), label="record")
        e = self.entities[i]
        self.sys[side].delete(e["kind"], self._ident(side, e["refs"][side]))
        e["dead"][side] = True

    @rule()
    def sync(self):
        expected = {}
        for i, e in enumerate(self.entities):
            if e["dead"]:
                continue
            if e["agreed"] is None:
                (side,) = e["refs"]
                data = self._data(e, side)["data"]
                expected[i] = {p: from_side(e["kind"], side, p, data) for p in PROPS[e["kind"]]}
                continue
            a, b = self._data(e, "custompms"), self._data(e, "customerp")
            out = {}
            for p in PROPS[e["kind"]]:
                va, vb = from_side(e["kind"], "custompms", p, a["data"]), from_side(e["kind"], "customerp", p, b["data"])
                ca, cb = va != e["agreed"][p], vb != e["agreed"][p]
                if ca and cb:
                    out[p] = va if a["modified"] >= b["modified"] else vb
                elif ca:
                    out[p] = va
                elif cb:
                    out[p] = vb
                else:
                    out[p] = e["agreed"][p]
            expected[i] = out
        report = self.engine.sync()
        assert report.rounds <= BOUND, [f.text() for f in report.flows]
        for i, values in expected.items():
            e = self.entities[i]
            (origin,) = [s for s in e["refs"]][:1]
            other = self.engine.counterpart(e["refs"][origin])
            assert other is not None, f"entity {i} is not linked"
            other_side = "customerp" if origin == "custompms" else "custompms"
            assert e["refs"].get(other_side, other) == other
            e["refs"][other_side] = other
            for side in ("custompms", "customerp"):
                data = self._data(e, side)["data"]
                got = {p: from_side(e["kind"], side, p, data) for p in PROPS[e["kind"]]}
                assert got == values, (i, side, got, values, [f.text() for f in report.flows])
            e["agreed"] = values
        again = self.engine.sync()
        assert again.rounds == 1 and again.flows == [], [f.text() for f in again.flows]

    @invariant()
    def links_are_one_to_one_and_nothing_is_duplicated(self):
        if not hasattr(self, "engine"):
            return
        seen = set()
        for link in self.engine.links.latest():
            for ref in (link["a"], link["b"]):
                assert ref not in seen, f"{ref} is in two links"
                seen.add(ref)
        for side in self.sys:
            for kind in ("customer", "project"):
                live = len(self.sys[side].records(kind, include_deleted=False))
                model = sum(1 for e in self.entities if e["kind"] == kind and side in e["refs"] and not e["dead"].get(side))
                assert live == model, (side, kind, live, model)

    @invariant()
    def deleted_records_stay_deleted_and_survivors_stay(self):
        for e in getattr(self, "entities", []):
            for side, ref in e["refs"].items():
                rec = self._data(e, side)
                assert rec is not None and rec["deleted"] == bool(e["dead"].get(side))


SyncMachine.TestCase.settings = settings(settings.default, max_examples=min(settings.default.max_examples, 25),
                                         stateful_step_count=20)
TestSync = SyncMachine.TestCase
