"""Reading and writing JSON files with clear errors and atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import DtlInputError


def read_text_file(path: str | os.PathLike, encoding: str = "utf-8") -> str:
    """A text file's content; a missing or unreadable file is a DtlInputError naming it."""
    p = Path(path)
    try:
        return p.read_text(encoding=encoding)
    except FileNotFoundError:
        raise DtlInputError(f"no such file: {p}", code="file-not-found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise DtlInputError(f"cannot read {p}: {e}", code="unreadable-file", file=str(p)) from None


def read_json_file(path: str | os.PathLike) -> Any:
    """Parse a JSON file; errors name the file, line and column."""
    p = Path(path)
    text = read_text_file(p)
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte order mark, as Windows editors write (sesam-py accepts it too)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DtlInputError(
            f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}",
            code="invalid-json",
            file=str(p),
        ) from None
    except RecursionError:
        raise DtlInputError("JSON nested too deeply", code="too-deep", file=str(p)) from None


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"):
    """Write to a temporary file beside ``path`` and move it into place only
    when the block finishes without an error: never a half-written file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain
        # open() would: the existing file's, else 0666 less the umask.
        os.chmod(tmp, _mode_for(p))
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_json_file(path: str | os.PathLike, value: Any, *, indent: int = 2) -> None:
    with atomic_write(path) as fh:
        json.dump(value, fh, ensure_ascii=False, indent=indent)
        fh.write("\n")
