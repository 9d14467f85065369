"""OCPP-J and Part 2 general rules the runtime enforces, each found broken by driving the
public API before (issue 11): outbound date-times and decimals, handler-chosen CALLERRORs,
reconnect after a CALL timeout, identities in the URL, 404 from the authenticator, strict
date-time syntax inbound, and pipelined CALLs."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ocppgen.generated.runtime.errors import InvalidMessage
from ocppgen.generated.runtime.events import CallReceived, Rejected, ToleratedViolation
from ocppgen.generated.runtime.protocol import Strictness, encode_payload
from ocppgen.generated.runtime.routing import Role
from ocppgen.generated.runtime.security import StaticPasswords
from ocppgen.generated.v16 import csms as csms16, messages as m16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201, routing as r201
from ocppgen.generated.v201 import station as station201
from ocppgen.generated.v21 import csms as csms21, enums as e21, messages as m21, routing as r21
from tests.helpers import NOW, boot201, eventually, run, server, started, station
from tests.protocol_helpers import deliver, make, pair

UTC = datetime.timezone.utc
MICRO = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


# -- outbound values (2.x Part 2 section 3.1 and primitive datatypes) -------------------------


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_date_times_go_out_with_at_most_three_fractional_digits(version: str) -> None:
    csms, station = pair(version)
    csms.receive('[2,"h","Heartbeat",{}]', 0)
    csms.respond("h", {"2.0.1": m201, "2.1": m21}[version].HeartbeatResponse(current_time=MICRO))
    [frame] = csms.data_to_send()
    assert json.loads(frame)[2] == {"currentTime": "2024-05-06T07:08:09.123Z"}  # truncated, never rounded up
    status = {"2.0.1": m201, "2.1": m21}[version].StatusNotificationRequest
    enums = {"2.0.1": e201, "2.1": e21}[version]
    station.call({"2.0.1": r201, "2.1": r21}[version].STATUS_NOTIFICATION, status(
        timestamp=MICRO, connector_status=enums.ConnectorStatusEnumType.Available, evse_id=1, connector_id=1), 0)
    assert json.loads(station.data_to_send()[0])[3]["timestamp"] == "2024-05-06T07:08:09.123Z"  # the station side too



def test_a_1_6_date_time_keeps_its_precision_and_an_offset_is_kept() -> None:
    csms, _ = pair("1.6")
    csms.receive('[2,"h","Heartbeat",{}]', 0)
    csms.respond("h", m16.HeartbeatResponse(current_time=MICRO))
    assert json.loads(csms.data_to_send()[0])[2]["currentTime"] == "2024-05-06T07:08:09.123456Z"  # 1.6 has no such rule
    plus2 = datetime.timezone(datetime.timedelta(hours=2))
    csms201_, _ = pair("2.0.1")
    csms201_.receive('[2,"h","Heartbeat",{}]', 0)
    csms201_.respond("h", m201.HeartbeatResponse(current_time=MICRO.replace(tzinfo=plus2, microsecond=999)))
    assert json.loads(csms201_.data_to_send()[0])[2]["currentTime"] == "2024-05-06T07:08:09+02:00"


def test_decimals_towards_the_station_have_at_most_six_places_and_text_is_untouched() -> None:
    csms, station = pair("2.0.1")
    limit = d201.ChargingSchedulePeriodType(start_period=0, limit=32 / 3)
    schedule = d201.ChargingScheduleType(id=1, charging_rate_unit=e201.ChargingRateUnitEnumType.A, charging_schedule_period=[limit])
    profile = d201.ChargingProfileType(
        id=1, stack_level=0, charging_profile_purpose=e201.ChargingProfilePurposeEnumType.TxDefaultProfile,
        charging_profile_kind=e201.ChargingProfileKindEnumType.Absolute, charging_schedule=[schedule],
    )
    csms.call(r201.SET_CHARGING_PROFILE, m201.SetChargingProfileRequest(evse_id=1, charging_profile=profile), 0)
    payload = json.loads(csms.data_to_send()[0])[3]
    assert payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 10.666667
    # a string that looks like a timestamp (a free-text field) goes out as given
    data = m201.DataTransferRequest(vendor_id="com.acme", data="2024-05-06T07:08:09.123456Z")
    csms.call(r201.DATA_TRANSFER, data, 0)
    deliver(csms, station)
    # the station reports at full resolution (Part 2: "the full resolution of the source data must be preserved")
    assert encode_payload(r201.TRANSACTION_EVENT, m201.TransactionEventRequest(
        event_type=e201.TransactionEventEnumType.Updated, timestamp=NOW, trigger_reason=e201.TriggerReasonEnumType.MeterValuePeriodic,
        seq_no=0, transaction_info=d201.TransactionType(transaction_id="T"),
        meter_value=[d201.MeterValueType(timestamp=NOW, sampled_value=[d201.SampledValueType(value=1 / 3)])],
    ), response=False).count(b"0.3333333333333333") == 1


def test_a_value_that_rounding_makes_invalid_is_refused_not_sent() -> None:
    csms, _ = pair("2.0.1")
    period = d201.ChargingSchedulePeriodType(start_period=0, limit=1e-9)  # rounds to 0.0
    schedule = d201.ChargingScheduleType(id=1, charging_rate_unit=e201.ChargingRateUnitEnumType.A, charging_schedule_period=[period],
                                         min_charging_rate=1e-9)
    profile = d201.ChargingProfileType(
        id=1, stack_level=0, charging_profile_purpose=e201.ChargingProfilePurposeEnumType.TxDefaultProfile,
        charging_profile_kind=e201.ChargingProfileKindEnumType.Absolute, charging_schedule=[schedule],
    )
    csms.call(r201.SET_CHARGING_PROFILE, m201.SetChargingProfileRequest(evse_id=1, charging_profile=profile), 0)
    sent = json.loads(csms.data_to_send()[0])[3]
    assert sent["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 0.0
    with pytest.raises(InvalidMessage):
        encode_payload(r201.HEARTBEAT, m201.HeartbeatResponse(current_time=NOW.replace(tzinfo=None)), response=False, millis=True)


# -- a handler chooses its CALLERROR (Part 4 4.2.3) ------------------------------------------


class Choosy(csms201.CsmsHandler):
    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
        raise csms201.CallError("SecurityError", "not you", {"reason": "B03.FR.08", "attempt": 2})

    async def on_authorize(self, request: m201.AuthorizeRequest, context: csms201.Context) -> m201.AuthorizeResponse:
        raise csms201.CallError("OccurrenceConstraintViolation", "too many", {"when": object()})  # details no JSON

    async def on_status_notification(self, request: Any, context: csms201.Context) -> Any:
        raise csms16.CallError("FormationViolation")  # type: ignore[arg-type]  # a 1.6 code on 2.0.1


class Choosy16(csms16.CsmsHandler):
    async def on_heartbeat(self, request: m16.HeartbeatRequest, context: csms16.Context) -> m16.HeartbeatResponse:
        raise csms16.CallError("OccurenceConstraintViolation", "spelled as OCA spells it")


def test_handlers_answer_the_callerror_they_choose_with_details() -> None:
    csms = server((csms201.BINDING, Choosy()), (csms16.BINDING, Choosy16()))

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CE", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            await ws.send('[2,"h","Heartbeat",{}]')
            assert json.loads(await ws.recv()) == [4, "h", "SecurityError", "not you", {"reason": "B03.FR.08", "attempt": 2}]
            await ws.send('[2,"a","Authorize",{"idToken":{"idToken":"x","type":"ISO14443"}}]')
            assert json.loads(await ws.recv())[:3] == [4, "a", "InternalError"]  # details that are no JSON object
            await ws.send('[2,"s","StatusNotification",{"timestamp":"2024-01-01T00:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}]')
            assert json.loads(await ws.recv())[:3] == [4, "s", "InternalError"]  # not a 2.0.1 code
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CE16", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            await ws.send('[2,"h","Heartbeat",{}]')
            assert json.loads(await ws.recv()) == [4, "h", "OccurenceConstraintViolation", "spelled as OCA spells it", {}]

    run(started(csms, body))


# -- the station reconnects after a CALL timeout (2.x Part 2 section 3.2) --------------------


class Silent(csms201.CsmsHandler):
    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: Any, context: Any) -> Any:
        await asyncio.sleep(3600)


@pytest.mark.parametrize(("option", "reconnects"), [(None, True), (False, False)])
def test_a_station_drops_and_reestablishes_the_link_after_a_call_timeout(option: bool | None, reconnects: bool) -> None:
    csms = server((csms201.BINDING, Silent()), handler_timeout=None)

    async def body(port: int) -> None:
        client = station(f"ws://127.0.0.1:{port}/ocpp/TO", station201.BINDING, station201.StationHandler(),
                         call_timeout=0.2, reconnect_on_timeout=option)
        async with client.running():
            first = await client.connected(timeout=5)
            await client.csms.boot_notification(boot201())
            with pytest.raises(Exception, match="no answer within 0.2 s"):
                await client.csms.heartbeat(m201.HeartbeatRequest())
            if reconnects:
                await eventually(lambda: client.current not in (None, first), what="a new connection")
                assert client.registered  # a fresh connection, the same session: no new boot
            else:
                await asyncio.sleep(0.3)
                assert client.current is first

    run(started(csms, body))


# -- identities (2.1 Part 4 3.1.1; Part 4 3.2/3.3) -------------------------------------------


async def status_of(url: str, subprotocol: str, **kwargs: Any) -> int:
    try:
        async with connect(url, subprotocols=[subprotocol], **kwargs):  # type: ignore[list-item]
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_2_1_identities_are_identifier_strings_without_a_colon_and_others_stay_permissive() -> None:
    csms = server((csms21.BINDING, csms21.CsmsHandler()), (csms201.BINDING, csms201.CsmsHandler()))
    strict = server((csms201.BINDING, csms201.CsmsHandler()), strict_identity=True)

    async def body(port: int) -> None:
        base = f"ws://127.0.0.1:{port}/ocpp/"
        assert await status_of(base + "RDAM%7C123", "ocpp2.1") == 101  # the spec's own example
        assert await status_of(base + "CS%3A1", "ocpp2.1") == 404  # a colon SHALL NOT be used
        assert await status_of(base + "CS%201", "ocpp2.1") == 404  # not identifierString
        assert await status_of(base + "x" * 48, "ocpp2.1") == 101
        assert await status_of(base + "CS%201", "ocpp2.0.1") == 101  # 2.0.1's example has a space
        async with strict.serve("127.0.0.1", 0) as other:
            strict_port = next(iter(other.sockets)).getsockname()[1]
            assert await status_of(f"ws://127.0.0.1:{strict_port}/ocpp/CS%201", "ocpp2.0.1") == 404
            assert await status_of(f"ws://127.0.0.1:{strict_port}/ocpp/CS-1", "ocpp2.0.1") == 101

    run(started(csms, body))


def test_an_authenticator_may_answer_404_for_an_unknown_identity() -> None:
    import base64

    csms = server((csms201.BINDING, csms201.CsmsHandler()), authenticator=StaticPasswords({"KNOWN": "pw-pw-pw-pw-pw-pw"}, unknown_status=404))

    def auth(user: str, password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    async def body(port: int) -> None:
        base = f"ws://127.0.0.1:{port}/ocpp/"
        assert await status_of(base + "NOBODY", "ocpp2.0.1", additional_headers=auth("NOBODY", "x")) == 404
        assert await status_of(base + "KNOWN", "ocpp2.0.1", additional_headers=auth("KNOWN", "wrong")) == 401
        assert await status_of(base + "known", "ocpp2.0.1", additional_headers=auth("known", "pw-pw-pw-pw-pw-pw")) == 101

    run(started(csms, body))


# -- date-time syntax inbound (RFC 3339 section 5.6) -----------------------------------------

STATUS = '[2,"a","StatusNotification",{"timestamp":"%s","connectorStatus":"Available","evseId":1,"connectorId":1}]'


@pytest.mark.parametrize("value", ["2024-01-01 00:00:00Z", "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00.5-0130"])
def test_strict_links_refuse_date_times_rfc_3339_does_not_allow(value: str) -> None:
    csms = make("2.0.1", Role.CSMS)
    [rejected] = csms.receive(STATUS % value, 0)
    assert isinstance(rejected, Rejected) and rejected.code == "PropertyConstraintViolation"
    assert "at `$.timestamp`" in rejected.description
    lenient = make("2.0.1", Role.CSMS, strictness=Strictness.LENIENT)
    events = lenient.receive(STATUS % value, 0)
    assert [type(e) for e in events] == [ToleratedViolation, CallReceived]
    assert events[0].tolerated.kind == "datetime_syntax" and events[0].tolerated.path == "$.timestamp"  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00Z", "2024-01-01t00:00:00z", "2024-01-01T00:00:00.123456789+01:00", "2024-01-01T00:00:00-00:00"])
def test_every_rfc_3339_date_time_is_accepted(value: str) -> None:
    [received] = make("2.0.1", Role.CSMS).receive(STATUS % value, 0)
    assert isinstance(received, CallReceived)


def test_a_free_text_field_may_hold_such_a_string() -> None:
    [received] = make("2.0.1", Role.CSMS).receive('[2,"d","DataTransfer",{"vendorId":"v","data":"2024-01-01 00:00:00+0100"}]', 0)
    assert isinstance(received, CallReceived)


# -- pipelined CALLs (Part 4 4.1.1) ------------------------------------------------------------


def test_pipelined_calls_run_a_few_at_a_time_wait_in_order_and_the_rest_get_generic_error() -> None:
    csms = make("2.0.1", Role.CSMS, max_calls_in_progress=2, max_calls_queued=3)
    events = [e for i in range(7) for e in csms.receive(f'[2,"c{i}","Heartbeat",{{}}]', 0)]
    assert [type(e).__name__ for e in events] == ["CallReceived"] * 2 + ["CallQueued"] * 3 + ["Rejected"] * 2
    assert json.loads(csms.data_to_send()[0])[:3] == [4, "c5", "GenericError"]
    order = []
    pending = ["c0", "c1"]
    while pending:
        mid = pending.pop(0)
        order.append(mid)
        for event in csms.respond(mid, m201.HeartbeatResponse(current_time=NOW)):
            if isinstance(event, CallReceived):
                pending.append(event.message_id)
    assert order == ["c0", "c1", "c2", "c3", "c4"]
    assert isinstance(csms.receive('[2,"c1","Heartbeat",{}]', 0)[0], CallReceived)  # answered ids may come again


class Counting(csms201.CsmsHandler):
    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.done = 0

    async def on_heartbeat(self, request: Any, context: Any) -> Any:
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.001)
        self.running -= 1
        self.done += 1
        return m201.HeartbeatResponse(current_time=NOW)


def test_five_thousand_pipelined_calls_from_one_connection_stay_bounded() -> None:
    handler = Counting()
    csms = server((csms201.BINDING, handler))

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/PIPE", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            for i in range(5000):
                await ws.send(f'[2,"p{i}","Heartbeat",{{}}]')
            answers = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(5000)]
        results = sum(1 for a in answers if a[0] == 3)
        refused = [a for a in answers if a[0] == 4]
        assert results + len(refused) == 5000 and results >= 20
        assert {a[2] for a in refused} <= {"GenericError"}

    run(started(csms, body))
    assert handler.most <= 4  # never more handlers at once than max_calls_in_progress
