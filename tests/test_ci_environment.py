"""What a test needs from its environment: skipped with a message naming what is missing, except
under ocppgen's own CI (OCPPGEN_CI=1, set by .ci/run), where it must be there."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import require_service, require_shared_spec

Skipped = pytest.skip.Exception
Failed = pytest.fail.Exception


@pytest.fixture
def listener() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        return int(server.getsockname()[1])


@pytest.fixture
def outside_own_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCPPGEN_CI", raising=False)
    monkeypatch.setenv("CI", "true")  # a fork's hosted CI: CI alone changes nothing


@pytest.fixture
def own_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCPPGEN_CI", "1")


def test_unset_service_skips_naming_the_service_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, outside_own_ci: None
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(Skipped) as info:
        require_service("redis")
    assert str(info.value) == (
        "Redis is not configured: set REDIS_URL (e.g. REDIS_URL=redis://127.0.0.1:6379/0) to run this test"
    )
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(Skipped, match=r"^PostgreSQL is not configured: set DATABASE_URL \(e\.g\. "):
        require_service("postgresql")


def test_unset_service_fails_under_own_ci(monkeypatch: pytest.MonkeyPatch, own_ci: None) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(Failed) as info:
        require_service("postgresql")
    assert str(info.value).startswith("PostgreSQL is not configured: set DATABASE_URL")
    assert str(info.value).endswith("OCPPGEN_CI=1 (ocppgen's own CI, .ci/run) provides it, so this is a failure")


def test_unreachable_service_skips_outside_own_ci_and_fails_in_it(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://:secret@127.0.0.1:{closed_port}/0")
    monkeypatch.delenv("OCPPGEN_CI", raising=False)
    with pytest.raises(Skipped) as info:
        require_service("redis")
    assert str(info.value) == f"Redis at 127.0.0.1:{closed_port} (REDIS_URL) is not reachable: Connection refused"
    assert "secret" not in str(info.value)  # the URL's password is not echoed
    monkeypatch.setenv("OCPPGEN_CI", "1")
    with pytest.raises(Failed, match=f"^Redis at 127.0.0.1:{closed_port} .*so this is a failure$"):
        require_service("redis")


def test_reachable_service_returns_its_url(monkeypatch: pytest.MonkeyPatch, listener: int, own_ci: None) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://127.0.0.1:{listener}/test")
    assert require_service("postgresql") == f"postgresql://127.0.0.1:{listener}/test"


def test_missing_shared_spec_skips_outside_own_ci_and_fails_in_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outside_own_ci: None
) -> None:
    monkeypatch.setattr(conftest, "SHARED_SPEC", tmp_path / "shared" / "spec")
    with pytest.raises(Skipped) as info:
        require_shared_spec()
    assert str(info.value) == (
        f"the OCA specification documents are missing: no folder {tmp_path / 'shared' / 'spec'} "
        "(shared/spec beside the checkout, with the reference schema copies)"
    )
    monkeypatch.setenv("OCPPGEN_CI", "1")
    with pytest.raises(Failed, match="so this is a failure$"):
        require_shared_spec()
    (tmp_path / "shared" / "spec").mkdir(parents=True)
    assert require_shared_spec() == tmp_path / "shared" / "spec"


def test_the_services_of_ci_answer() -> None:
    """Under .ci/run (OCPPGEN_CI=1, REDIS_URL, DATABASE_URL) both services must be there."""
    redis = require_service("redis")
    require_service("postgresql")
    from urllib.parse import urlsplit

    parts = urlsplit(redis)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=5) as conn:
        conn.sendall(b"PING\r\n")
        assert conn.recv(64) == b"+PONG\r\n"
