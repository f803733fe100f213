"""The public engine: compile rules once, transform many entities."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from .compiler import Compiler, Stop, execute, pointer
from .context import Ctx, Env, initial_target
from .errors import DtlError, DtlInputError, DtlRuntimeError
from .functions import FUNCTIONS
from .transforms import TRANSFORMS


def _env(datasets, pipe, now, seed, bound=None) -> Env:
    if datasets is not None and not isinstance(datasets, dict):
        raise DtlInputError("datasets must be a dict of dataset id -> list of entities", code="invalid-argument")
    if pipe is not None and not isinstance(pipe, dict):
        raise DtlInputError("pipe must be a dict of Sesam pipe settings", code="invalid-argument")
    return Env(datasets=datasets, pipe=pipe, now=now, seed=seed, bound=bound)


def _compiler(env: Env, file: str | None, rule_names=(), fast: bool | None = None) -> Compiler:
    import os

    if fast is None:
        # DTLPY_CODEGEN=0 runs the closure compiler only (the reference path).
        fast = os.environ.get("DTLPY_CODEGEN", "1") != "0"
    return Compiler(
        FUNCTIONS,
        TRANSFORMS,
        rule_names=set(rule_names),
        ni_mode=env.ni_mode,
        property_ns=env.property_ns,
        identity_ns=env.identity_ns,
        file=file,
        fast=fast,
    )


class Transform:
    """Compiled DTL rules. Create with :func:`dtlpy.compile`.

    >>> t = compile({"default": [["copy", "_id"], ["add", "n", ["upper", "_S.n"]]]})
    >>> t.transform({"_id": "1", "n": "ab"})
    [{'_id': '1', 'n': 'AB'}]

    Not thread-safe: use one Transform per thread (they are cheap to build).
    """

    def __init__(
        self,
        rules: Any,
        *,
        pipe: dict | None = None,
        datasets: dict | None = None,
        now: Any = None,
        seed: int | None = None,
        id_required: bool = True,
        trigger_on: dict | None = None,
        file: str | None = None,
        base_pointer: str = "",
        bound: dict | None = None,
        fast: bool | None = None,
    ) -> None:
        self.rules_source = rules
        self.file = file
        # What a worker process needs to build the same Transform again.
        self._spec = dict(
            pipe=pipe, datasets=datasets, now=now, seed=seed, id_required=id_required,
            trigger_on=trigger_on, file=file, base_pointer=base_pointer, bound=bound, fast=fast,
        )
        self.env = _env(datasets, pipe, now, seed, bound)
        self.env.id_required = bool(id_required)
        compiler = _compiler(self.env, file, rules.keys() if isinstance(rules, dict) else (), fast)
        refs = compiler.rules(rules, base_pointer)
        self.env.rules = {name: ref for name, ref in refs.items()}
        self.default = refs["default"].steps
        self._run_default = refs["default"].run
        self.used_rules = compiler.used_rules
        self._trigger = _trigger(trigger_on, compiler, base_pointer) if trigger_on else None
        self._ctx = Ctx(None, {}, self.env)
        self.last_stop: str | None = None
        self.transform = self._hot_path()  # type: ignore[method-assign]
        entry = refs["default"].entry
        if entry is not None and self._trigger is None:
            # The default rule needs no context: one generated function does
            # the common case whole and hands anything else to the hot path.
            self.transform = entry(self.transform)
            self.transform.__doc__ = Transform.transform.__doc__

    def __reduce__(self):
        # Closures do not pickle: a pickled Transform is its rules and
        # settings, compiled again (cheaply) where it is unpickled.
        return (_rebuild, (self.rules_source, self._spec))

    @property
    def datasets(self) -> dict:
        return self.env.datasets

    def transform(self, entity: Any, *, previous: Any = None) -> list[dict]:
        """Entities emitted for one source entity, in emission order:
        the ``create``d ones, then the target. ``[]`` if filtered/discarded.

        (Each Transform replaces this method by the closure _hot_path builds.)
        """
        return self._hot_path()(entity, previous=previous)

    def _hot_path(self):
        """The per-entity function, written out flat with everything it needs
        in closure cells: this is the innermost loop of every run."""
        env, ctx, run, trigger, file = self.env, self._ctx, self._run_default, self._trigger, self.file

        def transform(entity: Any, *, previous: Any = None) -> list[dict]:
            if type(entity) is not dict:
                raise DtlInputError(
                    f"an entity must be a JSON object, got {type(entity).__name__}", code="invalid-entity"
                )
            if trigger is not None and not trigger(entity, env):
                return [entity]
            created: list = []
            env.created = created
            env.previous = previous
            # One root context per Transform, reset per entity (cheaper than a
            # new object; a Transform runs one entity at a time). ctx.item and
            # env.depth are always restored by the code that changes them.
            ctx.S = entity
            # initial_target(entity), written out: this runs once per entity.
            target = ctx.T = {"_id": entity["_id"]} if "_id" in entity else {}
            try:
                run(ctx)
            except Stop as stop:
                self.last_stop = stop.kind
                return created
            except DtlError as e:
                raise e.located(entity_id=entity.get("_id"), file=file)
            except RecursionError:
                raise DtlRuntimeError(
                    "data or rules nested too deeply", code="too-deep", entity_id=entity.get("_id"),
                    file=file,
                ) from None
            if type(target.get("_id")) is not str:
                if env.id_required:
                    raise DtlRuntimeError(
                        "the target entity has no string _id (add one, e.g. [\"copy\", \"_id\"], "
                        "or set id_required to false)",
                        code="missing-id",
                        entity_id=entity.get("_id"),
                        file=file,
                    )
                return created
            created.append(target)
            return created

        transform.__doc__ = Transform.transform.__doc__
        return transform

    def transform_for_sink(self, entity: Any, *, previous: Any = None) -> list[dict]:
        """Like transform, but a filtered entity is emitted with ``_filtered: true``
        (what a dataset sink receives, so it can delete an earlier version)."""
        self.last_stop = None
        out = self.transform(entity, previous=previous)
        if self.last_stop == "filter":
            out.append({"_id": entity.get("_id"), "_filtered": True})
        return out

    def run(self, entities: Iterable[Any]) -> Iterator[dict]:
        """Everything emitted for an iterable of entities."""
        transform = self.transform
        try:
            iterator = iter(entities)
        except TypeError:
            raise DtlInputError(
                f"run needs an iterable of entities, got {type(entities).__name__}", code="invalid-argument"
            ) from None
        for entity in iterator:
            yield from transform(entity)


def _rebuild(rules: Any, spec: dict) -> Transform:
    return Transform(rules, **spec)


def _trigger(trigger_on: dict, compiler: Compiler, base_pointer: str):
    """``trigger_on``: only entities whose key matches the wildcard value are transformed."""
    from fnmatch import fnmatchcase

    key = trigger_on.get("key", "_trigger")
    pattern = trigger_on.get("value")
    if not isinstance(key, str) or not isinstance(pattern, str):
        raise compiler.error("trigger_on needs a string key and value", pointer(base_pointer, "trigger_on"), trigger_on)
    getter = compiler.path("_S." + key, pointer(base_pointer, "trigger_on", "key"))

    def matches(entity, env):
        ctx = Ctx(entity, {}, env)
        value = getter(ctx)
        for v in value if type(value) is list else [value]:
            if type(v) is str and fnmatchcase(v, pattern):
                return True
        return False

    return matches


def compile(
    rules: Any,
    *,
    pipe: dict | None = None,
    datasets: dict | None = None,
    now: Any = None,
    seed: int | None = None,
    id_required: bool = True,
    file: str | None = None,
) -> Transform:
    """Compile DTL rules (``{"default": [...], "other": [...]}``) once.

    ``now`` pins the clock (``~t`` text or ns since the epoch) and ``seed``
    makes ``uuid`` reproducible. ``datasets`` maps dataset ids to lists of
    entities for ``hops`` and ``lookup-entity``.
    """
    try:
        return Transform(
            rules, pipe=pipe, datasets=datasets, now=now, seed=seed, id_required=id_required, file=file
        )
    except DtlError:
        raise
    except RecursionError:
        raise DtlInputError("rules nested too deeply", code="too-deep", file=file) from None
    except Exception as e:  # pragma: no cover - a bug; never leak it as a non-DtlError
        raise DtlError(f"internal error while compiling: {e!r}", code="internal-error", file=file) from e


def evaluate(
    expr: Any,
    source: Any = None,
    *,
    target: Any = None,
    previous: Any = None,
    datasets: dict | None = None,
    pipe: dict | None = None,
    now: Any = None,
    seed: int | None = None,
) -> Any:
    """Evaluate one DTL expression with ``_S`` = source and ``_T`` = target.

    >>> evaluate(["concat", "_S.a", "-", "_S.b"], {"a": "x", "b": "y"})
    'x-y'
    """
    try:
        env = _env(datasets, pipe, now, seed)
        env.previous = previous
        compiler = _compiler(env, None)
        fn = compiler.expr(expr, "")
        src = {} if source is None else source
        env.entity_id = src.get("_id") if isinstance(src, dict) else None
        ctx = Ctx(src, {} if target is None else target, env)
        return fn(ctx)
    except DtlError as e:
        raise e.located(entity_id=env.entity_id if "env" in locals() else None)
    except Stop:
        raise DtlRuntimeError("filter/discard used outside a rule", code="invalid-rules") from None
    except RecursionError:
        raise DtlRuntimeError("expression or data nested too deeply", code="too-deep") from None
    except Exception as e:  # pragma: no cover - a bug; never leak it as a non-DtlError
        raise DtlError(f"internal error: {e!r}", code="internal-error") from e
