"""The ``ocppgen`` command line.

Decision 0009 records the option names (``--ocpp`` for OCPP versions, ``--version`` for the
tool), where ``--out``, ``--package`` and ``--package-dir`` put the package, and the shipped
overlays. Every error is printed as ``error: WHERE: WHAT`` with exit 1 (bad input found while
working) or 2 (bad usage); none ends in a traceback.
"""

from __future__ import annotations

import keyword
import shlex
import sys
import textwrap
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click
import msgspec

from . import output
from .diagnostics import BuildError, Diagnostic
from .load import VERSIONS, SchemaSet, default_schema_root, load_sets, write_manifest
from .overlay import apply_overlays, builtin_overlays, load_overlay, resolve_overlay
from .pipeline import build_ir, generate

DEFAULT_PACKAGE = "ocppgen.generated"
# Where ocppgen's own package lives in an ocppgen checkout (pyproject.toml maps it; decision 0002).
OWN_FOLDER = "generated"


def _fail(exc: BuildError, tail: str = "nothing written") -> NoReturn:
    for d in exc.diagnostics:
        click.echo(str(d), err=True)
    click.echo(f"ocppgen: {len(exc.diagnostics)} error(s); {tail}", err=True)
    sys.exit(1)


class _Group(click.Group):
    """Prints usage errors as ``error: ...`` (exit 2), and turns a filesystem error that no stage
    anticipated into ``error: WHERE: WHAT`` (exit 1)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            if exc.ctx is not None:
                click.echo(exc.ctx.get_usage(), err=True)
                click.echo(f"Try '{exc.ctx.command_path} --help' for help.", err=True)
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            where = exc.filename if exc.filename is not None else "ocppgen"
            click.echo(f"error: {where}: {exc.strerror or exc}", err=True)
            ctx.exit(1)


@click.group(cls=_Group)
@click.version_option(package_name="ocppgen", prog_name="ocppgen", message="%(prog)s %(version)s")
def main() -> None:
    """Generate typed OCPP packages from the official JSON schemas."""


# --- options shared by the commands ---------------------------------------------------------

_LEGACY_HELP = "Deprecated spelling of --ocpp."


def _versions(ocpp: tuple[str, ...], legacy: tuple[str, ...]) -> list[str]:
    """The OCPP versions asked for, from --ocpp and the deprecated --version (which warns)."""
    for value in legacy:
        if value == "":
            raise click.UsageError(
                "'--version' after a command is the deprecated spelling of --ocpp and needs an OCPP version "
                f"(--ocpp {'|'.join(VERSIONS)}); ocppgen's own version is printed by 'ocppgen --version'."
            )
        if value not in VERSIONS:
            raise click.BadParameter(
                f"{value!r} is not an OCPP version ({', '.join(VERSIONS)}); use --ocpp", param_hint="'--version'"
            )
    if legacy:
        spelled = " ".join(f"--ocpp {v}" for v in legacy)
        click.echo(f"warning: --version is deprecated here (it names OCPP versions): use {spelled}", err=True)
    return list(dict.fromkeys([*ocpp, *legacy]))


def _legacy_version_option(f: Any) -> Any:
    return click.option(
        "--version", "legacy_versions", multiple=True, hidden=True, is_flag=False, flag_value="", help=_LEGACY_HELP
    )(f)


def _overlay_values(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[tuple[str, Path]]:
    resolved = []
    for value in values:
        try:
            path = resolve_overlay(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
        if not path.is_file():
            problem = "not a file" if path.exists() else "no such file"
            raise click.BadParameter(f"{value}: {problem}", ctx=ctx, param=param)
        resolved.append((value, path))
    return resolved


def _shipped_overlays() -> str:
    return ", ".join(builtin_overlays()) or "none"


_ocpp_option = click.option(
    "--ocpp",
    "versions",
    multiple=True,
    type=click.Choice(list(VERSIONS)),
    help="OCPP version to build (repeatable; default: every version found).",
)
_overlay_option = click.option(
    "--overlay",
    "overlays",
    multiple=True,
    callback=_overlay_values,
    metavar="NAME|FILE",
    help="An overlay of documented deviations to apply (repeatable): the name of a shipped one "
    f"({_shipped_overlays()}; see 'ocppgen overlays') or an RFC 6902 overlay file (*.json).",
)
_schemas_option = click.option(
    "--schemas",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Schema sets to use: a folder with MANIFEST.json, or one with v16/, v201/, v21/ folders "
    "(default: the sets shipped with ocppgen).",
)


def _load(
    schemas: Path | None, versions: list[str], overlays: list[tuple[str, Path]]
) -> list[SchemaSet]:
    """The verified schema sets with the overlays applied; BuildError on any problem."""
    sets = load_sets(schemas or default_schema_root(), versions or None)
    loaded = [(value, path, load_overlay(path)) for value, path in overlays]
    built = [s.version for s in sets]
    unused = [
        Diagnostic(
            level="error",
            file=value,
            message=f"this overlay is for OCPP {o['version']}, which is not built here ({', '.join(built)}); "
            f"add --ocpp {o['version']} or leave the overlay out",
        )
        for value, _, o in loaded
        if o["version"] not in built
    ]
    if unused:
        raise BuildError(unused)
    return [apply_overlays(s, [(path, o) for _, path, o in loaded]) for s in sets]


# --- build ----------------------------------------------------------------------------------


def _package_ok(name: str) -> bool:
    return all(part.isidentifier() and not keyword.iskeyword(part) for part in name.split("."))


def _in_own_checkout() -> bool:
    """Whether the current directory is the root of an ocppgen checkout."""
    try:
        project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(project, dict) and project.get("name") == "ocppgen"


def _target(package: str, out: Path | None, package_dir: Path | None) -> Path:
    """The folder of the package: --package-dir, else --out/<package path>, else (ocppgen's
    own package, in a checkout) generated/, else ./<package path>."""
    if out is not None and package_dir is not None:
        raise click.UsageError(
            "--out and --package-dir both say where the package goes: --out DIR writes DIR/<package path>, "
            "--package-dir DIR writes the package into DIR itself; give one."
        )
    if package_dir is not None:
        return package_dir
    if out is None and package == DEFAULT_PACKAGE:
        if not _in_own_checkout():
            raise click.UsageError(
                f"without --package, ocppgen build rebuilds ocppgen's own package ({DEFAULT_PACKAGE}, in "
                f"{OWN_FOLDER}/ of an ocppgen checkout), and {Path.cwd()} is not the root of one. To generate "
                "a package of your own, name it: ocppgen build --package acme.ocpp [--out DIR] "
                "(writes DIR/acme/ocpp/; DIR defaults to the current directory)."
            )
        return Path(OWN_FOLDER)
    return (out if out is not None else Path(".")).joinpath(*package.split("."))


def _command(
    versions: list[str],
    schemas: Path | None,
    overlays: list[tuple[str, Path]],
    package: str,
    out: Path | None,
    package_dir: Path | None,
) -> str:
    """The ``ocppgen build`` command line that writes what these options check."""
    parts = ["ocppgen", "build"]
    for v in versions:
        parts += ["--ocpp", v]
    if schemas is not None:
        parts += ["--schemas", str(schemas)]
    for value, _ in overlays:
        parts += ["--overlay", value]
    if package != DEFAULT_PACKAGE:
        parts += ["--package", package]
    if out is not None:
        parts += ["--out", str(out)]
    if package_dir is not None:
        parts += ["--package-dir", str(package_dir)]
    return shlex.join(parts)


@main.command()
@_ocpp_option
@_legacy_version_option
@_schemas_option
@_overlay_option
@click.option(
    "--package",
    default=DEFAULT_PACKAGE,
    show_default=True,
    help="Import name of the generated package; every import inside it follows this name.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder under which the package's path is created: --package acme.ocpp --out src writes "
    "src/acme/ocpp/, importable with src on the import path. [default: the current directory; "
    f"for {DEFAULT_PACKAGE} in an ocppgen checkout: {OWN_FOLDER}/]",
)
@click.option(
    "--package-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The package's own folder, for layouts where it is not at DIR/<package path> (a build "
    "backend's package-dir mapping). Excludes --out.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing stale, missing or unexpected files.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems (no progress, no summary).")
def build(
    versions: tuple[str, ...],
    legacy_versions: tuple[str, ...],
    schemas: Path | None,
    overlays: list[tuple[str, Path]],
    package: str,
    out: Path | None,
    package_dir: Path | None,
    check: bool,
    quiet: bool,
) -> None:
    """Generate (or check) the typed package from the schema sets.

    \b
    ocppgen build                                  # in an ocppgen checkout: rebuild generated/
    ocppgen build --package acme.ocpp --out src    # vendor: writes src/acme/ocpp/
    ocppgen build --ocpp 1.6 --overlay v16-hertz --package acme.ocpp
    """
    if not _package_ok(package):
        raise click.BadParameter(
            f"{package!r} is not a dotted Python name (identifiers that are not keywords, joined by dots)",
            param_hint="'--package'",
        )
    wanted = _versions(versions, legacy_versions)
    target = _target(package, out, package_dir)

    def say(text: str) -> None:
        if not quiet:
            click.echo(text, err=True)

    started = time.perf_counter()
    try:
        sets = _load(schemas, wanted, overlays)
        say(
            f"ocppgen: {'checking' if check else 'building'} {package} (OCPP {', '.join(s.version for s in sets)}) "
            f"in {target}"
        )
        mark = [time.perf_counter()]

        def progress(schema_set: SchemaSet, rendered: dict[str, str]) -> None:
            now = time.perf_counter()
            say(
                f"ocppgen: OCPP {schema_set.version}: {len(schema_set.files)} schema files -> "
                f"{len(rendered)} modules ({now - mark[0]:.1f}s)"
            )
            mark[0] = now

        files, folders, warnings = generate(sets, package, progress)
    except BuildError as exc:
        _fail(exc)
    for w in warnings:
        click.echo(str(w), err=True)
    if check:
        problems = output.check(target, files, folders)
        for line in problems:
            click.echo(line)
        if problems:
            command = _command(wanted, schemas, overlays, package, out, package_dir)
            click.echo(f"ocppgen: {len(problems)} file(s) out of date in {target}; regenerate with: {command}", err=True)
            sys.exit(1)
        if not quiet:
            click.echo(f"ocppgen: {len(files)} files up to date in {target}")
        return
    try:
        changed = output.write(target, files, folders)
    except BuildError as exc:
        _fail(exc, "the build stopped")
    if not quiet:
        click.echo(
            f"ocppgen: {', '.join(s.version for s in sets)}: {len(files)} files, {len(changed)} changed, "
            f"in {target} ({time.perf_counter() - started:.1f}s)"
        )


# --- ir, manifest, overlays ----------------------------------------------------------------


def _one_version(version: str | None, legacy: tuple[str, ...]) -> str:
    chosen = _versions((version,) if version else (), legacy)
    if len(chosen) != 1:
        raise click.UsageError(f"give exactly one OCPP version: --ocpp {'|'.join(VERSIONS)}")
    return chosen[0]


@main.command()
@click.option("--ocpp", "version", type=click.Choice(list(VERSIONS)), help="The OCPP version (required).")
@_legacy_version_option
@_schemas_option
@_overlay_option
def ir(version: str | None, legacy_versions: tuple[str, ...], schemas: Path | None, overlays: list[tuple[str, Path]]) -> None:
    """Print one version's intermediate representation as JSON."""
    chosen = _one_version(version, legacy_versions)
    try:
        (schema_set,) = _load(schemas, [chosen], overlays)
        version_ir, _ = build_ir(schema_set)
    except BuildError as exc:
        _fail(exc, "nothing printed")
    click.echo(msgspec.json.format(msgspec.json.encode(version_ir), indent=2).decode())


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--ocpp", "version", type=click.Choice(list(VERSIONS)), help="The set's OCPP version (required).")
@_legacy_version_option
@click.option("--origin", required=True, help="Where the files come from.")
@click.option("--edition", required=True, help="Which edition or release they are.")
@click.option("--license", "license_text", required=True, help="Their license notice.")
def manifest(
    folder: Path, version: str | None, legacy_versions: tuple[str, ...], origin: str, edition: str, license_text: str
) -> None:
    """Write MANIFEST.json for a schema set of your own (e.g. with vendor extensions)."""
    chosen = _one_version(version, legacy_versions)
    path = write_manifest(folder, chosen, origin, edition, license_text)
    click.echo(f"ocppgen: wrote {path}")


@main.command()
def overlays() -> None:
    """List the overlays shipped with ocppgen (for build --overlay NAME)."""
    for name, path in builtin_overlays().items():
        try:
            overlay = load_overlay(path)
        except BuildError as exc:
            _fail(exc, "nothing listed")
        click.echo(f"{name}  (OCPP {overlay['version']})")
        click.echo(textwrap.indent(textwrap.fill(overlay["description"], 92), "    "))
    click.echo("\nApply one with: ocppgen build --overlay NAME (repeatable); your own: --overlay path/to/file.json")


# --- validate -------------------------------------------------------------------------------

_VALIDATE_EPILOG = """\b
Input formats (--input; detected per file by default):
  frames  one frame per line, as sent on the WebSocket
  jsonl   one {"frame": ..., "direction": ..., "station": ...} object per line; direction is
          who sent it (station | csms) or, relative to the capturing side, in | out
  log     the runtime's frame log (logger ocppgen.frames): "<station id> <|> <frame>", any
          logging prefix before the station id ignored (the ocpp package's log is read too)
\b
Exit status: 0 no violations, 1 violations, 2 bad input (unreadable file, no frames, bad option).
--format json prints one JSON object: {"report": 1, "source", "ocpp", "input", "logged_by",
"lenient", "partial", "findings": [{"severity", "kind", "line", "detail", "spec", "station",
"message_id", "action", "frame_type", "sender", "path", "lenient"}], "summary": {...},
"exit_code"}; docs/validate.md describes every field and kind."""


def _bad_input(where: str, what: str) -> NoReturn:
    click.echo(f"error: {where}: {what}", err=True)
    sys.exit(2)


@main.command(epilog=_VALIDATE_EPILOG)
@click.argument("capture", metavar="CAPTURE")
@click.option("--ocpp", "version", type=click.Choice(list(VERSIONS)), help="The OCPP version of the exchange (required).")
@_legacy_version_option
@click.option("--lenient", is_flag=True, help="Report what the runtime's lenient mode tolerates as warnings, not violations.")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text: one line per finding and a summary; json: one machine-readable report.",
)
@click.option(
    "--input", "input_format", type=click.Choice(["auto", "frames", "jsonl", "log"]), default="auto", show_default=True,
    help="The capture's format (auto: detected from its lines).",
)
@click.option(
    "--logged-by", type=click.Choice(["csms", "station"]), default=None,
    help="The side that wrote a frame log (or in/out records): its '>' frames are its own. "
    "Default: inferred from the actions only one side sends.",
)
@click.option(
    "--station", "stations", multiple=True, metavar="ID",
    help="Check only this station's frames (repeatable), e.g. one charger of a CSMS's log.",
)
@click.option(
    "--partial", is_flag=True,
    help="The capture is an excerpt: replies to CALLs before it and CALLs answered after it are warnings.",
)
def validate(
    capture: str,
    version: str | None,
    legacy_versions: tuple[str, ...],
    lenient: bool,
    output_format: str,
    input_format: str,
    logged_by: str | None,
    stations: tuple[str, ...],
    partial: bool,
) -> None:
    """Check a captured OCPP-J exchange (a file, or - for stdin) against a version's schemas
    and the OCPP-J rules: framing, message ids, actions and their direction, every payload
    (responses against their CALL's action), unanswered CALLs and unmatched replies.

    \b
    ocppgen validate charger.log --ocpp 1.6
    ocppgen validate capture.jsonl --ocpp 2.0.1 --lenient --format json
    journalctl -u csms | ocppgen validate - --ocpp 2.1 --logged-by csms --station CP-0042
    """
    from .capture import CaptureError, InputFormat, read_capture
    from .validate import render_text, validate as run_validation

    formats: dict[str, InputFormat] = {"frames": "frames", "jsonl": "jsonl", "log": "log"}

    chosen = _one_version(version, legacy_versions)
    try:
        data = sys.stdin.buffer.read() if capture == "-" else Path(capture).read_bytes()
    except OSError as exc:
        _bad_input(capture, exc.strerror or str(exc))
    source = "<stdin>" if capture == "-" else capture
    try:
        parsed = read_capture(data, formats.get(input_format))
    except CaptureError as exc:
        _bad_input(source, str(exc))
    if stations:
        parsed.records = [r for r in parsed.records if r.station in stations]
        if not parsed.records:
            _bad_input(source, f"no frames of station {', '.join(stations)} (stations are named by frame logs and jsonl records)")
    report = run_validation(
        parsed, chosen, source=source, lenient=lenient, partial=partial,
        logged_by="csms" if logged_by == "csms" else "station" if logged_by == "station" else None,
    )
    if output_format == "json":
        click.echo(msgspec.json.encode(report).decode())
    else:
        click.echo(render_text(report))
    sys.exit(report.exit_code)


if __name__ == "__main__":
    main()
