"""Full and incremental runs of a pipe that writes a dataset.

A pipe keeps its *position* in the store (:meth:`Store.pipe_state`): for
each source dataset the offset after the last version it read, the offset
of every dataset its DTL read through hops/lookups, and a hash of its
config. It also keeps its *lineage*: which output ``_id`` s each source
entity made. An incremental run then

1. reads only the latest versions written at or after the saved offsets,
2. transforms them, each source entity on its own,
3. writes what they made (``_filtered`` outputs delete, as in a full run),
   and deletes what those same source entities made last time but no longer
   make (the deletion tracking a full run does, restricted to them),
4. saves the new lineage and position - in the same SQLite transaction as
   the writes, so a runner that dies before the commit starts again from the
   old position.

A run falls back to a *full* run (all source entities, deletion tracking
over the whole sink, lineage and position rebuilt) when it cannot be sure
to give what a full run gives:

- the pipe has no saved position (first run, or after :meth:`Node.reset`),
  or its config (or the node metadata, pinned ``now`` or seed) changed;
- a dataset its DTL read through ``hops``/``apply-hops``/``lookup-entity``/
  ``lookup`` has new versions since the pipe last ran: the source entities
  whose output depends on them are unknown, so all are processed again;
- an output ``_id`` of the changed source entities is also made by another
  source entity (which of them wins depends on the order of the whole
  source);
- the pipe can never run incrementally (:attr:`Pipe.full_only`: merge and
  other non-offset sources, namespaces added to ids, a sink shared with
  another pipe or read by the pipe itself).

>>> from dtlpy.node import Node
>>> from dtlpy.store import Store
>>> store = Store()
>>> src = store.dataset("src")
>>> _ = src.put_many([{"_id": str(i), "v": i} for i in range(3)])
>>> copy = {"type": "dtl", "rules": {"default": [["copy", "*"]]}}
>>> node = Node([{"_id": "out", "source": {"type": "dataset", "dataset": "src"}, "transform": copy}], store=store)
>>> node.run_pipe("out"), node.pipes["out"].last_run
(3, ('full', 'no saved position (first run or reset)'))
>>> _ = src.put({"_id": "1", "v": 10})
>>> node.run_pipe("out"), node.pipes["out"].last_run
(1, ('incremental', None))
>>> node.dataset("out").get("1")["v"]
10
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from .store import Dataset, PipeState, strip_bookkeeping

if TYPE_CHECKING:  # pragma: no cover
    from .node import Pipe


def config_hash(pipe: "Pipe") -> str:
    """What a pipe's output depends on besides its input datasets."""
    node = pipe.node
    text = json.dumps([pipe.config, node.metadata, repr(node.now), node.seed], sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def run_to_dataset(pipe: "Pipe", incremental: bool = True) -> int:
    """Run ``pipe`` (whose sink is a dataset); returns the versions stored."""
    store = pipe.node.store
    before = store.writes
    reason = pipe.full_only
    tracked = reason is None
    if tracked:
        reason, state = _why_full(pipe, incremental)
        if reason is None:
            if _incremental(pipe, state):
                pipe.last_run = ("incremental", None)
                return store.writes - before
            reason = "an output _id of a changed entity is also made by another source entity"
    _full(pipe, tracked)
    pipe.last_run = ("full", reason)
    return store.writes - before


def _why_full(pipe: "Pipe", incremental: bool) -> tuple[str | None, PipeState | None]:
    if not incremental:
        return "full run requested", None
    store = pipe.node.store
    state = store.pipe_state(pipe.id)
    if state is None:
        return "no saved position (first run or reset)", None
    if state.config_hash != config_hash(pipe):
        return "the pipe config changed", None
    for name, offset in sorted(state.dependencies.items()):
        if Dataset(store, name).offset != offset:
            return f"dataset {name!r}, read through hops/lookups, changed", None
    return None, state


def _source_offsets(pipe: "Pipe") -> dict[str, int]:
    store = pipe.node.store
    return {name: Dataset(store, name).offset for name in pipe.source_datasets()}


def _made(pipe: "Pipe", entities: list[dict]) -> tuple[list[tuple[str, list[dict]]], dict[str, int]]:
    """Transform the entities, noting the datasets the DTL reads."""
    live = pipe.node.live
    live.recording = {}
    try:
        made = pipe.produce([strip_bookkeeping(e) for e in entities])
    finally:
        read, live.recording = live.recording, None
    return made, read


def _write(pipe: "Pipe", made: list[tuple[str, list[dict]]]) -> set[str]:
    """Write the outputs (a ``_filtered`` one deletes); returns the ids kept live.

    When the run makes an ``_id`` more than once, only the last one is
    written: that is what the sink holds after the run either way, and
    writing each in turn would store versions on every run - a ping-pong
    that keeps the scheduler from a fixpoint."""
    ds = pipe.node.store.dataset(pipe.sink_dataset)
    ds.create()
    last: dict[str, dict] = {}
    for _source, outputs in made:
        for e in outputs:
            ident = e.get("_id")
            if type(ident) is str:
                last.pop(ident, None)  # keep the order of last occurrence
                last[ident] = e
    seen = set()
    for ident, e in last.items():
        if e.get("_filtered"):
            ds.delete(ident)
        else:
            seen.add(ident)
            ds.put(e)
    return seen


def _output_ids(outputs: list[dict]) -> set[str]:
    return {e["_id"] for e in outputs if type(e.get("_id")) is str}


def _full(pipe: "Pipe", tracked: bool) -> None:
    store = pipe.node.store
    offsets = _source_offsets(pipe) if tracked else {}
    made, read = _made(pipe, pipe.read_source())
    seen = _write(pipe, made)
    ds = store.dataset(pipe.sink_dataset)
    if pipe.deletion_tracking:
        for ident in ds.ids() - seen:
            ds.delete(ident)
    if not tracked:
        return
    lineage = {source: _output_ids(outputs) for source, outputs in made}
    if len(lineage) != len(made):
        store.reset_pipe(pipe.id)  # two source entities share an _id: only full runs are safe
        return
    store.set_lineage(pipe.id, lineage, replace_all=True)
    store.save_pipe_state(pipe.id, config_hash(pipe), sources=offsets, dependencies=read)


def _incremental(pipe: "Pipe", state: PipeState) -> bool:
    """Process what changed since the saved position; False (having written
    nothing to the sink) when only a full run gives the right result."""
    store = pipe.node.store
    offsets = _source_offsets(pipe)
    if offsets == state.sources:
        return True  # nothing new in the source
    made, read = _made(pipe, pipe.read_source(since=state.sources))
    lineage = {source: _output_ids(outputs) for source, outputs in made}
    if len(lineage) != len(made):
        return False
    before = store.lineage(pipe.id, lineage)
    old_ids = set().union(*before.values()) if before else set()
    affected = old_ids.union(*lineage.values())
    for sources in store.producers(pipe.id, affected).values():
        if not sources <= lineage.keys():
            return False
    seen = _write(pipe, made)
    if pipe.deletion_tracking:
        ds = store.dataset(pipe.sink_dataset)
        for ident in sorted(old_ids - seen):
            ds.delete(ident)
    store.set_lineage(pipe.id, lineage)
    dependencies = dict(state.dependencies)
    for name, offset in read.items():
        dependencies[name] = min(offset, dependencies.get(name, offset))
    store.save_pipe_state(pipe.id, state.config_hash, sources=offsets, dependencies=dependencies)
    return True


__all__ = ["run_to_dataset", "config_hash"]
