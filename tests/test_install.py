"""The distribution as a user meets it: built once (sdist, then the wheel from the sdist) from a
copy of this checkout, installed into fresh virtual environments (decision 0009).

- the runtime alone, beside an old black, at the lowest msgspec and websockets it supports;
- the full install (``ocppgen[generator]``), rebuilding the committed package byte for byte;
- the README's editable install, which ``mypy --strict`` must see through.

Slow (pip installs, ~1-2 minutes in all): marked ``install``; CI runs them with the rest
(``-m "not install"`` leaves them out locally).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

from ocppgen.entry import BLACK_VERSION
from tests.conftest import ROOT

pytestmark = pytest.mark.install

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
LOWEST = {"msgspec": "0.20.0", "websockets": "14.2"}  # the lower bounds of pyproject.toml's dependencies
OLD_BLACK = "23.12.1"
METER = (
    b'{"connectorId":1,"transactionId":5,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z",'
    b'"sampledValue":[{"value":"50.0","measurand":"Frequency","unit":"Hertz"}]}]}'
)


def sh(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def ok(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = sh(*args, cwd=cwd, env=env)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def venv(path: Path) -> Path:
    """A fresh virtual environment; returns its bin/ folder."""
    ok(sys.executable, "-m", "venv", path)
    return path / "bin"


def pip_install(bin_dir: Path, *args: str | Path, cwd: Path | None = None) -> None:
    ok(bin_dir / "python", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *args, cwd=cwd)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, following links (generated/runtime)."""
    return {
        (Path(d) / n).relative_to(folder).as_posix(): (Path(d) / n).read_bytes()
        for d, _, names in os.walk(folder, followlinks=True)
        for n in names
        if "__pycache__" not in Path(d).parts
    }


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean copy of this checkout (no venv, no build output), links kept as links."""
    copy = tmp_path_factory.mktemp("source") / "ocppgen"
    junk = shutil.ignore_patterns(
        ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", ".benchmarks"
    )
    shutil.copytree(ROOT, copy, symlinks=True, ignore=junk)
    return copy


@pytest.fixture(scope="module")
def dists(source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist, and the wheel built from it (so the sdist is proven complete)."""
    out = tmp_path_factory.mktemp("dist")
    ok(sys.executable, "-m", "build", "--outdir", out, source)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_wheel_and_sdist_carry_the_license_the_notice_and_every_package_file(dists: dict[str, Path]) -> None:
    info = f"ocppgen-{VERSION}.dist-info"
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"{info}/METADATA").decode()
        assert wheel.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
        assert wheel.read(f"{info}/licenses/NOTICE") == (ROOT / "NOTICE").read_bytes()
    assert "License-Expression: Apache-2.0" in metadata
    requires = sorted(line for line in metadata.splitlines() if line.startswith("Requires-Dist:"))
    assert "Requires-Dist: msgspec>=0.20" in requires and "Requires-Dist: websockets>=14.2" in requires
    assert f'Requires-Dist: black=={BLACK_VERSION}; extra == "generator"' in requires
    assert [r for r in requires if "extra" not in r] == ["Requires-Dist: msgspec>=0.20", "Requires-Dist: websockets>=14.2"]
    assert 'Requires-Dist: cryptography>=42; extra == "signing"' in requires
    # the packages, with the runtime as real files, the templates, schemas, overlays and py.typed
    expected = {f"ocppgen/generated/runtime/{p.name}" for p in (ROOT / "runtime").glob("*.py")}
    expected |= {f"ocppgen/templates/{p.name}" for p in (ROOT / "templates").glob("*.jinja")}
    expected |= {f"ocppgen/schemas/overlays/{p.name}" for p in (ROOT / "schemas" / "overlays").glob("*.json")}
    expected |= {"ocppgen/entry.py", "ocppgen/cli.py", "ocppgen/generated/py.typed", "ocppgen/generated/NOTICE.md"}
    expected |= {f"ocppgen/schemas/v21/{p.name}" for p in (ROOT / "schemas" / "v21").glob("*.json")}
    assert expected <= names, sorted(expected - names)
    assert {n.split("/")[0] for n in names} == {"ocppgen", info}
    with tarfile.open(dists["sdist"]) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"LICENSE", "NOTICE", "CHANGELOG.md", "README.md", "pyproject.toml", "setup.cfg"} <= members


def test_runtime_only_install_beside_an_old_black_at_the_lowest_supported_versions(
    dists: dict[str, Path], tmp_path: Path
) -> None:
    bin_dir = venv(tmp_path / "venv")
    lowest = [f"{name}=={version}" for name, version in LOWEST.items()]
    pip_install(bin_dir, f"black=={OLD_BLACK}", *lowest, dists["wheel"])
    script = textwrap.dedent(
        f"""
        import importlib, json, pkgutil, sys
        from importlib import metadata
        import msgspec
        import ocppgen.generated as generated

        modules = [m.name for m in pkgutil.walk_packages(generated.__path__, "ocppgen.generated.")]
        for name in modules:
            importlib.import_module(name)
        from ocppgen.generated.v201.messages import HeartbeatResponse
        decoded = msgspec.json.decode(b'{{"currentTime":"2024-01-02T00:00:00Z"}}', type=HeartbeatResponse)

        def version(name):
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                return None

        print(json.dumps({{
            "versions": {{n: version(n) for n in ("black", "msgspec", "websockets", "jinja2")}},
            "modules": modules,
            "websockets_asyncio": "websockets.asyncio.server" in sys.modules,
            "decoded": repr(decoded),
        }}))
        """
    )
    found = json.loads(ok(bin_dir / "python", "-c", script, cwd=tmp_path))
    assert found["versions"] == {"black": OLD_BLACK, **LOWEST, "jinja2": None}
    assert {"ocppgen.generated.v16.messages", "ocppgen.generated.v21.routing"} <= set(found["modules"])
    assert found["websockets_asyncio"]  # the transport modules imported on the lowest websockets
    assert found["decoded"].startswith("HeartbeatResponse(") and "datetime.datetime(2024, 1, 2, 0, 0" in found["decoded"]
    # the command, without the generator's dependencies, says what to install
    for command in ([bin_dir / "ocppgen", "build"], [bin_dir / "python", "-m", "ocppgen", "--help"]):
        proc = sh(*command, cwd=tmp_path)
        assert proc.returncode == 1 and proc.stdout == ""
        assert proc.stderr.startswith(
            "error: the ocppgen command needs the generator's dependencies; missing: jinja2 (not installed), "
            f"black=={BLACK_VERSION} (found black {OLD_BLACK}).\n"
            "Install them with:  pip install 'ocppgen[generator]'   (in an ocppgen checkout: pip install -e '.[generator]')\n"
        ), proc.stderr
        assert "Traceback" not in proc.stderr


def test_full_install_rebuilds_the_committed_package_and_names_shipped_overlays(
    dists: dict[str, Path], tmp_path: Path
) -> None:
    bin_dir = venv(tmp_path / "venv")
    pip_install(bin_dir, f"{dists['wheel']}[generator]")
    work = tmp_path / "work"  # not a checkout: everything comes from the installed package
    work.mkdir()
    assert ok(bin_dir / "ocppgen", "--version", cwd=work) == f"ocppgen {VERSION}\n"
    assert ok(bin_dir / "ocppgen", "overlays", cwd=work).startswith("v16-hertz  (OCPP 1.6)\n")
    msgspec_version = ok(bin_dir / "python", "-c", "from importlib.metadata import version; print(version('msgspec'))")
    assert tuple(int(p) for p in msgspec_version.strip().split(".")[:2]) >= (0, 23)  # no cap below the newest
    ok(bin_dir / "ocppgen", "build", "--package-dir", "own", "-q", cwd=work)
    assert tree(work / "own") == tree(ROOT / "generated")
    ok(bin_dir / "ocppgen", "build", "--ocpp", "1.6", "--overlay", "v16-hertz", "--package", "acme.ocpp", "--out", "src", "-q", cwd=work)
    probe = f"from acme.ocpp.v16 import messages\nimport msgspec\nmsgspec.json.decode({METER!r}, type=messages.MeterValuesRequest)\n"
    ok(bin_dir / "python", "-c", probe, cwd=work, env={**os.environ, "PYTHONPATH": str(work / "src")})


def test_editable_install_is_seen_by_mypy_strict(source: Path, tmp_path: Path) -> None:
    bin_dir = venv(tmp_path / "venv")
    pip_install(bin_dir, "-e", ".", cwd=source)  # the README's command, from the checkout's root
    where = ok(bin_dir / "python", "-c", "import ocppgen.generated.v201.messages as m; print(m.__file__)")
    assert Path(where.strip()).resolve() == (source / "generated" / "v201" / "messages.py").resolve()
    user = tmp_path / "user"
    user.mkdir()
    (user / "app.py").write_text(
        textwrap.dedent(
            """
            from ocppgen.generated.v201.messages import HeartbeatRequest, HeartbeatResponse


            def answer(request: HeartbeatRequest) -> HeartbeatResponse:
                return request  # wrong on purpose: mypy must know both types
            """
        )
    )
    proc = sh(
        sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable", bin_dir / "python",
        "app.py", cwd=user,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == (
        'app.py:6: error: Incompatible return value type (got "HeartbeatRequest", expected "HeartbeatResponse")  '
        "[return-value]"
    ), proc.stdout
    assert "Found 1 error in 1 file" in proc.stdout
