"""The distribution installs one top-level name, ``ocppgen``, and ships its data files."""

from __future__ import annotations

import tomllib

from tests.conftest import ROOT


def test_only_the_ocppgen_namespace_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert all(p == "ocppgen" or p.startswith("ocppgen.") for p in config["packages"])
    assert set(config["package-dir"].values()) == {"generator", "templates", "schemas", "generated"}


def test_every_generated_subpackage_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        "ocppgen.generated." + p.parent.relative_to(ROOT / "generated").as_posix().replace("/", ".")
        for p in (ROOT / "generated").rglob("__init__.py")
        if p.parent != ROOT / "generated"
    }
    assert on_disk <= set(config["packages"])
