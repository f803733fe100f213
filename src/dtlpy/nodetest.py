"""An offline ``sesam test``: run a node folder and verify its outputs the way
``sesam verify`` does, or write the expected files the way ``sesam update`` does.

The rules follow sesam-py (``sesam.py``): which pipes are verified, how
entities are filtered (underscore keys, ``_deleted``, blacklist paths), the
float fix-up, the sort order and the unified diff against
``current-output.json``. See ``DEVIATIONS.md`` for what differs
offline (non-JSON endpoints are reported as errors).

>>> spec = TestSpec("orders", {"blacklist": ["meta.*"]})
>>> filter_entity({"_id": "1", "_ts": 5, "_deleted": False, "x": {"_y": 1, "z": 2}, "meta": {"a": {"b": 1}}}, spec)
{'_id': '1', 'x': {'z': 2}, 'meta': {}}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from difflib import unified_diff
from fnmatch import fnmatch
from io import StringIO
from pathlib import Path
from typing import Any

from .errors import DtlError
from .io import atomic_write, read_json_file
from .node import Node


class TestSpec:
    """An ``expected/<name>.test.json`` spec with sesam-py's defaults."""

    __test__ = False  # not a pytest class

    def __init__(self, name: str, spec: dict) -> None:
        self.name = name
        self.spec = {"name": name, "file": name + ".json", "endpoint": "json", "pipe": name, **spec}

    @property
    def pipe(self) -> str:
        return self.spec["pipe"]

    @property
    def file(self) -> str:
        return self.spec["file"]

    @property
    def ignore(self) -> bool:
        return self.spec.get("ignore", False) is True

    @property
    def ignore_deletes(self) -> bool:
        return self.spec.get("ignore_deletes", True) is True

    @property
    def endpoint(self) -> str:
        return self.spec.get("endpoint")

    @property
    def stage(self) -> str:
        return self.spec.get("stage") or "sink"

    def is_path_blacklisted(self, path: list[str]) -> bool:
        blacklist = self.spec.get("blacklist")
        if blacklist and isinstance(blacklist, list):
            prop_path = ".".join(path).replace(r"\.", ".")
            for pattern in blacklist:
                if fnmatch(prop_path, pattern.replace("[].", ".*.")):
                    return True
        return False

    def sort_key(self, entity: dict) -> list:
        """``fields_to_sort_by`` (default ``["_id"]``), then the canonical JSON.
        Values are tagged by type so mixed types sort instead of crashing."""
        key = []
        for name in self.spec.get("fields_to_sort_by", ["_id"]):
            v = entity.get(name)
            if type(v) is dict:
                v = json.dumps(v, ensure_ascii=False, sort_keys=True)
            key.append(_typed(v))
        key.append(json.dumps(entity, ensure_ascii=False, sort_keys=True))
        return key


def _typed(v: Any) -> tuple:
    if v is None:
        return (0, 0)
    if type(v) is bool:
        return (1, v)
    if type(v) in (int, float):
        return (2, v)
    if type(v) is str:
        return (3, v)
    return (4, json.dumps(v, ensure_ascii=False, sort_keys=True))


def filter_entity(entity: Any, spec: TestSpec) -> Any:
    """Drop underscore keys (except ``_id``, and ``_deleted`` when true) at
    every level, and blacklisted paths (list items keep their parent's path)."""

    def walk(path, item):
        if isinstance(item, dict):
            out = {}
            for k, v in item.items():
                p = path + [k]
                if spec.is_path_blacklisted(p):
                    continue
                if k.startswith("_"):
                    if k == "_id" or (k == "_deleted" and v is True):
                        out[k] = v
                    continue
                out[k] = walk(p, v)
            return out
        if isinstance(item, list):
            return [walk(path, x) for x in item]
        return item

    return walk([], entity)


def fix_numbers(value: Any, large_int_bug: bool = True) -> Any:
    """Floats like ``2.0`` become ints; ints over 16 digits go through a float
    (sesam-py emulates an old Go client this way unless told not to)."""
    if isinstance(value, dict):
        return {k: fix_numbers(v, large_int_bug) for k, v in value.items()}
    if isinstance(value, list):
        return [fix_numbers(v, large_int_bug) for v in value]
    if isinstance(value, (Decimal, float)) and str(value).endswith(".0"):
        return fix_numbers(int(value), large_int_bug)
    if large_int_bug and type(value) is int and len(str(value)) > len("9007199254740991"):
        return int(Decimal(str(float(value))))
    return value


def dumps_expected(entities: list, *, html_escape: bool = True) -> str:
    """The text ``sesam update`` writes for JSON expected files."""
    text = json.dumps(entities, indent="  ", sort_keys=True, ensure_ascii=False) + "\n"
    if html_escape:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text


def pipe_kind(config: dict) -> str:
    """sesam-py's classification: input, endpoint, internal or output."""
    source = config.get("source") or {}
    sink = config.get("sink") or {"type": "dataset", "dataset": config.get("_id")}
    stype, ktype = source.get("type", "dataset"), sink.get("type", "dataset")
    if ktype == "dataset" and "dataset" not in sink:
        sink = dict(sink, dataset=config.get("_id"))
    if "type" not in source and "dataset" not in source:
        source = dict(source, dataset=config.get("_id"))
    if stype == "embedded":
        return "input"
    if isinstance(ktype, str) and ktype.endswith("_endpoint"):
        return "endpoint"
    if (source.get("dataset") or source.get("datasets")) and sink.get("dataset"):
        return "internal"
    if not sink.get("dataset"):
        return "output"
    return "internal"


@dataclass
class TestResult:
    __test__ = False
    name: str
    pipe: str
    status: str  # passed | failed | ignored | error
    diff: str | None = None
    message: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "pipe": self.pipe, "status": self.status, "diff": self.diff, "message": self.message}


def _diff(a: str, b: str, a_name: str, b_name: str) -> str:
    return "".join(unified_diff(StringIO(a).readlines(), StringIO(b).readlines(), fromfile=a_name, tofile=b_name))


def _dump(entities: list) -> str:
    return json.dumps(entities, indent=2, ensure_ascii=False, sort_keys=True)


def verify_entities(spec: TestSpec, current: list[dict], expected: list[dict], *, large_int_bug: bool = True) -> TestResult:
    """Compare a pipe's entities with the expected ones as ``sesam verify`` does."""
    expected_sorted = sorted(expected, key=spec.sort_key)
    filtered = [filter_entity(e, spec) for e in current]
    if spec.ignore_deletes:
        deletes = {e.get("_id") for e in expected if isinstance(e, dict) and e.get("_deleted", False) is True}
        filtered = [e for e in filtered if not (e.get("_deleted", False) is True and e["_id"] not in deletes)]
    fixed = sorted(fix_numbers(sorted(filtered, key=spec.sort_key), large_int_bug), key=spec.sort_key)
    expected_json, current_json = _dump(expected_sorted), _dump(fixed)
    where = "expected/" + spec.file
    if len(fixed) != len(expected_sorted):
        return TestResult(spec.name, spec.pipe, "failed", _diff(expected_json, current_json, where, "current-output.json"),
                          f"length mismatch: expected {len(expected_sorted)} got {len(fixed)}")
    if expected_json != current_json:
        return TestResult(spec.name, spec.pipe, "failed", _diff(expected_json, current_json, where, "current-output.json"),
                          "content mismatch")
    return TestResult(spec.name, spec.pipe, "passed")


def update_text(spec: TestSpec, current: list[dict], *, large_int_bug: bool = True, html_escape: bool = True) -> str:
    out = fix_numbers([filter_entity(e, spec) for e in current], large_int_bug)
    if spec.ignore_deletes:
        out = [e for e in out if e.get("_deleted", False) is False]
    return dumps_expected(sorted(out, key=spec.sort_key), html_escape=html_escape)


def run_node_tests(folder: str | os.PathLike, *, update: bool = False, now: Any = None, node: Node | None = None,
                   large_int_bug: bool = True, html_escape: bool = True) -> list[TestResult]:
    """Run the node folder's pipes to a fixpoint, then verify (or update) every spec."""
    folder = Path(folder)
    node = node or Node.from_folder(folder, now=now)
    node.run()
    expected_dir = folder / "expected"
    verified = {pid for pid, p in node.pipes.items() if pipe_kind(p.config) in ("output", "endpoint")}
    specs: list[TestSpec] = []
    results: list[TestResult] = []
    spec_files = sorted(expected_dir.glob("*.test.json")) if expected_dir.is_dir() else []
    for path in spec_files:
        name = path.name[: -len(".test.json")]
        try:
            raw = read_json_file(path)
        except DtlError as e:
            results.append(TestResult(name, name, "error", message=str(e)))
            continue
        if not isinstance(raw, dict):
            results.append(TestResult(name, name, "error", message=f"test spec {path.name} is not a JSON object"))
            continue
        spec = TestSpec(name, raw)
        if spec.pipe not in verified:
            if update and not spec.ignore:
                path.unlink()
                continue
            results.append(TestResult(name, spec.pipe, "ignored" if spec.ignore else "error",
                                      message=f"test spec references a non-existing output pipe {spec.pipe!r}"))
            continue
        specs.append(spec)
    for pid in sorted(verified - {s.pipe for s in specs}):
        if update:
            expected_dir.mkdir(exist_ok=True)
            (expected_dir / f"{pid}.test.json").write_text("{\n}", encoding="utf-8")
            specs.append(TestSpec(pid, {}))
        else:
            results.append(TestResult(pid, pid, "failed", message=f"no test references pipe {pid!r} (missing test)"))
    for spec in specs:
        result = _run_spec(node, spec, expected_dir, update, large_int_bug, html_escape)
        if result.status in ("failed", "error"):
            skipped = upstream_skipped(node, spec.pipe)
            if skipped:
                note = "not run offline upstream: " + "; ".join(node.skipped[pid] for pid in skipped)
                result.message = f"{result.message} ({note})" if result.message else note
        results.append(result)
    return results


def upstream_skipped(node: Node, pipe_id: str) -> list[str]:
    """Pipes feeding ``pipe_id`` (itself included) that the node skipped as
    unsupported offline: the likely reason its output differs."""
    skipped = getattr(node, "skipped", {})
    if not skipped:
        return []
    producers: dict[str, list[str]] = {}
    for p in node.pipes.values():
        if p.sink_dataset:
            producers.setdefault(p.sink_dataset, []).append(p.id)
    out, seen, todo = [], set(), [pipe_id]
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in node.pipes:
            continue
        seen.add(pid)
        if pid in skipped:
            out.append(pid)
        for name in node.pipes[pid].source_datasets():
            todo.extend(producers.get(name, []))
    return sorted(out)


def _run_spec(node, spec, expected_dir, update, large_int_bug, html_escape) -> TestResult:
    file = expected_dir / spec.file
    if spec.ignore:
        if update and file.exists():
            file.unlink()
        return TestResult(spec.name, spec.pipe, "ignored")
    if spec.endpoint not in ("json", "excel"):
        return TestResult(spec.name, spec.pipe, "error", message=f"endpoint {spec.endpoint!r} cannot be verified offline yet")
    try:
        current = node.pipes[spec.pipe].stage(spec.stage)
    except DtlError as e:
        return TestResult(spec.name, spec.pipe, "error", message=str(e))
    if update:
        with atomic_write(file) as fh:
            fh.write(update_text(spec, current, large_int_bug=large_int_bug, html_escape=html_escape))
        return TestResult(spec.name, spec.pipe, "passed", message="updated")
    if not file.exists():
        return TestResult(spec.name, spec.pipe, "error", message=f"expected file {spec.file!r} does not exist")
    try:
        expected = read_json_file(file)
    except DtlError as e:
        return TestResult(spec.name, spec.pipe, "error", message=str(e))
    if not isinstance(expected, list):
        return TestResult(spec.name, spec.pipe, "error", message=f"expected file {spec.file!r} is not a JSON list")
    return verify_entities(spec, current, expected, large_int_bug=large_int_bug)


def summary(results: list[TestResult]) -> dict:
    passed = sum(r.status == "passed" for r in results)
    failed = sum(r.status in ("failed", "error") for r in results)
    return {"tests": [r.to_dict() for r in results], "passed": passed, "failed": failed}


__all__ = ["TestSpec", "TestResult", "filter_entity", "fix_numbers", "dumps_expected", "pipe_kind",
           "verify_entities", "run_node_tests", "summary", "upstream_skipped"]
