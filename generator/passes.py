"""IR passes: small named steps, each with one purpose, run in one ordered list.

Each pass takes a VersionIR (or the per-file parts, for the first) and returns a new one plus
diagnostics; any error stops the pipeline after the pass that found it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

from .diagnostics import BuildError, Diagnostic
from .directions import BOTH, CS, CSMS, Direction
from .ir import ActionDef, ArrayType, EnumDef, Field, NamedType, StructDef, TypeExpr, VersionIR
from .names import class_name_problem, enum_member_name, field_name, method_name_problem

__all__ = ["PASSES", "merge_files", "run_passes"]

Pass = Callable[[VersionIR], tuple[VersionIR, list[Diagnostic]]]


def _shape(node: EnumDef | StructDef) -> object:
    """What must be equal for two same-named types to be one type: all but docs and origin."""
    if isinstance(node, EnumDef):
        return ("enum", tuple(m.value for m in node.members))
    return (
        "struct",
        node.open,
        node.module,
        tuple(
            (f.wire_name, msgspec.json.encode(f.type), f.required, f.has_default, repr(f.default))
            for f in node.fields
        ),
    )


def merge_files(parts: list[VersionIR]) -> tuple[VersionIR, list[Diagnostic]]:
    """Deduplicate the per-file types into one set per version.

    Same name and same shape: one type (docs taken from the first file in name order).
    Same name, different shape, or an enum and a struct sharing a name: a build error.
    """
    diags: list[Diagnostic] = []
    seen: dict[str, EnumDef | StructDef] = {}
    for part in parts:
        for node in (*part.enums, *part.structs):
            first = seen.get(node.name)
            if first is None:
                seen[node.name] = node
            elif _shape(first) != _shape(node):
                diags.append(
                    Diagnostic(
                        level="error",
                        file=node.source.file,
                        pointer=node.source.pointer,
                        message=f"two different shapes named {node.name!r}; the other is at {first.source}",
                    )
                )
    if diags:
        raise BuildError(diags)
    head = parts[0]
    merged = msgspec.structs.replace(
        head,
        enums=tuple(n for n in seen.values() if isinstance(n, EnumDef)),
        structs=tuple(n for n in seen.values() if isinstance(n, StructDef)),
        messages=tuple(m for p in parts for m in p.messages),
    )
    return merged, diags


def check_class_names(ir: VersionIR) -> tuple[VersionIR, list[Diagnostic]]:
    """Every type name must be a usable, non-colliding Python class name."""
    diags = []
    for node in (*ir.enums, *ir.structs):
        problem = class_name_problem(node.name)
        if problem:
            diags.append(
                Diagnostic(
                    level="error",
                    file=node.source.file,
                    pointer=node.source.pointer,
                    message=f"type name {node.name!r} {problem}",
                )
            )
    return ir, diags


def assign_field_names(ir: VersionIR) -> tuple[VersionIR, list[Diagnostic]]:
    """snake_case Python names for fields; two fields of one struct may not share one."""
    diags = []
    structs = []
    for struct in ir.structs:
        fields: list[Field] = []
        taken: dict[str, str] = {}
        for f in struct.fields:
            name = field_name(f.wire_name)
            if name in taken:
                diags.append(
                    Diagnostic(
                        level="error",
                        file=f.source.file,
                        pointer=f.source.pointer,
                        message=f"fields {taken[name]!r} and {f.wire_name!r} both map to Python name {name!r}",
                    )
                )
            taken[name] = f.wire_name
            fields.append(msgspec.structs.replace(f, python_name=name))
        structs.append(msgspec.structs.replace(struct, fields=tuple(fields)))
    return msgspec.structs.replace(ir, structs=tuple(structs)), diags


def assign_member_names(ir: VersionIR) -> tuple[VersionIR, list[Diagnostic]]:
    """Member names for enum values; two values of one enum may not share one."""
    diags = []
    enums = []
    for enum in ir.enums:
        taken: dict[str, str] = {}
        members = []
        for m in enum.members:
            name = enum_member_name(m.value)
            if name in taken:
                diags.append(
                    Diagnostic(
                        level="error",
                        file=enum.source.file,
                        pointer=enum.source.pointer,
                        message=f"enum values {taken[name]!r} and {m.value!r} both map to member {name!r}",
                    )
                )
            taken[name] = m.value
            members.append(msgspec.structs.replace(m, python_name=name))
        enums.append(msgspec.structs.replace(enum, members=tuple(members)))
    return msgspec.structs.replace(ir, enums=tuple(enums)), diags


def _named(t: TypeExpr) -> str | None:
    while isinstance(t, ArrayType):
        t = t.items
    return t.name if isinstance(t, NamedType) else None


def check_references(ir: VersionIR) -> tuple[VersionIR, list[Diagnostic]]:
    """Every named reference resolves; defaults of enum fields name a member."""
    enums = {e.name: e for e in ir.enums}
    structs = {s.name for s in ir.structs}
    diags = []
    for struct in ir.structs:
        for f in struct.fields:
            name = _named(f.type)
            if name is not None and name not in enums and name not in structs:
                diags.append(
                    Diagnostic(
                        level="error",
                        file=f.source.file,
                        pointer=f.source.pointer,
                        message=f"reference to unknown type {name!r}",
                    )
                )
    return ir, diags


def attach_actions(
    ir: VersionIR, directions: Mapping[str, Direction], must_match: frozenset[str]
) -> tuple[VersionIR, list[Diagnostic]]:
    """Pair each action's messages with its direction row; every action needs exactly one row.

    A SEND action has a request and no response; every other action has both. Rows in
    ``must_match`` that name no schema of the set are errors (a stale or mistyped row).
    """
    diags = []
    requests = {m.action: m for m in ir.messages if m.kind == "request"}
    responses = {m.action: m for m in ir.messages if m.kind == "response"}
    for action in sorted(set(responses) - set(requests)):
        diags.append(Diagnostic(level="error", file=responses[action].file, message=f"{action} has no request schema"))
    actions = []
    for action in sorted(requests):
        req = requests[action]
        row = directions.get(action)
        if row is None:
            diags.append(Diagnostic(level="error", file=req.file, message=f"action {action} has no direction entry"))
            continue
        if row.initiator not in (CS, CSMS, BOTH):
            diags.append(Diagnostic(level="error", file=req.file, message=f"{action}: bad initiator {row.initiator!r}"))
            continue
        res = responses.get(action)
        if row.send and res is not None:
            diags.append(Diagnostic(level="error", file=res.file, message=f"{action} is a SEND but has a response schema"))
        if not row.send and res is None:
            diags.append(Diagnostic(level="error", file=req.file, message=f"{action} has no response schema"))
        actions.append(
            ActionDef(
                name=action,
                initiator=row.initiator,
                send=row.send,
                cite=row.cite,
                request=req.type_name,
                response=None if res is None else res.type_name,
                integral_floats=req.integral_floats,
                method=field_name(action),
                constant=field_name(action).upper(),
            )
        )
    for action in sorted(must_match - set(requests)):
        diags.append(Diagnostic(level="error", message=f"direction entry {action!r} names no schema in this set"))
    for a in actions:
        problem = method_name_problem(a.method)
        if problem:
            diags.append(Diagnostic(level="error", message=f"action {a.name}: method name {a.method!r} {problem}"))
    return msgspec.structs.replace(ir, actions=tuple(actions)), diags


def sort_types(ir: VersionIR) -> tuple[VersionIR, list[Diagnostic]]:
    """Fix the output order: types by name, messages by action then request before response."""
    return (
        msgspec.structs.replace(
            ir,
            enums=tuple(sorted(ir.enums, key=lambda e: e.name)),
            structs=tuple(sorted(ir.structs, key=lambda s: (s.module, s.name))),
            messages=tuple(sorted(ir.messages, key=lambda m: (m.action, m.kind))),
        ),
        [],
    )


PASSES: tuple[Pass, ...] = (
    check_class_names,
    assign_field_names,
    assign_member_names,
    check_references,
    sort_types,
)


def run_passes(
    parts: list[VersionIR], directions: Mapping[str, Direction], must_match: frozenset[str]
) -> tuple[VersionIR, list[Diagnostic]]:
    """Merge the per-file IR, then run every pass in order; raise on the first errors."""
    ir, warnings = merge_files(parts)
    steps: list[Pass] = [*PASSES, lambda v: attach_actions(v, directions, must_match)]
    for step in steps:
        ir, diags = step(ir)
        errors = [d for d in diags if d.level == "error"]
        if errors:
            raise BuildError(errors)
        warnings.extend(diags)
    return ir, warnings
