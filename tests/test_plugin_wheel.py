"""The pytest plugin as a user gets it: a wheel built from this checkout, installed with its
``testing`` extra into a fresh virtual environment, and two projects written here. One uses
the fixtures, the strategies and replay (pytest collects the fixtures through the ``pytest11``
entry point); the other does not use ocppgen at all, and the plugin must not import anything of
ocppgen's runtime into its test session. One venv for both (this test builds and installs once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

USER_TESTS = '''
import datetime

import pytest
from hypothesis import HealthCheck, given, settings

from ocppgen.generated.v201 import csms, datatypes, enums, messages, routing, station
from ocppgen.testing import csms_pair, replay, strategies

NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


class MyCsms(csms.CsmsHandler):
    async def on_boot_notification(self, request, context):
        return messages.BootNotificationResponse(current_time=NOW, interval=300, status=enums.RegistrationStatusEnumType.Accepted)

    async def on_authorize(self, request, context):
        if request.id_token.id_token.startswith("X"):
            raise csms.CallError("SecurityError", "blocked")
        return messages.AuthorizeResponse(id_token_info=datatypes.IdTokenInfoType(status=enums.AuthorizationStatusEnumType.Accepted))


class MyStation(station.StationHandler):
    async def on_reset(self, request, context):
        return messages.ResetResponse(status=enums.ResetStatusEnumType.Accepted)


@pytest.fixture
def ocpp_csms():
    return csms.BINDING, MyCsms()


@pytest.fixture
def ocpp_station():
    return station.BINDING, MyStation()


BOOT = messages.BootNotificationRequest(
    reason=enums.BootReasonEnumType.PowerUp, charging_station=datatypes.ChargingStationType(model="M", vendor_name="V"))


@pytest.mark.ocpp
async def test_boot(ocpp_csms_pair):
    await ocpp_csms_pair.assert_result(routing.BOOT_NOTIFICATION, BOOT, status="Accepted", interval=300)
    frame = await ocpp_csms_pair.exchange('[2,"m1","Heartbeat",{"x":1}]')
    assert frame.error_code == "FormatViolation"


@pytest.mark.ocpp
async def test_reset(ocpp_station_pair):
    await ocpp_station_pair.assert_result(routing.RESET, messages.ResetRequest(type=enums.ResetEnumType.Immediate),
                                          status="Accepted")


@pytest.mark.ocpp
async def test_record_then_replay(tmp_path):
    async with csms_pair(csms.BINDING, MyCsms()) as pair:
        await pair.assert_result(routing.BOOT_NOTIFICATION, BOOT)
        pair.save(tmp_path / "boot.log")
    async with csms_pair(csms.BINDING, MyCsms()) as pair:
        assert await replay(pair, tmp_path / "boot.log") == 1


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(strategies.for_type(messages.AuthorizeRequest))
def test_authorize_answers_every_valid_request(request):
    import asyncio

    async def check():
        async with csms_pair(csms.BINDING, MyCsms()) as pair:
            if request.id_token.id_token.startswith("X"):
                await pair.assert_call_error(routing.AUTHORIZE, request, "SecurityError")
            else:
                await pair.assert_result(routing.AUTHORIZE, request)

    asyncio.run(check())
'''

UNRELATED_CONFTEST = '''
import json, os, sys

def pytest_sessionfinish(session):
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "ocppgen")
    plugin = session.config.pluginmanager.hasplugin("ocppgen")
    with open(os.environ["REPORT"], "w") as f:
        json.dump({"loaded": loaded, "plugin": plugin}, f)
'''


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, f"{args}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_the_plugin_installed_from_the_wheel_serves_a_users_project(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("ocppgen-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", f"{wheel}[testing]", cwd=tmp_path)

    user = tmp_path / "user_project"
    (user / "tests").mkdir(parents=True)
    (user / "tests" / "test_csms.py").write_text(USER_TESTS)
    out = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=user)
    assert "6 passed" in out, out  # test_boot and test_reset in memory and over WebSockets, replay, property
    listed = run(python, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider", "tests", cwd=user)
    for fixture in ("ocpp_csms_pair", "ocpp_station_pair", "ocpp_transport", "ocpp_frames"):
        assert fixture in listed

    other = tmp_path / "other_project"
    other.mkdir()
    (other / "conftest.py").write_text(UNRELATED_CONFTEST)
    (other / "test_math.py").write_text("def test_add():\n    assert 1 + 1 == 2\n")
    report = tmp_path / "report.json"
    out = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=other, env={"REPORT": str(report)})
    assert "1 passed" in out
    seen = json.loads(report.read_text())
    assert seen["plugin"] is True  # registered through the entry point...
    assert seen["loaded"] == ["ocppgen", "ocppgen.pytest_plugin"], seen  # ...and nothing else of ocppgen imported
