"""The inbound path of issue 14: whatever shortcut ``receive`` takes, a frame gets exactly the
answer the general path gives it, and a date-time that RFC 3339 section 5.6 does not allow
(``format: date-time`` in every schema) is refused on a strict link however it is spelled on
the wire: with a space for ``T``, an offset without its colon, or either of them hidden in a
``\\uXXXX`` escape (RFC 8259 section 7), in a plain, signed or dispatched CALL."""

from __future__ import annotations

import asyncio
import datetime
import json
import re
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings, strategies as st

from ocppgen.generated.runtime import frames as fr, wire
from ocppgen.generated.runtime.events import CallReceived, Rejected, ToleratedViolation
from ocppgen.generated.runtime.protocol import Strictness, dispatch
from ocppgen.generated.runtime.routing import CallContext, Reply, Role
from ocppgen.generated.v201 import csms as csms201, messages as m201
from tests.protocol_helpers import make

# RFC 3339 section 5.6, written out independently of runtime/wire.py: full-date "T" full-time,
# lower-case t and z allowed (section 5.6, NOTE), time-numoffset with its colon.
RFC_3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")


def msgspec_reads(value: str) -> bool:
    """Whether msgspec decodes ``value`` into a timezone-aware datetime (what the generated
    types declare: ``Annotated[datetime, Meta(tz=True)]``)."""
    decoder = msgspec.json.Decoder(datetime.datetime)
    try:
        return decoder.decode(msgspec.json.encode(value)).tzinfo is not None
    except msgspec.ValidationError:
        return False


def escaped(value: str, mask: list[bool]) -> str:
    """``value`` as a JSON string body, each character whose mask bit is set written as ``\\uXXXX``."""
    return "".join(f"\\u{ord(c):04X}" if bit else c for c, bit in zip(value, mask + [False] * len(value)))


STATUS = '[2,"{id}","StatusNotification",{{"timestamp":"{ts}","connectorStatus":"Available","evseId":1,"connectorId":1}}]'

DEVIATIONS = [
    "2024-01-01 00:00:00Z",  # a space for T
    "2024-01-01T00:00:00+0100",  # +hhmm
    "2024-01-01T00:00:00.5-0130",  # -hhmm after a fraction
    "2024-01-01T00:00:00-0000",
    "2024-01-01 00:00:00.123+0530",
]


@pytest.mark.parametrize("value", DEVIATIONS)
@pytest.mark.parametrize("hide", ["+", " ", "-", "all"])
def test_an_escaped_deviation_is_refused_like_a_plain_one(value: str, hide: str) -> None:
    """msgspec unescapes a string before it reads a date-time from it, so ``\\u002B0100`` is an
    offset without its colon too (RFC 8259 section 7); the scan used to miss it."""
    mask = [hide == "all" or c == hide for c in value]
    frame = STATUS.format(id="e", ts=escaped(value, mask))
    assert json.loads(frame)[3]["timestamp"] == value
    [rejected] = make("2.0.1", Role.CSMS).receive(frame, 0)
    assert isinstance(rejected, Rejected) and rejected.code == "PropertyConstraintViolation", frame
    events = make("2.0.1", Role.CSMS, strictness=Strictness.LENIENT).receive(frame, 0)
    assert [type(e) for e in events] == [ToleratedViolation, CallReceived]


@pytest.mark.parametrize("digits", [1, 6, 31, 40, 200])
def test_an_offset_without_colon_is_refused_after_a_fraction_of_any_length(digits: int) -> None:
    """The scan used to look back 40 characters for the time before a "-hhmm" offset."""
    [rejected] = make("2.0.1", Role.CSMS).receive(STATUS.format(id="f", ts=f"2024-01-01T00:00:00.{'1' * digits}-0130"), 0)
    assert isinstance(rejected, Rejected) and rejected.code == "PropertyConstraintViolation"


def test_an_escaped_rfc_3339_date_time_is_accepted() -> None:
    value = "2024-01-01T00:00:00+01:00"
    frame = STATUS.format(id="e", ts=escaped(value, [True] * len(value)))
    [received] = make("2.0.1", Role.CSMS).receive(frame, 0)
    assert isinstance(received, CallReceived)


def test_a_signed_call_is_checked_on_its_signed_payload() -> None:
    """A signed CALL carries its payload base64url-encoded (Part 4 chapter 7): the scan of the
    frame cannot see its date-times, the scan of the verified payload does."""
    from ocppgen.generated.runtime.signing import SigningPolicy, sign_call
    from tests.test_signed_messages import STATION_EC

    payload = json.loads(STATUS.format(id="s", ts="2024-01-01T00:00:00+0100"))[3]
    csms = make("2.0.1", Role.CSMS, signing=SigningPolicy(trusted=[STATION_EC.certificate]))
    action, jws = sign_call("StatusNotification", "s1", msgspec.json.encode(payload), STATION_EC.signer())
    [rejected] = csms.receive(fr.encode_call(fr.CALL, "s1", action, jws), 0)
    assert isinstance(rejected, Rejected) and rejected.code == "PropertyConstraintViolation"
    good = dict(payload, timestamp="2024-01-01T00:00:00+01:00")
    action, jws = sign_call("StatusNotification", "s2", msgspec.json.encode(good), STATION_EC.signer())
    [received] = csms.receive(fr.encode_call(fr.CALL, "s2", action, jws), 0)
    assert isinstance(received, CallReceived) and received.signer is not None


def test_a_signed_reply_is_checked_on_its_signed_payload() -> None:
    """A signed CALLRESULT (Part 4 section 7.2) whose date-time RFC 3339 refuses fails our CALL."""
    from ocppgen.generated.runtime.errors import ResponseInvalid
    from ocppgen.generated.runtime.events import CallCompleted, CallFailed
    from ocppgen.generated.runtime.signing import SigningPolicy, sign_result
    from ocppgen.generated.v201 import routing as r201
    from tests.test_signed_messages import CSMS_KEY

    for when, ok in (("2024-01-01T00:00:00+0100", False), ("2024-01-01T00:00:00+01:00", True)):
        station = make("2.0.1", Role.CHARGING_STATION, signing=SigningPolicy(trusted=[CSMS_KEY.certificate]))
        mid = station.call(r201.HEARTBEAT, m201.HeartbeatRequest(), 0)
        station.data_to_send()
        signed = sign_result("Heartbeat", mid, msgspec.json.encode({"currentTime": when}), CSMS_KEY.signer())
        [event] = station.receive(fr.encode_result(mid, signed), 0)
        if ok:
            assert isinstance(event, CallCompleted)
        else:
            assert isinstance(event, CallFailed) and isinstance(event.error, ResponseInvalid)
            assert event.error.code == "PropertyConstraintViolation"  # type: ignore[attr-defined]


def test_dispatch_refuses_what_the_core_refuses() -> None:
    """``dispatch`` decodes a payload without a frame; its date-times are checked all the same."""

    class Handler(csms201.CsmsHandler):
        async def on_status_notification(self, request: Any, context: Any) -> m201.StatusNotificationResponse:
            return m201.StatusNotificationResponse()

    def outcome(value: str) -> object:
        payload = json.loads(STATUS.format(id="d", ts=value))[3]
        context: CallContext[Any] = CallContext(None, None, "d", "StatusNotification")  # type: ignore[arg-type]
        return asyncio.run(dispatch(csms201.BINDING, Handler(), "StatusNotification", msgspec.json.encode(payload), context))

    refused = outcome("2024-01-01T00:00:00+0100")
    assert not isinstance(refused, Reply) and refused.code == "PropertyConstraintViolation"  # type: ignore[attr-defined]
    assert isinstance(outcome("2024-01-01T00:00:00+01:00"), Reply)


# A date-time alphabet with every deviation msgspec might read: separators, offsets with and
# without colons, fractions, lower case, hour and minute edges.
DATE = st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(1, 12), st.integers(1, 28))
TIME = st.builds("{:02d}:{:02d}:{:02d}".format, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
FRACTION = st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=80).map(lambda d: "." + d))
OFFSET = st.one_of(
    st.sampled_from(["Z", "z", "", "+00:00", "-00:00", "+0000", "-0000", "+01", "-1", "+01:0"]),
    st.builds("{}{:02d}{}{:02d}".format, st.sampled_from("+-"), st.integers(0, 23), st.sampled_from([":", "", "::"]), st.integers(0, 59)),
)
SEPARATOR = st.sampled_from(["T", "t", " ", "_", "  "])
DATE_TIMES = st.builds(lambda d, s, t, f, o: f"{d}{s}{t}{f}{o}", DATE, SEPARATOR, TIME, FRACTION, OFFSET)


@settings(max_examples=400, deadline=None)
@given(DATE_TIMES, st.lists(st.booleans(), max_size=40), st.sampled_from(["a", "a-1234", 'q"', "19223201"]))
def test_a_date_time_is_accepted_exactly_when_rfc_3339_allows_it(value: str, mask: list[bool], mid: str) -> None:
    """Every spelling, escaped anywhere or not: a strict link accepts the CALL exactly when msgspec
    reads the value and RFC 3339 section 5.6 allows it (schema ``format: date-time``)."""
    frame = STATUS.format(id=mid.replace('"', '\\"'), ts=escaped(value, mask))
    events = make("2.0.1", Role.CSMS).receive(frame, 0)
    valid = msgspec_reads(value) and RFC_3339.fullmatch(value) is not None
    assert isinstance(events[0], CallReceived) == valid, (frame, events)
    if msgspec_reads(value) and not valid:
        assert wire.suspect(frame) and wire.suspect(json.dumps(json.loads(frame)[3]))


# -- the hot path against the general path ----------------------------------------------------

from benchmarks.messages import TRANSACTION_EVENT_201  # noqa: E402
from ocppgen.generated.runtime import protocol as protocol_module  # noqa: E402
from ocppgen.generated.runtime.session import Session  # noqa: E402

# ids as they appear in the frame (JSON string bodies): a small pool, so that ids repeat
# (duplicates, pipelined CALLs), escapes, and ids that mislead the hot path's guess at the action
IDS = st.one_of(
    st.sampled_from(["1", "2", "dup"]),
    st.sampled_from(["1", "2", "dup", "19223201"]),
    st.sampled_from(["a\\\"b", "x\\\\", "\\u0041", "é", "-1", "", 'x\\",\\"Heartbeat', 'x\\", \\"Heartbeat', 'q\\",\\"Authorize']),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40).map(lambda t: json.dumps(t)[1:-1]),
)
DATE_TIME_VALUES = st.one_of(st.sampled_from(["2024-05-06T10:15:30.123Z", "2024-05-06T10:15:30Z"]), DATE_TIMES)


def _status(ts: str) -> dict[str, Any]:
    return {"timestamp": ts, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}


def _transaction(ts: str, samples: int) -> dict[str, Any]:
    payload = json.loads(json.dumps(TRANSACTION_EVENT_201))
    payload["timestamp"] = ts
    payload["meterValue"][0]["timestamp"] = ts
    payload["meterValue"][0]["sampledValue"] = (payload["meterValue"][0]["sampledValue"] * 3)[:samples]
    return payload


PAYLOADS = st.one_of(
    st.tuples(st.just("Heartbeat"), st.just({})),
    st.tuples(st.just("Authorize"), st.just({"idToken": {"idToken": "04A2B3C4", "type": "ISO14443"}})),
    st.tuples(st.just("StatusNotification"), DATE_TIME_VALUES.map(_status)),
    st.tuples(st.just("TransactionEvent"), st.builds(_transaction, DATE_TIME_VALUES, st.integers(1, 20))),
    st.tuples(st.just("BootNotification"), st.just({"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}})),
    st.tuples(st.sampled_from(["NoSuchAction", "Reset", "NotifyPeriodicEventStream", "TransactionEvent"]), st.just({"x": 1})),
    st.tuples(st.sampled_from(["NoSuchAction", "Reset", "Authorize"]), st.just({})),
    st.tuples(st.just("Heartbeat"), st.just({"x": "\u00e9"})),
)


@st.composite
def frames(draw: st.DrawFn) -> str | bytes:
    mid = draw(IDS)
    action, payload = draw(PAYLOADS)
    sep = draw(st.sampled_from([",", ", "]))
    kind = draw(st.sampled_from([2, 2, 2, 2, 3, 6]))
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=draw(st.booleans()))
    if kind == 3:
        text = f'[3{sep}"{mid}"{sep}{body}]'
    else:
        text = f'[{kind}{sep}"{mid}"{sep}"{action}"{sep}{body}]'
    mutation = draw(st.sampled_from(["none"] * 6 + ["cut", "extra", "extra-handler", "trailing", "bytes", "bad-utf8", "surrogate"]))
    if mutation == "cut":
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif mutation == "extra":
        text = text[:-1] + sep + "null]"
    elif mutation == "extra-handler":
        text = text[:-1] + sep + '"on_heartbeat"]'
    elif mutation == "trailing":
        text = text + " x"
    if mutation == "bytes":
        return text.encode()
    if mutation == "bad-utf8":
        data = text.encode()
        at = draw(st.integers(0, len(data)))
        return data[:at] + b"\xff" + data[at:]
    if mutation == "surrogate":
        at = draw(st.integers(0, len(text)))
        return text[:at] + "\ud800" + text[at:]
    return text


def _pair(variant: str) -> tuple[Any, Any]:
    def one() -> Any:
        if variant == "session":
            return make("2.0.1", Role.CSMS, session=Session("CS-1", Role.CSMS), max_calls_in_progress=2, max_calls_queued=2)
        if variant == "lenient":
            return make("2.0.1", Role.CSMS, strictness=Strictness.LENIENT, max_calls_in_progress=1)
        if variant == "2.1":
            return make("2.1", Role.CSMS, max_calls_in_progress=1, max_calls_queued=2)
        return make("2.0.1", Role.CSMS, max_calls_in_progress=3, max_calls_queued=1)

    return one(), one()


def _outcome(events: list[Any]) -> list[tuple[str, Any]]:
    return [(type(e).__name__, msgspec.structs.asdict(e)) for e in events]


@settings(max_examples=300, deadline=None)
@given(st.lists(frames(), min_size=1, max_size=12), st.sampled_from(["plain", "session", "lenient", "2.1"]), st.sampled_from([0, 400, 10**9]))
def test_receive_answers_every_frame_as_the_general_path_does(sequence: list[str | bytes], variant: str, one_pass_min: int) -> None:
    """Frames long and short, compact and spaced, str and bytes, with escaped, long, duplicate
    and empty ids, unknown and SEND actions, extra elements, cut frames, invalid UTF-8 and lone
    surrogates, date-times in every spelling: ``receive`` (whichever of its paths it takes)
    gives exactly the events, frames and state of the general path, frame after frame."""
    saved = protocol_module.ONE_PASS_MIN
    protocol_module.ONE_PASS_MIN = one_pass_min
    try:
        fast, general = _pair(variant)
        for i, data in enumerate(sequence):
            got = fast.receive(data, float(i))
            expected = general._receive_frame(data, float(i))
            assert _outcome(got) == _outcome(expected), data
            assert fast.data_to_send() == general.data_to_send(), data
            assert fast._inbound == general._inbound and fast._waiting == general._waiting
            assert fast.bad_messages == general.bad_messages
    finally:
        protocol_module.ONE_PASS_MIN = saved


@pytest.mark.parametrize("data", [
    b'[2,"a","StatusNotification",{"timestamp":"2024-01-01T00:00:00Z","connectorStatus":"Available","evseId":1,'
    b'"connectorId":1,"customData":{"vendorId":"v","x":"\xff"}}]',
    b'[2,"\xff","Heartbeat",{}]',
    '[2,"\ud800","Heartbeat",{}]',
])
def test_text_that_is_not_utf_8_is_not_json_and_is_answered_so(data: str | bytes) -> None:
    """RFC 8259 section 8.1: JSON text is UTF-8. Bytes that are not, or a str no UTF-8 can hold,
    get the answer to a frame that is not JSON (CALLERROR with id "-1"), never an exception."""
    csms = make("2.0.1", Role.CSMS)
    [rejected] = csms.receive(data, 0)
    assert isinstance(rejected, Rejected) and rejected.message_id == "-1" and rejected.code == "RpcFrameworkError"
    assert json.loads(csms.data_to_send()[0])[:3] == [4, "-1", "RpcFrameworkError"]


@pytest.mark.parametrize("one_pass_min", [0, 10**9])
def test_a_duplicate_of_a_pipelined_call_is_refused_on_every_path(one_pass_min: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Part 4 section 4.1.1: a CALL whose id waits behind others is a duplicate too."""
    monkeypatch.setattr(protocol_module, "ONE_PASS_MIN", one_pass_min)
    csms = make("2.0.1", Role.CSMS, max_calls_in_progress=1)
    events = [e for mid in ("a", "b", "b") for e in csms.receive(f'[2,"{mid}","Heartbeat",{{}}]', 0)]
    assert [type(e).__name__ for e in events] == ["CallReceived", "CallQueued", "Rejected"]


@pytest.mark.parametrize("one_pass_min", [0, 10**9])
def test_an_id_that_spells_another_action_does_not_mislead_the_hot_path(one_pass_min: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot path guesses the action from the text between the third and fourth quotes; an id
    with escaped quotes can spell a handled action there. The decoded frame has the last word."""
    monkeypatch.setattr(protocol_module, "ONE_PASS_MIN", one_pass_min)
    csms = make("2.0.1", Role.CSMS)
    [rejected] = csms.receive('[2,"x\\",\\"Heartbeat","NoSuchAction",{}]', 0)
    assert isinstance(rejected, Rejected) and rejected.message_id == 'x","Heartbeat' and rejected.code == "NotImplemented"


def test_bytes_and_str_get_the_same_answers() -> None:
    for text in ['[2,"h","Heartbeat",{}]', STATUS.format(id="s", ts="2024-01-01T00:00:00+0100"), '[2,"u","Nope",{}]',
                 json.dumps([2, "t", "TransactionEvent", TRANSACTION_EVENT_201], separators=(",", ":"))]:
        a, b = make("2.0.1", Role.CSMS), make("2.0.1", Role.CSMS)
        assert _outcome(a.receive(text, 0)) == _outcome(b.receive(text.encode(), 0))
        assert a.data_to_send() == b.data_to_send()
