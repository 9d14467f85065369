"""Property-based tests: nothing a peer sends raises out of the core, and every frame ends in
exactly one outcome (an event the connection acts on, an answer the core wrote, or a
documented drop). No blanket except hides anything: the core is called directly."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocppgen.generated.runtime.events import (
    Answered,
    CallQueued,
    CallCompleted,
    CallFailed,
    CallReceived,
    Dropped,
    Rejected,
    ResultRejected,
    SendReceived,
    ToleratedViolation,
)
from ocppgen.generated.runtime.protocol import Strictness
from ocppgen.generated.runtime.routing import Role
from ocppgen.generated.v16 import messages as m16, routing as r16
from ocppgen.generated.v201 import messages as m201, routing as r201
from ocppgen.generated.v21 import messages as m21, routing as r21
from tests.protocol_helpers import make

TERMINAL = (CallReceived, SendReceived, CallCompleted, CallFailed, ResultRejected, Rejected, Dropped, CallQueued, Answered)
VERSIONS = ("1.6", "2.0.1", "2.1")
HEARTBEAT = {"1.6": (r16.HEARTBEAT, m16.HeartbeatRequest), "2.0.1": (r201.HEARTBEAT, m201.HeartbeatRequest), "2.1": (r21.HEARTBEAT, m21.HeartbeatRequest)}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
actions = st.sampled_from(["Heartbeat", "BootNotification", "Reset", "DataTransfer", "MeterValues", "StatusNotification", "NotifyPeriodicEventStream", "TransactionEvent", "Authorize"]) | st.text(max_size=12)
ids = st.sampled_from(["cs-1", "csms-1", "-1", "", "x" * 37]) | st.text(max_size=40)
frames = st.one_of(
    st.tuples(st.integers(0, 8), ids, actions, json_values).map(list),
    st.tuples(st.integers(0, 8), ids, json_values).map(list),
    st.tuples(st.integers(0, 8), ids, st.text(max_size=10), st.text(max_size=10), json_values).map(list),
    st.lists(json_values, max_size=6),
)


def check_one_outcome(
    version: str, role: Role, data: str | bytes, outstanding: bool, strictness: Strictness = Strictness.STRICT
) -> None:
    protocol = make(version, role, strictness=strictness)
    if outstanding and role is Role.CHARGING_STATION:
        route, request = HEARTBEAT[version]
        protocol.call(route, request(), now=0)
        protocol.data_to_send()
    events = protocol.receive(data, 1.0)
    terminal = [e for e in events if isinstance(e, TERMINAL)]
    assert len(terminal) == 1, events
    assert all(isinstance(e, (ToleratedViolation, *TERMINAL)) for e in events)
    sent = protocol.data_to_send()
    outcome = terminal[0]
    if isinstance(outcome, Rejected):  # CALLERROR, or on 2.1 CALLRESULTERROR for an unreadable result
        assert len(sent) == 1 and json.loads(sent[0])[0] == outcome.frame_type
        assert outcome.frame_type == 4 or (version == "2.1" and json.loads(sent[0])[1] == "-1")
    elif isinstance(outcome, CallFailed) and version == "2.1" and sent:
        assert len(sent) == 1 and json.loads(sent[0])[0] == 5  # CALLRESULTERROR for a bad result
    else:
        assert sent == []
    # the connection stays usable
    follow = protocol.receive('[2,"follow-up","Heartbeat",{}]', 2.0)
    assert len([e for e in follow if isinstance(e, TERMINAL)]) == 1


@SETTINGS
@given(st.binary(max_size=200), st.sampled_from(VERSIONS), st.sampled_from(list(Role)), st.booleans(), st.sampled_from(list(Strictness)))
def test_arbitrary_bytes(data: bytes, version: str, role: Role, outstanding: bool, strictness: Strictness) -> None:
    check_one_outcome(version, role, data, outstanding, strictness)


@SETTINGS
@given(json_values, st.sampled_from(VERSIONS), st.sampled_from(list(Role)), st.booleans(), st.sampled_from(list(Strictness)))
def test_arbitrary_json(value: Any, version: str, role: Role, outstanding: bool, strictness: Strictness) -> None:
    check_one_outcome(version, role, json.dumps(value), outstanding, strictness)


@SETTINGS
@given(frames, st.sampled_from(VERSIONS), st.sampled_from(list(Role)), st.booleans(), st.sampled_from(list(Strictness)))
def test_frame_shaped_json(frame: list[Any], version: str, role: Role, outstanding: bool, strictness: Strictness) -> None:
    check_one_outcome(version, role, json.dumps(frame), outstanding, strictness)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.text(min_size=1, max_size=8)), max_size=6, unique_by=lambda t: t[1]))
def test_lenient_reports_one_event_per_tolerated_violation(extras: list[tuple[int, str]]) -> None:
    sampled = [{"value": str(i), "unit": "Wh"} for i in range(3)]
    for index, name in extras:
        sampled[index]["x-" + name] = name
    frame = json.dumps([2, "m", "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z", "sampledValue": sampled}]}])
    csms = make("1.6", Role.CSMS, strictness=Strictness.LENIENT)
    events = csms.receive(frame, 0)
    tolerated = [e.tolerated for e in events if isinstance(e, ToleratedViolation)]
    assert sorted(t.path for t in tolerated) == sorted(f"$.meterValue[0].sampledValue[{i}].x-{n}" for i, n in extras)
    assert isinstance(events[-1], CallReceived)
    # validation was not skipped: the accepted request is valid as the strict decoder sees it
    assert r16.METER_VALUES.request_codec.decode(r16.METER_VALUES.request_codec.encode(events[-1].request))


def test_deep_nesting_never_raises() -> None:
    for version in VERSIONS:
        for depth in (999, 1_001, 10_000, 100_000):
            check_one_outcome(version, Role.CSMS, "[" * depth + "]" * depth, False)
            check_one_outcome(version, Role.CSMS, '[2,"a","DataTransfer",{"vendorId":"v","data":' + "[" * depth + "]" * depth + "}]", False)
