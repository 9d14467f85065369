import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import settings

# Any CI runs the property tests with a fixed seed, so a red run reproduces; locally they explore.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI") or os.environ.get("OCPPGEN_CI"):
    settings.load_profile("ci")

pytest_plugins = ["pytester"]  # tests/test_testing_kit.py runs a user's test file through the ocppgen plugin

ROOT = Path(__file__).resolve().parent.parent
SHARED_SPEC = ROOT.parent / "shared" / "spec"

# Set to 1 by .ci/run, ocppgen's own CI, which provides everything some tests need (the OCA
# documents in ../shared/spec, Redis, PostgreSQL): there a missing one fails the test. Anywhere
# else (a fork's hosted CI, a laptop) such a test is skipped, and the skip says what is missing.
OWN_CI = "OCPPGEN_CI"


def own_ci() -> bool:
    """Whether this is ocppgen's own CI (``OCPPGEN_CI=1``, set by ``.ci/run``)."""
    return os.environ.get(OWN_CI) == "1"


def _missing(what: str) -> None:
    if own_ci():
        pytest.fail(f"{what}; {OWN_CI}=1 (ocppgen's own CI, .ci/run) provides it, so this is a failure")
    pytest.skip(what)


def require_shared_spec() -> Path:
    """The OCA reference documents beside the checkout (``../shared/spec``)."""
    if not SHARED_SPEC.is_dir():
        _missing(
            f"the OCA specification documents are missing: no folder {SHARED_SPEC} "
            "(shared/spec beside the checkout, with the reference schema copies)"
        )
    return SHARED_SPEC


# service -> (variable with its URL, name in messages, an example URL, default port)
SERVICES = {
    "redis": ("REDIS_URL", "Redis", "redis://127.0.0.1:6379/0", 6379),
    "postgresql": ("DATABASE_URL", "PostgreSQL", "postgresql://127.0.0.1:5432/test", 5432),
}


def require_service(name: str) -> str:
    """The URL of a service a test needs (from ``REDIS_URL`` / ``DATABASE_URL``), reachable.

    Skips, naming the service and the variable, when the variable is unset or the service does
    not answer; under ocppgen's own CI (``OCPPGEN_CI=1``) that is a failure instead. Tests never
    assume an address: ``.ci/run`` sets the variables.
    """
    variable, label, example, default_port = SERVICES[name]
    url = os.environ.get(variable)
    if not url:
        _missing(f"{label} is not configured: set {variable} (e.g. {variable}={example}) to run this test")
        raise AssertionError("unreachable")  # _missing skips or fails
    parts = urlsplit(url)
    if parts.hostname is not None:  # a URL naming a Unix socket directory is not probed
        port = parts.port or default_port
        try:
            socket.create_connection((parts.hostname, port), timeout=2).close()
        except OSError as exc:
            _missing(f"{label} at {parts.hostname}:{port} ({variable}) is not reachable: {exc.strerror or exc}")
    return url


# Source folder -> its place in the installed ``ocppgen`` package (pyproject.toml's package-dir).
INSTALLED_AS = {"generator": "", "templates": "templates", "schemas": "schemas", "generated": "generated",
                "runtime": "generated/runtime"}


def missing_from_link_tree(root: Path, tree: Path) -> list[str]:
    """The modules of the checkout ``root`` that the editable link tree ``tree`` (the installed
    ``ocppgen`` folder) lacks: files added since ``pip install -e .`` (decision 0009)."""
    missing = []
    for source, installed in INSTALLED_AS.items():
        for path in sorted((root / source).rglob("*.py")):  # rglob does not enter generated/runtime (a link)
            rel = path.relative_to(root / source)
            if "__pycache__" not in rel.parts and not os.path.lexists(tree / installed / rel):
                missing.append(path.relative_to(root).as_posix())
    return missing


def pytest_sessionstart(session: pytest.Session) -> None:
    import ocppgen

    tree = Path(ocppgen.__file__).parent
    if (ROOT / "build") in tree.parents:  # an editable install of this checkout: a link tree
        missing = missing_from_link_tree(ROOT, tree)
        if missing:
            pytest.exit(
                f"the editable install predates {', '.join(missing)}: run .venv/bin/pip install -e '.[test]' "
                "again (a link tree shows new files only after a re-install)",
                returncode=4,
            )


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ANN001
    from tests import test_fidelity

    lines = test_fidelity.report_lines()
    if lines:
        terminalreporter.section("schema fidelity (reference validator vs generated decoder)")
        for line in lines:
            terminalreporter.write_line(line)
