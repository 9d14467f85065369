"""The hot paths of issue 14 (decision 0019) decide exactly as the general paths they skip:
the outbound millisecond rewrite in place equals the type-aware tree rewrite, the cheaper
RFC 3339 scan still finds every suspect spelling, and the one-pass CALL decode and the
two-step decode give the same events for frames long and short."""

from __future__ import annotations

import datetime
import json
import re

import msgspec
import pytest
from hypothesis import given, settings, strategies as st

from ocppgen.generated.runtime import protocol, wire
from ocppgen.generated.runtime.events import CallReceived, Rejected
from ocppgen.generated.runtime.routing import Role
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201, routing as r201
from tests.protocol_helpers import make

UTC = datetime.timezone.utc
OFFSETS = st.sampled_from([UTC, datetime.timezone(datetime.timedelta(hours=2)), datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))])
TIMES = st.datetimes(min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(2200, 1, 1), timezones=OFFSETS)


def _tree_rewrite(payload: object) -> bytes:
    """The general path: builtins with datetimes kept, every datetime cut to the millisecond."""
    tree = msgspec.to_builtins(payload, builtin_types=(datetime.datetime,), enc_hook=wire._open_to_builtins)
    return msgspec.json.encode(wire._rewrite(tree, True, None))


@settings(max_examples=200, deadline=None)
@given(TIMES, TIMES, st.lists(TIMES, max_size=3))
def test_the_in_place_millisecond_cut_equals_the_tree_rewrite(a: datetime.datetime, b: datetime.datetime, c: list[datetime.datetime]) -> None:
    value = m201.TransactionEventRequest(
        event_type=e201.TransactionEventEnumType.Updated, timestamp=a, trigger_reason=e201.TriggerReasonEnumType.MeterValuePeriodic,
        seq_no=1, transaction_info=d201.TransactionType(transaction_id="t"),
        meter_value=[d201.MeterValueType(timestamp=t, sampled_value=[d201.SampledValueType(value=1.5)]) for t in [b, *c]],
    )
    data = msgspec.json.encode(value)
    assert wire._datetime_paths(m201.TransactionEventRequest) is not None
    assert wire.limit(value, data, millis=True, decimals=None) == (_tree_rewrite(value) if wire._MICROS.search(data) else data)


def test_the_in_place_cut_leaves_free_text_alone() -> None:
    value = m201.DataTransferRequest(vendor_id="v", data="2024-01-01T00:00:00.123456Z")
    data = msgspec.json.encode(value)
    assert wire.limit(value, data, millis=True, decimals=6) == data


@given(st.text(alphabet="0123456789-+: T.Z\"", max_size=40))
def test_the_rfc_3339_scan_finds_whatever_the_old_scan_found(text: str) -> None:
    old_plus, old_space = re.compile(r"\+\d\d\d\d\""), re.compile(r"\d\d\d\d-\d\d-\d\d \d\d:\d\d")
    old_minus, before = re.compile(r"-\d\d\d\d\""), re.compile(r"\d\d:\d\d:\d\d(?:\.\d+)?\Z")
    old = bool(old_plus.search(text) or old_space.search(text)) or any(
        before.search(text, max(0, m.start() - 40), m.start()) for m in old_minus.finditer(text)
    )
    assert wire.suspect(text) == old


FRAMES = [
    '[2,"h","Heartbeat",{}]',
    '[2,"s","StatusNotification",{"timestamp":"2024-01-01T00:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}]',
    '[2,"s","StatusNotification",{"timestamp":"2024-01-01T00:00:00+0100","connectorStatus":"Available","evseId":1,"connectorId":1}]',
    '[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"SingleSocketCharger","vendorName":"VendorX","serialNumber":"SN-0001","firmwareVersion":"1.2.3"},"customData":{"vendorId":"x","note":"padding padding padding"}}]',
    '[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"SingleSocketCharger","vendorName":"VendorX","serialNumber":"SN-0001","firmwareVersion":"1.2.3"},"customData":{"vendorId":"x","note":"padding padding padding"},"x":1}]',
    '[2,"a\\"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"SingleSocketCharger","vendorName":"VendorX","serialNumber":"SN-0001","firmwareVersion":"1.2.3"},"customData":{"vendorId":"x","note":"padding padding padding"}}]',
    '[2,"t","Heartbeat","' + "x" * 300 + '"]',
    '[2,"u","NoSuchAction",{"p":"' + "x" * 300 + '"}]',
]


@pytest.mark.parametrize("frame", FRAMES)
def test_long_and_short_paths_give_the_same_events(frame: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = make("2.0.1", Role.CSMS)
    events_fast, out_fast = fast.receive(frame, 0), fast.data_to_send()
    monkeypatch.setattr(protocol, "ONE_PASS_MIN", 10**9)  # the two-step path only
    slow = make("2.0.1", Role.CSMS)
    events_slow, out_slow = slow.receive(frame, 0), slow.data_to_send()
    assert events_fast == events_slow and out_fast == out_slow
    assert isinstance(events_fast[0], (CallReceived, Rejected))


def test_a_duplicate_id_is_refused_on_the_one_pass_path_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "ONE_PASS_MIN", 0)
    csms = make("2.0.1", Role.CSMS)
    frame = FRAMES[3]
    [first] = csms.receive(frame, 0)
    [second] = csms.receive(frame, 0)
    assert isinstance(first, CallReceived) and isinstance(second, Rejected)
    assert json.loads(csms.data_to_send()[0])[:2] == [4, "b"]


def test_the_fast_table_is_shared_and_follows_its_routes() -> None:
    a, b = make("2.0.1", Role.CSMS), make("2.0.1", Role.CSMS)
    a.receive('[2,"h","Heartbeat",{}]', 0)
    assert a._fast is b._fast and "Heartbeat" in a._fast
    assert r201.ROUTES["Heartbeat"].request_codec.decode_strict(b"{}") == m201.HeartbeatRequest()


@settings(max_examples=200, deadline=None)
@given(TIMES)
def test_a_top_level_date_time_is_cut_as_the_tree_rewrite_cuts_it(when: datetime.datetime) -> None:
    value = m201.HeartbeatResponse(current_time=when)
    data = msgspec.json.encode(value)
    assert wire._top_datetimes(m201.HeartbeatResponse) == ("current_time",)
    assert wire.limit(value, data, millis=True, decimals=None) == (_tree_rewrite(value) if wire._MICROS.search(data) else data)


def test_the_text_cut_gives_way_when_the_same_text_stands_in_another_field() -> None:
    when = datetime.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    custom = d201.CustomDataType(vendor_id="v", extra={"echo": "2024-01-01T00:00:00.123456Z"})
    value = m201.HeartbeatResponse(current_time=when, custom_data=custom)
    data = msgspec.json.encode(value, enc_hook=wire.enc_hook)
    assert wire._cut_top(value, data, ("current_time",)) is None
    out = json.loads(wire.limit(value, data, millis=True, decimals=None))
    assert out == {"currentTime": "2024-01-01T00:00:00.123Z", "customData": {"vendorId": "v", "echo": "2024-01-01T00:00:00.123456Z"}}


def test_sessions_expire_in_disconnect_order_and_a_reconnect_starts_the_clock_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry expires sessions from the oldest disconnect and stops at the first with time
    left (a storm of reconnects no longer walks every disconnected session, decision 0019)."""
    import asyncio

    from ocppgen.generated.runtime import registry as reg
    from ocppgen.generated.runtime.session import Session

    clock = [1000.0]
    monkeypatch.setattr(reg.time, "monotonic", lambda: clock[0])
    registry = reg.LocalRegistry(session_ttl=10)

    async def scenario() -> None:
        sessions = [await registry.open(f"S{i}", lambda identity: Session(identity, Role.CSMS)) for i in range(3)]
        for i, session in enumerate(sessions):
            clock[0] = 1000.0 + i
            registry.disconnected(session, 1006, "", False, None)
        clock[0] = 1003.0
        await registry.open("S0", lambda identity: Session(identity, Role.CSMS))  # S0 is back...
        registry.disconnected(sessions[0], 1006, "", False, None)  # ...and gone again at 1003
        clock[0] = 1011.5  # S1 (gone at 1001) has expired; S2 (1002) and S0 (1003) have not
        assert {s.identity for s in registry.sessions()} == {"S0", "S2"}
        clock[0] = 1013.5
        assert registry.sessions() == []

    asyncio.run(scenario())
