"""``dtlpy run PIPE_OR_RULES INPUT [-o OUT]``: run a pipe (or bare rules) over entities.

PIPE_OR_RULES is a pipe config (``*.conf.json``), a lone ``{"type": "dtl"}``
transform, or a rules file (``{"default": [...]}``). INPUT is a JSON array
of entities, one JSON object, or JSON Lines (told apart automatically).
The output is a JSON array on stdout, or written atomically to ``-o``
(never a half-written file). Errors name the rules file, the JSON Pointer
of the failing rule, the entity ``_id`` and the input record; exit 1.

This first version reads everything into memory; :func:`run_pipe_over` is
the piece a streaming / parallel runner builds on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import DtlError, DtlInputError
from ..io import atomic_write, read_json_file


def register(sub) -> None:
    p = sub.add_parser("run", help="run a pipe config or DTL rules over a file of entities")
    p.add_argument("pipe", metavar="PIPE_OR_RULES", help="pipe config, dtl transform or rules file (JSON)")
    p.add_argument("input", metavar="INPUT", help="entities: JSON array, one JSON object, or JSON Lines")
    p.add_argument("-o", "--output", metavar="FILE", help="write the JSON array here (atomically) instead of stdout")
    p.add_argument("--now", help="pin the clock, e.g. 2024-01-01T00:00:00Z")
    p.add_argument("--seed", type=int, help="seed for uuid and other random values")
    p.add_argument("--datasets", metavar="FILE", help='JSON object {"dataset-id": [entities]} for hops')
    p.set_defaults(func=run)


def read_entities(path: str | Path) -> list[dict]:
    """Entities from a JSON array, a single JSON object or JSON Lines file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DtlInputError(f"no such file: {p}", code="file-not-found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise DtlInputError(f"cannot read {p}: {e}", code="unreadable-file", file=str(p)) from None
    stripped = text.lstrip()
    if not stripped:
        return []
    if stripped[0] == "[" or stripped[0] == "{":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            if not (stripped[0] == "{" and e.msg == "Extra data"):
                raise DtlInputError(
                    f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}", code="invalid-json", file=str(p)
                ) from None
        except RecursionError:
            raise DtlInputError("JSON nested too deeply", code="too-deep", file=str(p)) from None
        else:
            values = value if type(value) is list else [value]
            for i, v in enumerate(values):
                if type(v) is not dict:
                    raise DtlInputError(
                        f"entity {i} is a {type(v).__name__}, not a JSON object", code="invalid-entity", file=str(p)
                    )
            return values
    # JSON Lines: one entity per non-blank line.
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            v = json.loads(line)
        except json.JSONDecodeError as e:
            raise DtlInputError(
                f"malformed JSON Lines record at line {n}, column {e.colno}: {e.msg}", code="invalid-json", file=str(p)
            ) from None
        if type(v) is not dict:
            raise DtlInputError(f"line {n} is a {type(v).__name__}, not a JSON object", code="invalid-entity", file=str(p))
        out.append(v)
    return out


def run_pipe_over(pipe: Any, entities: Iterable[dict], *, input_name: str | None = None) -> Iterator[dict]:
    """Everything ``pipe.transform`` emits for each entity, in order.

    A failing entity's error gets a hint naming its input record.
    """
    for i, entity in enumerate(entities):
        try:
            yield from pipe.transform(entity)
        except DtlError as e:
            if e.entity_id is None and isinstance(entity, dict):
                e.entity_id = entity.get("_id")
            if e.hint is None:
                where = f" of {input_name}" if input_name else ""
                e.hint = f"input record {i}{where}"
            raise


def run(args) -> int:
    from ..pipe import load_rules_or_pipe

    options: dict = {}
    if args.now is not None:
        options["now"] = args.now
    if args.seed is not None:
        options["seed"] = args.seed
    if args.datasets:
        datasets = read_json_file(args.datasets)
        if not isinstance(datasets, dict):
            raise DtlInputError(
                "--datasets must be a JSON object of dataset id -> list of entities",
                code="invalid-argument", file=args.datasets,
            )
        options["datasets"] = datasets
    pipe = load_rules_or_pipe(args.pipe, **options)
    entities = read_entities(args.input)
    out = list(run_pipe_over(pipe, entities, input_name=args.input))
    text = json.dumps(out, ensure_ascii=False, indent=2) + "\n"
    if args.output:
        with atomic_write(args.output) as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0
