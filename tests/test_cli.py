"""The top-level CLI: every subcommand is listed, usage errors exit 2."""

from __future__ import annotations

import pytest

from dtlpy.cli import COMMANDS, main


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_unknown_command_and_no_command_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as info:
        main(["bogus"])
    assert info.value.code == 2
    assert main([]) == 2
