"""Re-create this folder's schema sets from the ``ocpp==2.1.0`` wheel on PyPI.

The wheel carries the OCA schema files, but its 1.6 core and 2.0.1 sets were edited locally.
This script undoes exactly those edits (each edit is asserted to be present, so a different
wheel makes it fail instead of silently vendoring something else), copies every other file
byte for byte, and writes one MANIFEST.json per version with a sha256 per file.

    python schemas/vendor_oca.py                 # downloads the wheel with pip
    python schemas/vendor_oca.py --wheel PATH    # uses a wheel you already have

See PROVENANCE.md for what is undone and why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEEL = "ocpp==2.1.0"
LICENSE = (
    "Copyright Open Charge Alliance. The JSON schema files are published by the Open Charge "
    "Alliance under the Creative Commons Attribution-NoDerivatives 4.0 International Public "
    "License (CC BY-ND 4.0, https://creativecommons.org/licenses/by-nd/4.0/). They are "
    "vendored here unmodified in content."
)
SETS = {
    "v16": {
        "version": "1.6",
        "wheel_dir": "ocpp/v16/schemas",
        "edition": (
            "OCPP 1.6 edition 2 JSON schemas (urn:OCPP:1.6:2019:12; StopTransactionRequest from "
            "the 2025-04 errata release) and the OCPP 1.6 Security Whitepaper edition 3 schemas"
        ),
        "count": 78,
    },
    "v201": {
        "version": "2.0.1",
        "wheel_dir": "ocpp/v201/schemas",
        "edition": "OCPP 2.0.1 Edition 3, Part 3 JSON schemas (urn:OCPP:Cp:2:2020:3)",
        "count": 128,
    },
    "v21": {
        "version": "2.1",
        "wheel_dir": "ocpp/v21/schemas",
        "edition": "OCPP 2.1 Edition 1, Part 3 JSON schemas (urn:OCPP:Cp:2:2025:1)",
        "count": 181,
    },
}
# The 11 actions of the 1.6 security extension; their 22 files are untouched in the wheel.
SECURITY_16 = (
    "CertificateSigned DeleteCertificate ExtendedTriggerMessage GetInstalledCertificateIds "
    "GetLog InstallCertificate LogStatusNotification SecurityEventNotification SignCertificate "
    "SignedFirmwareStatusNotification SignedUpdateFirmware"
).split()


class VendorError(Exception):
    """The wheel does not look like the one this script was written for."""


def replace_once(text: str, old: str, new: str, where: str) -> str:
    """Replace the single occurrence of ``old``; anything else means the wheel changed."""
    count = text.count(old)
    if count != 1:
        raise VendorError(f"{where}: expected exactly one {old!r}, found {count}")
    return text.replace(old, new)


def insert_root_id(text: str, key: str, value: str, where: str) -> str:
    """Put the removed root id back on the line after ``$schema``, indented like it."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith('"$schema"'):
            indent = line[: len(line) - len(line.lstrip())]
            lines.insert(i + 1, f'{indent}"{key}": "{value}",')
            return "\n".join(lines)
    raise VendorError(f"{where}: no $schema line")


def restore_v16(name: str, text: str) -> str:
    stem = name[: -len(".json")]
    if stem.removesuffix("Response") in SECURITY_16:
        return text
    if stem.endswith("Response"):
        urn = f"urn:OCPP:1.6:2019:12:{stem}"
    elif stem == "StopTransaction":
        urn = "urn:OCPP:1.6:2025:04:StopTransactionRequest"
    else:
        urn = f"urn:OCPP:1.6:2019:12:{stem}Request"
    if '"id"' in text.split('"title"')[0]:
        raise VendorError(f"{name}: root id already present")
    text = insert_root_id(text, "id", urn, name)
    if name == "MeterValues.json":
        text = replace_once(text, '"Percent",\n' + " " * 40 + '"Hertz"\n', '"Percent"\n', name)
        for indent in (12, 24):
            text = replace_once(
                text,
                '"type": "array",\n' + " " * indent + '"minItems": 1,\n',
                '"type": "array",\n',
                name,
            )
    return text


def restore_v201(name: str, text: str) -> str:
    text = insert_root_id(text, "$id", f"urn:OCPP:Cp:2:2020:3:{name[: -len('.json')]}", name)
    if name == "Get15118EVCertificateResponse.json":
        text = replace_once(text, '"maxLength": 7500', '"maxLength": 5600', name)
    return text


RESTORE = {"v16": restore_v16, "v201": restore_v201, "v21": lambda name, text: text}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def vendor(wheel: Path, out: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        for folder, meta in SETS.items():
            prefix = meta["wheel_dir"] + "/"
            names = sorted(
                n[len(prefix) :] for n in zf.namelist() if n.startswith(prefix) and n.endswith(".json")
            )
            if len(names) != meta["count"]:
                raise VendorError(f"{prefix}: expected {meta['count']} files, found {len(names)}")
            target = out / folder
            target.mkdir(parents=True, exist_ok=True)
            files = {}
            for name in names:
                raw = zf.read(prefix + name)
                restored = RESTORE[folder](name, raw.decode("utf-8"))
                data = restored.encode("utf-8")
                json.loads(data)  # the edit must leave valid JSON
                (target / name).write_bytes(data)
                files[name] = sha256(data)
            manifest = {
                "version": meta["version"],
                "origin": (
                    f"Open Charge Alliance, as shipped in the {WHEEL} wheel on PyPI "
                    f"({meta['wheel_dir']}), local edits undone by schemas/vendor_oca.py"
                ),
                "edition": meta["edition"],
                "license": LICENSE,
                "files": files,
            }
            (target / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            print(f"{folder}: {len(files)} files")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="path to ocpp-2.1.0-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    try:
        if args.wheel is not None:
            vendor(args.wheel, args.out)
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL],
                check=True,
            )
            vendor(next(Path(tmp).glob("ocpp-2.1.0-*.whl")), args.out)
    except VendorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
