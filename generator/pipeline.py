"""The whole generator as one pure function: schema sets -> {relative path: file content}."""

from __future__ import annotations

from .build import build_version
from .diagnostics import Diagnostic
from .ir import VersionIR
from .load import SchemaSet
from .passes import run_passes
from .render import render_package, render_version

__all__ = ["build_ir", "generate"]


def build_ir(schema_set: SchemaSet) -> tuple[VersionIR, list[Diagnostic]]:
    """Load -> IR -> passes for one version; raises BuildError on any error."""
    parts, warnings = build_version(schema_set)
    ir, more = run_passes(parts)
    return ir, warnings + more


def generate(sets: list[SchemaSet], package: str) -> tuple[dict[str, str], list[str], list[Diagnostic]]:
    """Every output file of the given versions, the version folders they own, and warnings."""
    files: dict[str, str] = {}
    warnings: list[Diagnostic] = []
    irs = []
    for schema_set in sets:
        ir, diags = build_ir(schema_set)
        warnings.extend(diags)
        irs.append(ir)
        files.update(render_version(ir, package))
    files.update(render_package(package, irs))
    return dict(sorted(files.items())), [ir.key for ir in irs], warnings
