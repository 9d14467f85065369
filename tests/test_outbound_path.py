"""The outbound fast path of issue 14 (decision 0019) gives exactly what the general path gives:
``encode_payload``'s plan per type (``_encode_valid``) against every check in turn
(``_encode_checked``), for every message type of every version under each set of 2.x value
rules (the millisecond rule of 2.x Part 2 section 3.1, the six decimals towards a station of
Part 2's primitive datatypes), the same bytes or the same error; the CALLRESULT and CALL frames
spliced from the encoded id against msgspec's encoding of the whole frame (OCPP-J Part 4
section 4.2); and ``respond`` against the frame and events of the general path."""

from __future__ import annotations

import datetime
import importlib
import json
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ocppgen.generated.runtime import frames, protocol, wire
from ocppgen.generated.runtime.errors import InvalidMessage
from ocppgen.generated.runtime.events import ResponseRefused
from ocppgen.generated.runtime.routing import Role
from ocppgen.generated.v16 import routing as r16
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201, routing as r201
from ocppgen.generated.v21 import routing as r21
from ocppgen.testing import strategies
from tests.protocol_helpers import make

RULES = [(False, None), (True, None), (True, 6)]  # 1.6; 2.x towards the CSMS; 2.x towards a station
RELAXED = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
UTC = datetime.timezone.utc
ZONES = st.sampled_from([
    UTC, datetime.timezone(datetime.timedelta(0), "UTC0"), datetime.timezone(datetime.timedelta(hours=2)),
    datetime.timezone(datetime.timedelta(hours=-5, minutes=-30)), datetime.timezone(datetime.timedelta(hours=5, seconds=7)),
    None,
])
TIMES = st.datetimes(min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31), timezones=ZONES)
# micro- and millisecond fractions, none: the three shapes msgspec writes
FRACTIONS = st.sampled_from([0, 1000, 123000, 999, 123456, 999999, 1])


def _outcome(fn: Any) -> tuple[str, bytes | str]:
    try:
        return "ok", fn()
    except InvalidMessage as exc:
        return "error", str(exc)


def _compare(route: Any, value: Any, response: bool, millis: bool, decimals: int | None) -> bytes | str:
    """The fast path and the general path agree: same bytes, or the same error."""
    general = _outcome(lambda: protocol._encode_checked(route, value, response=response, millis=millis, decimals=decimals))
    fast = _outcome(lambda: protocol.encode_payload(route, value, response=response, millis=millis, decimals=decimals))
    assert fast == general, (type(value).__name__, millis, decimals)
    expected = route.response if response else route.request
    if type(value) is expected:
        direct = protocol._encode_valid(protocol._outbound(expected, millis, decimals), value)
        assert direct is None or ("ok", direct) == general  # whatever the plan returns is the general path's
    return general[1]


ROUTINGS = [(r16, "v16"), (r201, "v201"), (r21, "v21")]
CASES = [
    (routing.ROUTES[action], response)
    for routing, _ in ROUTINGS
    for action in sorted(routing.ROUTES)
    for response in (False, True)
    if (routing.ROUTES[action].response if response else routing.ROUTES[action].request) is not None
]


@pytest.mark.parametrize("route,response", CASES, ids=[f"{r.request.__module__.split('.')[-2]}-{r.action}-{'res' if s else 'req'}" for r, s in CASES])
def test_every_message_type_encodes_as_the_general_path_encodes(route: Any, response: bool) -> None:
    kind = route.response if response else route.request

    @RELAXED
    @given(strategies.for_type(kind), st.sampled_from(RULES), TIMES, FRACTIONS, st.data())
    def check(value: Any, rules: tuple[bool, int | None], when: datetime.datetime, micros: int, data: st.DataObject) -> None:
        millis, decimals = rules
        _compare(route, value, response, millis, decimals)
        # every top-level date-time set to a value with a sub-millisecond fraction (or none)
        names = wire.top_datetimes(kind) or ()
        if names:
            changed = msgspec.structs.replace(value, **{n: when.replace(microsecond=micros) for n in names})
            _compare(route, changed, response, millis, decimals)
        # extra properties in a top-level open object: floats to round, the date-time's own text
        opens = [f for f in msgspec.structs.fields(kind) if f.name == "custom_data"]
        if opens:
            extra = data.draw(st.sampled_from([
                {"f": 1.123456789}, {"f": 2.5e-9}, {"s": msgspec.json.encode(when.replace(microsecond=micros)).decode().strip('"')},
                {"d": when.replace(microsecond=micros)}, {"n": 1},
            ]))
            custom = d201.CustomDataType(vendor_id="v", extra=extra)
            changed = msgspec.structs.replace(value, custom_data=custom)
            if names:
                changed = msgspec.structs.replace(changed, **{n: when.replace(microsecond=micros) for n in names})
            _compare(route, changed, response, millis, decimals)

    check()


@settings(max_examples=300, deadline=None)
@given(TIMES, FRACTIONS, st.sampled_from(RULES), st.sampled_from(["", "padding", "2024-01-01T00:00:00.123456Z", "x.1234567", "1e-9"]),
       st.booleans())
def test_the_millisecond_cut_while_encoding_equals_the_cut_of_the_text(
    when: datetime.datetime, micros: int, rules: tuple[bool, int | None], text: str, echo: bool
) -> None:
    """Part 2 section 3.1: at most 3 decimal places, truncated. A top-level date-time with any
    offset, alone or with its own text (or a float-like text) elsewhere in the payload."""
    millis, decimals = rules
    when = when.replace(microsecond=micros)
    echoed = msgspec.json.encode(when).decode().strip('"') if echo else text
    extra = {"echo": echoed} if echoed else {}
    heartbeat = m201.HeartbeatResponse(current_time=when, custom_data=d201.CustomDataType(vendor_id="v", extra=extra))
    boot = m201.BootNotificationResponse(
        current_time=when, interval=300, status=e201.RegistrationStatusEnumType.Accepted,
        status_info=d201.StatusInfoType(reason_code="r", additional_info=echoed or "x"),
    )
    for value in (heartbeat, boot):
        route = r201.ROUTES[type(value).__name__.removesuffix("Response")]
        out = _compare(route, value, True, millis, decimals)
        if millis and when.tzinfo is not None and isinstance(out, bytes):
            written = json.loads(out)["currentTime"]
            assert "." not in written or len(written.split(".")[1].rstrip("Z").split("+")[0].split("-")[0]) == 3


def test_a_float_where_an_integer_belongs_gives_the_general_paths_verdict() -> None:
    """msgspec does not validate a struct on construction: a wrong value reaches the encoder.
    The rounding of the decimal rule (2.x) and the draft-06 integer rule may then decide."""
    route = r201.ROUTES["BootNotification"]
    when = datetime.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    for interval in (1.0, 1.0000000001, 1.5, "300"):
        value = m201.BootNotificationResponse(current_time=when, interval=interval, status=e201.RegistrationStatusEnumType.Accepted)  # type: ignore[arg-type]
        for millis, decimals in RULES:
            _compare(route, value, True, millis, decimals)


def test_the_fast_path_is_the_one_taken_for_valid_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Valid, well-typed responses never reach the general path (else the tests above would
    compare the general path with itself)."""
    def general(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the general path ran")

    monkeypatch.setattr(protocol, "_encode_checked", general)
    when = datetime.datetime(2024, 5, 6, 10, 15, 30, 123456, tzinfo=UTC)
    answers = [
        ("Heartbeat", m201.HeartbeatResponse(current_time=when), b'{"currentTime":"2024-05-06T10:15:30.123Z"}'),
        ("StatusNotification", m201.StatusNotificationResponse(), b"{}"),
        ("BootNotification", m201.BootNotificationResponse(current_time=when.replace(microsecond=999), interval=300,
                                                           status=e201.RegistrationStatusEnumType.Accepted),
         b'{"currentTime":"2024-05-06T10:15:30Z","interval":300,"status":"Accepted"}'),
        ("TransactionEvent", m201.TransactionEventResponse(total_cost=12.5), b'{"totalCost":12.5}'),
    ]
    csms = make("2.0.1", Role.CSMS)
    for action, answer, payload in answers:
        csms._inbound["m1"] = (action, None, 0.0)
        assert csms.respond("m1", answer) == []
        assert csms.data_to_send() == [f'[3,"m1",{payload.decode()}]']


def test_an_empty_answer_is_valid_exactly_when_the_type_has_no_required_field() -> None:
    for routing, key in ROUTINGS:
        for info in importlib.import_module(f"ocppgen.generated.{key}.messages").MESSAGES:
            try:
                msgspec.json.Decoder(info.type, dec_hook=protocol.dec_hook).decode(b"{}")
            except msgspec.ValidationError:
                valid = False
            else:
                valid = True
            assert protocol._outbound(info.type, True, 6).empty_valid is valid
            assert valid == all(f.default is not msgspec.NODEFAULT or f.default_factory is not msgspec.NODEFAULT
                                for f in msgspec.structs.fields(info.type))


IDS = st.one_of(st.text(max_size=36), st.text(alphabet='"\\\x00\x1f\x7f/\u2028é-_.:', max_size=36))


@settings(max_examples=500, deadline=None)
@given(IDS, st.sampled_from([b"{}", b'{"a":"\\"x\\""}', b'{"currentTime":"2024-05-06T10:15:30.123Z"}']))
def test_the_spliced_frames_are_what_msgspec_writes_for_the_whole_frame(message_id: str, payload: bytes) -> None:
    """Part 4 section 4.2: [3, "<id>", {payload}] and [2, "<id>", "<action>", {payload}], the id
    written and escaped by the encoder itself."""
    encoder = msgspec.json.Encoder()
    try:
        whole = encoder.encode((3, message_id, msgspec.Raw(payload))).decode()
    except (msgspec.EncodeError, UnicodeEncodeError) as exc:
        with pytest.raises(type(exc)):
            frames.encode_result(message_id, payload)
        return
    assert frames.encode_result(message_id, payload) == whole
    for kind in (frames.CALL, frames.SEND):
        assert frames.encode_call(kind, message_id, "Heartbeat", payload) == encoder.encode(
            (kind, message_id, "Heartbeat", msgspec.Raw(payload))).decode()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from([("2.0.1", r201), ("2.1", r21)]), st.text(max_size=8), st.data())
def test_respond_writes_the_general_paths_frame(version_routing: tuple[str, Any], message_id: str, data: st.DataObject) -> None:
    version, routing = version_routing
    route = routing.ROUTES["TransactionEvent"]
    answer = data.draw(strategies.for_type(route.response))
    core = make(version, Role.CSMS)
    core._inbound[message_id] = ("TransactionEvent", None, 0.0)
    events = core.respond(message_id, answer)
    outcome = _outcome(lambda: protocol._encode_checked(route, answer, response=True, millis=core._millis, decimals=core._decimals))
    if outcome[0] == "ok":
        assert events == [] and core.data_to_send() == [msgspec.json.encode([3, message_id, msgspec.Raw(outcome[1])]).decode()]
    else:
        [refused] = events
        assert isinstance(refused, ResponseRefused) and refused.reason == outcome[1]


def test_an_invalid_answer_is_refused_with_the_general_paths_reason() -> None:
    csms = make("2.0.1", Role.CSMS)
    for answer in (m201.HeartbeatResponse(current_time="now"),  # type: ignore[arg-type]
                   m201.AuthorizeResponse(id_token_info=d201.IdTokenInfoType(status="Maybe")),  # type: ignore[arg-type]
                   m201.StatusNotificationRequest):
        csms._inbound["m"] = ("Heartbeat" if isinstance(answer, m201.HeartbeatResponse) else "Authorize", None, 0.0)
        [refused] = csms.respond("m", answer)
        assert isinstance(refused, ResponseRefused)
        route = r201.ROUTES[refused.action]
        with pytest.raises(InvalidMessage) as caught:
            protocol._encode_checked(route, answer, response=True, millis=True, decimals=6)
        assert refused.reason == str(caught.value)
        [frame] = csms.data_to_send()
        assert json.loads(frame)[:3] == [4, "m", "InternalError"]


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from([("2.0.1", r201), ("2.1", r21)]), st.sampled_from(["TransactionEvent", "BootNotification", "StatusNotification"]),
       st.text(min_size=1, max_size=36), st.data())
def test_call_queues_the_general_paths_frame(version_routing: tuple[str, Any], action: str, message_id: str, data: st.DataObject) -> None:
    """A station's CALL: its request with the station's value rules (Part 2 section 3.1), in
    the frame msgspec writes for [2, id, action, payload] (Part 4 section 4.2.1)."""
    version, routing = version_routing
    route = routing.ROUTES[action]
    request = data.draw(strategies.for_type(route.request))
    station = make(version, Role.CHARGING_STATION)
    outcome = _outcome(lambda: protocol._encode_checked(route, request, response=False, millis=station._millis, decimals=station._decimals))
    if outcome[0] == "ok":
        assert station.call(route, request, 0.0, message_id=message_id if version == "2.1" else None)
        [frame] = station.data_to_send()
        sent = json.loads(frame)
        assert frame == msgspec.json.encode([2, sent[1], action, msgspec.Raw(outcome[1])]).decode()
    else:
        with pytest.raises(InvalidMessage) as caught:
            station.call(route, request, 0.0)
        assert str(caught.value) == outcome[1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(TIMES, FRACTIONS), min_size=1, max_size=4), st.sampled_from(RULES), st.booleans(),
       st.sampled_from(["", "x", "1.1234567", "2e-9"]))
def test_date_times_deeper_down_are_cut_as_the_tree_rewrite_cuts_them(
    times: list[tuple[datetime.datetime, int]], rules: tuple[bool, int | None], echo: bool, text: str
) -> None:
    """A station's TransactionEvent: its timestamp and each meter value's (Part 2 section 3.1),
    with the same text, or a float-like one, in a free-text field too."""
    millis, decimals = rules
    stamps = [when.replace(microsecond=micros) for when, micros in times]
    free = msgspec.json.encode(stamps[-1]).decode().strip('"') if echo else text
    value = m201.TransactionEventRequest(
        event_type=e201.TransactionEventEnumType.Updated, timestamp=stamps[0], trigger_reason=e201.TriggerReasonEnumType.MeterValuePeriodic,
        seq_no=1, transaction_info=d201.TransactionType(transaction_id=free or "t"),
        meter_value=[d201.MeterValueType(timestamp=t, sampled_value=[d201.SampledValueType(value=1.5)]) for t in stamps[1:] or stamps],
    )
    _compare(r201.ROUTES["TransactionEvent"], value, False, millis, decimals)


def test_a_station_transaction_event_is_cut_without_the_tree_rewrite(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast cut is the one taken (limit, with its tree rewrite, never runs)."""
    when = datetime.datetime(2024, 5, 6, 10, 15, 30, 123456, tzinfo=UTC)
    value = m201.TransactionEventRequest(
        event_type=e201.TransactionEventEnumType.Updated, timestamp=when, trigger_reason=e201.TriggerReasonEnumType.MeterValuePeriodic,
        seq_no=1, transaction_info=d201.TransactionType(transaction_id="t"),
        meter_value=[d201.MeterValueType(timestamp=when.replace(microsecond=999), sampled_value=[d201.SampledValueType(value=1.5)])],
    )
    expected = protocol._encode_checked(r201.ROUTES["TransactionEvent"], value, response=False, millis=True)
    monkeypatch.setattr(wire, "limit", lambda *a, **k: pytest.fail("limit ran"))
    monkeypatch.setattr(protocol, "_OUTBOUND", {})
    data = protocol.encode_payload(r201.ROUTES["TransactionEvent"], value, response=False, millis=True)
    assert data == expected
    assert b'"timestamp":"2024-05-06T10:15:30.123Z"' in data and b'"timestamp":"2024-05-06T10:15:30Z"' in data


@pytest.mark.parametrize("message_id", ["19223201", "4b0f6a2e-8c1d-4f7a-9e3b-2d5c6a7b8e9f", "x.123456Z", "e-1"])
def test_an_empty_answer_goes_out_as_it_is_whatever_its_id(message_id: str) -> None:
    """{} holds no value a rule could change (Part 2 section 3.1): its frame is written at once,
    the same frame as the general path's, whatever the id holds (ids with "-", "e-", a fraction)."""
    for version, routing, action in (("2.0.1", r201, "StatusNotification"), ("1.6", r16, "MeterValues"), ("2.1", r21, "NotifyEvent")):
        csms = make(version, Role.CSMS)
        csms._inbound[message_id] = (action, None, 0.0)
        answer = routing.ROUTES[action].response()
        assert csms.respond(message_id, answer) == []
        general = protocol._encode_checked(routing.ROUTES[action], answer, response=True, millis=csms._millis, decimals=csms._decimals)
        assert general == b"{}" and csms.data_to_send() == [msgspec.json.encode([3, message_id, {}]).decode()]
