"""Static checks of DTL rules and pipe configs (``dtlpy check``).

The checker walks the rules JSON once, without touching data, and reports
each mistake it can prove or strongly suspect as a :class:`Finding` with the
file, the JSON Pointer, the offending fragment and a one-line fix hint:

- ``unknown-function`` / ``unknown-transform`` (with the nearest name),
  ``arity``, ``invalid-argument`` (a constant that can never be the string an
  argument needs, a rule id that is not a constant string), ``unbound-item``
  (``_`` used outside a function-expression: always null there),
  ``item-unused`` (a function-expression that never uses ``_``, e.g.
  ``["max", "_S.a", "_S.b"]`` where ``_S.a`` is read as the FUNCTION);
- ``source-path`` (``_S.x`` the source schema does not have), ``target-path``
  (``_T.x`` that no earlier step adds), ``target-property`` (a property the
  target schema does not allow);
- ``unused-rule`` (a named rule no ``apply`` reaches), ``unknown-rule``;
- ``filter-never-passes`` (a ``filter``/``discard`` whose condition is a
  constant false, null or ``[]``, or a bare one at the top of a rule).

Whatever the compiler itself rejects is reported too (``dtlpy.compile`` is run
on every rules document), so a clean check means the rules compile.

>>> report = check_document({"default": [["add", "n", ["uper", "_S.n"]]]}, file="r.json")
>>> [(f.code, f.pointer, f.hint) for f in report]
[('unknown-function', '/default/0/2', "did you mean 'upper'?")]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checkrules import FUNCTION_ARGS, STRING_ARGS, Finding, RulesChecker, align
from .compiler import pointer
from .errors import DtlError
from .io import read_json_file
from .schemaview import SchemaView

__all__ = ["Finding", "check_document", "check_file", "check_paths", "discover", "align", "STRING_ARGS",
           "FUNCTION_ARGS"]


def check_document(rules: Any, *, file: str | None = None, base: str = "", source: SchemaView | None = None,
                   target: SchemaView | None = None, ni_mode: bool = False, pipe: dict | None = None) -> list[Finding]:
    """Findings for one rules document (see the module docstring)."""
    return RulesChecker(rules, file=file, base=base, source=source, target=target, ni_mode=ni_mode,
                        pipe=pipe).run()


# ---------------------------------------------------------------- files


def classify(doc: Any) -> str | None:
    """``"pipe"``, ``"transform"`` (a lone dtl transform), ``"rules"`` or None."""
    if isinstance(doc, dict):
        if doc.get("type") == "pipe" or "transform" in doc:
            return "pipe"
        if doc.get("type") == "dtl" and "rules" in doc:
            return "transform"
        if isinstance(doc.get("default"), list):
            return "rules"
    return None


def discover(paths: list[str]) -> list[tuple[str, bool]]:
    """Files to check: ``(path, explicit)``; directories give every ``*.json`` under them."""
    out: list[tuple[str, bool]] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend((str(f), False) for f in sorted(path.rglob("*.json")) if f.is_file())
        else:
            out.append((str(path), True))
    return out


def _dtl_transforms(transform: Any, base: str) -> list[tuple[dict, str]]:
    from .pipe import transform_configs

    out = []
    for config, ptr in transform_configs(transform, base):
        if isinstance(config, dict) and config.get("type") == "conditional":
            for name, alt in (config.get("alternatives") or {}).items():
                out.extend(_dtl_transforms(alt, pointer(ptr, "alternatives", name)))
        elif isinstance(config, dict) and config.get("type") == "dtl":
            out.append((config, ptr))
    return out


def _schema_for(name: Any, file: str) -> SchemaView | None:
    """A pipe's ``metadata.source_schema`` name -> ``schemas/<name>.schema.json`` near the file."""
    if not isinstance(name, str):
        return None
    here = Path(file).parent
    for d in (here / "schemas", here.parent / "schemas"):
        candidate = d / f"{name}.schema.json"
        if candidate.is_file():
            return SchemaView(read_json_file(candidate))
    return None


def _node_metadata(file: str) -> dict | None:
    """The ``node-metadata.conf.json`` of a Sesam node folder holding the pipe, if any."""
    for d in list(Path(file).resolve().parents)[:2]:
        candidate = d / "node-metadata.conf.json"
        if candidate.is_file():
            try:
                meta = read_json_file(candidate)
            except DtlError:
                return None
            return meta if isinstance(meta, dict) else None
    return None


def check_file(file: str, *, explicit: bool = True, source: SchemaView | None = None,
               target: SchemaView | None = None) -> tuple[list[Finding], bool]:
    """Findings of one file, and whether it was a DTL file at all."""
    try:
        doc = read_json_file(file)
    except DtlError as e:
        return [Finding("error", e.code, e.message, file, "", None, "fix the JSON first")], True
    kind = classify(doc)
    if kind is None:
        if explicit:
            return [Finding("error", "not-dtl", "neither a pipe config nor a rules file", file, "", None,
                            'a rules file is {"default": [...]}; a pipe has "transform"')], True
        return [], False
    if kind == "rules":
        return check_document(doc, file=file, source=source, target=target), True
    if kind == "transform":
        return check_document(doc["rules"], file=file, base="/rules", source=source, target=target), True
    from .namespaces import pipe_flags

    ni_mode = pipe_flags(doc, _node_metadata(file))[0]
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    source = source or _schema_for(meta.get("source_schema"), file)
    target = target or _schema_for(meta.get("target_schema"), file)
    pipe_id = doc.get("_id") or Path(file).name.split(".")[0]
    settings = {"_id": pipe_id, "namespaced_identifiers": ni_mode}
    steps = _dtl_transforms(doc.get("transform"), "/transform")
    findings: list[Finding] = []
    for i, (config, ptr) in enumerate(steps):
        findings += check_document(
            config.get("rules"), file=file, base=pointer(ptr, "rules"), ni_mode=ni_mode, pipe=settings,
            source=source if i == 0 else None, target=target if i == len(steps) - 1 else None,
        )
    return findings, True


def check_paths(paths: list[str], *, source_schema: Any = None, target_schema: Any = None) -> tuple[list[Finding], list[str]]:
    """Check files and directories; returns (findings, files checked)."""
    source = SchemaView(source_schema) if source_schema is not None else None
    target = SchemaView(target_schema) if target_schema is not None else None
    findings: list[Finding] = []
    checked: list[str] = []
    for file, explicit in discover(paths):
        found, was_dtl = check_file(file, explicit=explicit, source=source, target=target)
        findings += found
        if was_dtl:
            checked.append(file)
    return findings, checked
