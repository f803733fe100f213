"""An offline Sesam node: pipes over datasets, run by a scheduler to a fixpoint.

A :class:`Node` holds pipe configs and a :class:`~dtlpy.store.Store`. A pipe
run reads its source, applies the transforms and writes the sink. A *full*
run reads the latest version of every source entity and deletes from a
dataset sink what the run no longer produced (deletion tracking); an
*incremental* run (the default, see :mod:`dtlpy.node_incremental`) reads only
what changed since the pipe's saved position and gives the same datasets. A
dataset sink only stores versions whose content changed, so the number of
stored versions is the "did anything change" signal the scheduler needs. The scheduler runs every pipe in
dependency order, round after round, until two rounds in a row change
nothing - the same stop rule as ``sesam run`` - or gives up with a
``no-fixpoint`` error (a ping-pong between pipes).

Supported: sources ``dataset``, ``embedded``, ``conditional``, ``merge``,
``merge_datasets``, ``union_datasets``, ``http_endpoint`` (entities from
``testdata``), ``empty``; transforms ``dtl`` and ``chained`` (or a list);
sinks ``dataset`` and any other sink type as an *output* kept in
``node.outputs`` (namespaces removed as Sesam does at such sinks).

>>> node = Node([
...     {"_id": "people", "source": {"type": "embedded", "entities": [{"_id": "1", "n": "ada"}]}},
...     {"_id": "out", "source": {"type": "dataset", "dataset": "people"},
...      "transform": {"type": "dtl", "rules": {"default": [["add", "_id", "_S._id"], ["add", "n", "_S.n"]]}},
...      "sink": {"type": "json"}},
... ])
>>> node.run().rounds
3
>>> node.outputs["out"]
[{'_id': '1', 'n': 'ada'}]
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import DtlError, DtlInputError
from .io import read_json_file
from .store import Dataset, Store, strip_bookkeeping

_ENV_RE = re.compile(r"\$ENV\(([^)]*)\)")
SUPPORTED_SOURCES = ("embedded", "http_endpoint", "empty", "dataset", "union_datasets", "merge_datasets", "merge")
INPUT_SOURCES = ("embedded", "http_endpoint", "json", "csv", "sql", "ldap", "kafka", "rest", "empty")
ADD_NS_SOURCES = ("embedded", "http_endpoint", "json", "csv", "sql", "ldap", "kafka")
REMOVE_NS_SINKS = ("csv_endpoint", "elasticsearch", "mail", "rest", "sms", "solr", "kafka", "sql", "http_endpoint", "json")


@dataclass
class RunReport:
    """What :meth:`Node.run` did: rounds run, versions stored per round, and
    how many pipe runs were full and incremental."""

    rounds: int = 0
    changes: list[int] = field(default_factory=list)
    full_runs: int = 0
    incremental_runs: int = 0


def substitute_env(value: Any, env: dict) -> Any:
    """Replace ``$ENV(name)`` in a config: a whole-string reference takes the
    variable's JSON value, one inside text is replaced as text."""
    if type(value) is str:
        m = _ENV_RE.fullmatch(value)
        if m:
            return _env_value(m.group(1), env)
        return _ENV_RE.sub(lambda m: str(_env_value(m.group(1), env)), value)
    if type(value) is list:
        return [substitute_env(v, env) for v in value]
    if type(value) is dict:
        return {k: substitute_env(v, env) for k, v in value.items()}
    return value


def _env_value(name: str, env: dict) -> Any:
    if name not in env:
        raise DtlInputError(f"environment variable {name!r} is not set (add it to test-env.json)", code="missing-env")
    return env[name]


def strip_namespace_key(key: str) -> str:
    if key.startswith(("_", "$")) or ":" not in key:
        return key
    return key.split(":", 1)[1]


def remove_namespaces(value: Any, top: bool = True) -> Any:
    """Drop namespaces from keys, ``_id`` and NI values, recursively:
    ``{"_id": "crm-person:1", "crm-person:ref": "~:crm-org:2"}`` ->
    ``{"_id": "1", "ref": "~:2"}``."""
    if type(value) is dict:
        out = {}
        for k, v in value.items():
            if k == "_id" and type(v) is str and ":" in v:
                out[k] = v.split(":", 1)[1]
            else:
                out[strip_namespace_key(k)] = remove_namespaces(v, False)
        return out
    if type(value) is list:
        return [remove_namespaces(v, False) for v in value]
    if type(value) is str and value.startswith("~:") and ":" in value[2:]:
        return "~:" + value[2:].split(":", 1)[1]
    return value


def add_namespaces(entity: dict, identity_ns: str, property_ns: str) -> dict:
    """Prefix ``_id`` with the identity namespace and top-level properties
    (not ``_``/``$`` ones) with the property namespace."""
    out = {}
    for k, v in entity.items():
        if k == "_id" and type(v) is str:
            out[k] = v if v.startswith(identity_ns + ":") else f"{identity_ns}:{v}"
        elif k.startswith(("_", "$")) or ":" in k:
            out[k] = v
        else:
            out[f"{property_ns}:{k}"] = v
    return out


class LiveDatasets(Mapping):
    """dataset id -> latest non-deleted entities, read from the store on
    demand (what ``hops``/``lookup-entity`` see while a pipe runs).

    While ``recording`` is a dict, every dataset read is noted in it with its
    offset at the first read - the datasets a pipe's DTL depends on."""

    def __init__(self, node: "Node") -> None:
        self.node = node
        self._cache: dict[str, list] = {}
        self._stamp = -1
        self.recording: dict[str, int] | None = None

    def __getitem__(self, name: str) -> list:
        if self.recording is not None and name not in self.recording:
            self.node.check_dataset(name, "a hops/lookup")
            self.recording[name] = Dataset(self.node.store, name).offset
        if self._stamp != self.node.store.writes:
            self._cache.clear()
            self._stamp = self.node.store.writes
        if name not in self._cache:
            self.node.check_dataset(name, "a hops/lookup")
            self._cache[name] = self.node.read(name)
        return self._cache[name]

    def __contains__(self, name: object) -> bool:
        return type(name) is str

    def __iter__(self):
        return iter(self.node.store.names())

    def __len__(self) -> int:
        return len(self.node.store.names())


class _EmitChildren:
    """The ``emit_children`` transform: each entity's ``$children`` that have an ``_id``."""

    class env:  # apply_transforms clears env.indexes of every step
        indexes: dict = {}

    def transform_for_sink(self, entity: dict) -> list[dict]:
        return [c for c in entity.get("$children") or [] if type(c) is dict and type(c.get("_id")) is str]


class Pipe:
    """One pipe config, with defaults filled in and transforms compiled."""

    def __init__(self, config: dict, node: "Node") -> None:
        if type(config) is not dict or type(config.get("_id")) is not str:
            raise DtlInputError("a pipe config must be a JSON object with a string _id", code="invalid-pipe")
        self.config = config
        self.id = config["_id"]
        self.node = node
        defaults = node.global_defaults
        self.ni = bool(config.get("namespaced_identifiers", node.namespaced_identifiers))
        ns = config.get("namespaces") or {}
        self.identity_ns = ns.get("identity", self.id)
        self.property_ns = ns.get("property", self.id)
        self.source = self._resolve_source(config.get("source") or {"type": "dataset", "dataset": self.id})
        sink = dict(config.get("sink") or {"type": "dataset"})
        if sink.get("type", "dataset") == "dataset":
            sink.setdefault("dataset", self.id)
        self.sink = sink
        self.sink_type = sink.get("type", "dataset")
        stype = self.source.get("type", "dataset")
        self.add_ns = bool(self.source.get("add_namespaces", config.get("add_namespaces", self.ni and stype in ADD_NS_SOURCES)))
        self.remove_ns = bool(sink.get("remove_namespaces", config.get("remove_namespaces", self.ni and self.sink_type in REMOVE_NS_SINKS)))
        self.deletion_tracking = sink.get("deletion_tracking", defaults.get("deletion_tracking", True))
        pipe_settings = {"_id": self.id, "namespaced_identifiers": self.ni, "namespaces": {"identity": self.identity_ns, "property": self.property_ns}}
        self.pipe_settings = pipe_settings
        self.unsupported: str | None = None
        self.last_run: tuple[str, str | None] | None = None
        if stype not in SUPPORTED_SOURCES:
            self._unsupported(f"pipe {self.id!r}: source type {stype!r} is not supported offline", "unsupported-source")
        try:
            self.transforms = self._compile_transforms(config.get("transform"))
        except DtlError as e:
            if e.code != "unsupported-transform" or not node.skip_unsupported:
                raise
            self.transforms = []
            self._unsupported(e.message if hasattr(e, "message") else str(e), e.code)
        self.merge = None
        if stype == "merge":
            from .engine import _compiler, _env
            from .node_merge import MergeSource

            self.merge = MergeSource(self.source, pipe=pipe_settings, compiler_factory=lambda: _compiler(_env(None, pipe_settings, None, None), None))

    def _unsupported(self, message: str, code: str) -> None:
        """Mark the pipe as not runnable offline (or fail, unless the node skips such pipes)."""
        if self.unsupported is None:
            self.unsupported = message
            self.unsupported_code = code
        if self.node.skip_unsupported:
            self.node.skipped.setdefault(self.id, message)

    def _check_runnable(self) -> None:
        if self.unsupported is not None:
            raise DtlInputError(self.unsupported, code=self.unsupported_code)

    @property
    def sink_dataset(self) -> str | None:
        return self.sink["dataset"] if self.sink_type == "dataset" else None

    @property
    def is_input(self) -> bool:
        return self.source.get("type", "dataset") in INPUT_SOURCES

    def _resolve_source(self, source: dict) -> dict:
        while source.get("type") == "conditional":
            cond = source.get("condition")
            alts = source.get("alternatives") or {}
            if cond not in alts:
                raise DtlInputError(
                    f"pipe {self.id!r}: conditional source has no alternative {cond!r} (has {sorted(alts)})",
                    code="invalid-pipe",
                )
            source = alts[cond]
        return source

    def source_datasets(self) -> list[str]:
        s = self.source
        t = s.get("type", "dataset")
        if t == "dataset":
            return [s.get("dataset", self.id)]
        if t in ("merge_datasets", "union_datasets"):
            return list(s.get("datasets") or [])
        if t == "merge":
            return [d.split()[0] for d in s.get("datasets") or []]
        return []

    def _compile_transforms(self, spec: Any) -> list:
        if spec is None:
            return []
        if type(spec) is list:
            return [t for item in spec for t in self._compile_transforms(item)]
        if type(spec) is not dict:
            raise DtlInputError(f"pipe {self.id!r}: a transform must be a JSON object", code="invalid-pipe")
        kind = spec.get("type")
        if kind == "chained":
            return self._compile_transforms(spec.get("transforms") or [])
        if kind == "dtl":
            from .engine import Transform

            rules = spec.get("rules")
            if rules is None:
                hint = ' ("transforms" is the pre-2017 name of "rules")' if "transforms" in spec else ""
                raise DtlInputError(f"pipe {self.id!r}: a dtl transform needs \"rules\"{hint}", code="missing-rules")
            trigger_on = spec.get("trigger_on")
            if trigger_on is not None and type(trigger_on) is not dict:
                raise DtlInputError(f"pipe {self.id!r}: trigger_on must be an object", code="invalid-pipe")
            t = Transform(rules, pipe=self.pipe_settings, now=self.node.now, seed=self.node.seed,
                          id_required=spec.get("id_required", True) is not False, trigger_on=trigger_on,
                          file=f"pipes/{self.id}.conf.json")
            t.env.datasets = self.node.live
            return [t]
        if kind == "emit_children":
            return [_EmitChildren()]
        if kind == "conditional":
            cond = spec.get("condition")
            alts = spec.get("alternatives") or {}
            if type(cond) is not str or cond not in alts:
                raise DtlInputError(f"pipe {self.id!r}: conditional transform has no alternative {cond!r} "
                                    f"(has {sorted(alts)})", code="unsupported-transform")
            return self._compile_transforms(alts[cond])
        raise DtlInputError(f"pipe {self.id!r}: transform type {kind!r} is not supported offline", code="unsupported-transform")

    # ------------------------------------------------------------ running

    def read_source(self, since: dict[str, int] | None = None) -> list[dict]:
        """The source entities (stage ``source``), namespaces added when on.

        ``since`` (dataset -> offset) reads only the latest versions at or
        after those offsets (``dataset`` and ``union_datasets`` sources)."""
        s = self.source
        t = s.get("type", "dataset")
        node = self.node

        def read(name):
            if since is None:
                return node.read(name, include_deleted=True)
            return list(node.store.dataset(name).since(since.get(name, 0))) if node.store.exists(name) else []
        if t == "embedded":
            out = copy.deepcopy(s.get("entities") or [])
        elif t == "http_endpoint":
            out = copy.deepcopy(node.testdata.get(self.id, []))
        elif t == "empty":
            out = []
        elif t == "dataset":
            name = s.get("dataset", self.id)
            node.check_dataset(name, f"pipe {self.id!r}")
            out = read(name)
        elif t == "union_datasets":
            out = []
            for name in s.get("datasets") or []:
                node.check_dataset(name, f"pipe {self.id!r}")
                for e in read(name):
                    if s.get("prefix_ids", True):
                        e = dict(e, _id=f"{name}:{e['_id']}")
                    out.append(e)
        elif t == "merge_datasets":
            latest: dict[str, dict] = {}
            for name in s.get("datasets") or []:
                node.check_dataset(name, f"pipe {self.id!r}")
                for e in node.read(name, include_deleted=True):
                    old = latest.get(e["_id"])
                    if old is None or e.get("_ts", 0) >= old.get("_ts", 0):
                        latest[e["_id"]] = e
            out = sorted(latest.values(), key=lambda e: e.get("_ts", 0))
        elif t == "merge":
            for name in self.source_datasets():
                node.check_dataset(name, f"pipe {self.id!r}")
            previous = node.read(self.sink_dataset, include_deleted=True) if self.sink_dataset else []
            out = self.merge.entities(lambda n: node.read(n, include_deleted=True), previous)
        else:
            raise DtlInputError(f"pipe {self.id!r}: source type {t!r} is not supported offline", code="unsupported-source")
        for e in out:
            if type(e) is not dict or type(e.get("_id")) is not str:
                raise DtlInputError(f"pipe {self.id!r}: source entity without a string _id: {e!r}", code="missing-id")
        if self.add_ns:
            out = [add_namespaces(e, self.identity_ns, self.property_ns) for e in out]
        return out

    def apply_transforms(self, entities: list[dict]) -> list[dict]:
        return [x for _source, made in self.produce(entities) for x in made]

    def produce(self, entities: list[dict]) -> list[tuple[str, list[dict]]]:
        """Each source entity's ``_id`` with what the transforms made of it
        (the lineage incremental runs need). Each entity goes through the
        whole chain on its own; transforms only read the source entity and
        other datasets, so the result is the same as step by step."""
        for t in self.transforms:
            t.env.indexes.clear()
        out = []
        for entity in entities:
            items = [entity]
            for t in self.transforms:
                nxt = []
                for e in items:
                    try:
                        emitted = t.transform_for_sink(e)
                    except DtlError as err:
                        if not self.node.dead_letters:
                            raise
                        self.node.quarantine(self.id, e, err)
                        continue
                    if e.get("_deleted"):
                        for x in emitted:
                            if x.get("_id") == e.get("_id") or len(emitted) == 1:
                                x["_deleted"] = True
                    nxt.extend(emitted)
                items = nxt
            out.append((entity.get("_id"), items))
        return out

    def stage(self, stage: str = "sink") -> list[dict]:
        """Entities at a pipe stage: ``source``, ``before-transform``,
        ``after-transform`` or ``sink`` (the last with namespaces removed
        when the sink removes them)."""
        self._check_runnable()
        entities = [strip_bookkeeping(e) for e in self.read_source()]
        if stage in ("source", "before-transform"):
            return entities
        entities = self.apply_transforms(entities)
        if stage == "after-transform":
            return entities
        if stage != "sink":
            raise DtlInputError(f"unknown stage {stage!r}", code="invalid-argument")
        entities = [e for e in entities if not e.get("_filtered")]
        if self.remove_ns:
            entities = [remove_namespaces(e) for e in entities]
        return entities

    @property
    def full_only(self) -> str | None:
        """Why this pipe always runs in full (None when it can run incrementally)."""
        t = self.source.get("type", "dataset")
        if self.sink_dataset is None:
            return "its sink is not a dataset"
        if t not in ("dataset", "union_datasets"):
            return f"{t!r} sources are read in full"
        if t == "union_datasets" and not self.source.get("prefix_ids", True):
            return "union_datasets without prefix_ids can repeat an _id"
        if self.add_ns:
            return "namespaces are added to source ids"
        if self.sink_dataset in self.source_datasets():
            return "the pipe reads its own sink"
        if self.sink_dataset in self.node.shared_sinks:
            return "another pipe writes the same dataset"
        return None

    def run(self, incremental: bool = True) -> int:
        """One run (incremental when possible and asked for); returns the
        number of changes it made (a pipe the node skips makes none).
        ``self.last_run`` says how it ran: ``("full", reason)`` or
        ``("incremental", None)``."""
        if self.unsupported is not None:
            if self.node.skip_unsupported:
                return 0
            self._check_runnable()
        if self.sink_dataset is not None:
            from .node_incremental import run_to_dataset

            return run_to_dataset(self, incremental)
        self.last_run = ("full", self.full_only)
        produced = self.apply_transforms([strip_bookkeeping(e) for e in self.read_source()])
        out = [remove_namespaces(e) if self.remove_ns else e for e in produced if not e.get("_filtered")]
        changed = out != self.node.outputs.get(self.id)
        self.node.outputs[self.id] = out
        handler = self.node.sink_handlers.get(self.id)
        if handler is not None:
            handler(out)
        return int(changed)


class Node:
    """Pipes + datasets + a scheduler.

    Args:
        pipes: pipe configs (dicts with ``_id``).
        store: where datasets live (default: a fresh in-memory store).
        env: environment variables for ``$ENV(...)``; ``node-env`` defaults to ``"test"``.
        now: pin the DTL clock (``~t`` text or ns since the epoch).
        metadata: the node metadata (``namespaced_identifiers``, ``global_defaults``).
        strict: a dataset that no pipe produces and the store does not hold is
            an error (``missing-dataset``); when False it reads as empty, as on
            a real node. ``system:*`` datasets (dead letters ...) always read empty.
        testdata: pipe id -> entities for ``http_endpoint`` input pipes.
        dead_letters: an entity whose transform fails is written to
            ``system:dead-letter:<pipe>`` (with the error) and the run goes on,
            instead of the run failing.
        skip_unsupported: a pipe whose source or transform talks to an
            external system (``json``, ``sql``, ``rest`` ...) is not run (its
            sink dataset stays empty) and is listed in ``node.skipped`` with
            the reason, instead of the node refusing to load or run.
    """

    def __init__(self, pipes: list[dict], *, store: Store | None = None, env: dict | None = None, now: Any = None,
                 metadata: dict | None = None, strict: bool = True, testdata: dict | None = None, seed: int = 0,
                 dead_letters: bool = False, skip_unsupported: bool = False) -> None:
        self.store = store or Store()
        self.skip_unsupported = skip_unsupported
        self.skipped: dict[str, str] = {}
        self.env = {"node-env": "test", **(env or {})}
        self.now = now
        self.seed = seed
        self.metadata = metadata or {}
        self.namespaced_identifiers = bool(self.metadata.get("namespaced_identifiers", False))
        self.global_defaults = self.metadata.get("global_defaults") or {}
        self.strict = strict
        self.dead_letters = dead_letters
        self.testdata = testdata or {}
        self.outputs: dict[str, list] = {}
        self.sink_handlers: dict[str, Callable[[list], None]] = {}
        self.live = LiveDatasets(self)
        self.pipes: dict[str, Pipe] = {}
        for cfg in pipes:
            if skip_unsupported:
                # A variable only an external system needs may be missing from
                # test-env.json: keep it as literal text rather than refuse the node.
                from .pipe import substitute_env as lenient

                cfg = lenient(cfg, self.env)
            else:
                cfg = substitute_env(cfg, self.env)
            pipe = Pipe(cfg, self)
            if pipe.id in self.pipes:
                raise DtlInputError(f"two pipes have the _id {pipe.id!r}", code="invalid-pipe")
            self.pipes[pipe.id] = pipe
        self.produced = {p.sink_dataset for p in self.pipes.values() if p.sink_dataset}
        sinks = [p.sink_dataset for p in self.pipes.values() if p.sink_dataset]
        self.shared_sinks = {name for name in sinks if sinks.count(name) > 1}
        if strict:
            for p in self.pipes.values():
                for name in p.source_datasets():
                    self.check_dataset(name, f"pipe {p.id!r}")
        self.order = self._order()

    @classmethod
    def from_folder(cls, folder: str | Path, **kwargs) -> "Node":
        """Load a node folder laid out as sesam-py expects."""
        folder = Path(folder)
        if not (folder / "pipes").is_dir():
            raise DtlInputError(f"{folder} has no pipes/ folder", code="not-a-node")
        pipes = [read_json_file(p) for p in sorted((folder / "pipes").glob("*.conf.json"))]
        meta_path = folder / "node-metadata.conf.json"
        metadata = read_json_file(meta_path) if meta_path.exists() else {}
        env = dict(kwargs.pop("env", None) or {})
        env_path = folder / "test-env.json"
        if env_path.exists():
            env = {**read_json_file(env_path), **env}
        testdata = {}
        if (folder / "testdata").is_dir():
            for p in sorted((folder / "testdata").glob("*.json")):
                testdata[p.name[: -len(".json")]] = read_json_file(p)
        kwargs.setdefault("strict", False)
        kwargs.setdefault("skip_unsupported", True)
        return cls(pipes, env=env, metadata=metadata, testdata=testdata, **kwargs)

    # ------------------------------------------------------------ datasets

    def check_dataset(self, name: str, who: str) -> None:
        if not self.strict or name.startswith("system:") or name in self.produced or self.store.exists(name):
            return
        raise DtlError(f"{who} reads dataset {name!r}, which no pipe produces and the store does not hold",
                       code="missing-dataset")

    def read(self, name: str, *, include_deleted: bool = False) -> list[dict]:
        """Latest entities of a dataset; an unknown or ``system:`` dataset is empty."""
        if not self.store.exists(name):
            return []
        return self.store.dataset(name).latest(include_deleted=include_deleted)

    def dataset(self, name: str):
        return self.store.dataset(name)

    def quarantine(self, pipe_id: str, entity: dict, error: DtlError) -> None:
        """Keep an entity that could not be processed, with its error."""
        self.store.dataset(f"system:dead-letter:{pipe_id}").put(
            {"_id": str(entity.get("_id")), "entity": entity, "error": error.to_dict()})

    # ------------------------------------------------------------ scheduling

    def _order(self) -> list[str]:
        """Pipes ordered so a dataset's producer runs before its readers
        (cycles - the sync loop - are broken in config order)."""
        producer = {p.sink_dataset: p.id for p in self.pipes.values() if p.sink_dataset}
        order, state = [], {}

        def visit(pid):
            if state.get(pid) == "done" or state.get(pid) == "active":
                return
            state[pid] = "active"
            for name in self.pipes[pid].source_datasets():
                if name in producer and producer[name] != pid:
                    visit(producer[name])
            state[pid] = "done"
            order.append(pid)

        for pid in self.pipes:
            visit(pid)
        return order

    def _pipe(self, pipe_id: str) -> "Pipe":
        if pipe_id not in self.pipes:
            raise DtlInputError(f"no pipe {pipe_id!r}", code="unknown-pipe")
        return self.pipes[pipe_id]

    def run_pipe(self, pipe_id: str, *, incremental: bool = True) -> int:
        return self._pipe(pipe_id).run(incremental)

    def reset(self, pipe_id: str | None = None) -> None:
        """Forget the saved position of one pipe (or of all): the next run of
        it is a full run, as after ``sesam reset``."""
        for pid in [pipe_id] if pipe_id is not None else list(self.pipes):
            self.store.reset_pipe(self._pipe(pid).id)
        self.store.commit()

    def run_round(self, *, incremental: bool = True, report: RunReport | None = None) -> int:
        changes = 0
        for pid in self.order:
            pipe = self.pipes[pid]
            pipe.last_run = None
            changes += pipe.run(incremental)
            if report is not None and pipe.last_run is not None:
                if pipe.last_run[0] == "full":
                    report.full_runs += 1
                else:
                    report.incremental_runs += 1
        self.store.commit()
        return changes

    def run(self, *, max_rounds: int = 50, zero_runs: int = 2, incremental: bool = True) -> RunReport:
        """Run every pipe until ``zero_runs`` rounds in a row change nothing.

        Pipes run incrementally where they can (``incremental=False`` forces
        full runs of every pipe for this call)."""
        report = RunReport()
        quiet = 0
        while quiet < zero_runs:
            if report.rounds >= max_rounds:
                raise DtlError(
                    f"no fixpoint: the pipes still changed data after {max_rounds} rounds "
                    f"(changes per round: {report.changes[-5:]}) - a ping-pong between pipes?",
                    code="no-fixpoint",
                )
            n = self.run_round(incremental=incremental, report=report)
            report.rounds += 1
            report.changes.append(n)
            quiet = quiet + 1 if n == 0 else 0
        return report


__all__ = ["Node", "Pipe", "RunReport", "LiveDatasets", "remove_namespaces", "add_namespaces", "substitute_env"]
