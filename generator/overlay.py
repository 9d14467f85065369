"""Schema overlays: documented deviations applied to a verified schema set (RFC 6902 JSON Patch).

An overlay file says why it exists and what it changes, per schema file:

    {"description": "...", "version": "1.6",
     "patches": {"MeterValues.json": [{"op": "add", "path": "/.../enum/-", "value": "Hertz"}]}}

The vendored files stay unmodified; ``ocppgen build --overlay NAME|FILE`` applies the patches
in memory after the manifest check, and the overlay's content goes into the set's digest (so
the generated banner changes with it). Supported operations: add, remove, replace, test, move,
copy. The overlays shipped with ocppgen (``schemas/overlays/``, package data) are named by
their file name without ``.json`` (``v16-hertz``); ``ocppgen overlays`` lists them.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from .diagnostics import BuildError, Diagnostic
from .load import VERSIONS, SchemaFile, SchemaSet

__all__ = ["apply_overlays", "builtin_overlays", "load_overlay", "resolve_overlay"]

OPS = ("add", "remove", "replace", "test", "move", "copy")


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _parent(doc: Any, pointer: str) -> tuple[Any, str]:
    tokens = _tokens(pointer)
    if not tokens:
        raise ValueError("the root cannot be the target")
    node = doc
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node, tokens[-1]


def _get(doc: Any, pointer: str) -> Any:
    node = doc
    for token in _tokens(pointer):
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _add(doc: Any, pointer: str, value: Any) -> None:
    parent, key = _parent(doc, pointer)
    if isinstance(parent, list):
        index = len(parent) if key == "-" else int(key)
        if not 0 <= index <= len(parent):
            raise IndexError(key)
        parent.insert(index, value)
    else:
        parent[key] = value


def _remove(doc: Any, pointer: str) -> Any:
    parent, key = _parent(doc, pointer)
    return parent.pop(int(key)) if isinstance(parent, list) else parent.pop(key)


def patch(doc: Any, operations: list[dict[str, Any]]) -> Any:
    """Apply RFC 6902 operations to a copy of ``doc``; raises ValueError naming the failing op."""
    out = copy.deepcopy(doc)
    for i, op in enumerate(operations):
        try:
            kind, path = op["op"], op["path"]
            if kind == "add":
                _add(out, path, copy.deepcopy(op["value"]))
            elif kind == "remove":
                _remove(out, path)
            elif kind == "replace":
                _remove(out, path)
                _add(out, path, copy.deepcopy(op["value"]))
            elif kind == "test":
                if _get(out, path) != op["value"]:
                    raise ValueError(f"test failed: {path} is not {op['value']!r}")
            elif kind in ("move", "copy"):
                value = _get(out, op["from"])
                if kind == "move":
                    _remove(out, op["from"])
                _add(out, path, copy.deepcopy(value))
            else:
                raise ValueError(f"unknown op {kind!r}")
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ValueError(f"operation {i} ({op.get('op')} {op.get('path')}): {exc}") from None
    return out


def builtin_overlays() -> dict[str, Path]:
    """The overlays shipped with ocppgen, by name (file name without ``.json``)."""
    from .schemas import __file__ as schemas_init

    folder = Path(schemas_init).resolve().parent / "overlays"
    return {p.stem: p for p in sorted(folder.glob("*.json"))}


def resolve_overlay(value: str) -> Path:
    """A shipped overlay's name, or a path: a value ending in ``.json`` or containing a path
    separator is a file; anything else must name a shipped overlay. ValueError says why not."""
    if value.endswith(".json") or "/" in value or "\\" in value:
        return Path(value)
    shipped = builtin_overlays()
    if value not in shipped:
        names = ", ".join(shipped) or "none"
        raise ValueError(
            f"no shipped overlay named {value!r} (shipped: {names}); a file of your own must end in "
            f".json or contain a '/' (e.g. ./{value}.json)"
        )
    return shipped[value]


def _shape_problems(overlay: Any) -> list[tuple[str | None, str]]:
    if not isinstance(overlay, dict) or not isinstance(overlay.get("patches"), dict):
        return [(None, "an overlay is an object with 'description', 'version' and 'patches'")]
    problems: list[tuple[str | None, str]] = []
    if not overlay.get("description"):
        problems.append((None, "an overlay must say why it exists ('description')"))
    if overlay.get("version") not in VERSIONS:
        problems.append(("/version", f"'version' must be one of {', '.join(VERSIONS)}, not {overlay.get('version')!r}"))
    for name, operations in overlay["patches"].items():
        if not isinstance(operations, list):
            problems.append((f"/patches/{name}", "expected a list of RFC 6902 operations"))
            continue
        for i, op in enumerate(operations):
            where = f"/patches/{name}/{i}"
            if not isinstance(op, dict) or not isinstance(op.get("path"), str) or op.get("op") not in OPS:
                problems.append((where, f'expected {{"op": {"|".join(OPS)}, "path": "/json/pointer", ...}}'))
            elif op["op"] in ("move", "copy") and not isinstance(op.get("from"), str):
                problems.append((where, f"'{op['op']}' needs 'from' (a JSON pointer)"))
            elif op["op"] in ("add", "replace", "test") and "value" not in op:
                problems.append((where, f"'{op['op']}' needs 'value'"))
    return problems


def load_overlay(path: Path) -> dict[str, Any]:
    """Read and check an overlay file; a BuildError names what is wrong."""
    try:
        overlay = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BuildError([Diagnostic(level="error", file=str(path), message=f"cannot read overlay: {exc.strerror}")]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BuildError([Diagnostic(level="error", file=str(path), message=f"unreadable overlay: {exc}")]) from None
    problems = _shape_problems(overlay)
    if problems:
        raise BuildError([Diagnostic(level="error", file=str(path), pointer=w, message=m) for w, m in problems])
    return cast(dict[str, Any], overlay)


def apply_overlays(schema_set: SchemaSet, overlays: list[tuple[Path, dict[str, Any]]]) -> SchemaSet:
    """The set with the overlays of its version applied (in order), and a digest covering them."""
    mine = [(p, o) for p, o in overlays if o.get("version") == schema_set.version]
    if not mine:
        return schema_set
    files = {f.name: f.doc for f in schema_set.files}
    diags = []
    for path, overlay in mine:
        for name, operations in overlay["patches"].items():
            if name not in files:
                diags.append(Diagnostic(level="error", file=str(path), pointer=f"/patches/{name}", message="no such schema file in the set"))
                continue
            try:
                files[name] = patch(files[name], operations)
            except ValueError as exc:
                diags.append(Diagnostic(level="error", file=str(path), pointer=f"/patches/{name}", message=str(exc)))
    if diags:
        raise BuildError(diags)
    digest = hashlib.sha256(
        (schema_set.digest + json.dumps([o for _, o in mine], sort_keys=True, separators=(",", ":"))).encode()
    ).hexdigest()
    return replace(
        schema_set, files=tuple(SchemaFile(name=n, doc=files[n]) for n in sorted(files)), digest=digest
    )
