"""Sesam pipe configs (``*.conf.json``) as runnable objects.

:func:`load_pipe` reads a pipe config, compiles every DTL transform in its
``transform`` chain (errors name the file and the JSON Pointer inside it,
e.g. ``/transform/1/rules/default/3``) and returns a :class:`Pipe` whose
``transform(entity)`` runs the whole chain: ``add_namespaces`` before the
first transform, each transform on every entity the previous one emitted,
``remove_namespaces`` after the last.

The chain may be one transform object, a list of them, or a
``{"type": "chained", "transforms": [...]}`` object. Supported types:
``dtl`` (with ``rules``, ``id_required``, ``trigger_on``), ``emit_children``
(emits the ``$children`` of each entity) and ``conditional`` (the
alternative chosen by ``condition``, with ``$ENV(name)`` read from ``env``).
Anything else (``rest``, ``http`` ...) talks to external systems and is
refused with code ``unsupported-transform``. ``$ENV(name)`` inside DTL rules
is replaced from ``env`` (unknown names stay literal, see
:func:`substitute_env`); :func:`load_pipe` finds the node's metadata and
``test-env.json`` itself (:func:`node_files`).

>>> import json, tempfile, os
>>> cfg = {"_id": "p", "type": "pipe", "transform": [
...     {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "n", 1]]}},
...     {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "m", ["+", "_S.n", 1]]]}}]}
>>> path = os.path.join(tempfile.mkdtemp(), "p.conf.json")
>>> with open(path, "w") as fh:
...     json.dump(cfg, fh)
>>> load_pipe(path).transform({"_id": "a"})
[{'_id': 'a', 'n': 1, 'm': 2}]
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from .compiler import pointer
from .engine import Transform
from .errors import DtlError, DtlInputError
from .io import read_json_file
from .namespaces import add_namespaces, pipe_flags, remove_namespaces

__all__ = ["Pipe", "load_pipe", "pipe_from_config", "load_rules_or_pipe", "transform_configs", "substitute_env",
           "node_files"]


class _EmitChildren:
    """The ``emit_children`` transform: each entity's ``$children`` that have an ``_id``."""

    type = "emit_children"

    def transform(self, entity: dict, *, previous: Any = None, for_sink: bool = False) -> list[dict]:
        return [c for c in entity.get("$children") or [] if type(c) is dict and "_id" in c]


class _Dtl:
    """One compiled ``dtl`` transform of a chain."""

    type = "dtl"

    def __init__(self, compiled: Transform, config: dict) -> None:
        self.compiled = compiled
        self.config = config

    def transform(self, entity: dict, *, previous: Any = None, for_sink: bool = False) -> list[dict]:
        if for_sink:
            return self.compiled.transform_for_sink(entity, previous=previous)
        return self.compiled.transform(entity, previous=previous)


class Pipe:
    """A loaded pipe: its config and the compiled transform chain.

    Attributes: ``id``, ``config`` (the parsed JSON), ``source``, ``sink``
    (the sink config, defaulting to a dataset sink named after the pipe),
    ``transforms`` (one object per chain step; DTL steps have ``.compiled``,
    the :class:`dtlpy.Transform`), ``file``, ``namespaced_identifiers``,
    ``add_namespaces``, ``remove_namespaces``.
    """

    def __init__(self, config: dict, steps: list, *, file: str | None, flags: tuple[bool, bool, bool],
                 identity_ns: str, property_ns: str) -> None:
        self.config = config
        self.id = config.get("_id")
        self.file = file
        self.source = config.get("source") if isinstance(config.get("source"), dict) else {}
        sink = config.get("sink") if isinstance(config.get("sink"), dict) else {}
        self.sink = {"type": "dataset", "dataset": self.id, **sink} if not sink.get("type") else sink
        self.transforms = steps
        self.namespaced_identifiers, self.add_namespaces, self.remove_namespaces = flags
        self.identity_ns = identity_ns
        self.property_ns = property_ns

    def transform(self, entity: Any, *, previous: Any = None, for_sink: bool = False) -> list[dict]:
        """Everything the chain emits for one source entity, in order.

        With ``for_sink=True`` a ``filter``ed entity travels on as a
        ``_filtered`` tombstone (what a dataset sink receives).
        """
        if type(entity) is not dict:
            raise DtlInputError(
                f"an entity must be a JSON object, got {type(entity).__name__}", code="invalid-entity", file=self.file
            )
        if self.add_namespaces:
            entity = add_namespaces(entity, self.identity_ns, self.property_ns)
        batch = [entity]
        for step in self.transforms:
            out: list = []
            for e in batch:
                out.extend(step.transform(e, previous=previous, for_sink=for_sink))
            batch = out
        if self.remove_namespaces:
            batch = [remove_namespaces(e) for e in batch]
        return batch

    def transform_for_sink(self, entity: Any, *, previous: Any = None) -> list[dict]:
        return self.transform(entity, previous=previous, for_sink=True)

    def run(self, entities: Iterable[Any]) -> Iterator[dict]:
        """Everything emitted for an iterable of entities."""
        for entity in entities:
            yield from self.transform(entity)

    def source_entities(self) -> list[dict] | None:
        """The entities of an ``embedded`` source (None for other sources)."""
        if self.source.get("type") == "embedded":
            return list(self.source.get("entities") or [])
        return None

    def __repr__(self) -> str:
        kinds = ",".join(s.type for s in self.transforms)
        return f"<Pipe {self.id!r} [{kinds}]>"


# ---------------------------------------------------------------- loading


def transform_configs(transform: Any, base: str = "/transform") -> list[tuple[dict, str]]:
    """Flatten a pipe's ``transform`` value into ``[(config, pointer)]``.

    Accepts one transform object, a list, and ``chained`` objects (nested).
    """
    if transform is None:
        return []
    if isinstance(transform, list):
        out = []
        for i, t in enumerate(transform):
            out.extend(transform_configs(t, pointer(base, i)))
        return out
    if isinstance(transform, dict) and transform.get("type") == "chained":
        return transform_configs(transform.get("transforms") or [], pointer(base, "transforms"))
    return [(transform, base)]


_ENV = re.compile(r"^\$ENV\(([^)]*)\)$")
_ENV_ANY = re.compile(r"\$ENV\(([^)]*)\)")


def substitute_env(value: Any, env: dict) -> Any:
    """``$ENV(name)`` in DTL rules, offline: a whole-string reference becomes
    the variable's (JSON) value, one inside text is replaced as text, and an
    unknown variable stays as the literal ``$ENV(name)`` text (so rules still
    compile and the placeholder is visible in the output). ``$SECRET(...)``
    is never substituted: secrets belong to systems, not to DTL.

    >>> substitute_env(["matches", "$ENV(url)*", "_S.u"], {"url": "http://x/"})
    ['matches', 'http://x/*', '_S.u']
    >>> substitute_env(["eq", "_S.n", "$ENV(limit)"], {"limit": 5})
    ['eq', '_S.n', 5]
    >>> substitute_env("$ENV(nope)", {})
    '$ENV(nope)'
    """
    if type(value) is str:
        if "$ENV(" not in value:
            return value
        m = _ENV.match(value)
        if m:
            return env.get(m.group(1), value)
        return _ENV_ANY.sub(lambda m: str(env[m.group(1)]) if m.group(1) in env else m.group(0), value)
    if type(value) is list:
        return [substitute_env(v, env) for v in value]
    if type(value) is dict:
        return {k: substitute_env(v, env) for k, v in value.items()}
    return value


def node_files(path: str | os.PathLike) -> tuple[dict | None, dict]:
    """The node metadata and ``test-env.json`` of the sesam-py node folder
    holding a pipe file (``<node>/pipes/x.conf.json``, or beside it): the
    defaults a pipe gets on its node. Unreadable files count as absent."""
    meta, env = None, {}
    for d in list(Path(path).resolve().parents)[:2]:
        if meta is None and (d / "node-metadata.conf.json").is_file():
            try:
                found = read_json_file(d / "node-metadata.conf.json")
            except DtlError:
                found = None
            meta = found if isinstance(found, dict) else None
        if not env and (d / "test-env.json").is_file():
            try:
                found = read_json_file(d / "test-env.json")
            except DtlError:
                found = None
            env = found if isinstance(found, dict) else {}
    return meta, env


def _error(message: str, file, ptr, fragment=None, code="invalid-pipe") -> DtlError:
    return DtlInputError(message, code=code, file=file, pointer=ptr, fragment=fragment)


def _step(config: Any, ptr: str, *, file, pipe_settings, datasets, now, seed, env) -> Any:
    if not isinstance(config, dict):
        raise _error("a transform must be a JSON object with a \"type\"", file, ptr, config)
    kind = config.get("type")
    if kind == "dtl":
        rules = config.get("rules")
        if rules is None:
            hint = ' ("transforms" is the pre-2017 name of "rules")' if "transforms" in config else ""
            raise _error(f"a dtl transform needs \"rules\"{hint}", file, ptr, code="missing-rules")
        trigger_on = config.get("trigger_on")
        if trigger_on is not None and not isinstance(trigger_on, dict):
            raise _error("trigger_on must be an object", file, pointer(ptr, "trigger_on"), trigger_on)
        rules = substitute_env(rules, env)
        trigger_on = substitute_env(trigger_on, env)
        compiled = _compile(
            rules,
            pipe=pipe_settings,
            datasets=datasets,
            now=now,
            seed=seed,
            id_required=config.get("id_required", True) is not False,
            trigger_on=trigger_on,
            file=file,
            base_pointer=pointer(ptr, "rules"),
        )
        return _Dtl(compiled, config)
    if kind == "emit_children":
        return _EmitChildren()
    if kind == "conditional":
        condition = config.get("condition")
        if isinstance(condition, str):
            m = _ENV.match(condition)
            if m:
                condition = env.get(m.group(1))
        alternatives = config.get("alternatives") or {}
        if not isinstance(condition, str) or condition not in alternatives:
            raise _error(
                f"conditional transform: condition {config.get('condition')!r} selects no alternative "
                f"(known: {sorted(alternatives)})",
                file, pointer(ptr, "condition"), code="unsupported-transform",
            )
        sub = transform_configs(alternatives[condition], pointer(ptr, "alternatives", condition))
        steps = [_step(c, p, file=file, pipe_settings=pipe_settings, datasets=datasets, now=now, seed=seed, env=env)
                 for c, p in sub]
        return _Chain(steps)
    raise DtlError(
        f"transform type {kind!r} is not supported offline (only dtl, emit_children, chained, conditional)",
        code="unsupported-transform", file=file, pointer=pointer(ptr, "type"),
    )


def _compile(rules, **kwargs) -> Transform:
    """``Transform(...)`` with the same error guarantees as ``dtlpy.compile``."""
    try:
        return Transform(rules, **kwargs)
    except DtlError:
        raise
    except RecursionError:
        raise DtlInputError("rules nested too deeply", code="too-deep", file=kwargs.get("file")) from None


class _Chain:
    """A nested chain (the chosen alternative of a ``conditional``)."""

    type = "chained"

    def __init__(self, steps: list) -> None:
        self.steps = steps

    def transform(self, entity: dict, *, previous: Any = None, for_sink: bool = False) -> list[dict]:
        batch = [entity]
        for step in self.steps:
            batch = [o for e in batch for o in step.transform(e, previous=previous, for_sink=for_sink)]
        return batch


def pipe_from_config(
    config: Any,
    *,
    file: str | None = None,
    datasets: dict | None = None,
    now: Any = None,
    seed: int | None = None,
    node_metadata: dict | None = None,
    env: dict | None = None,
) -> Pipe:
    """Build a :class:`Pipe` from an already parsed pipe config."""
    if not isinstance(config, dict):
        raise _error("a pipe config must be a JSON object", file, "", code="invalid-pipe")
    pipe_id = config.get("_id") or (Path(file).name.split(".")[0] if file else "pipe")
    flags = pipe_flags(config, node_metadata)
    namespaces = config.get("namespaces") if isinstance(config.get("namespaces"), dict) else {}
    identity_ns = namespaces.get("identity") or pipe_id
    property_ns = namespaces.get("property") or pipe_id
    settings = {
        "_id": pipe_id,
        "namespaced_identifiers": flags[0],
        "namespaces": {"identity": identity_ns, "property": property_ns},
    }
    meta_ns = (node_metadata or {}).get("namespaces")
    if isinstance(meta_ns, dict) and isinstance(meta_ns.get("default"), dict):
        settings["uri_namespaces"] = meta_ns["default"]
    environment = dict(os.environ) if env is None else env
    steps = [
        _step(c, p, file=file, pipe_settings=settings, datasets=datasets, now=now, seed=seed, env=environment)
        for c, p in transform_configs(config.get("transform"))
    ]
    return Pipe(config, steps, file=file, flags=flags, identity_ns=identity_ns, property_ns=property_ns)


def load_pipe(
    path: str | os.PathLike,
    *,
    datasets: dict | None = None,
    now: Any = None,
    seed: int | None = None,
    node_metadata: dict | None = None,
    env: dict | None = None,
) -> Pipe:
    """Read and compile a pipe config file (see the module docstring).

    Without ``node_metadata`` / ``env`` the pipe's node folder supplies them:
    ``node-metadata.conf.json`` and ``test-env.json`` next to the file or one
    folder up (the sesam-py layout), the environment over ``os.environ``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise DtlInputError(
            f"a pipe config path must be a string or path, got {type(path).__name__}",
            code="invalid-argument",
        )
    file = str(path)
    config = read_json_file(path)
    if node_metadata is None or env is None:
        found_meta, found_env = node_files(path)
        if node_metadata is None:
            node_metadata = found_meta
        if env is None:
            env = {**os.environ, **found_env}
    return pipe_from_config(
        config, file=file, datasets=datasets, now=now, seed=seed, node_metadata=node_metadata, env=env
    )


def load_rules_or_pipe(path: str | os.PathLike, **options) -> Pipe | Transform:
    """A pipe config, a bare ``{"type": "dtl", "rules": ...}`` transform, or a
    bare rules file (``{"default": [...]}``); each result has ``.transform``
    and ``.run``. ``options``: datasets, now, seed (and node_metadata, env
    for pipes; pipe, id_required for rules)."""
    file = str(path)
    doc = read_json_file(path)
    if not isinstance(doc, dict):
        raise DtlInputError(
            "expected a pipe config or a rules object ({\"default\": [...]})", code="invalid-rules", file=file
        )
    if "transform" in doc or doc.get("type") == "pipe":
        allowed = {k: options[k] for k in ("datasets", "now", "seed", "node_metadata", "env") if k in options}
        if allowed.get("node_metadata") is None or allowed.get("env") is None:
            found_meta, found_env = node_files(file)
            allowed.setdefault("node_metadata", found_meta)
            if allowed.get("env") is None:
                allowed["env"] = {**os.environ, **found_env}
        return pipe_from_config(doc, file=file, **allowed)
    if doc.get("type") == "dtl" and "rules" in doc:
        # A lone transform object: pointers start at its own root ("/rules/...").
        pipe_id = Path(file).name.split(".")[0]
        settings = {"_id": pipe_id}
        step = _step(doc, "", file=file, pipe_settings=settings, datasets=options.get("datasets"),
                     now=options.get("now"), seed=options.get("seed"), env=dict(os.environ))
        return Pipe({"_id": pipe_id, "transform": doc}, [step], file=file, flags=(False, False, False),
                    identity_ns=pipe_id, property_ns=pipe_id)
    allowed = {k: options[k] for k in ("datasets", "now", "seed", "pipe", "id_required") if k in options}
    from . import compile

    return compile(doc, file=file, **allowed)
