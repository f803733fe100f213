"""``dtlpy explain PIPE_OR_RULES ENTITY_FILE [--format text|json]``: why the
output of one entity is what it is.

Steps through the ``default`` rule of each DTL transform the entity passes
(in a pipe, every transform of the chain), showing per step its pointer and
fragment and what it did to ``_T``: properties added (``+``), changed
(``~``), removed (``-``), entities created, or that it filtered/discarded
the entity. ``if``/``case``/``case-eq`` are descended into: the chosen
branch is named and its transforms are shown one by one. ``comment`` steps
are left out. The final output comes from a normal run of the same entity,
so the explanation can never hide a difference (it says so if its own
stepping disagrees, e.g. with the real clock and no ``--now``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..compiler import Stop, pointer
from ..context import Ctx, initial_target
from ..errors import DtlError, DtlInputError
from ..io import read_json_file
from ..values import as_list, equal, truthy

WIDTH = 70


def register(sub) -> None:
    p = sub.add_parser("explain", help="show, step by step, what the rules did to one entity")
    p.add_argument("pipe", metavar="PIPE_OR_RULES", help="pipe config, dtl transform or rules file")
    p.add_argument("entity", metavar="ENTITY_FILE", help="JSON file with the entity (or a list; see --id)")
    p.add_argument("--id", dest="entity_id", help="with a list of entities: explain the one with this _id")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--now", help="pin the clock (default: the time explain starts, for both runs)")
    p.add_argument("--seed", type=int, default=0, help="seed for uuid and other random values (default 0)")
    p.add_argument("--datasets", metavar="FILE", help='JSON object {"dataset-id": [entities]} for hops')
    p.set_defaults(func=run)


# ---------------------------------------------------------------- stepping


def diff(before: dict, after: dict) -> dict:
    """What changed in ``_T``: ``added``/``changed`` ({key: value} / {key: [old, new]}), ``removed``."""
    out: dict[str, Any] = {}
    added = {k: v for k, v in after.items() if k not in before}
    changed = {k: [before[k], v] for k, v in after.items() if k in before and not _same(before[k], v)}
    removed = [k for k in before if k not in after]
    if added:
        out["added"] = added
    if changed:
        out["changed"] = changed
    if removed:
        out["removed"] = removed
    return out


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


class Stepper:
    """Runs one compiled Transform's default rule step by step on one entity."""

    def __init__(self, transform, file: str | None) -> None:
        from ..engine import _compiler

        self.t = transform
        self.file = file
        self.steps: list[dict] = []
        rules = transform.rules_source
        first = transform.default[0][1] if transform.default else "/default/0"
        base = first[: -len("/default/0")] if first.endswith("/default/0") else ""
        # A closure-only compiler of the same rules: the branches of if/case
        # are compiled again from their JSON so they can be run one by one.
        self.compiler = _compiler(transform.env, file, rules.keys(), False)
        self.compiler.rules(rules, base)

    def run(self, entity: dict) -> dict:
        env = self.t.env
        env.created = []
        env.previous = None
        env.entity_id = entity.get("_id")
        env.depth = 0
        ctx = Ctx(entity, initial_target(entity), env)
        stopped = None
        try:
            if self.t._trigger is not None and not self.t._trigger(entity, env):
                return {"steps": [], "stopped": "not-triggered", "emitted": [entity]}
            self.walk(self.t.default, ctx, 0)
        except Stop as stop:
            stopped = stop.kind
        emitted = list(env.created)
        if stopped is None and type(ctx.T.get("_id")) is str:
            emitted.append(ctx.T)
        result = {"steps": self.steps, "emitted": emitted}
        if stopped:
            result["stopped"] = stopped
        elif type(ctx.T.get("_id")) is not str:
            result["note"] = "the target has no string _id" + (
                " (an error unless id_required is false)" if env.id_required else ", so it is not emitted"
            )
        return result

    def walk(self, steps, ctx: Ctx, depth: int) -> None:
        for fn, ptr, node in steps:
            name = node[0] if type(node) is list and node else None
            if name == "comment":
                continue
            record: dict[str, Any] = {"pointer": ptr, "fragment": node, "depth": depth}
            self.steps.append(record)
            branch = self.branch(node, ptr, ctx) if name in ("if", "case", "case-eq") else None
            if branch is not None:
                label, body, body_ptr = branch
                record["branch"] = label
                if body is not None:
                    self.walk(self.compile_body(body, body_ptr), ctx, depth + 1)
                continue
            before = copy.deepcopy(ctx.T)
            n_created = len(ctx.env.created)
            try:
                fn(ctx)
            except Stop as stop:
                record["stopped"] = stop.kind
                raise
            except DtlError as e:
                record["error"] = str(e.located(pointer=ptr, file=self.file, fragment=node))
                raise
            if name in ("filter", "discard"):
                record["passed"] = True
            record.update(diff(before, ctx.T))
            if len(ctx.env.created) > n_created:
                record["created"] = ctx.env.created[n_created:]

    def compile_body(self, body: Any, ptr: str) -> list:
        if type(body) is list and body and type(body[0]) is str:
            return [(self.compiler.transform(body, ptr), ptr, body)]
        return [(self.compiler.transform(n, pointer(ptr, i)), pointer(ptr, i), n) for i, n in enumerate(body)]

    def branch(self, node: list, ptr: str, ctx: Ctx):
        """(label, body, pointer) of the branch an if/case/case-eq takes."""
        c = self.compiler
        args = node[1:]
        if node[0] == "if":
            value = c.expr(args[0], pointer(ptr, 1))(ctx)
            if truthy(value):
                return f"condition is {_short(value)}: THEN", args[1], pointer(ptr, 2)
            if len(args) > 2:
                return f"condition is {_short(value)}: ELSE", args[2], pointer(ptr, 3)
            return f"condition is {_short(value)}: no ELSE, nothing done", None, None
        if node[0] == "case":
            for i in range(0, len(args) - 1, 2):
                if truthy(c.expr(args[i], pointer(ptr, i + 1))(ctx)):
                    return f"condition {i // 2 + 1} is true", args[i + 1], pointer(ptr, i + 2)
            rest, offset = args, 0
        else:
            subject = as_list(c.expr(args[0], pointer(ptr, 1))(ctx))
            rest, offset = args[1:], 1
            for i in range(0, len(rest) - 1, 2):
                key = c.expr(rest[i], pointer(ptr, i + 2))(ctx)
                if equal(subject, as_list(key)):
                    return f"value equals {_short(key)}", rest[i + 1], pointer(ptr, i + 3)
        if len(rest) % 2:
            return "no condition matched: ELSE", rest[-1], pointer(ptr, len(rest) + offset)
        return "no condition matched, nothing done", None, None


# ---------------------------------------------------------------- pipes


def explain(loaded, entity: dict, file: str) -> dict:
    """The explanation of one entity through a loaded pipe or Transform."""
    from ..engine import Transform

    report: dict[str, Any] = {"file": file, "entity_id": entity.get("_id"), "transforms": []}
    if isinstance(loaded, Transform):
        chain: list = [("", loaded)]
        batch = [entity]
    else:
        from ..namespaces import add_namespaces

        chain = [(getattr(step, "type", "?"), step) for step in loaded.transforms]
        batch = [add_namespaces(entity, loaded.identity_ns, loaded.property_ns) if loaded.add_namespaces else entity]
    for i, (kind, step) in enumerate(chain):
        compiled = step if isinstance(step, Transform) else getattr(step, "compiled", None)
        part: dict[str, Any] = {"index": i, "type": "dtl" if compiled is not None else kind, "runs": []}
        out: list = []
        for e in batch:
            if compiled is not None:
                stepper = Stepper(compiled, file)
                try:
                    result = stepper.run(e)
                except DtlError as err:
                    part["runs"].append({"entity_id": e.get("_id"), "steps": stepper.steps, "error": err.to_dict()})
                    report["transforms"].append(part)
                    report["error"] = str(err)
                    return report
                result["entity_id"] = e.get("_id")
                part["runs"].append(result)
                out.extend(result["emitted"])
            else:
                emitted = step.transform(e)
                part["runs"].append({"entity_id": e.get("_id"), "steps": [], "emitted": emitted})
                out.extend(emitted)
        report["transforms"].append(part)
        batch = out
    report["output"] = loaded.transform(entity)
    if _canonical(report["output"]) != _canonical(_final(loaded, batch)):
        report["note"] = ("the step-by-step run differs from a normal run (a function such as uuid or now "
                          "gave another value); the output shown is the normal run's")
    return report


def _final(loaded, batch: list) -> list:
    if getattr(loaded, "remove_namespaces", False):
        from ..namespaces import remove_namespaces

        return [remove_namespaces(e) for e in batch]
    return batch


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# ---------------------------------------------------------------- text


def _short(value: Any, width: int = WIDTH) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


def render(report: dict) -> str:
    lines = [f"entity _id={report['entity_id']!r} through {report['file']}"]
    for part in report["transforms"]:
        if len(report["transforms"]) > 1 or part["type"] != "dtl":
            lines.append(f"transform {part['index']} ({part['type']}):")
        for run_ in part["runs"]:
            if len(part["runs"]) > 1:
                lines.append(f" entity _id={run_['entity_id']!r}:")
            for s in run_["steps"]:
                pad = "  " + "  " * s["depth"]
                lines.append(f"{pad}{s['pointer']}  {_short(s['fragment'])}")
                pad += "    "
                if "branch" in s:
                    lines.append(f"{pad}{s['branch']}")
                for k, v in s.get("added", {}).items():
                    lines.append(f"{pad}+ {k} = {_short(v)}")
                for k, (old, new) in s.get("changed", {}).items():
                    lines.append(f"{pad}~ {k}: {_short(old, 30)} -> {_short(new, 40)}")
                for k in s.get("removed", []):
                    lines.append(f"{pad}- {k}")
                for e in s.get("created", []):
                    lines.append(f"{pad}created {_short(e)}")
                if s.get("stopped"):
                    lines.append(f"{pad}{s['stopped']}ed: the entity stops here; no target is emitted"
                                 + (" (a dataset sink deletes an earlier version)" if s["stopped"] == "filter" else ""))
                if s.get("passed"):
                    lines.append(f"{pad}passed (the condition is true)")
                if s.get("error"):
                    lines.extend(pad + line for line in s["error"].splitlines())
                if not any(k in s for k in ("branch", "added", "changed", "removed", "created", "stopped", "error", "passed")):
                    lines.append(f"{pad}(no change)")
            if run_.get("note"):
                lines.append(f"  note: {run_['note']}")
            if part["type"] != "dtl":
                lines.append(f"  emitted {len(run_['emitted'])} entit{'y' if len(run_['emitted']) == 1 else 'ies'}")
    if "error" in report:
        lines.append("error: the rules failed on this entity (see above)")
        return "\n".join(lines)
    if report.get("note"):
        lines.append(f"note: {report['note']}")
    lines.append(f"output ({len(report['output'])} entit{'y' if len(report['output']) == 1 else 'ies'}):")
    lines.extend("  " + json.dumps(e, ensure_ascii=False, sort_keys=False) for e in report["output"])
    return "\n".join(lines)


# ---------------------------------------------------------------- command


def _pick(doc: Any, entity_id: str | None, file: str) -> dict:
    if isinstance(doc, dict) and entity_id is None:
        return doc
    entities = doc if isinstance(doc, list) else [doc]
    for e in entities:
        if isinstance(e, dict) and (entity_id is None or e.get("_id") == entity_id):
            return e
    what = f"entity with _id {entity_id!r}" if entity_id is not None else "entity (a JSON object)"
    raise DtlInputError(f"there is no {what} in the file", code="invalid-entity", file=file)


def run(args) -> int:
    from ..pipe import load_rules_or_pipe
    from ..values import format_datetime_ns
    import time

    now = args.now or format_datetime_ns(time.time_ns())
    options: dict[str, Any] = {"now": now, "seed": args.seed}
    if args.datasets:
        options["datasets"] = read_json_file(args.datasets)
    loaded = load_rules_or_pipe(args.pipe, **options)
    entity = _pick(read_json_file(args.entity), args.entity_id, args.entity)
    report = explain(loaded, entity, args.pipe)
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        print(render(report))
    return 1 if "error" in report else 0
