"""Run DTL over Dask collections, on one machine or a distributed cluster.

Needs the optional extra: ``pip install 'sesam-dtlpy[dask]'``.

Compiled transforms do not pickle (they are closures), so the task graph
carries a small :class:`~dtlpy.parallel.TransformSpec` and each worker thread
compiles it once and keeps it (compiling is cheap; a Transform is not
thread-safe, hence one per thread).

>>> import dask.bag as db
>>> bag = db.from_sequence([{"_id": "1", "n": "ada"}], npartitions=1)
>>> rules = {"default": [["copy", "_id"], ["add", "n", ["upper", "_S.n"]]]}
>>> map_pipe(bag, rules).compute(scheduler="sync")
[{'_id': '1', 'n': 'ADA'}]
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import sys
import threading
from typing import Any, Iterable

from .errors import DtlInputError
from .parallel import TransformSpec
from .runner import RecordError, RunStats, open_outputs
from .stream import ChunkResult, process_chunk

_local = threading.local()


def as_spec(pipe: Any, *, now: Any = None, seed: int | None = None) -> TransformSpec:
    """A TransformSpec from a rules/pipe path, a rules dict or a spec.

    A file is read here and its text travels in the task graph, so workers
    on other machines need no copy of it.
    """
    if isinstance(pipe, TransformSpec):
        return pipe.shipped()
    if isinstance(pipe, (str, os.PathLike)):
        return TransformSpec(path=os.fspath(pipe), now=now, seed=seed).shipped()
    if isinstance(pipe, dict):
        return TransformSpec(rules=pipe, now=now, seed=seed)
    raise DtlInputError(
        "pipe must be a rules/pipe file path, a rules dict or a TransformSpec", code="invalid-argument"
    )


def _key(spec: TransformSpec) -> str:
    return hashlib.sha1(pickle.dumps(spec)).hexdigest()


def _transform_for(key: str, spec: TransformSpec):
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    fn = cache.get(key)
    if fn is None:
        fn = cache[key] = spec.build()
    return fn


def _clean_row(row: Any) -> Any:
    # Dataframe rows use NaN for a missing value; in DTL that is null.
    if isinstance(row, dict):
        return {k: (None if type(v) is float and math.isnan(v) else v) for k, v in row.items()}
    return row


def _map_partition(entities: Iterable, key: str, spec: TransformSpec) -> list:
    fn = _transform_for(key, spec)
    out: list = []
    for entity in entities:
        out.extend(fn(_clean_row(entity)))
    return out


def map_pipe(collection: Any, pipe: Any, *, now: Any = None, seed: int | None = None):
    """Transform every entity of a Dask bag (or dataframe) with DTL.

    Args:
        collection: a ``dask.bag.Bag`` of entity dicts, or a Dask DataFrame
            (each row becomes an entity; NaN becomes null).
        pipe: a rules file or pipe config path, a rules dict, or a TransformSpec.
        now, seed: pin the clock and ``uuid`` (same values on every worker).

    Returns:
        A lazy ``dask.bag.Bag`` of the emitted entities, in order. A DTL
        error on any entity fails the computation with that ``DtlError``.
    """
    import dask.bag as db

    spec = as_spec(pipe, now=now, seed=seed)
    spec.build()  # fail on bad rules here, not deep inside a worker
    if not isinstance(collection, db.Bag):
        to_bag = getattr(collection, "to_bag", None)
        if to_bag is None:
            raise DtlInputError("map_pipe needs a dask Bag or DataFrame", code="invalid-argument")
        collection = to_bag(format="dict")
    return collection.map_partitions(_map_partition, _key(spec), spec)


# ------------------------------------------------------------------ the CLI

def _raw_partition(lines: Iterable[str], key: str, spec: TransformSpec) -> list:
    fn = _transform_for(key, spec)
    records = [(i, line.encode("utf-8")) for i, line in enumerate(lines, 1) if line.strip()]
    return [process_chunk(fn, records)]


def run_file_dask(
    address: str,
    spec: TransformSpec,
    input_path: str,
    output_path: str | None = None,
    *,
    output_format: str = "jsonl",
    on_error: str = "stop",
    reject_path: str | None = None,
    blocksize: str | int = "64MiB",
    log=None,
) -> RunStats:
    """``dtlpy run --dask ADDRESS``: JSON Lines in (a path or glob the
    workers can read, e.g. on a shared disk or object store), entities out,
    written by this process in input order and atomically."""
    from contextlib import ExitStack

    import dask.bag as db
    from distributed import Client

    if on_error not in ("stop", "skip"):
        raise DtlInputError(f"--on-error must be stop or skip, not {on_error!r}", code="invalid-argument")
    log = log if log is not None else sys.stderr
    spec = spec.shipped()  # the workers may not see this machine's files
    spec.build()
    stats = RunStats()
    lines = db.read_text(input_path, blocksize=blocksize)
    parts = lines.map_partitions(_raw_partition, _key(spec), spec)
    with ExitStack() as stack:
        client = stack.enter_context(Client(address, set_as_default=False))
        futures = client.compute(parts.to_delayed())
        stack.callback(client.cancel, futures)
        fout, writer, rejects = open_outputs(stack, output_path, output_format, reject_path, input_path)
        for part_no, future in enumerate(futures):
            for result in future.result():
                result: ChunkResult
                for lineno, raw, code, message in result.rejects:
                    where = f"partition {part_no} line {lineno}"
                    if on_error == "stop":
                        raise RecordError(f"{where}: {message}", code=code, file=input_path)
                    rejects.write(lineno, raw, code, f"{where}: {message}")
                    print(f"dtlpy: skipped {input_path} {where}: {message}", file=log)
                writer.write_chunk(result)
                stats.count(result)
        writer.close()
        fout.flush()
        stats.rejected = rejects.count
    return stats
