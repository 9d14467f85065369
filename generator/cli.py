"""The ``ocppgen`` command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import msgspec

from . import output
from .diagnostics import BuildError
from .load import VERSIONS, default_schema_root, load_sets, write_manifest
from .overlay import apply_overlays, load_overlay
from .pipeline import build_ir, generate

DEFAULT_PACKAGE = "ocppgen.generated"


def _fail(exc: BuildError) -> None:
    for d in exc.diagnostics:
        click.echo(str(d), err=True)
    click.echo(f"ocppgen: {len(exc.diagnostics)} error(s); nothing written", err=True)
    sys.exit(1)


def _package_ok(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


@click.group()
@click.version_option(package_name="ocppgen")
def main() -> None:
    """Generate typed OCPP packages from the official JSON schemas."""


_version_option = click.option(
    "--version",
    "versions",
    multiple=True,
    type=click.Choice(list(VERSIONS)),
    help="OCPP version to build (repeatable; default: every version found).",
)
_overlay_option = click.option(
    "--overlay",
    "overlays",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="An RFC 6902 overlay of documented deviations to apply (repeatable); see schemas/overlays/.",
)
_schemas_option = click.option(
    "--schemas",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Schema sets to use: a folder with MANIFEST.json, or one with v16/, v201/, v21/ folders "
    "(default: the sets shipped with ocppgen).",
)


@main.command()
@_version_option
@_schemas_option
@_overlay_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("generated"),
    show_default=True,
    help="Folder of the generated package.",
)
@click.option(
    "--package",
    default=DEFAULT_PACKAGE,
    show_default=True,
    help="Import name of the generated package; every import inside it follows this name.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing stale or missing files.")
def build(
    versions: tuple[str, ...], schemas: Path | None, overlays: tuple[Path, ...], out: Path, package: str, check: bool
) -> None:
    """Generate (or check) the typed package from the schema sets."""
    if not _package_ok(package):
        raise click.BadParameter(f"{package!r} is not a dotted Python name", param_hint="--package")
    started = time.perf_counter()
    try:
        sets = load_sets(schemas or default_schema_root(), list(versions) or None)
        loaded = [(path, load_overlay(path)) for path in overlays]
        sets = [apply_overlays(s, loaded) for s in sets]
        files, folders, warnings = generate(sets, package)
    except BuildError as exc:
        _fail(exc)
        return
    for w in warnings:
        click.echo(str(w), err=True)
    if check:
        problems = output.check(out, files, folders)
        for line in problems:
            click.echo(line)
        if problems:
            click.echo(f"ocppgen: {len(problems)} file(s) out of date in {out}; run 'ocppgen build'", err=True)
            sys.exit(1)
        click.echo(f"ocppgen: {len(files)} files up to date in {out}")
        return
    changed = output.write(out, files, folders)
    elapsed = time.perf_counter() - started
    click.echo(
        f"ocppgen: {', '.join(s.version for s in sets)}: {len(files)} files, {len(changed)} changed, "
        f"in {out} ({elapsed:.1f}s)"
    )


@main.command()
@click.option("--version", "version", required=True, type=click.Choice(list(VERSIONS)))
@_schemas_option
@_overlay_option
def ir(version: str, schemas: Path | None, overlays: tuple[Path, ...]) -> None:
    """Print one version's intermediate representation as JSON."""
    try:
        (schema_set,) = load_sets(schemas or default_schema_root(), [version])
        schema_set = apply_overlays(schema_set, [(p, load_overlay(p)) for p in overlays])
        version_ir, _ = build_ir(schema_set)
    except BuildError as exc:
        _fail(exc)
        return
    click.echo(msgspec.json.format(msgspec.json.encode(version_ir), indent=2).decode())


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--version", "version", required=True, type=click.Choice(list(VERSIONS)))
@click.option("--origin", required=True, help="Where the files come from.")
@click.option("--edition", required=True, help="Which edition or release they are.")
@click.option("--license", "license_text", required=True, help="Their license notice.")
def manifest(folder: Path, version: str, origin: str, edition: str, license_text: str) -> None:
    """Write MANIFEST.json for a schema set of your own (e.g. with vendor extensions)."""
    path = write_manifest(folder, version, origin, edition, license_text)
    click.echo(f"ocppgen: wrote {path}")


if __name__ == "__main__":
    main()
