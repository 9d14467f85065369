"""ocppgen's pytest plugin (entry point ``pytest11: ocppgen``; disable with ``-p no:ocppgen``).

It costs a project that does not use it nothing: this module imports only pytest, and the
fixtures import ``ocppgen.testing`` (and through it the runtime) when a test requests them.

Fixtures (docs/testing.md):
    ocpp_csms_pair     your CSMS (fixture ``ocpp_csms``: ``(binding, handler)`` or a CsmsServer
                       with ``ocpp_csms_binding``) against a scripted station
    ocpp_station_pair  your station (fixture ``ocpp_station``: ``(binding, handler)`` or
                       ``(binding, handler, StationOptions)``) against a scripted CSMS
    ocpp_transport     "memory" and "websocket": the pairs run in both (override to pick one)
    ocpp_frames        the runtime's frame log lines recorded during the test
    ocpp               the ``ocppgen.testing`` module (``ocpp.csms_pair(...)``, ``ocpp.replay``)

The pairs are opened before the test and closed after it when the test is an ``async def``
marked ``@pytest.mark.ocpp`` (run in a fresh asyncio event loop by this plugin); under
pytest-asyncio or anyio, open them yourself: ``async with ocpp_csms_pair as pair:``.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest

__all__: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ocpp(timeout=30): run this async test in a fresh asyncio event loop (ocppgen), "
        "opening the ocpp_*_pair fixtures it uses before it and closing them after it",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    marker = pyfuncitem.get_closest_marker("ocpp")
    if marker is None or not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    if pyfuncitem.get_closest_marker("asyncio") is not None or pyfuncitem.get_closest_marker("anyio") is not None:
        return None  # another plugin runs it
    timeout = float(marker.kwargs.get("timeout", 30.0))
    names = pyfuncitem._fixtureinfo.argnames
    arguments = {name: pyfuncitem.funcargs[name] for name in names}
    from ocppgen.testing.fixtures import run_test

    run_test(pyfuncitem.obj, arguments, timeout)
    return True


@pytest.fixture(params=["memory", "websocket"])
def ocpp_transport(request: pytest.FixtureRequest) -> str:
    """Where the pairs connect: in memory, then over loopback WebSockets."""
    transport: str = request.param
    return transport


@pytest.fixture
def ocpp_csms() -> Any:
    """Define it: ``(binding, handler)`` of the CSMS under test, or your CsmsServer."""
    pytest.fail("define a fixture `ocpp_csms` returning (binding, handler) or your CsmsServer", pytrace=False)


@pytest.fixture
def ocpp_csms_binding() -> Any:
    """Define it when ``ocpp_csms`` is a CsmsServer: the version the scripted station speaks."""
    return None


@pytest.fixture
def ocpp_station() -> Any:
    """Define it: ``(binding, handler)`` or ``(binding, handler, StationOptions)``."""
    pytest.fail("define a fixture `ocpp_station` returning (binding, handler[, StationOptions])", pytrace=False)


@pytest.fixture
def ocpp_csms_pair(ocpp_csms: Any, ocpp_csms_binding: Any, ocpp_transport: str) -> Any:
    """Your CSMS against a scripted station (``ocppgen.testing.Pair``), opened for a test
    marked ``ocpp``."""
    from ocppgen.testing.fixtures import PendingPair

    return PendingPair.for_csms(ocpp_csms, ocpp_csms_binding, ocpp_transport)


@pytest.fixture
def ocpp_station_pair(ocpp_station: Any, ocpp_transport: str) -> Any:
    """Your station against a scripted CSMS (``ocppgen.testing.Pair``)."""
    from ocppgen.testing.fixtures import PendingPair

    return PendingPair.for_station(ocpp_station, ocpp_transport)


@pytest.fixture
def ocpp_frames() -> Iterator[Any]:
    """The frame log lines (``ocppgen.frames``) written during the test, as a
    ``FrameRecorder`` (``.lines``); only connections with ``log_frames=True`` write them."""
    from ocppgen.testing.replay import record_frames

    with record_frames() as recorder:
        yield recorder


@pytest.fixture
def ocpp() -> Any:
    """The ``ocppgen.testing`` module."""
    import ocppgen.testing

    return ocppgen.testing
