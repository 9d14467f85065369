"""Packaging (decision 0009): one top-level name, the runtime's dependencies apart from the
generator's, the license files, the editable mode, and the command without the generator.

tests/test_install.py builds and installs the distribution; these tests read the configuration.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from ocppgen import entry
from tests.conftest import ROOT, missing_from_link_tree

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert match, requirement
    return match.group(0).lower()


def test_only_the_ocppgen_namespace_is_installed() -> None:
    config = PYPROJECT["tool"]["setuptools"]
    assert all(p == "ocppgen" or p.startswith("ocppgen.") for p in config["packages"])
    assert set(config["package-dir"].values()) == {"generator", "templates", "schemas", "generated"}


def test_every_generated_subpackage_is_listed() -> None:
    config = PYPROJECT["tool"]["setuptools"]
    on_disk = {
        "ocppgen.generated." + p.parent.relative_to(ROOT / "generated").as_posix().replace("/", ".")
        for p in (ROOT / "generated").rglob("__init__.py")
        if p.parent != ROOT / "generated"
    }
    assert on_disk <= set(config["packages"])


def test_the_shipped_overlays_are_package_data() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["ocppgen.schemas"]
    overlays = sorted((ROOT / "schemas").glob("overlays/*.json"))
    assert overlays
    assert all(any(p.relative_to(ROOT / "schemas").match(pattern) for pattern in patterns) for p in overlays)


def _third_party_imports(folder: Path) -> set[str]:
    roots: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
    return roots - set(sys.stdlib_module_names) - {"ocppgen"}


def test_the_runtime_install_brings_exactly_what_the_runtime_imports() -> None:
    dependencies = PYPROJECT["project"]["dependencies"]
    signing = PYPROJECT["project"]["optional-dependencies"]["signing"]
    imported = _third_party_imports(ROOT / "runtime") | _third_party_imports(ROOT / "generated")
    # cryptography is imported lazily by runtime/signing.py only: an extra, not a dependency
    assert {_name(d) for d in signing} == {"cryptography"}
    assert {_name(d) for d in dependencies} == imported - {"cryptography"} == {"msgspec", "websockets"}
    # lower bounds only: no release of msgspec or websockets is excluded ahead of time
    assert all(">=" in d and "<" not in d.replace(">=", "") and "==" not in d for d in dependencies), dependencies


def test_the_generator_extra_holds_what_the_generator_imports_with_black_pinned() -> None:
    generator = PYPROJECT["project"]["optional-dependencies"]["generator"]
    imports = _third_party_imports(ROOT / "generator") - {"msgspec"}
    assert {_name(r) for r in generator} == imports == {"jinja2", "click", "black"}
    assert f"black=={entry.BLACK_VERSION}" in generator
    assert metadata.version("black") == entry.BLACK_VERSION  # the environment that --check runs in


def test_the_test_extra_includes_the_generator() -> None:
    assert "ocppgen[generator]" in PYPROJECT["project"]["optional-dependencies"]["test"]


def test_the_entry_point_imports_only_the_standard_library() -> None:
    assert PYPROJECT["project"]["scripts"] == {"ocppgen": "ocppgen.entry:main"}
    for name in ("__init__.py", "entry.py", "__main__.py"):
        tree = ast.parse((ROOT / "generator" / name).read_text())
        top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        for node in top_level:
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            relative = isinstance(node, ast.ImportFrom) and node.level > 0
            assert relative or (module or "").split(".")[0] in sys.stdlib_module_names, (name, module)
    # __main__ reaches cli (click, jinja2, black) only through entry.main, after the check
    assert "from .entry import main" in (ROOT / "generator" / "__main__.py").read_text()


def test_without_the_generator_the_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = {"click": "8.1.7", "black": "23.12.1"}

    def version(name: str) -> str:
        if name not in installed:
            raise metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(entry.metadata, "version", version)
    assert entry.missing_generator_requirements() == [
        "jinja2 (not installed)",
        f"black=={entry.BLACK_VERSION} (found black 23.12.1)",
    ]
    installed.clear()
    assert entry.missing_generator_requirements() == [
        "jinja2 (not installed)",
        "click (not installed)",
        f"black=={entry.BLACK_VERSION} (not installed)",
    ]
    installed.update(click="8.1.7", black="23.12.1")
    with pytest.raises(SystemExit) as exit_info:
        entry.main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: the ocppgen command needs the generator's dependencies; missing: jinja2 (not installed), "
        f"black=={entry.BLACK_VERSION} (found black 23.12.1).\nInstall them with:  pip install 'ocppgen[generator]'   (in an ocppgen checkout: pip install -e '.[generator]')\n"
    )
    assert "pipx install 'ocppgen[generator]'" in err


def test_with_the_generator_installed_nothing_is_missing() -> None:
    assert entry.missing_generator_requirements() == []


def test_license_and_notice_are_shipped() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE", "NOTICE"]
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.md5(text).hexdigest() == "3b83ef96387f14655fc854ddc3c6bd57"  # apache.org's LICENSE-2.0.txt
    notice = (ROOT / "NOTICE").read_text()
    for phrase in ("Copyright Open Charge Alliance", "CC BY-ND 4.0", "https://creativecommons.org/licenses/by-nd/4.0/",
                   "docstrings", "schemas/v16/", "schemas/v201/", "schemas/v21/"):
        assert phrase in notice


def test_changelog_has_an_unreleased_section_and_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert headings[0] == "Unreleased"
    assert PYPROJECT["project"]["version"] in headings
    assert "keepachangelog.com" in text


def test_editable_installs_are_link_trees() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert config["editable_wheel"]["mode"] == "strict"


def test_a_module_added_after_the_editable_install_is_reported(tmp_path: Path) -> None:
    root, tree = tmp_path / "checkout", tmp_path / "tree" / "ocppgen"
    for folder in ("generator", "templates", "schemas", "generated", "runtime"):
        (root / folder).mkdir(parents=True)
    (root / "runtime" / "payload.py").write_text("")
    (root / "generator" / "cli.py").write_text("")
    (tree / "generated" / "runtime").mkdir(parents=True)
    (tree / "cli.py").symlink_to(root / "generator" / "cli.py")
    (tree / "generated" / "runtime" / "payload.py").symlink_to(root / "runtime" / "payload.py")
    assert missing_from_link_tree(root, tree) == []
    (root / "runtime" / "session.py").write_text("")
    (root / "generator" / "validate.py").write_text("")
    assert missing_from_link_tree(root, tree) == ["generator/validate.py", "runtime/session.py"]
