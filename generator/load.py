"""Loading: read a schema set from disk, verify its manifest, parse every file.

This and the writer are the only stages that touch the filesystem.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .diagnostics import BuildError, Diagnostic

__all__ = ["VERSIONS", "SchemaFile", "SchemaSet", "default_schema_root", "load_sets", "write_manifest"]

# version -> (package key, WebSocket subprotocol)
VERSIONS: dict[str, tuple[str, str]] = {
    "1.6": ("v16", "ocpp1.6"),
    "2.0.1": ("v201", "ocpp2.0.1"),
    "2.1": ("v21", "ocpp2.1"),
}
MANIFEST = "MANIFEST.json"
DIRECTIONS = "DIRECTIONS.json"  # optional: direction rows for actions of a user-supplied set
NOT_SCHEMAS = {MANIFEST, DIRECTIONS}


@dataclass(frozen=True)
class SchemaFile:
    """One parsed schema file."""

    name: str
    doc: Any


@dataclass(frozen=True)
class SchemaSet:
    """The verified files of one version, in name order."""

    version: str
    folder: str
    files: tuple[SchemaFile, ...]
    digest: str
    manifest: dict[str, Any]
    directions: dict[str, Any] | None = None


def default_schema_root() -> Path:
    """The schema sets shipped with ocppgen (the project's ``schemas/`` folder)."""
    from . import schemas

    return Path(schemas.__file__).resolve().parent


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_manifest(folder: Path, diags: list[Diagnostic]) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        diags.append(Diagnostic(level="error", file=str(path), message="missing manifest"))
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        diags.append(Diagnostic(level="error", file=str(path), message=f"cannot read: {exc.strerror}"))
        return None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        diags.append(Diagnostic(level="error", file=str(path), message=f"invalid JSON: {exc}"))
        return None
    problems = []
    if not isinstance(manifest, dict):
        problems.append("must be a JSON object")
    else:
        if manifest.get("version") not in VERSIONS:
            problems.append(f"'version' must be one of {sorted(VERSIONS)}")
        files = manifest.get("files")
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            problems.append("'files' must map file names to sha256 hex digests")
    for problem in problems:
        diags.append(Diagnostic(level="error", file=str(path), message=problem))
    return None if problems else manifest


def load_set(folder: Path) -> SchemaSet:
    """Load one version's folder; every problem found is reported at once as a BuildError."""
    if not os.access(folder, os.R_OK | os.X_OK):
        raise BuildError([Diagnostic(level="error", file=str(folder), message="cannot read: permission denied")])
    diags: list[Diagnostic] = []
    manifest = _read_manifest(folder, diags)
    if manifest is None:
        raise BuildError(diags)
    listed: dict[str, str] = manifest["files"]
    on_disk = {p.name for p in folder.glob("*.json") if p.name not in NOT_SCHEMAS}
    for name in sorted(on_disk - set(listed)):
        diags.append(Diagnostic(level="error", file=str(folder / name), message="not listed in the manifest"))
    files = []
    for name in sorted(listed):
        path = folder / name
        if name not in on_disk:
            diags.append(Diagnostic(level="error", file=str(path), message="missing (listed in the manifest)"))
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            diags.append(Diagnostic(level="error", file=str(path), message=f"cannot read: {exc.strerror}"))
            continue
        if _sha256(data) != listed[name]:
            diags.append(
                Diagnostic(
                    level="error",
                    file=str(path),
                    message="altered: its sha256 differs from the manifest",
                )
            )
            continue
        try:
            doc = json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            diags.append(Diagnostic(level="error", file=str(path), message=f"not UTF-8: {exc}"))
            continue
        except json.JSONDecodeError as exc:
            diags.append(
                Diagnostic(
                    level="error",
                    file=str(path),
                    message=f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                )
            )
            continue
        files.append(SchemaFile(name=name, doc=doc))
    directions = None
    if (folder / DIRECTIONS).is_file():
        try:
            directions = json.loads((folder / DIRECTIONS).read_text(encoding="utf-8"))
        except OSError as exc:
            diags.append(Diagnostic(level="error", file=str(folder / DIRECTIONS), message=f"cannot read: {exc.strerror}"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            diags.append(Diagnostic(level="error", file=str(folder / DIRECTIONS), message=f"invalid JSON: {exc}"))
    if diags:
        raise BuildError(diags)
    canonical = json.dumps([sorted(listed.items()), directions], separators=(",", ":"), sort_keys=True).encode()
    return SchemaSet(
        version=manifest["version"],
        folder=folder.name,
        files=tuple(files),
        digest=_sha256(canonical),
        manifest=manifest,
        directions=directions,
    )


def load_sets(root: Path, versions: list[str] | None = None) -> list[SchemaSet]:
    """Load the sets under ``root`` (one version folder, or a folder of version folders).

    ``versions`` selects versions; by default every set found is loaded, in version order.
    """
    if not root.is_dir():
        raise BuildError([Diagnostic(level="error", file=str(root), message="not a directory")])
    if not os.access(root, os.R_OK | os.X_OK):
        raise BuildError([Diagnostic(level="error", file=str(root), message="cannot read: permission denied")])
    if (root / MANIFEST).is_file():
        found = [load_set(root)]
    else:
        found = []
        errors: list[Diagnostic] = []
        for version, (key, _) in VERSIONS.items():
            if (root / key).is_dir():
                try:
                    found.append(load_set(root / key))
                except BuildError as exc:
                    errors.extend(exc.diagnostics)
        if errors:
            raise BuildError(errors)
        if not found:
            raise BuildError(
                [
                    Diagnostic(
                        level="error",
                        file=str(root),
                        message=f"no schema set: expected {MANIFEST} or folders {[k for k, _ in VERSIONS.values()]}",
                    )
                ]
            )
    by_version = {s.version: s for s in found}
    wanted = versions or [v for v in VERSIONS if v in by_version]
    missing = [v for v in wanted if v not in by_version]
    if missing:
        raise BuildError(
            [Diagnostic(level="error", file=str(root), message=f"no schema set for version {v}") for v in missing]
        )
    return [by_version[v] for v in wanted]


def write_manifest(folder: Path, version: str, origin: str, edition: str, license_text: str) -> Path:
    """Write a MANIFEST.json for a user-supplied set (every *.json in ``folder``)."""
    files = {p.name: _sha256(p.read_bytes()) for p in sorted(folder.glob("*.json")) if p.name not in NOT_SCHEMAS}
    manifest = {"version": version, "origin": origin, "edition": edition, "license": license_text, "files": files}
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path
