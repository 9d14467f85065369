"""runtime.loop: uvloop when present (the uvloop extra), asyncio's loop on request."""

from __future__ import annotations

import asyncio

import pytest

from ocppgen.generated.runtime import loop


async def _loop_type() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_run_uses_asyncios_loop_when_asked() -> None:
    assert loop.run(_loop_type(), uvloop=False).startswith("asyncio")


def test_run_uses_uvloop_when_present() -> None:
    if not loop.uvloop_available():
        pytest.skip("uvloop is not installed")
    assert loop.run(_loop_type()).startswith("uvloop")
    assert loop.loop_factory(True) is not None


def test_without_uvloop_the_default_loop_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop, "uvloop_available", lambda: False)
    assert loop.loop_factory() is None
    assert loop.run(_loop_type()).startswith("asyncio")
