"""``dtlpy run`` over a file: stream records through a transform, in one
process or several, with bad-record handling, progress and atomic output.

The pieces live in :mod:`dtlpy.stream` (formats, records, writers) and
:mod:`dtlpy.parallel` (transform specs, the process pool).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from contextlib import ExitStack, closing
from dataclasses import dataclass
from typing import IO, Iterable

from .errors import DtlError, DtlInputError
from .io import atomic_write
from .stream import (
    CHUNK_BYTES,
    RECORDS_PER_CHUNK,
    EntityWriter,
    RejectWriter,
    chunked,
    file_ranges,
    format_for_path,
    jsonl_blocks,
    read_records,
    sniff_format,
)


# --------------------------------------------------------------------- progress

def progress_bar(total_bytes: int | None, *, enabled: bool | None = None):
    """A tqdm bar counting input bytes (rate and ETA), or a no-op when stderr
    is not a terminal (logs and CI stay clean)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(
        total=total_bytes or None,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc="dtlpy run",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    )


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s, refresh=True):
        pass

    def close(self):
        pass


def _is_regular(fh) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
    except (OSError, AttributeError, ValueError):
        return False


@dataclass
class RunStats:
    entities_in: int = 0
    entities_out: int = 0
    rejected: int = 0
    bytes_in: int = 0

    def count(self, result) -> None:
        """Add one chunk's :class:`~dtlpy.stream.ChunkResult`."""
        self.entities_in += result.n_in - len(result.rejects)
        self.entities_out += result.n_out
        self.bytes_in += result.n_bytes


def open_outputs(stack: ExitStack, output_path: str | None, fmt: str, reject_path: str | None, source: str):
    """``(file, EntityWriter, RejectWriter)`` of a run: the output written
    atomically (stdout for None or ``-``) and the reject file if any, both
    closed (or rolled back on an error) by ``stack``."""
    if output_path and output_path != "-":
        fout = stack.enter_context(atomic_write(output_path, "wb"))
    else:
        fout = sys.stdout.buffer
    rejects = RejectWriter(stack.enter_context(atomic_write(reject_path, "wb")) if reject_path else None, source)
    return fout, EntityWriter(fout, fmt), rejects


class RecordError(DtlError):
    """A bad input record (or one the rules failed on), with its line number."""

    code = "invalid-input"


MAX_REPORTED = 20  # per-record messages on stderr before only counting
SYNC_BYTES = 16 << 20  # with workers: fdatasync the output every this many bytes


def run_file(
    spec,
    input_path: str,
    output_path: str | None = None,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    workers: int = 1,
    on_error: str = "stop",
    reject_path: str | None = None,
    progress: bool | None = None,
    chunk_size: int = RECORDS_PER_CHUNK,
    block_bytes: int = CHUNK_BYTES,
    log: IO[str] | None = None,
) -> RunStats:
    """Stream ``input_path`` through the transform ``spec`` describes.

    ``spec`` is a :class:`dtlpy.parallel.TransformSpec`; it is compiled here
    first, so rule errors surface before any data is read or written.
    ``on_error="stop"`` raises :class:`RecordError` at the first bad record
    (no output file is left); ``"skip"`` reports each bad record on ``log``
    (stderr) and writes it to ``reject_path`` if given, then goes on.
    """
    from .parallel import map_chunks  # parallel imports stream; import it late

    if on_error not in ("stop", "skip"):
        raise DtlInputError(f"--on-error must be stop or skip, not {on_error!r}", code="invalid-argument")
    if reject_path and on_error != "skip":
        raise DtlInputError("--reject needs --on-error skip", code="invalid-argument")
    log = log if log is not None else sys.stderr
    # Compile errors now, in the parent; forked workers reuse this compiled copy.
    transform = spec.build()
    stats = RunStats()
    source = "<stdin>" if input_path == "-" else str(input_path)
    with ExitStack() as stack:
        if input_path == "-":
            fin = sys.stdin.buffer
            total = None
        else:
            try:
                fin = stack.enter_context(open(input_path, "rb"))
            except FileNotFoundError:
                raise DtlInputError(f"no such file: {input_path}", code="file-not-found", file=source) from None
            except OSError as e:
                raise DtlInputError(f"cannot read {input_path}: {e}", code="unreadable-file", file=source) from None
            total = os.fstat(fin.fileno()).st_size
        in_fmt = input_format or sniff_format(fin)
        out_fmt = output_format or format_for_path(output_path, "json")
        fout, writer, rejects = open_outputs(stack, output_path, out_fmt, reject_path, source)
        bar = progress_bar(total, enabled=progress)
        stack.callback(bar.close)
        if in_fmt == "jsonl" and workers > 1 and total is not None and _is_regular(fin):
            chunks: Iterable = file_ranges(os.path.abspath(input_path), total, block_bytes)
        elif in_fmt == "jsonl":
            chunks = jsonl_blocks(fin, block_bytes)
        else:
            chunks = chunked(read_records(fin, in_fmt), chunk_size)
        # With workers, each chunk's output waits in a spool file beside the
        # output (same file system: copied in the kernel) or in the temp dir.
        if output_path and output_path != "-":
            spool_dir = os.path.dirname(os.path.abspath(output_path))
        else:
            spool_dir = tempfile.gettempdir()
        results = stack.enter_context(closing(map_chunks(
            spec, chunks, workers=workers, transform=transform, spool_dir=spool_dir, spool_format=out_fmt,
        )))
        # The atomic output ends with an fsync. With workers this process is
        # idle most of the time: sync as the output grows, so that wait
        # overlaps the work instead of adding to the end of the run.
        sync_every = SYNC_BYTES if workers > 1 and output_path and output_path != "-" else 0
        sync = getattr(os, "fdatasync", os.fsync)  # no fdatasync on macOS / Windows
        unsynced = 0
        lines_before = 0  # newlines before the current chunk (FileRange or relative LineBlock)
        for result in results:
            if result.newlines is not None:
                result.rejects = [(lines_before + n, *rest) for n, *rest in result.rejects]
                lines_before += result.newlines
            for lineno, raw, code, message in result.rejects:
                if on_error == "stop":
                    raise RecordError(f"line {lineno}: {message}", code=code, file=source)
                rejects.write(lineno, raw, code, message)
                if rejects.count <= MAX_REPORTED:
                    print(f"dtlpy: skipped {source} line {lineno}: {message}", file=log)
            writer.write_chunk(result)
            if sync_every:
                unsynced += result.spool_len or len(result.data)
                if unsynced >= sync_every:
                    fout.flush()
                    sync(fout.fileno())
                    unsynced = 0
            stats.count(result)
            bar.set_postfix_str(f"{stats.entities_in:,} entities", refresh=False)
            bar.update(result.n_bytes)
        writer.close()
        fout.flush()
        stats.rejected = rejects.count
        if rejects.count:
            where = f" (written to {reject_path})" if reject_path else ""
            print(f"dtlpy: {rejects.count} bad record(s) skipped{where}", file=log)
    return stats
