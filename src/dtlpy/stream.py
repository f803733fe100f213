"""Streaming entities through a transform in constant memory.

Input is a JSON array or JSON Lines (told apart by the first non-blank
byte). Readers yield *records*: ``(line_number, raw_bytes)`` for each entity,
still unparsed, so parsing can happen in whichever process runs the
transform (see :mod:`dtlpy.parallel`) and a bad record can be reported or
rejected with its line number and exact text.

Writers produce a JSON array or JSON Lines and a reject file; the run
itself (atomic output, progress, bad-record policy) is :mod:`dtlpy.runner`.

>>> import io
>>> [r for r in read_records(io.BytesIO(b'[{"_id": "a"},\\n {"_id": "b"}]'))]
[(1, b'{"_id": "a"}'), (2, b'{"_id": "b"}')]
>>> loads(b'{"n": 123456789012345678901234567890}')["n"]
123456789012345678901234567890
"""

from __future__ import annotations

import errno
import functools
import gc
import io
import itertools
import os
import re
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, Iterator

import msgspec

from .errors import DtlError, DtlInputError

CHUNK_BYTES = 1 << 20
RECORDS_PER_CHUNK = 1000

# msgspec parses integers of any size exactly (Sesam integers are unbounded;
# orjson would turn those beyond 64 bits into floats) and decodes a whole
# block of JSON Lines in one call, so no per-line splitting is needed.
_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


def loads(raw: bytes) -> Any:
    """Parse one JSON value exactly: integers keep every digit.

    Malformed JSON (and JSON nested deeper than Python's recursion limit)
    raises ValueError with a short reason.

    >>> loads(b'[1, 2.5, "x"]')
    [1, 2.5, 'x']
    """
    try:
        return _decoder.decode(raw)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as e:
        raise ValueError(_json_error(e)) from None


def _json_error(e: ValueError) -> str:
    text = str(e).removeprefix("JSON is malformed: ")
    if isinstance(e, UnicodeDecodeError):
        return "not valid UTF-8"
    if text == "Input data was truncated":
        return "the record ends inside a JSON value (truncated)"
    if isinstance(e, msgspec.ValidationError):  # a number beyond a double, e.g. 1e400
        return text.split(" - at ", 1)[0].lower()
    return text[:1].lower() + text[1:]


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (integers of any size included).

    >>> dumps({"a": 2 ** 70})
    b'{"a":1180591620717411303424}'
    """
    return _encoder.encode(value)


# --------------------------------------------------------------------- reading

def sniff_format(fh: IO[bytes]) -> str:
    """``"json"`` if the stream starts (after blanks) with ``[``; ``"object"``
    for one JSON object spread over several lines (a single-entity file);
    else ``"jsonl"``.

    ``fh`` must be a buffered binary stream (``peek`` is used; nothing is consumed).
    """
    head = fh.peek(1 << 16)
    stripped = head.lstrip(b" \t\r\n\xef\xbb\xbf")
    if stripped.startswith(b"["):
        return "json"
    first, newline, _ = stripped.partition(b"\n")
    if stripped.startswith(b"{") and newline:
        try:
            loads(first)
        except ValueError:
            return "object"  # the first line is not a whole record
    return "jsonl"


def read_records(fh: IO[bytes], fmt: str | None = None) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, raw_bytes)`` for every entity in the stream."""
    if fmt is None:
        if not hasattr(fh, "peek"):
            fh = io.BufferedReader(fh)  # type: ignore[arg-type]
        fmt = sniff_format(fh)
    if fmt == "jsonl":
        return _jsonl_records(fh)
    if fmt == "json":
        return _array_records(fh)
    if fmt == "object":
        return iter([(1, fh.read())])
    raise DtlInputError(f"unknown input format {fmt!r} (use json or jsonl)", code="invalid-argument")


def _jsonl_records(fh: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    lineno = 0
    for line in fh:
        lineno += 1
        if line.isspace() or not line:
            continue  # blank lines (and the trailing newline) carry no entity
        if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        yield lineno, line


@dataclass
class LineBlock:
    """A run of whole JSON Lines, unsplit: the cheapest unit to hand to a
    worker (the parent does no per-line work at all). ``first_line`` None:
    numbered from 1, relative to the lines before (see jsonl_blocks)."""

    first_line: int | None
    data: bytes

    def records(self) -> Iterator[tuple[int, bytes]]:
        lineno = self.first_line or 1
        for raw in self.data.split(b"\n"):
            if raw and not raw.isspace():
                yield lineno, raw
            lineno += 1


@dataclass
class FileRange:
    """The JSON Lines that *start* in bytes ``[start, end)`` of a file.

    With several workers each reads its own range straight from the file, so
    no input passes through the parent. Line numbers in the result are
    relative (see :meth:`load`); the parent adds the newlines of the ranges
    before, which it learns from the results in order.
    """

    path: str
    start: int
    end: int

    def load(self) -> tuple[LineBlock, int]:
        """The owned lines (numbered from 1, or 2 when the range begins inside
        a line that an earlier range owns) and ``adjust``: the newlines in
        ``[start, end)`` are those of the owned lines plus ``adjust``.

        (Whoever processes the lines counts their newlines anyway, so the
        range is not counted twice: ``adjust`` adds the newline of a skipped
        partial first line and takes away that of a last line finished past
        ``end``.)
        """
        pos = max(self.start - 1, 0)
        past_end = 0  # a newline of the owned lines at or after ``end``
        with open(self.path, "rb") as fh:
            fh.seek(pos)
            data = fh.read(self.end - pos)
            if data and data[-1:] != b"\n" and len(data) == self.end - pos:
                # The last line runs past the range: it is still ours, finish it.
                parts = [data]
                while True:
                    more = fh.read(1 << 16)
                    cut = more.find(b"\n")
                    if not more or cut >= 0:
                        parts.append(more[: cut + 1] if cut >= 0 else more)
                        past_end = int(cut >= 0)
                        break
                    parts.append(more)
                data = b"".join(parts)
        if self.start == 0:
            first, skipped = (3 if data.startswith(b"\xef\xbb\xbf") else 0), 0
        elif data[:1] == b"\n":
            first, skipped = 1, 0  # a line starts exactly at ``start``
        else:
            cut = data.find(b"\n")
            if cut < 0 or pos + cut + 1 >= self.end:
                # No line starts in this range; its only newline, if any, ends
                # the line an earlier range owns.
                return LineBlock(1, b""), int(0 <= cut and pos + cut < self.end)
            first, skipped = cut + 1, 1
        return LineBlock(1 + skipped, data[first:]), skipped - past_end


def file_ranges(path: str, size: int, block_bytes: int = CHUNK_BYTES) -> Iterator[FileRange]:
    for start in range(0, size, block_bytes):
        yield FileRange(path, start, min(start + block_bytes, size))


def jsonl_blocks(fh: IO[bytes], block_bytes: int = CHUNK_BYTES) -> Iterator[LineBlock]:
    """Cut a JSON Lines stream into blocks of about ``block_bytes`` at line ends.

    The blocks' line numbers are relative (``first_line`` is None): whoever
    processes a block counts its newlines anyway and reports them in the
    result (:attr:`ChunkResult.newlines`), so the reader does not count too.

    >>> [b.data for b in jsonl_blocks(io.BytesIO(b'{"a":1}\\n\\n{"b":2}'), 8)]
    [b'{"a":1}\\n\\n', b'{"b":2}']
    """
    rest = fh.read(3)
    if rest == b"\xef\xbb\xbf":
        rest = b""
    while True:
        data = fh.read(block_bytes)
        if not data:
            if rest:
                yield LineBlock(None, rest)
            return
        data = rest + data if rest else data
        cut = data.rfind(b"\n") + 1
        if cut == 0:  # one line longer than a block: keep reading
            rest = data
            continue
        yield LineBlock(None, data[:cut])
        rest = data[cut:]


# One regex pass finds the only tokens that change nesting depth. Whole strings
# are matched (and skipped) so brackets inside them do not count; a lone quote
# means a string runs past the end of the buffer: read more and rescan.
_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[][{}]|"')
_QUOTE, _OPEN_OBJ, _OPEN_ARR = 34, 123, 91


def _nested_object_pattern(levels: int) -> bytes:
    """A regex for a ``{...}`` with up to ``levels`` of nested objects/arrays,
    strings skipped whole (Python's re has no recursion, so the nesting is
    unrolled). Deeper or truncated elements fall back to the token scan."""
    string = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
    body = rb'(?:[^"{}\[\]]++|' + string + rb")*+"
    for _ in range(levels):
        inner = rb"(?:\{" + body + rb"\}|\[" + body + rb"\])"
        body = rb'(?:[^"{}\[\]]++|' + string + rb"|" + inner + rb")*+"
    return rb"\s*+,?\s*+(\{" + body + rb"\})"


@functools.cache
def _fast_entity() -> re.Pattern:
    # Compiled on first use (~15 ms): only JSON array input needs it.
    return re.compile(_nested_object_pattern(5))


def _array_records(fh: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Split a top-level JSON array into raw element texts, without parsing.

    Memory is one read buffer plus the element being assembled. Elements that
    are not objects (a bare number, string or array) are still yielded, so the
    caller reports them as bad entities instead of losing them.
    """
    buf = fh.read(CHUNK_BYTES)
    if buf.startswith(b"\xef\xbb\xbf"):
        buf = buf[3:]
    start = len(buf) - len(buf.lstrip())
    if buf[start:start + 1] != b"[":
        raise DtlInputError("line 1: a JSON array input must start with '['", code="invalid-json")
    line = 1 + buf.count(b"\n", 0, start)  # the line number at ``pos``
    pos = start + 1  # everything before ``pos`` is consumed
    eof = False
    fast = _fast_entity().match
    count = bytes.count
    while True:
        # Fast path: one C-level regex match per (not too deeply nested) object.
        r = fast(buf, pos)
        while r is not None:
            s = r.start(1)
            line += count(buf, b"\n", pos, s)
            pos = r.end()
            yield line, buf[s:pos]
            line += count(buf, b"\n", s, pos)
            r = fast(buf, pos)
        # Slow path: token scan for one element, the end, or more input.
        depth = 0
        need_more = True
        for m in _TOKEN.finditer(buf, pos):
            s = m.start()
            c = buf[s]
            if c == _QUOTE:
                if m.end() - s == 1:  # a string runs past the buffer: read more
                    break
                if depth == 0:  # a bare string element
                    line = yield from _gap(buf, pos, s, line)
                    yield line, buf[s:m.end()]
                    pos = m.end()
                    need_more = False
                    break
            elif c == _OPEN_OBJ or c == _OPEN_ARR:
                if depth == 0:
                    line = yield from _gap(buf, pos, s, line)
                    pos = s
                depth += 1
            elif depth == 0:  # the closing bracket of the top-level array
                line = yield from _gap(buf, pos, s, line)
                rest = buf[s + 1:] + (b"" if eof else fh.read())
                if rest.strip():
                    raise DtlInputError(f"line {line}: unexpected text after the closing ']'", code="invalid-json")
                return
            else:
                depth -= 1
                if depth == 0:
                    yield line, buf[pos:m.end()]
                    line += count(buf, b"\n", pos, m.end())
                    pos = m.end()
                    need_more = False
                    break
        if not need_more:
            continue
        # Out of complete tokens: keep the unfinished element, read more.
        if eof:
            raise DtlInputError(
                f"line {line}: the JSON array is not closed (truncated file?)", code="invalid-json"
            )
        more = fh.read(max(CHUNK_BYTES, len(buf) - pos))
        eof = not more
        buf = buf[pos:] + more
        pos = 0


def _gap(buf: bytes, pos: int, end: int, line: int):
    """Text between array elements: blanks and commas, or bare numbers and
    literals, which are yielded as records so they get reported, not lost.
    Returns the line number at ``end``."""
    gap = buf[pos:end]
    if gap.strip(b" \t\r\n,"):
        for part in gap.split(b","):
            stripped = part.strip()
            if stripped:
                yield line + part[: len(part) - len(part.lstrip())].count(b"\n"), stripped
            line += part.count(b"\n")
        return line
    return line + gap.count(b"\n")


# --------------------------------------------------------------------- chunks

def chunked(records: Iterable[tuple[int, bytes]], size: int = RECORDS_PER_CHUNK) -> Iterator[list]:
    chunk: list = []
    append = chunk.append
    for record in records:
        append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
            append = chunk.append
    if chunk:
        yield chunk


@dataclass
class ChunkResult:
    """What one chunk of records turned into (cheap to send between processes)."""

    # Serialized output entities, each ending in "\n" (JSON never has a raw
    # newline inside, so this is also a JSON Lines text): one bytes object
    # from the encoder for a whole block, or one growing buffer when going
    # record by record (never a list of small bytes objects: keeping
    # thousands alive and freeing them together is allocator churn).
    data: bytes | bytearray = field(default_factory=bytearray)
    n_out: int = 0
    rejects: list = field(default_factory=list)   # (line, raw bytes, code, message)
    n_in: int = 0
    n_bytes: int = 0
    # For a FileRange or a relative LineBlock: its newlines; reject lines are
    # then relative, and the caller adds the newlines of the chunks before.
    newlines: int | None = None
    # Set by :meth:`spool`: the output bytes are in this file instead of ``data``.
    spool_path: str | None = None
    spool_len: int = 0

    @property
    def lines(self) -> list[bytes]:
        """The serialized entities one by one."""
        return bytes(self.data).split(b"\n")[:-1]

    def spool(self, path: str, fmt: str) -> None:
        """Move the output bytes into a new file ``path``, already in the form
        :class:`EntityWriter` copies verbatim for ``fmt``: JSON Lines, or for
        ``"json"`` the entities joined by ``",\\n"`` (an array body).

        A pool worker does this so only a file name travels back to the
        parent, which then copies the bytes in the kernel: no pickling, no
        pipe, no Python-level copies in the parent.
        """
        data = self.data
        if not self.n_out:
            return
        if fmt == "json":
            data = data[:-1]  # no newline after the last entity
            data = data.replace(b"\n", b",\n")  # serialized JSON has no raw newline inside
        with open(path, "xb", buffering=0) as fh:
            view = memoryview(data)
            while view:
                view = view[fh.write(view):]
        self.spool_path, self.spool_len = path, len(data)
        self.data = bytearray()


def process_chunk(transform: Callable[[dict], list], chunk: "list | LineBlock | FileRange") -> ChunkResult:
    """Parse, transform and serialize a chunk: a list of ``(line, raw)``
    records, a :class:`LineBlock` or a :class:`FileRange`.

    A record that fails (bad JSON, not an object, a DTL error) becomes a
    reject with its line number; the caller decides to stop or skip.
    """
    adjust = None  # for a FileRange: see FileRange.load
    if type(chunk) is FileRange:
        n_bytes = chunk.end - chunk.start
        chunk, adjust = chunk.load()
    if type(chunk) is LineBlock:
        result = ChunkResult(n_bytes=len(chunk.data) if adjust is None else n_bytes)
        # The entities of a piece all live until it is encoded; the cyclic GC
        # would traverse them again and again (reference counting frees them
        # anyway), so it waits until the block is done.
        collecting = gc.isenabled()
        gc.disable()
        try:
            pieces, counted = _line_pieces(transform, chunk.data, chunk.first_line or 1, result)
        finally:
            if collecting:
                gc.enable()
        result.data = b"".join(pieces)
        if adjust is not None:
            result.newlines = counted + adjust
        elif chunk.first_line is None:
            result.newlines = counted  # relative line numbers: see jsonl_blocks
        return result
    result = ChunkResult(n_bytes=sum(len(raw) for _, raw in chunk))
    result.data = _records(transform, chunk, result)
    return result


# Lines are decoded, transformed and encoded this many bytes at a time: on
# this scale a piece's entities stay in the CPU caches (measured: 64 KiB
# pieces made `dtlpy run` ~30% faster than whole 1 MiB blocks).
PIECE_BYTES = 1 << 16


def _line_pieces(transform: Callable[[dict], list], data: bytes, line: int, result: ChunkResult) -> tuple[list, int]:
    """The serialized output of the lines in ``data`` (the first numbered
    ``line``), worked a piece of about PIECE_BYTES of whole lines at a time,
    and the number of newlines in ``data``."""
    pieces: list = []
    size, pos, first = len(data), 0, line
    view = memoryview(data)  # pieces are views: the decoder reads them in place
    while pos < size:
        end = data.find(b"\n", pos + PIECE_BYTES - 1) + 1 or size
        newlines = data.count(b"\n", pos, end)
        out = _whole_piece(transform, view[pos:end], line, newlines + (data[end - 1] != 10), result)
        if out is None:
            lines = data[pos:end].split(b"\n")
            out = _records(transform, zip(itertools.count(line), lines), result)
        pieces.append(out)
        line += newlines
        pos = end
    return pieces, line - first


def _whole_piece(transform: Callable[[dict], list], piece: memoryview, first_line: int, lines: int, result: ChunkResult):
    """Lines holding one entity each, in two library calls: decode them all,
    transform, encode all the results (the hot path of ``dtlpy run``).

    None, having done nothing, when the piece is not that: blank lines,
    broken JSON, an entity spread over lines or several on one line;
    :func:`_records` then goes line by line and reports exactly.
    """
    try:
        entities = _decoder.decode_lines(piece)
    except (ValueError, RecursionError):
        return None
    if len(entities) != lines:
        return None
    out: list = []
    raw_lines = None
    rejects = []
    for i, entity in enumerate(entities):
        try:
            if type(entity) is not dict:
                raise _NotAnEntity(entity)
            out += transform(entity)
        except (DtlError, _NotAnEntity) as e:
            if raw_lines is None:
                raw_lines = bytes(piece).split(b"\n")
            rejects.append(_reject(first_line + i, raw_lines[i], e))
    try:
        encoded = _encoder.encode_lines(out)
    except (TypeError, ValueError, OverflowError):
        return None  # line by line finds the entity that cannot be written
    result.rejects += rejects
    result.n_in += len(entities)
    result.n_out += len(out)
    return encoded


class _NotAnEntity(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def _reject(lineno: int, raw: bytes, e: Exception) -> tuple:
    """(line, raw, code, message) for a record the transform cannot take."""
    if isinstance(e, _NotAnEntity):
        return lineno, raw, "invalid-entity", f"an entity must be a JSON object, got {_json_kind(e.value)}"
    text = str(e)  # "[code] message (where)"; the code travels separately
    return lineno, raw, e.code, text[len(e.code) + 3:]


def _records(transform: Callable[[dict], list], records: Iterable, result: ChunkResult) -> bytearray:
    """Record by record: ``(line, raw)`` pairs, blank ones skipped; the
    serialized output (one growing buffer: thousands of small bytes objects
    kept alive and freed together cost more than the appends)."""
    data = bytearray()
    n_in = n_out = 0
    reject = result.rejects.append
    for lineno, raw in records:
        if not raw or raw.isspace():
            continue
        n_in += 1
        try:
            entity = loads(raw)
        except ValueError as e:
            reject((lineno, raw, "invalid-json", f"malformed JSON: {e}"))
            continue
        try:
            if type(entity) is not dict:
                raise _NotAnEntity(entity)
            emitted = transform(entity)
        except (DtlError, _NotAnEntity) as e:
            reject(_reject(lineno, raw, e))
            continue
        try:
            encoded = [dumps(value) for value in emitted]
        except (TypeError, ValueError, OverflowError) as e:
            reject((lineno, raw, "invalid-output", f"the result cannot be written as JSON: {e}"))
            continue
        for text in encoded:
            data += text
            data += b"\n"
        n_out += len(encoded)
    result.n_in += n_in
    result.n_out += n_out
    return data


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is bool:
        return "a boolean"
    if type(value) in (int, float):
        return "a number"
    if type(value) is str:
        return "a string"
    return "an array" if type(value) is list else type(value).__name__


# --------------------------------------------------------------------- writing

class EntityWriter:
    """Writes serialized entities as a JSON array or JSON Lines to a binary file."""

    def __init__(self, fh: IO[bytes], fmt: str) -> None:
        if fmt not in ("json", "jsonl"):
            raise DtlInputError(f"unknown output format {fmt!r} (use json or jsonl)", code="invalid-argument")
        self.fh = fh
        self.fmt = fmt
        self.count = 0
        if fmt == "json":
            fh.write(b"[")

    def write_chunk(self, result: "ChunkResult") -> None:
        """Write a chunk's serialized entities (newline-terminated), or copy
        its spool file (see :meth:`ChunkResult.spool`) and delete that."""
        if not result.n_out:
            return
        if result.spool_path is not None:
            if self.fmt == "json":
                self.fh.write(b",\n" if self.count else b"\n")
            self._copy_file(result.spool_path, result.spool_len)
            os.unlink(result.spool_path)
        elif self.fmt == "jsonl":
            self.fh.write(result.data)
        else:
            body = bytes(result.data[:-1]).replace(b"\n", b",\n")
            self.fh.write((b",\n" if self.count else b"\n") + body)
        self.count += result.n_out

    # How to copy a spool file: in the kernel with copy_file_range (file to
    # file), else sendfile (e.g. to a pipe), else read and write. A method
    # that fails once is not tried again for this output.
    _methods = ("copy_file_range", "sendfile", "write")

    def _copy_file(self, path: str, length: int) -> None:
        with open(path, "rb", buffering=0) as src:
            try:
                out = self.fh.fileno()
            except (OSError, AttributeError, ValueError):  # e.g. a captured stdout
                self._methods = ("write",)
                out = -1
            self.fh.flush()
            done = 0
            while done < length:
                method = self._methods[0]
                try:
                    if method == "copy_file_range":
                        n = os.copy_file_range(src.fileno(), out, length - done, done)
                    elif method == "sendfile":
                        n = os.sendfile(out, src.fileno(), done, length - done)
                    else:
                        src.seek(done)
                        self.fh.write(src.read(length - done))
                        n = length - done
                except (OSError, AttributeError) as e:
                    if method == "write" or getattr(e, "errno", 0) == errno.ENOSPC:
                        raise
                    self._methods = self._methods[1:]
                    continue
                if n == 0:
                    raise OSError(errno.EIO, f"spool file {path} is shorter than expected")
                done += n

    def close(self) -> None:
        if self.fmt == "json":
            self.fh.write(b"\n]\n" if self.count else b"]\n")


class RejectWriter:
    """Bad records, one JSON object per line: line number, error code, message
    and the record's exact text (kept as a string: it may not be valid JSON)."""

    def __init__(self, fh: IO[bytes] | None, source: str) -> None:
        self.fh = fh
        self.source = source
        self.count = 0

    def write(self, lineno: int, raw: bytes, code: str, message: str) -> None:
        self.count += 1
        if self.fh is not None:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            record = {"line": lineno, "file": self.source, "code": code, "error": message, "input": text}
            self.fh.write(dumps(record) + b"\n")


# --------------------------------------------------------------------- file names

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jl")


def format_for_path(path: str | None, default: str) -> str:
    """``jsonl`` for .jsonl/.ndjson/.jl files, ``json`` for other files,
    ``default`` for stdin/stdout (``None`` or ``"-"``)."""
    if not path or path == "-":
        return default
    return "jsonl" if str(path).lower().endswith(_JSONL_SUFFIXES) else "json"
