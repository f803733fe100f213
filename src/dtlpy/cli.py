"""The ``dtlpy`` command line: ``main(argv) -> exit code``.

Exit codes: 0 ok, 1 a data or rule error (or failed checks), 2 usage.
Each subcommand lives in ``dtlpy.commands.<name>`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
function ``run(args) -> int``. List new subcommands in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import DtlError

COMMANDS = (
    "eval",     # dtlpy eval EXPR [--source FILE] [--target FILE]
    "run",      # dtlpy run PIPE_OR_RULES INPUT [-o OUT] [--workers N] [--dask ADDR]
    "qa",       # dtlpy qa [--format text|markdown|json|junit|html]
    "doc",      # dtlpy doc [-o FILE] [--check]
    "check",    # dtlpy check PIPE_OR_RULES [--source-schema S] [--target-schema T]
    "explain",  # dtlpy explain PIPE ENTITY
    "test",     # dtlpy test NODE_DIR [--update] [--format json]
    "sync",     # dtlpy sync SCENARIO
)

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits with 2 on usage errors; keep that
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that subcommand's module is
    imported (each pulls in its own machinery, so this keeps start-up short)."""
    parser = _Parser(prog="dtlpy", description="Run Sesam DTL offline.")
    parser.add_argument("--version", action="version", version="dtlpy 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in (only,) if only else COMMANDS:
        try:
            module = importlib.import_module(f"{__package__}.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__package__}.commands.{name}":
                continue  # not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    first = argv[0] if argv else None
    parser = build_parser(only=first if first in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except DtlError as e:
        print(f"dtlpy: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("dtlpy: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
