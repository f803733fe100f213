"""Sync scenarios: a JSON file of steps run against two fresh simulated systems.

A scenario is ``{"name": ..., "description": ..., "steps": [...]}``. Steps:

- ``{"create": "<system>-<type>", "as": ALIAS, "data": {...}}`` - a user creates
  a record (``"$ref:ALIAS"`` anywhere in ``data`` becomes that record's id);
- ``{"edit": ALIAS, "data": {...}}`` / ``{"delete": ALIAS}`` - ``"side": "other"``
  edits or deletes the linked counterpart instead;
- ``{"malformed": ALIAS, "data": <anything>}`` - the system hands out a broken record;
- ``{"sync": true}`` - run the sync to its fixpoint;
- ``{"expect": {...}}`` - check: ``"linked": ALIAS``, ``"unlinked": ALIAS``,
  ``"record": ALIAS`` (+ ``"side"``) with ``"fields": {...}`` and/or
  ``"exists": bool`` / ``"deleted": bool``, ``"count": {"<system>-<type>": n}``
  (live records), ``"rounds_at_most": n`` (of the last sync),
  ``"quarantined": ALIAS``.

Every create/edit/delete is one tick of the shared clock, so the order of
the steps is the order of the edits in time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DtlInputError
from .io import read_json_file
from .sync import Clock, SimSystem, SyncEngine, SyncReport, split_ns


@dataclass
class ScenarioResult:
    name: str
    description: str = ""
    flows: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    checks: int = 0

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "passed": self.passed,
                "checks": self.checks, "flows": self.flows, "failures": self.failures}


class ScenarioRunner:
    def __init__(self, pipes: list[dict] | None = None) -> None:
        clock = Clock()
        self.pms = SimSystem("custompms", clock)
        self.erp = SimSystem("customerp", clock)
        self.engine = SyncEngine(self.pms, self.erp, pipes=pipes)
        self.aliases: dict[str, str] = {}
        self.last: SyncReport | None = None

    def resolve(self, value: Any) -> Any:
        if type(value) is str and value.startswith("$ref:"):
            ref = self._ref(value[5:], None)
            ns, ident = split_ns(ref)
            return int(ident) if ns.startswith("customerp") else ident
        if type(value) is list:
            return [self.resolve(v) for v in value]
        if type(value) is dict:
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def _ref(self, alias: str, side: str | None) -> str:
        if alias not in self.aliases:
            raise DtlInputError(f"scenario: unknown alias {alias!r}", code="invalid-scenario")
        ref = self.aliases[alias]
        if side == "other":
            other = self.engine.counterpart(ref)
            if other is None:
                raise DtlInputError(f"scenario: {alias!r} has no linked counterpart", code="invalid-scenario")
            return other
        return ref

    def _target(self, ref: str):
        ns, ident = split_ns(ref)
        system, type_ = self.engine.system_of(ns)
        return system, type_, (int(ident) if system.name == "customerp" else ident)

    def step(self, step: dict, result: ScenarioResult) -> None:
        if "create" in step:
            system, type_ = self.engine.system_of(step["create"])
            ident = system.insert(type_, self.resolve(step.get("data") or {}))
            self.aliases[step.get("as") or f"#{len(self.aliases)}"] = f"{step['create']}:{ident}"
        elif "edit" in step:
            system, type_, ident = self._target(self._ref(step["edit"], step.get("side")))
            system.update(type_, ident, self.resolve(step.get("data") or {}))
        elif "delete" in step:
            system, type_, ident = self._target(self._ref(step["delete"], step.get("side")))
            system.delete(type_, ident)
        elif "malformed" in step:
            system, type_, ident = self._target(self._ref(step["malformed"], step.get("side")))
            system.replace_raw(type_, ident, step.get("data"))
        elif "sync" in step:
            self.last = self.engine.sync()
            result.flows.extend(f.text() for f in self.last.flows)
        elif "expect" in step:
            self.expect(step["expect"], result)
        else:
            raise DtlInputError(f"scenario: unknown step {step!r}", code="invalid-scenario")

    def expect(self, spec: dict, result: ScenarioResult) -> None:
        def check(ok: bool, what: str) -> None:
            result.checks += 1
            if not ok:
                result.failures.append(what)

        eng = self.engine
        if "linked" in spec:
            check(eng.counterpart(self._ref(spec["linked"], None)) is not None, f"{spec['linked']} is not linked")
        if "unlinked" in spec:
            check(eng.counterpart(self._ref(spec["unlinked"], None)) is None, f"{spec['unlinked']} is linked")
        if "record" in spec:
            try:
                ref = self._ref(spec["record"], spec.get("side"))
            except DtlInputError as e:
                check(False, str(e))
                return
            rec = eng.record(ref)
            if "exists" in spec:
                check((rec is not None and not rec["deleted"]) == spec["exists"], f"{ref} exists is not {spec['exists']}")
            if "deleted" in spec:
                check(rec is not None and rec["deleted"] == spec["deleted"], f"{ref} deleted is not {spec['deleted']}")
            for k, v in self.resolve(spec.get("fields") or {}).items():
                got = rec["data"].get(k) if rec and isinstance(rec["data"], dict) else None
                check(got == v, f"{ref}.{k} is {got!r}, expected {v!r}")
        if "count" in spec:
            for ns, n in spec["count"].items():
                system, type_ = eng.system_of(ns)
                got = len(system.records(type_, include_deleted=False))
                check(got == n, f"{ns} has {got} live records, expected {n}")
        if "rounds_at_most" in spec:
            got = self.last.rounds if self.last else 0
            check(got <= spec["rounds_at_most"], f"the last sync took {got} rounds, expected at most {spec['rounds_at_most']}")
        if "quarantined" in spec:
            ns, ident = split_ns(self._ref(spec["quarantined"], None))
            dl = eng.store.dataset(f"system:dead-letter:{ns}")
            check(dl.get(ident) is not None and not dl.get(ident).get("_deleted"), f"{spec['quarantined']} is not quarantined")


def run_scenario(scenario: dict | str | Path, *, pipes: list[dict] | None = None) -> ScenarioResult:
    """Run one scenario (a dict or a JSON file) from fresh systems."""
    if not isinstance(scenario, dict):
        path = Path(scenario)
        scenario = read_json_file(path)
        scenario.setdefault("name", path.stem)
    steps = scenario.get("steps")
    if type(steps) is not list:
        raise DtlInputError("a scenario needs a list of steps", code="invalid-scenario")
    result = ScenarioResult(scenario.get("name", "scenario"), scenario.get("description", ""))
    runner = ScenarioRunner(pipes)
    for step in steps:
        runner.step(step, result)
    return result


SCENARIO_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "sync"


def scenario_files(folder: str | Path = SCENARIO_DIR) -> list[Path]:
    return sorted(Path(folder).glob("*.json"))


__all__ = ["run_scenario", "ScenarioResult", "ScenarioRunner", "scenario_files", "SCENARIO_DIR"]


def qa_sections(ctx) -> list:
    """The two-way sync rows of the QA checklist: one row per scenario in
    ``fixtures/sync/`` (registered in :data:`dtlpy.qa.SECTION_PROVIDERS`)."""
    from .qa import FAIL, PASS, Section, SectionRow
    from .sync import load_pipes

    folder = Path(ctx.root) / "fixtures" / "sync"
    files = scenario_files(folder)
    if not files:
        return []
    pipes = load_pipes(Path(ctx.root) / "dtl")
    sec = Section("Two-way sync (Custompms <-> Customerp)", ["Scenario", "What it shows", "Checks"])
    for path in files:
        try:
            r = run_scenario(path, pipes=pipes)
        except Exception as e:  # a broken scenario is a failed row, not a crashed checklist
            r = ScenarioResult(path.stem, failures=[f"{type(e).__name__}: {e}"])
        sec.rows.append(SectionRow([r.name, r.description, str(r.checks)], PASS if r.passed else FAIL, [f"sync/{r.name}"]))
        if not r.passed:
            sec.failures.append((f"sync/{r.name}", "\n".join(r.failures + ["flows:"] + r.flows)))
    return [sec]
