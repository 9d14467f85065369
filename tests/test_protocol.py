"""The sans-I/O protocol core, one test per OCPP-J rule (per version where the rule differs)."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from ocppgen.generated.runtime.errors import (
    CallCancelled,
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    InvalidMessage,
    InvalidMessageId,
    LocalError,
    QueueFull,
    ResponseInvalid,
    WrongDirection,
)
from ocppgen.generated.runtime.events import (
    CallCompleted,
    CallFailed,
    CallReceived,
    Dropped,
    Rejected,
    ResultRejected,
    SendReceived,
    ToleratedViolation,
)
from ocppgen.generated.runtime.protocol import Strictness, default_message_id
from ocppgen.generated.runtime.routing import CallContext
from ocppgen.generated.v16 import csms as csms16, messages as m16, routing as r16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import routing as r201, station as station201
from ocppgen.generated.v21 import datatypes as d21, messages as m21, routing as r21
from tests.protocol_helpers import answer, deliver, pair

UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 1, 1, tzinfo=UTC)


def heartbeat_response(version: str) -> Any:
    response = {"1.6": m16.HeartbeatResponse, "2.0.1": m201.HeartbeatResponse, "2.1": m21.HeartbeatResponse}[version]
    return response(current_time=NOW)


def heartbeat(version: str) -> tuple[Any, Any]:
    routes = {"1.6": r16, "2.0.1": r201, "2.1": r21}[version]
    request = {"1.6": m16.HeartbeatRequest, "2.0.1": m201.HeartbeatRequest, "2.1": m21.HeartbeatRequest}[version]()
    return routes.HEARTBEAT, request


class Csms201(csms201.CsmsHandler):
    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: Any) -> m201.HeartbeatResponse:
        return m201.HeartbeatResponse(current_time=NOW)


class Csms16(csms16.CsmsHandler):
    async def on_heartbeat(self, request: m16.HeartbeatRequest, context: Any) -> m16.HeartbeatResponse:
        return m16.HeartbeatResponse(current_time=NOW)

    async def on_meter_values(self, request: m16.MeterValuesRequest, context: Any) -> m16.MeterValuesResponse:
        return m16.MeterValuesResponse()


# -- framing and a full exchange ------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_call_and_result_round_trip_typed(version: str) -> None:
    csms, station = pair(version)
    route, request = heartbeat(version)
    mid = station.call(route, request, now=0)
    [frame] = station.data_to_send()
    assert json.loads(frame) == [2, mid, "Heartbeat", {}]
    [event] = csms.receive(frame, 0)
    assert isinstance(event, CallReceived) and event.request == request and event.handler_method == "on_heartbeat"
    csms.respond(mid, heartbeat_response(version))
    [result] = deliver(csms, station)
    assert isinstance(result, CallCompleted) and result.message_id == mid
    assert result.response.current_time == NOW


def test_frames_decode_without_an_intermediate_dict() -> None:
    from ocppgen.generated.runtime import frames

    frame = frames.decode_frame('[2,"a","Heartbeat",{"x":[1,2,3]}]')
    assert isinstance(frame, frames.Call) and bytes(frame.payload) == b'{"x":[1,2,3]}'


# -- one outstanding CALL per direction -----------------------------------------------------


def test_one_outstanding_call_per_direction_and_queue_order() -> None:
    csms, station = pair("2.0.1")
    ids = [station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0) for _ in range(3)]
    frames = station.data_to_send()
    for i, expected in enumerate(ids):
        assert [json.loads(f)[1] for f in frames] == [expected]  # only ever one outstanding
        events = [e for f in frames for e in csms.receive(f, 0)]
        answer(csms, Csms201(), events, "2.0.1")
        results = deliver(csms, station)
        assert [e.message_id for e in results if isinstance(e, CallCompleted)] == [expected]
        frames = station.data_to_send()
    assert frames == []


def test_calls_from_both_sides_may_cross() -> None:
    csms, station = pair("2.0.1")
    a = station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0)
    b = csms.call(r201.RESET, m201.ResetRequest(type=e201.ResetEnumType.Immediate), now=0)
    to_csms = station.data_to_send()
    to_station = csms.data_to_send()
    [call_at_csms] = [e for f in to_csms for e in csms.receive(f, 0)]
    [call_at_station] = [e for f in to_station for e in station.receive(f, 0)]
    assert (call_at_csms.message_id, call_at_station.message_id) == (a, b)
    csms.respond(a, m201.HeartbeatResponse(current_time=NOW))
    station.respond(b, m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted))
    assert isinstance(deliver(csms, station)[0], CallCompleted)
    assert isinstance(deliver(station, csms)[0], CallCompleted)


def test_send_goes_out_while_a_call_is_outstanding_and_is_never_answered() -> None:
    csms, station = pair("2.1")
    station.call(r21.HEARTBEAT, m21.HeartbeatRequest(), now=0)
    message = m21.NotifyPeriodicEventStream(id=1, pending=0, basetime=NOW, data=[d21.StreamDataElementType(t=0, v="1")])
    sid = station.send(r21.NOTIFY_PERIODIC_EVENT_STREAM, message, now=0)
    frames = station.data_to_send()
    assert [json.loads(f)[0] for f in frames] == [2, 6]
    events = [e for f in frames for e in csms.receive(f, 0)]
    assert isinstance(events[1], SendReceived) and events[1].message_id == sid and events[1].message == message
    csms.respond(events[0].message_id, m21.HeartbeatResponse(current_time=NOW))
    assert len(csms.data_to_send()) == 1  # only the CALLRESULT: the SEND got nothing


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_send_does_not_exist_before_2_1(version: str) -> None:
    _, station = pair(version)
    route, request = heartbeat(version)
    with pytest.raises(LocalError, match="SEND does not exist"):
        station.send(route, request, now=0)


def test_invalid_send_is_dropped_not_answered() -> None:
    csms, _ = pair("2.1")
    events = csms.receive('[6,"s1","NotifyPeriodicEventStream",{"id":"x"}]', 0)
    assert [type(e) for e in events] == [Dropped] and events[0].reason == "invalid_send"
    assert csms.data_to_send() == []


# -- timeouts, late and unknown replies, cancel ---------------------------------------------


def test_timeout_fails_the_call_sends_the_next_and_late_reply_is_dropped() -> None:
    csms, station = pair("2.0.1", call_timeout=10)
    first = station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=100)
    second = station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=101, timeout=3)
    station.data_to_send()
    assert station.next_deadline() == 110
    assert station.handle_timeout(109.9) == []
    [failed] = station.handle_timeout(110)
    assert isinstance(failed, CallFailed) and isinstance(failed.error, CallTimeout) and failed.message_id == first
    assert json.loads(station.data_to_send()[0])[1] == second
    assert station.next_deadline() == 113
    [late] = station.receive(f'[3,"{first}",{{"currentTime":"2024-01-01T00:00:00Z"}}]', 111)
    assert isinstance(late, Dropped) and late.reason == "late_reply"
    [unknown] = station.receive('[3,"nobody",{}]', 111)
    assert isinstance(unknown, Dropped) and unknown.reason == "unknown_reply"
    assert station.data_to_send() == []  # replies are never answered


def test_cancel_queued_and_outstanding_calls() -> None:
    _, station = pair("2.0.1")
    a = station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0)
    b = station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0)
    c = station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0)
    [cancel_b] = station.cancel(b, now=1)
    assert isinstance(cancel_b.error, CallCancelled)
    [cancel_a] = station.cancel(a, now=1)
    assert isinstance(cancel_a.error, CallCancelled)
    assert [json.loads(f)[1] for f in station.data_to_send()] == [a, c]
    [late] = station.receive(f'[3,"{a}",{{"currentTime":"2024-01-01T00:00:00Z"}}]', 2)
    assert late.reason == "late_reply"
    assert station.cancel("unknown", now=2) == []


def test_outbound_queue_is_bounded() -> None:
    _, station = pair("2.0.1", max_queue=2)
    for _ in range(3):  # one outstanding + two queued
        station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0)
    with pytest.raises(QueueFull, match="max_queue=2"):
        station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0)


def test_connection_lost_fails_outstanding_and_queued_calls() -> None:
    _, station = pair("2.0.1")
    ids = [station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0) for _ in range(2)]
    events = station.connection_lost()
    assert [e.message_id for e in events] == ids and all(isinstance(e.error, ConnectionLost) for e in events)
    assert station.next_deadline() is None


# -- message ids ----------------------------------------------------------------------------


def test_default_ids_are_unique_uuids() -> None:
    ids = {default_message_id() for _ in range(1000)}
    assert len(ids) == 1000 and {len(i) for i in ids} == {36}


def test_id_factory_is_checked() -> None:
    _, station = pair("2.0.1", id_factory=lambda: "x" * 37)
    with pytest.raises(InvalidMessageId):
        station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0)


def test_retry_may_reuse_its_id_on_2_1_only() -> None:
    _, station = pair("2.1", call_timeout=1)
    mid = station.call(r21.HEARTBEAT, m21.HeartbeatRequest(), now=0)
    with pytest.raises(InvalidMessageId, match="in use"):
        station.call(r21.HEARTBEAT, m21.HeartbeatRequest(), now=0, message_id=mid)
    station.handle_timeout(5)
    assert station.call(r21.HEARTBEAT, m21.HeartbeatRequest(), now=5, message_id=mid) == mid
    _, station201_ = pair("2.0.1")
    with pytest.raises(InvalidMessageId, match="only OCPP 2.1"):
        station201_.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0, message_id="retry-1")


def test_duplicate_inbound_id_while_handling() -> None:
    for version, code in (("2.0.1", "RpcFrameworkError"), ("1.6", "GenericError")):
        csms, _ = pair(version)
        frame = '[2,"dup","Heartbeat",{}]'
        assert isinstance(csms.receive(frame, 0)[0], CallReceived)
        [rejected] = csms.receive(frame, 0)
        assert isinstance(rejected, Rejected) and rejected.code == code
        assert json.loads(csms.data_to_send()[0])[:3] == [4, "dup", code]


# -- direction and outbound validation ------------------------------------------------------


def test_wrong_direction_and_invalid_outbound_payloads_are_local_errors() -> None:
    csms, station = pair("2.0.1")
    with pytest.raises(WrongDirection):
        station.call(r201.RESET, m201.ResetRequest(type=e201.ResetEnumType.Immediate), now=0)
    with pytest.raises(InvalidMessage, match="length <= 20"):  # outbound is always strict
        station.call(
            r201.BOOT_NOTIFICATION,
            m201.BootNotificationRequest(
                reason=e201.BootReasonEnumType.PowerUp,
                charging_station=d201.ChargingStationType(model="M" * 21, vendor_name="V"),
            ),
            now=0,
        )
    with pytest.raises(InvalidMessage, match=r"needs v201\.HeartbeatRequest, not v201\.ResetRequest"):
        station.call(r201.HEARTBEAT, m201.ResetRequest(type=e201.ResetEnumType.Immediate), now=0)
    assert station.data_to_send() == []


def test_respond_checks_its_arguments() -> None:
    csms, _ = pair("2.0.1")
    assert csms.respond("nope", m201.HeartbeatResponse(current_time=NOW)) == []  # no such CALL: nothing
    assert csms.data_to_send() == []
    csms.receive('[2,"a","Heartbeat",{}]', 0)
    with pytest.raises(LocalError, match="not an OCPP 2.0.1 error code"):
        csms.respond_error("a", "FormationViolation", "1.6 spelling on a 2.0.1 link")
    [refused] = csms.respond("a", m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted))  # wrong type
    assert refused.reason.startswith("Heartbeat needs v201.HeartbeatResponse")  # type: ignore[attr-defined]
    assert json.loads(csms.data_to_send()[0])[:3] == [4, "a", "InternalError"]


def test_versions_with_equal_message_names_are_told_apart_in_errors() -> None:
    _, station = pair("2.0.1")
    with pytest.raises(InvalidMessage, match=r"Heartbeat needs v201\.HeartbeatRequest, not v16\.HeartbeatRequest"):
        station.call(r201.HEARTBEAT, m16.HeartbeatRequest(), now=0)


# -- replies: CALLERROR, invalid CALLRESULT, CALLRESULTERROR --------------------------------


def test_callerror_fails_the_call_with_its_code() -> None:
    _, station = pair("2.0.1")
    mid = station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0)
    station.data_to_send()
    [failed] = station.receive(f'[4,"{mid}","NotSupported","no",{{"a":1}}]', 1)
    assert isinstance(failed.error, CallErrorReceived)
    assert (failed.error.code, failed.error.description, failed.error.details) == ("NotSupported", "no", {"a": 1})


def test_callerror_with_id_minus_one_fails_the_outstanding_call() -> None:
    _, station = pair("2.0.1")
    mid = station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), now=0)
    [failed] = station.receive('[4,"-1","RpcFrameworkError","unreadable",{}]', 1)
    assert failed.message_id == mid and failed.error.code == "RpcFrameworkError"


@pytest.mark.parametrize(("version", "answers"), [("2.1", True), ("2.0.1", False), ("1.6", False)])
def test_invalid_callresult(version: str, answers: bool) -> None:
    _, station = pair(version)
    route, request = heartbeat(version)
    mid = station.call(route, request, now=0)
    station.data_to_send()
    [failed] = station.receive(f'[3,"{mid}",{{"currentTime":"yesterday"}}]', 1)
    assert isinstance(failed.error, ResponseInvalid) and "RFC3339" in str(failed.error)
    sent = station.data_to_send()
    if answers:
        assert json.loads(sent[0])[:3] == [5, mid, "PropertyConstraintViolation"]
    else:
        assert sent == []


def test_callresulterror_is_reported() -> None:
    csms, _ = pair("2.1")
    [event] = csms.receive('[5,"r1","FormatViolation","could not parse your result",{}]', 0)
    assert isinstance(event, ResultRejected) and event.code == "FormatViolation"
    assert csms.data_to_send() == []


# -- strictness profiles ----------------------------------------------------------------------

SLOPPY_16 = json.dumps(
    [
        2,
        "mv1",
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": "2024-01-01T10:00:00",
                    "sampledValue": [{"value": "50.0", "unit": "Hertz", "vendorNote": "x"}],
                }
            ],
        },
    ]
)


def test_strict_profile_rejects_what_lenient_accepts_and_reports() -> None:
    strict, _ = pair("1.6")
    [rejected] = strict.receive(SLOPPY_16, 0)
    assert isinstance(rejected, Rejected) and rejected.code in {"PropertyConstraintViolation", "FormationViolation"}
    lenient, _ = pair("1.6", strictness=Strictness.LENIENT)
    events = lenient.receive(SLOPPY_16, 0)
    tolerated = [e.tolerated for e in events if isinstance(e, ToleratedViolation)]
    assert sorted(t.kind for t in tolerated) == ["extra_field", "timestamp_without_offset", "unknown_enum_value"]
    [call] = [e for e in events if isinstance(e, CallReceived)]
    sampled = call.request.meter_value[0].sampled_value[0]
    assert sampled.unit == "Hertz"  # kept, not lost
    assert call.request.meter_value[0].timestamp == datetime.datetime(2024, 1, 1, 10, tzinfo=UTC)


def test_lenient_profile_does_not_tolerate_everything() -> None:
    lenient, _ = pair("1.6", strictness=Strictness.LENIENT)
    [rejected] = lenient.receive('[2,"a","MeterValues",{"meterValue":[]}]', 0)
    assert isinstance(rejected, Rejected) and rejected.code == "OccurenceConstraintViolation"


def test_per_action_overrides() -> None:
    csms, _ = pair("1.6", overrides={"MeterValues": Strictness.LENIENT})
    assert any(isinstance(e, CallReceived) for e in csms.receive(SLOPPY_16, 0))
    [rejected] = csms.receive('[2,"h","Heartbeat",{"extra":1}]', 0)
    assert isinstance(rejected, Rejected)
    strict_override, _ = pair("1.6", strictness=Strictness.LENIENT, overrides={"MeterValues": Strictness.STRICT})
    assert isinstance(strict_override.receive(SLOPPY_16, 0)[0], Rejected)


def test_handler_response_is_validated_strictly() -> None:
    class Bad(station201.StationHandler):
        async def on_reset(self, request: m201.ResetRequest, context: Any) -> m201.ResetResponse:
            return m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted, status_info=d201.StatusInfoType(reason_code="x" * 21))

    _, station = pair("2.0.1")
    events = station.receive('[2,"r","Reset",{"type":"Immediate"}]', 0)
    answer(station, Bad(), events, "2.0.1")
    [frame] = station.data_to_send()
    assert json.loads(frame)[:3] == [4, "r", "InternalError"]


def test_error_description_is_limited_to_255_characters() -> None:
    csms, _ = pair("2.0.1")
    csms.receive('[2,"a","Heartbeat",{}]', 0)
    csms.respond_error("a", "GenericError", "x" * 1000)
    assert len(json.loads(csms.data_to_send()[0])[3]) == 255


def test_one_pass_and_general_paths_agree_on_large_frames() -> None:
    """Compact frames of ONE_PASS_MIN characters or more take a one-pass decode; anything it refuses must reach
    exactly the answer of the general path (which a spaced frame always takes)."""
    import copy

    from benchmarks.messages import TRANSACTION_EVENT_201
    from ocppgen.generated.runtime.protocol import ONE_PASS_MIN

    variants: list[dict[str, Any]] = []
    base = copy.deepcopy(TRANSACTION_EVENT_201)
    variants.append(base)
    for mutate in (
        lambda p: p.update(seqNo="42"),
        lambda p: p.update(unexpected=True),
        lambda p: p["evse"].update(id=1.0),  # draft-06: an integer
        lambda p: p["evse"].update(id=1.5),
        lambda p: p.update(eventType="Paused"),
        lambda p: p.pop("triggerReason"),
        lambda p: p["meterValue"][0]["sampledValue"].append({"value": 1, "unitOfMeasure": {"unit": "x" * 30}}),
    ):
        v = copy.deepcopy(TRANSACTION_EVENT_201)
        mutate(v)
        variants.append(v)
    for strictness in Strictness:
        for payload in variants:
            compact = json.dumps([2, "m-1", "TransactionEvent", payload], separators=(",", ":"))
            spaced = compact.replace('[2,"', '[2, "', 1)
            assert len(compact) >= ONE_PASS_MIN
            outcomes = []
            for text in (compact, spaced):
                csms, _ = pair("2.0.1", strictness=strictness)
                events = csms.receive(text, 0)
                outcomes.append(([type(e).__name__ for e in events], [getattr(e, "request", getattr(e, "code", None)) for e in events], csms.data_to_send()))
            assert outcomes[0] == outcomes[1], payload
