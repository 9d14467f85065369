"""ocppgen.testing: the pairs (your CSMS or station against a scripted peer) in memory and over
loopback WebSockets, all three versions; typed and frame-level helpers; record and replay of
frame logs; the pytest plugin's fixtures, collected by pytest (pytester, in process)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from ocppgen.generated.runtime.config import ServerOptions, StationOptions
from ocppgen.generated.runtime.errors import CallErrorReceived
from ocppgen.generated.runtime.security import StaticPasswords
from ocppgen.generated.runtime.server import CsmsServer
from ocppgen.generated.runtime.session import Session
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16, routing as r16, station as station16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import routing as r201, station as station201
from ocppgen.generated.v21 import csms as csms21, enums as e21, messages as m21, routing as r21, station as station21
from ocppgen.testing import HandshakeRefused, ReplayMismatch, csms_pair, parse_frame_log, record_frames, replay, station_pair
from tests.helpers import NOW, boot201, run, server, started, station

TRANSPORTS = ["memory", "websocket"]


class Csms201(csms201.CsmsHandler):
    def __init__(self, interval: int = 300) -> None:
        self.interval = interval
        self.hooks: list[str] = []

    async def on_boot_notification(self, request: m201.BootNotificationRequest, context: csms201.Context) -> m201.BootNotificationResponse:
        async def ask() -> None:
            answer = await context.client.get_variables(m201.GetVariablesRequest(get_variable_data=[
                d201.GetVariableDataType(component=d201.ComponentType(name="OCPPCommCtrlr"),
                                         variable=d201.VariableType(name="HeartbeatInterval"))]))
            context.session.state["interval"] = answer.get_variable_result[0].attribute_value

        context.after_response(ask)
        return m201.BootNotificationResponse(current_time=NOW, interval=self.interval, status=e201.RegistrationStatusEnumType.Accepted)

    async def on_authorize(self, request: m201.AuthorizeRequest, context: csms201.Context) -> m201.AuthorizeResponse:
        if request.id_token.id_token != "GOOD":
            raise csms201.CallError("SecurityError", "unknown token")
        return m201.AuthorizeResponse(id_token_info=d201.IdTokenInfoType(status=e201.AuthorizationStatusEnumType.Accepted))

    async def connected(self, session: Session, client: Any) -> None:
        self.hooks.append("connected")

    async def disconnected(self, session: Session, code: int | None, reason: str) -> None:
        self.hooks.append(f"disconnected {code}")


def authorize(token: str) -> m201.AuthorizeRequest:
    return m201.AuthorizeRequest(id_token=d201.IdTokenType(id_token=token, type=e201.IdTokenEnumType.ISO14443))


def variables(value: str) -> m201.GetVariablesResponse:
    return m201.GetVariablesResponse(get_variable_result=[d201.GetVariableResultType(
        attribute_status=e201.GetVariableStatusEnumType.Accepted, attribute_value=value,
        component=d201.ComponentType(name="OCPPCommCtrlr"), variable=d201.VariableType(name="HeartbeatInterval"))])


# -- your CSMS against a scripted station ---------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_csms_pair_runs_the_real_server_with_typed_and_frame_level_checks(transport: str) -> None:
    handler = Csms201()

    async def body() -> None:
        async with csms_pair(csms201.BINDING, handler, transport=transport,  # type: ignore[arg-type]
                             answers={r201.GET_VARIABLES: variables("300")}) as pair:
            assert pair.transport == transport and pair.version == "2.0.1"
            boot = await pair.assert_result(r201.BOOT_NOTIFICATION, boot201(), status="Accepted", interval=300)
            assert boot.current_time == NOW
            asked = await pair.expect_call(r201.GET_VARIABLES)  # sent by the handler's after_response
            assert asked.get_variable_data[0].variable.name == "HeartbeatInterval"
            await asyncio.sleep(0.05)
            assert pair.session.state["interval"] == "300" and pair.session.registered
            error = await pair.assert_call_error(r201.AUTHORIZE, authorize("BAD"), "SecurityError", description="unknown token")
            assert isinstance(error, CallErrorReceived)
            with pytest.raises(AssertionError, match="answered CALLERROR SecurityError"):
                await pair.assert_result(r201.AUTHORIZE, authorize("BAD"))
            with pytest.raises(AssertionError, match="with a result, not CALLERROR"):
                await pair.assert_call_error(r201.AUTHORIZE, authorize("GOOD"), "SecurityError")
            with pytest.raises(AssertionError, match="status="):
                await pair.assert_result(r201.BOOT_NOTIFICATION, boot201(), status="Pending")
            frame = await pair.exchange('[2,"raw-1","Heartbeat",{"unexpected":1}]')
            assert (frame.type, frame.message_id, frame.error_code) == (4, "raw-1", "FormatViolation")
            await pair.send_frame([2, "raw-2", "Heartbeat", {}])
            await pair.expect_frame(type=4, message_id="raw-2", error_code="NotSupported")
            await pair.assert_no_frame(0.05)
            assert pair.log_lines()[0].startswith('CS-1 < [2,"') and '"BootNotification"' in pair.log_lines()[0]
            assert [f.direction for f in pair.frames[:3]] == ["<", ">", ">"]
        assert handler.hooks == ["connected", "disconnected 1000"]

    run(body())


def test_your_csms_calls_the_scripted_station_and_unscripted_actions_are_not_supported() -> None:
    async def body() -> None:
        async with csms_pair(csms201.BINDING, Csms201()) as pair:
            with pytest.raises(CallErrorReceived) as refused:
                await pair.tested.reset(m201.ResetRequest(type=e201.ResetEnumType.Immediate))
            assert refused.value.code == "NotSupported"
            pair.answer(r201.RESET, lambda request: m201.ResetResponse(
                status=e201.ResetStatusEnumType.Scheduled if request.type is e201.ResetEnumType.OnIdle else e201.ResetStatusEnumType.Accepted))
            answer = await pair.tested.reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))
            assert answer.status is e201.ResetStatusEnumType.Scheduled
            pair.answer(r201.RESET, station201.CallError("RpcFrameworkError", "scripted"))
            with pytest.raises(CallErrorReceived, match="RpcFrameworkError"):
                await pair.tested.reset(m201.ResetRequest(type=e201.ResetEnumType.Immediate))
            assert [action for action, _ in pair.received] == ["Reset", "Reset", "Reset"]
            with pytest.raises(ValueError, match="never receives"):
                pair.answer(r201.BOOT_NOTIFICATION, None)  # type: ignore[arg-type]

    run(body())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_your_own_server_with_its_authenticator_decides_the_handshake(transport: str) -> None:
    def make() -> CsmsServer:
        return server((csms201.BINDING, Csms201()), authenticator=StaticPasswords({"CS-1": "password-of-cs-1"}))

    async def body() -> None:
        with pytest.raises(HandshakeRefused) as refused:
            async with csms_pair(csms201.BINDING, server=make(), transport=transport, basic_auth=("CS-1", "wrong")):  # type: ignore[arg-type]
                pass
        assert refused.value.status == 401
        async with csms_pair(csms201.BINDING, server=make(), transport=transport,  # type: ignore[arg-type]
                             basic_auth=("CS-1", "password-of-cs-1")) as pair:
            await pair.assert_result(r201.BOOT_NOTIFICATION, boot201(), status="Accepted")
            assert pair.server is not None and "CS-1" in pair.server.registry

    run(body())


@pytest.mark.parametrize(("version", "transport"), [("1.6", "memory"), ("2.1", "websocket")])
def test_the_other_versions(version: str, transport: str) -> None:
    class Csms16(csms16.CsmsHandler):
        async def on_heartbeat(self, request: m16.HeartbeatRequest, context: csms16.Context) -> m16.HeartbeatResponse:
            return m16.HeartbeatResponse(current_time=NOW)

    class Csms21(csms21.CsmsHandler):
        async def on_heartbeat(self, request: m21.HeartbeatRequest, context: csms21.Context) -> m21.HeartbeatResponse:
            return m21.HeartbeatResponse(current_time=NOW)

    async def body() -> None:
        if version == "1.6":
            async with csms_pair(csms16.BINDING, Csms16(), transport=transport) as pair16:  # type: ignore[arg-type]
                await pair16.assert_result(r16.HEARTBEAT, m16.HeartbeatRequest(), m16.HeartbeatResponse(current_time=NOW))
                frame = await pair16.exchange('[2,"x","Heartbeat",{"a":1}]')
                assert frame.error_code == "FormationViolation"  # OCA's 1.6 spelling
        else:
            async with csms_pair(csms21.BINDING, Csms21(), transport=transport) as pair21:  # type: ignore[arg-type]
                await pair21.assert_result(r21.HEARTBEAT, m21.HeartbeatRequest(), m21.HeartbeatResponse(current_time=NOW))
                frame = await pair21.exchange('[2,"x","NoSuchAction",{}]')
                assert frame.error_code == "NotImplemented"
                await pair21.send_frame('[3,"nobody-asked",{}]')  # a reply to no CALL: dropped, never answered
                await pair21.assert_no_frame(0.1)

    run(body())


# -- your station against a scripted CSMS ---------------------------------------------------------


class Station201(station201.StationHandler):
    async def on_reset(self, request: m201.ResetRequest, context: station201.Context) -> m201.ResetResponse:
        return m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted)

    async def on_get_variables(self, request: m201.GetVariablesRequest, context: station201.Context) -> m201.GetVariablesResponse:
        return variables("60")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_station_pair_runs_the_real_station_client(transport: str) -> None:
    accepted = m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)

    async def body() -> None:
        async with station_pair(station201.BINDING, Station201(), transport=transport,  # type: ignore[arg-type]
                                answers={r201.BOOT_NOTIFICATION: accepted}) as pair:
            assert pair.station is not None
            boot = await pair.tested.boot_notification(boot201())  # the station's CsmsClient
            assert boot.interval == 60 and pair.station.registered
            assert (await pair.expect_call(r201.BOOT_NOTIFICATION)).reason is e201.BootReasonEnumType.PowerUp
            await pair.assert_result(r201.RESET, m201.ResetRequest(type=e201.ResetEnumType.Immediate), status="Accepted")
            got = await pair.call(r201.GET_VARIABLES, m201.GetVariablesRequest(get_variable_data=[
                d201.GetVariableDataType(component=d201.ComponentType(name="OCPPCommCtrlr"),
                                         variable=d201.VariableType(name="HeartbeatInterval"))]))
            assert got.get_variable_result[0].attribute_value == "60"
            await pair.assert_call_error(r201.CHANGE_AVAILABILITY, m201.ChangeAvailabilityRequest(
                operational_status=e201.OperationalStatusEnumType.Inoperative), "NotSupported")

    run(body())


def test_a_station_pair_with_options_and_the_other_versions() -> None:
    class Station16(station16.StationHandler):
        async def on_reset(self, request: m16.ResetRequest, context: station16.Context) -> m16.ResetResponse:
            return m16.ResetResponse(status=e16.ResetStatus.Accepted)

    class Station21(station21.StationHandler):
        async def on_reset(self, request: m21.ResetRequest, context: station21.Context) -> m21.ResetResponse:
            return m21.ResetResponse(status=e21.ResetStatusEnumType.Accepted)

    async def body() -> None:
        async with station_pair(station16.BINDING, Station16(), options=StationOptions(call_timeout=3)) as pair16:  # type: ignore[arg-type]
            assert pair16.station is not None and pair16.station.options.call_timeout == 3
            await pair16.assert_result(r16.RESET, m16.ResetRequest(type=e16.ResetType.Hard), status="Accepted")
        async with station_pair(station21.BINDING, Station21(), transport="websocket") as pair21:  # type: ignore[arg-type]
            await pair21.assert_result(r21.RESET, m21.ResetRequest(type=e21.ResetEnumType.OnIdle), status="Accepted")

    run(body())


# -- record and replay ---------------------------------------------------------------------------------


def test_a_pair_log_replays_and_a_changed_handler_is_caught(tmp_path: Path) -> None:
    log = tmp_path / "session.log"

    async def record() -> None:
        async with csms_pair(csms201.BINDING, Csms201(), answers={r201.GET_VARIABLES: variables("300")}) as pair:
            await pair.assert_result(r201.BOOT_NOTIFICATION, boot201(), status="Accepted")
            await pair.expect_call(r201.GET_VARIABLES)
            await pair.assert_call_error(r201.AUTHORIZE, authorize("BAD"), "SecurityError")
            await pair.assert_result(r201.AUTHORIZE, authorize("GOOD"))
            await asyncio.sleep(0.05)
            pair.save(log)

    async def again(handler: Csms201, **options: Any) -> int:
        async with csms_pair(csms201.BINDING, handler) as pair:
            return await replay(pair, log, **options)

    run(record())
    assert len(parse_frame_log(log)) == 8
    assert run(again(Csms201())) == 4  # the four frames the CSMS sent, matched (currentTime differs: a date-time)
    with pytest.raises(ReplayMismatch, match=r"\$\.interval is 120, the log has 300"):
        run(again(Csms201(interval=120)))
    assert run(again(Csms201(interval=120), ignore={"interval"})) == 4


def test_a_production_frame_log_replays_against_the_handler(tmp_path: Path) -> None:
    """Record what a real server logs (log_frames=True, logger ocppgen.frames), with the
    formatter's prefix, then replay it: the CSMS's own GetVariables is skipped or expected."""
    log = tmp_path / "production.log"
    handler = logging.FileHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    frames_logger = logging.getLogger("ocppgen.frames")
    frames_logger.addHandler(handler)

    class Station(station201.StationHandler):
        async def on_get_variables(self, request: m201.GetVariablesRequest, context: station201.Context) -> m201.GetVariablesResponse:
            return variables("300")

    async def production() -> None:
        csms = server((csms201.BINDING, Csms201()), log_frames=True)

        async def body(port: int) -> None:
            client = station(f"ws://127.0.0.1:{port}/ocpp/CS-7", station201.BINDING, Station())
            async with client.running():
                await client.connected(timeout=5)
                await client.csms.boot_notification(boot201())
                await asyncio.sleep(0.1)  # the GetVariables after the boot
                with pytest.raises(CallErrorReceived):
                    await client.csms.authorize(authorize("BAD"))

        await started(csms, body)

    try:
        with record_frames() as recorded:
            run(production())
    finally:
        frames_logger.removeHandler(handler)
        handler.close()
    assert len(recorded.lines) == 6 and all(line.startswith("CS-7 ") for line in recorded.lines)

    async def again(**options: Any) -> int:
        async with csms_pair(csms201.BINDING, Csms201(), identity="CS-7") as pair:
            return await replay(pair, log, **options)

    assert run(again()) == 3  # BootNotification result, GetVariables CALL, Authorize CALLERROR
    assert run(again(own_calls="skip")) == 2


# -- the pytest plugin ----------------------------------------------------------------------------------

PLUGIN_TEST = '''
import datetime
import pytest
from ocppgen.generated.v201 import csms, datatypes, enums, messages, routing, station

NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


class MyCsms(csms.CsmsHandler):
    async def on_boot_notification(self, request, context):
        return messages.BootNotificationResponse(current_time=NOW, interval=300, status=enums.RegistrationStatusEnumType.Accepted)


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
async def test_boot(ocpp_csms_pair, ocpp_transport):
    assert ocpp_csms_pair.transport == ocpp_transport
    await ocpp_csms_pair.assert_result(routing.BOOT_NOTIFICATION, BOOT, status="Accepted")


@pytest.mark.ocpp(timeout=10)
async def test_reset(ocpp_station_pair):
    await ocpp_station_pair.assert_result(routing.RESET, messages.ResetRequest(type=enums.ResetEnumType.Immediate), status="Accepted")


@pytest.mark.ocpp
async def test_by_hand(ocpp):
    async with ocpp.csms_pair(csms.BINDING, MyCsms()) as pair:
        await pair.assert_call_error(routing.HEARTBEAT, messages.HeartbeatRequest(), "NotSupported")


def test_not_open(ocpp_csms_pair):
    with pytest.raises(RuntimeError, match="not open"):
        ocpp_csms_pair.frames


@pytest.mark.ocpp
async def test_frame_log(ocpp, ocpp_frames):
    from ocppgen.generated.runtime.config import ServerOptions
    async with ocpp.csms_pair(csms.BINDING, MyCsms(), options=ServerOptions(log_frames=True), identity="LOG-1") as pair:
        await pair.assert_result(routing.BOOT_NOTIFICATION, BOOT)
    assert [line.split(" ")[:2] for line in ocpp_frames.lines] == [["LOG-1", "<"], ["LOG-1", ">"]]
    assert ocpp_frames.lines == pair.log_lines()


@pytest.mark.ocpp(timeout=0.2)
async def test_too_slow(ocpp):
    import asyncio
    await asyncio.sleep(5)
'''


def test_the_plugin_fixtures_are_collected_and_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=PLUGIN_TEST)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=8, failed=1)
    result.stdout.fnmatch_lines(["*test_boot?memory? PASSED*", "*test_boot?websocket? PASSED*",
                                 "*test_too_slow FAILED*", "*did not finish within 0.2 s*"])
