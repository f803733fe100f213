"""Incremental vs full pipe runs on an offline node (not a test).

    .venv/bin/python bench/node_incremental.py [--entities 20000] [--repeat 3]

A node with one input dataset of N entities and three pipes: a mapping
(dataset -> dataset), a hops enrichment against a small code table, and a
second mapping reading the first's sink. After a first (full) run to the
fixpoint, one source entity is edited and the node runs

- one scheduler round incrementally (the default), and
- one scheduler round with every pipe forced to a full run,

each on its own copy of the same store (an in-memory SQLite database copied
with ``backup``), best of ``--repeat``. Also timed: ``Node.run()`` to the
fixpoint (the edit propagates, then two quiet rounds) both ways.
"""

from __future__ import annotations

import argparse
import sqlite3
import time

from dtlpy.node import Node
from dtlpy.store import Store

PIPES = [
    {"_id": "mapped", "source": {"type": "dataset", "dataset": "tasks"},
     "transform": {"type": "dtl", "rules": {"default": [
         ["copy", "_id"], ["add", "title", ["upper", "_S.title"]], ["add", "hours", ["multiply", 2, "_S.hours"]],
         ["add", "status", "_S.status"], ["add", "tags", ["sorted", "_S.tags"]]]}}},
    {"_id": "enriched", "source": {"type": "dataset", "dataset": "tasks"},
     "transform": {"type": "dtl", "rules": {"default": [
         ["copy", "_id"], ["add", "status-label", ["hops", {
             "datasets": ["codes c"], "where": [["eq", "_S.status", "c._id"]], "return": "c.label"}]]]}}},
    {"_id": "shared", "source": {"type": "dataset", "dataset": "mapped"},
     "transform": {"type": "dtl", "rules": {"default": [["copy", "*"], ["remove", "tags"]]}}},
]


def build(n: int) -> Store:
    store = Store()
    store.dataset("codes").put_many([{"_id": s, "label": s.title()} for s in ("open", "done", "hold")])
    store.dataset("tasks").put_many(
        [{"_id": f"t{i}", "title": f"task {i}", "hours": i % 37, "status": ("open", "done", "hold")[i % 3],
          "tags": [f"t{i % 5}", f"t{i % 7}"]} for i in range(n)])
    node = Node(PIPES, store=store, now="2024-01-01T00:00:00Z")
    node.run()
    store.commit()
    return store


def copy_store(store: Store) -> Store:
    clone = Store()
    store.db.backup(clone.db)
    return clone


def timed(store: Store, action) -> tuple[float, object]:
    work = copy_store(store)
    work.dataset("tasks").put({"_id": "t7", "title": "edited", "hours": 1, "status": "done", "tags": []})
    node = Node(PIPES, store=work, now="2024-01-01T00:00:00Z")
    start = time.perf_counter()
    result = action(node)
    return time.perf_counter() - start, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    store = build(args.entities)
    print(f"{args.entities} entities, 3 pipes; first full run to the fixpoint: {time.perf_counter() - t0:.2f} s "
          f"(sqlite {sqlite3.sqlite_version})")
    cases = [
        ("one round, incremental", lambda node: node.run_round()),
        ("one round, full", lambda node: node.run_round(incremental=False)),
        ("run to fixpoint, incremental", lambda node: node.run().rounds),
        ("run to fixpoint, full", lambda node: node.run(incremental=False).rounds),
    ]
    for name, action in cases:
        best, result = min(timed(store, action) for _ in range(args.repeat))
        print(f"{name:32s} {best * 1000:9.1f} ms   ({'versions stored' if 'round' in name else 'rounds'}: {result})")


if __name__ == "__main__":
    main()
