"""Run a transform over chunks of records in several processes, in order.

Compiled transforms are closures and do not pickle, so what crosses the
process boundary is a :class:`TransformSpec` (a rules/pipe path or the rules
as data); every worker compiles its own copy once, in its initializer.
Records travel as raw bytes (or as byte ranges of the input file) and come
back serialized, or as the name of a spool file holding the serialized
output, so the parent only moves bytes while the workers parse, transform
and dump.

>>> spec = TransformSpec(rules={"default": [["copy", "_id"], ["add", "n", 1]]})
>>> chunks = [[(1, b'{"_id": "a"}')], [(2, b'{"_id": "b"}')]]
>>> [r.lines for r in map_chunks(spec, chunks, workers=1)]
[[b'{"_id":"a","n":1}'], [b'{"_id":"b","n":1}']]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import signal
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .errors import DtlInputError
from .stream import ChunkResult, process_chunk


@dataclass(frozen=True)
class TransformSpec:
    """Everything needed to build the same transform in another process.

    Give either ``path`` (a rules file or a pipe config) or ``rules`` (the
    rules as data, with optional ``pipe`` settings). ``now`` and ``seed`` pin
    the clock and ``uuid`` so parallel runs are reproducible.
    """

    path: str | None = None
    rules: Any = None
    pipe: dict | None = None
    datasets: dict | None = None
    now: Any = None
    seed: int | None = None
    datasets_path: str | None = None  # a JSON file {"dataset-id": [...]}, read by each worker
    source_text: bytes | None = None  # the rules/pipe file itself, for workers without our disk

    def shipped(self) -> "TransformSpec":
        """The same spec carrying the rules/pipe file (and datasets) as data,
        for workers on other machines that cannot read this one's files."""
        from dataclasses import replace

        if self.path is None or self.source_text is not None:
            return self
        try:
            text = Path(self.path).read_bytes()
        except OSError as e:
            raise DtlInputError(f"cannot read {self.path}: {e}", code="file-not-found", file=self.path) from None
        datasets = _read_datasets(self.datasets_path) if self.datasets_path else self.datasets
        return replace(self, source_text=text, datasets=datasets, datasets_path=None)

    def build(self) -> Callable[[dict], list]:
        """Compile and return ``entity -> list of emitted entities``."""
        datasets = self.datasets
        if self.datasets_path is not None:
            datasets = _read_datasets(self.datasets_path)
        if self.source_text is not None:
            # Same file name in a private directory: a pipe's id defaults to it.
            with tempfile.TemporaryDirectory(prefix="dtlpy-") as tmp:
                copy = Path(tmp) / Path(self.path or "rules.json").name
                copy.write_bytes(self.source_text)
                return _load_path(str(copy), now=self.now, seed=self.seed, datasets=datasets)
        if self.path is not None:
            return _load_path(self.path, now=self.now, seed=self.seed, datasets=datasets)
        from . import compile

        t = compile(self.rules, pipe=self.pipe, datasets=datasets, now=self.now, seed=self.seed)
        return t.transform


def _read_datasets(path: str) -> dict:
    from .io import read_json_file

    datasets = read_json_file(path)
    if not isinstance(datasets, dict):
        raise DtlInputError(
            "--datasets must be a JSON object of dataset id -> list of entities",
            code="invalid-argument", file=path,
        )
    return datasets


def _load_path(path: str, **options) -> Callable[[dict], list]:
    """A rules file or a pipe config -> its transform function."""
    try:
        from .pipe import load_rules_or_pipe
    except ImportError:  # pipe support not available: plain rules files only
        load_rules_or_pipe = None
    if load_rules_or_pipe is not None:
        obj = load_rules_or_pipe(path, **{k: v for k, v in options.items() if v is not None})
    else:
        from . import compile
        from .io import read_json_file

        rules = read_json_file(path)
        obj = compile(rules, file=str(path), **{k: v for k, v in options.items() if v is not None})
    transform = getattr(obj, "transform", None)
    if not callable(transform):
        raise DtlInputError(f"{path} does not define a DTL transform", code="invalid-rules", file=str(path))
    return transform


# ------------------------------------------------------------------ workers

_worker_transform: Callable[[dict], list] | None = None
_worker_error: BaseException | None = None
# Set in the parent just while the pool forks: forked workers inherit the
# transform the parent already compiled instead of compiling their own.
_inherited: Callable[[dict], list] | None = None


def _init_worker(spec: TransformSpec) -> None:
    # Ctrl-C goes to the whole process group; only the parent should react,
    # so it can stop the pool and roll back the output file cleanly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_freed_memory()
    global _worker_transform, _worker_error
    if _inherited is not None:
        _worker_transform = _inherited
        return
    try:
        _worker_transform = spec.build()
    except Exception as e:  # raising here would make the pool respawn forever
        _worker_error = e


def keep_freed_memory() -> None:
    """Stop glibc from giving freed heap back to the kernel after every chunk.

    Each chunk allocates a few MiB of short-lived buffers (the input range,
    its lines, the output). With the default dynamic thresholds glibc trims
    that memory after the chunk and faults it in again for the next one:
    ~45,000 page faults per worker for 200k entities (now ~2,300), which
    took its system time from 0.05 s to 0.14 s.
    A worker's memory stays bounded by one chunk anyway. Called in pool
    workers and by the ``dtlpy run`` command (processes of our own, never in
    a library caller's). Other C libraries: nothing to do
    (``CS_GNU_LIBC_VERSION`` only exists with glibc).
    """
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
    mallopt(M_TRIM_THRESHOLD, 256 << 20)
    mallopt(M_MMAP_THRESHOLD, 32 << 20)


def _work(chunk: list, spool: tuple[str, str] | None = None) -> ChunkResult:
    if _worker_error is not None:
        raise _worker_error
    assert _worker_transform is not None
    result = process_chunk(_worker_transform, chunk)
    if spool is not None:
        result.spool(*spool)
    return result


def default_workers() -> int:
    """The cores this process may use (respects CPU affinity / containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def map_chunks(
    spec: TransformSpec,
    chunks: Iterable[list],
    *,
    workers: int = 1,
    transform: Callable[[dict], list] | None = None,
    spool_dir: str | None = None,
    spool_format: str = "jsonl",
) -> Iterator[ChunkResult]:
    """:func:`~dtlpy.stream.process_chunk` over ``chunks``, results in input order.

    With ``workers == 1`` everything runs in this process (using ``transform``
    if given, so a caller that compiled once for early errors reuses it).
    Otherwise a process pool works on at most ``4 * workers`` chunks at a time
    (slack for a worker that stalls on a busy machine), so memory stays
    bounded however long the input is; forked workers reuse ``transform`` too.
    Given ``transform``, this process counts as one of the ``workers``: the
    pool has one process fewer and this one works on the next chunk itself
    whenever the next result in order is not ready yet.

    With ``spool_dir`` (and several workers) each worker leaves a chunk's
    output in a file of a private directory made there, in the form
    :class:`~dtlpy.stream.EntityWriter` copies for ``spool_format`` (see
    :meth:`~dtlpy.stream.ChunkResult.spool`); only the file name comes back.
    Writing the result deletes its file; the directory and whatever is left
    in it are removed when the iteration ends, fails or is closed early —
    close the iterator (e.g. ``contextlib.closing``) to make that prompt.
    """
    if workers <= 1:
        fn = transform if transform is not None else spec.build()
        for chunk in chunks:
            yield process_chunk(fn, chunk)
        return
    global _inherited
    import multiprocessing  # here: a one-process run does not pay for importing it

    ctx = multiprocessing.get_context()
    spool = tempfile.mkdtemp(prefix=".dtlpy-spool-", dir=spool_dir) if spool_dir is not None else None
    pool = None
    try:
        if ctx.get_start_method() == "fork":
            _inherited = transform
        # Objects that exist now are shared with forked workers; left to the
        # collector, every full collection in a worker would walk them again
        # and touch (so copy) their pages. A caller's own frozen objects are
        # left alone (unfreeze would thaw those too).
        freeze = _inherited is not None and gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        # With the compiled rules at hand this process is one of the workers:
        # it works on a chunk itself whenever the next result in order is
        # not ready yet, instead of idling (and the pool is one process
        # smaller, so N busy processes share N cores, not N + 1).
        here = transform
        try:
            pool = ctx.Pool(workers - 1 if here is not None else workers, initializer=_init_worker, initargs=(spec,))
        finally:
            _inherited = None
            if freeze:
                gc.unfreeze()
        pending: deque = deque()
        limit = 4 * workers
        numbered = enumerate(chunks)
        more = True
        while True:
            while more and len(pending) < limit:
                item = next(numbered, None)
                if item is None:
                    more = False
                    break
                seq, chunk = item
                piece = (os.path.join(spool, f"{seq}.part"), spool_format) if spool else None
                pending.append(pool.apply_async(_work, (chunk, piece)))
            if not pending:
                break
            if here is not None and more and len(pending) < 2 * limit and not pending[0].ready():
                item = next(numbered, None)
                if item is None:
                    more = False
                else:
                    pending.append(_Here(here, item[1]))
                continue
            head = pending.popleft()
            yield head.get()
        pool.close()
    except BaseException:
        if pool is not None:
            pool.terminate()
        raise
    finally:
        if pool is not None:
            pool.join()
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)


class _Here:
    """A chunk this process worked on itself: its result (or its error,
    raised when the result's turn comes, as a pool result's would be)."""

    def __init__(self, transform: Callable[[dict], list], chunk) -> None:
        self.result = self.error = None
        try:
            self.result = process_chunk(transform, chunk)
        except Exception as e:
            self.error = e

    def ready(self) -> bool:
        return True

    def get(self) -> ChunkResult:
        if self.error is not None:
            raise self.error
        return self.result


# ------------------------------------------------------------------ CLI glue

def add_run_arguments(p) -> None:
    """The streaming / scale-out options of ``dtlpy run`` (see commands/run.py)."""
    p.add_argument("-o", "--output", metavar="FILE",
                   help="output file, written atomically (default: stdout); .jsonl/.ndjson = JSON Lines, else a JSON array")
    p.add_argument("--workers", metavar="N", type=_workers_arg, default=1,
                   help="processes to run in (0 = one per core); output order is kept")
    p.add_argument("--dask", metavar="SCHEDULER", help="run on a Dask distributed cluster (needs the [dask] extra)")
    p.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                   help="on a bad record: stop (default) or report it and go on")
    p.add_argument("--reject", metavar="FILE", help="with --on-error skip: write bad records here (JSON Lines)")
    p.add_argument("--input-format", choices=("json", "jsonl"), help="default: sniffed from the first byte")
    p.add_argument("--output-format", choices=("json", "jsonl"), help="default: from the output file name")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar with rate and ETA (default: only when stderr is a terminal)")


def _workers_arg(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of workers: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("--workers must be 0 (all cores) or more")
    return n or default_workers()


def run_from_args(args, spec: TransformSpec, input_path: str) -> int:
    """Run ``dtlpy run`` with the options of :func:`add_run_arguments`."""
    if args.dask:
        if args.input_format == "json":
            raise DtlInputError("--dask reads JSON Lines input only", code="invalid-argument")
        import importlib.util

        if importlib.util.find_spec("distributed") is None:
            raise DtlInputError("--dask needs Dask: pip install 'sesam-dtlpy[dask]'", code="missing-dependency")
        from .dask import run_file_dask
        from .stream import format_for_path

        run_file_dask(
            args.dask, spec, input_path, args.output,
            output_format=args.output_format or format_for_path(args.output, "jsonl"),
            on_error=args.on_error, reject_path=args.reject,
        )
        return 0
    from .runner import run_file

    run_file(
        spec, input_path, args.output,
        input_format=args.input_format, output_format=args.output_format,
        workers=args.workers, on_error=args.on_error, reject_path=args.reject, progress=args.progress,
    )
    return 0
