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


def _third_party_imports(folder: Path, *, lazy: bool | None = None) -> set[str]:
    """Top-level package names imported by the modules under *folder*.

    lazy=None: every import; False: those run when a module is imported (not inside a function,
    not under ``if TYPE_CHECKING``); True: only those inside functions (an optional dependency
    imported when first used).
    """
    roots: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import | ast.ImportFrom) and (lazy is None or lazy == in_function):
            if isinstance(node, ast.Import):
                roots.update(a.name.split(".")[0] for a in node.names)
            elif node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
        inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    for path in folder.rglob("*.py"):
        visit(ast.parse(path.read_text()), False)
    return roots - set(sys.stdlib_module_names) - {"ocppgen"}


# the import name of a distribution where the two differ
_IMPORT_NAMES = {"opentelemetry-api": "opentelemetry", "prometheus-client": "prometheus_client"}


def test_the_runtime_install_brings_exactly_what_the_runtime_imports() -> None:
    dependencies = PYPROJECT["project"]["dependencies"]
    extras = PYPROJECT["project"]["optional-dependencies"]
    runtime = (ROOT / "runtime", ROOT / "generated")
    eager = set().union(*(_third_party_imports(f, lazy=False) for f in runtime))
    lazy = set().union(*(_third_party_imports(f, lazy=True) for f in runtime)) - eager
    # what a module imports when it is imported is a dependency, and nothing else is
    assert {_name(d) for d in dependencies} == eager == {"msgspec", "websockets"}
    # what is imported when first used (signing, metrics, tracing, ...) is in an extra of its own
    offered = {_IMPORT_NAMES.get(_name(r), _name(r)) for name, reqs in extras.items() for r in reqs}
    assert lazy <= offered, lazy - offered
    assert {_name(d) for d in extras["signing"]} == {"cryptography"}
    # lower bounds only: no release of msgspec or websockets is excluded ahead of time
    assert all(">=" in d and "<" not in d.replace(">=", "") and "==" not in d for d in dependencies), dependencies


def test_the_generator_extra_holds_what_the_generator_imports_with_black_pinned() -> None:
    generator = PYPROJECT["project"]["optional-dependencies"]["generator"]
    kit = _third_party_imports(ROOT / "generator" / "testing") | _plugin_imports()
    imports = _third_party_imports(ROOT / "generator") - kit - {"msgspec"}
    assert {_name(r) for r in generator} == imports == {"jinja2", "click", "black"}
    assert f"black=={entry.BLACK_VERSION}" in generator
    assert metadata.version("black") == entry.BLACK_VERSION  # the environment that --check runs in


def _plugin_imports() -> set[str]:
    tree = ast.parse((ROOT / "generator" / "pytest_plugin.py").read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    return {n.split(".")[0] for n in names} - set(sys.stdlib_module_names) - {"ocppgen", ""}


def test_the_testing_extra_holds_what_the_testing_kit_imports_beside_the_runtime() -> None:
    """The pytest plugin and ocppgen.testing run without the generator's black and jinja2."""
    extras = PYPROJECT["project"]["optional-dependencies"]
    kit = _third_party_imports(ROOT / "generator" / "testing") | _plugin_imports()
    dependencies = {_name(d) for d in PYPROJECT["project"]["dependencies"]}
    assert kit - dependencies == {_name(r) for r in extras["testing"]} == {"pytest", "hypothesis"}


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
