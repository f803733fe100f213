"""Atomic writes: all or nothing, with the permissions a plain open() gives."""

from __future__ import annotations

import os

import pytest

from dtlpy.io import atomic_write


def test_atomic_write_gives_the_umask_mode_and_keeps_an_existing_mode(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "out.json"
        with atomic_write(target) as fh:
            fh.write("[]")
        assert target.read_text() == "[]"
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o600)
        with atomic_write(target) as fh:
            fh.write("[1]")
        assert target.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_atomic_write_leaves_nothing_after_an_error(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
