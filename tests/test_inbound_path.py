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
_TZ_DATETIME = msgspec.json.Decoder(Any)


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
FRACTION = st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=12).map(lambda d: "." + d))
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
