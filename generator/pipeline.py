"""The whole generator as one pure function: schema sets -> {relative path: file content}."""

from __future__ import annotations

from collections.abc import Callable

from .build import build_version
from .diagnostics import BuildError, Diagnostic
from .directions import DIRECTIONS, Direction
from .ir import VersionIR
from .load import SchemaSet
from .passes import run_passes

__all__ = ["build_ir", "generate"]


def build_ir(schema_set: SchemaSet) -> tuple[VersionIR, list[Diagnostic]]:
    """Load -> IR -> passes for one version; raises BuildError on any error."""
    parts, warnings = build_version(schema_set)
    table = directions_for(schema_set)
    # The reviewed table must match an official set exactly; a set of your own (with its own
    # DIRECTIONS.json) may be a subset or an extension, and then only its own rows must match.
    must_match = frozenset(schema_set.directions if schema_set.directions is not None else table)
    ir, more = run_passes(parts, table, must_match)
    return ir, warnings + more


def directions_for(schema_set: SchemaSet) -> dict[str, Direction]:
    """The reviewed table of the version, extended or overridden by the set's DIRECTIONS.json."""
    table = dict(DIRECTIONS.get(schema_set.version, {}))
    extra = schema_set.directions or {}
    problems = []
    for action, row in sorted(extra.items()):
        if not isinstance(row, dict) or set(row) - {"initiator", "send", "cite"} or "initiator" not in row:
            problems.append(action)
            continue
        table[action] = Direction(row["initiator"], bool(row.get("send", False)), str(row.get("cite", "user-supplied")))
    if problems:
        raise BuildError(
            [
                Diagnostic(
                    level="error",
                    file="DIRECTIONS.json",
                    pointer=f"/{a}",
                    message='expected {"initiator": "ChargingStation"|"CSMS"|"Both", "send": bool, "cite": str}',
                )
                for a in problems
            ]
        )
    return table


def generate(
    sets: list[SchemaSet], package: str, progress: Callable[[SchemaSet, dict[str, str]], None] | None = None
) -> tuple[dict[str, str], list[str], list[Diagnostic]]:
    """Every output file of the given versions, the version folders they own, and warnings.

    ``progress`` (if given) is called after each version with its set and its rendered files.
    """
    # imported here, not at the top: black and jinja2 are the generator's extra, and build_ir is
    # also what the testing kit's strategies use without them (the [testing] extra)
    from .render import Formatter, render_package, render_version_sources
    from .render_tables import render_tables_unformatted

    files: dict[str, str] = {}
    warnings: list[Diagnostic] = []
    irs = []
    with Formatter() as formatter:  # black runs in workers while the next version's IR is built
        pending = []
        for schema_set in sets:
            ir, diags = build_ir(schema_set)
            warnings.extend(diags)
            irs.append(ir)
            sources = render_version_sources(ir, package)
            tables = render_tables_unformatted(ir.version, ir.key, package)
            sources.update(tables)
            pending.append((schema_set, formatter.submit(sources, settled=tables.keys())))
        for schema_set, formatted in pending:
            rendered = formatted()
            files.update(rendered)
            if progress is not None:
                progress(schema_set, rendered)
    files.update(render_package(package, irs))
    return dict(sorted(files.items())), [ir.key for ir in irs], warnings
