"""A hostile peer: malformed and edge-case frames against the answers of each version's Part 4.

Each row: the frame, then the expected outcome on 1.6, 2.0.1 and 2.1 links (the receiver is a
CSMS). ("err", code, id) means the core answers CALLERROR with that code and message id;
("drop", reason) a documented drop with no answer; ("call",) a CallReceived (valid).
The same table is in docs/decisions/0005-protocol-core.md.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocppgen.generated.runtime.events import CallReceived, Dropped, Rejected
from tests.protocol_helpers import make
from ocppgen.generated.runtime.routing import Role

F = "FormationViolation"  # 1.6 spelling
O16 = "OccurenceConstraintViolation"  # 1.6 spelling
LONG_ID = "i" * 37
BOOT = '{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}'
BOOT16 = '{"chargePointModel":"M","chargePointVendor":"V"}'


def row(frame: str, v16: tuple[Any, ...], v201: tuple[Any, ...], v21: tuple[Any, ...] | None = None) -> tuple[str, dict[str, tuple[Any, ...]]]:
    return frame, {"1.6": v16, "2.0.1": v201, "2.1": v21 if v21 is not None else v201}


ROWS = [
    row("not json", ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row("", ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row("{}", ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row("[]", ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row('"a string"', ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row("null", ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row('["2","a","Heartbeat",{}]', ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row('[2.0,"a","Heartbeat",{}]', ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row('[true,"a","Heartbeat",{}]', ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row('[2,17,"Heartbeat",{}]', ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row('[2,null,"Heartbeat",{}]', ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    # string[36] sets no minimum: "" is an id (Part 4 4.1.4); a 37-character id is unusable, so
    # the answer carries "-1" as for an unreadable one (echoing it would break string[36])
    row('[2,"","Heartbeat",{}]', ("call",), ("call",)),
    row(f'[2,"{LONG_ID}","Heartbeat",{{}}]', ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    # a reply whose id cannot be read: never a CALLERROR (that answers a CALL, 4.2.3); 2.1
    # answers a CALLRESULT it cannot process with CALLRESULTERROR (4.2.3), "-1" for the id
    row('[3,17,{}]', ("drop", "invalid_reply"), ("drop", "invalid_reply"), ("rerr", "RpcFrameworkError", "-1")),
    row(f'[3,"{LONG_ID}",{{}}]', ("drop", "invalid_reply"), ("drop", "invalid_reply"), ("rerr", "RpcFrameworkError", "-1")),
    row('[4,null,"GenericError","",{}]', ("drop", "invalid_reply"), ("drop", "invalid_reply")),
    row('[2,"a"]', ("err", "ProtocolError", "a"), ("err", "ProtocolError", "a")),
    row('[2,"a","Heartbeat"]', ("err", "ProtocolError", "a"), ("err", "ProtocolError", "a")),
    row('[2,"a","Heartbeat",{},{}]', ("err", F, "a"), ("err", "ProtocolError", "a")),
    row('[2,"a",7,{}]', ("err", F, "a"), ("err", "ProtocolError", "a")),
    row('[2,"a","Heartbeat",[]]', ("err", F, "a"), ("err", "FormatViolation", "a")),
    row('[2,"a","Heartbeat",null]', ("err", F, "a"), ("err", "FormatViolation", "a")),
    row('[2,"a","Heartbeat","{}"]', ("err", F, "a"), ("err", "FormatViolation", "a")),
    row('[2,"a","Heartbeat",{}]', ("call",), ("call",)),
    row('[2,"a","Heartbeat",{"unexpected":1}]', ("err", F, "a"), ("err", "FormatViolation", "a")),
    row('[2,"a","NoSuchAction",{}]', ("err", "NotImplemented", "a"), ("err", "NotImplemented", "a")),
    row('[2,"a","heartbeat",{}]', ("err", "NotImplemented", "a"), ("err", "NotImplemented", "a")),
    row('[2,"a","HeartbeatRequest",{}]', ("err", "NotImplemented", "a"), ("err", "NotImplemented", "a")),
    row('[2,"a","Reset",{"type":"Hard"}]', ("err", "NotSupported", "a"), ("err", "NotSupported", "a")),
    row('[2,"a","BootNotification",{}]', ("err", O16, "a"), ("err", "OccurrenceConstraintViolation", "a")),
    row(f'[2,"a","BootNotification",{BOOT}]', ("err", F, "a"), ("call",)),
    row(f'[2,"a","BootNotification",{BOOT16}]', ("call",), ("err", "FormatViolation", "a")),
    row('[2,"a","BootNotification",{"chargePointModel":1,"chargePointVendor":"V"}]', ("err", "TypeConstraintViolation", "a"), ("err", "FormatViolation", "a")),
    row('[2,"a","BootNotification",{"chargePointModel":"' + "M" * 21 + '","chargePointVendor":"V"}]', ("err", "PropertyConstraintViolation", "a"), ("err", "FormatViolation", "a")),
    row('[2,"a","StatusNotification",{"connectorId":1.0,"errorCode":"NoError","status":"Available"}]', ("err", "TypeConstraintViolation", "a"), ("err", "FormatViolation", "a")),
    row('[2,"a","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Sleeping"}]', ("err", "PropertyConstraintViolation", "a"), ("err", "FormatViolation", "a")),
    row('[2,"a","StatusNotification",{"timestamp":"2024-01-01T00:00:00Z","connectorStatus":"Available","evseId":1.0,"connectorId":1}]', ("err", F, "a"), ("call",)),
    row('[2,"a","StatusNotification",{"timestamp":"2024-01-01T00:00:00","connectorStatus":"Available","evseId":1,"connectorId":1}]', ("err", "PropertyConstraintViolation", "a"), ("err", "PropertyConstraintViolation", "a")),
    row('[2,"a","Heartbeat",{"x":1}]', ("err", F, "a"), ("err", "FormatViolation", "a")),
    row('[3,"nobody",{}]', ("drop", "unknown_reply"), ("drop", "unknown_reply")),
    row('[4,"nobody","GenericError","",{}]', ("drop", "unknown_reply"), ("drop", "unknown_reply")),
    row('[3,"nobody"]', ("drop", "invalid_reply"), ("drop", "invalid_reply")),
    row('[4,"nobody","GenericError"]', ("drop", "invalid_reply"), ("drop", "invalid_reply")),
    row('[4,"nobody","GenericError","",[]]', ("drop", "invalid_reply"), ("drop", "invalid_reply")),
    row('[5,"r","FormatViolation","",{}]', ("drop", "unknown_message_type"), ("err", "MessageTypeNotSupported", "r"), ("result_rejected",)),
    row('[6,"s","NotifyPeriodicEventStream",{}]', ("drop", "unknown_message_type"), ("err", "MessageTypeNotSupported", "s"), ("drop", "invalid_send")),
    row('[6,"s","Heartbeat",{}]', ("drop", "unknown_message_type"), ("err", "MessageTypeNotSupported", "s"), ("drop", "invalid_send")),
    row('[7,"x","Heartbeat",{}]', ("drop", "unknown_message_type"), ("err", "MessageTypeNotSupported", "x"), ("drop", "unknown_message_type")),
    row('[99]', ("drop", "unknown_message_type"), ("err", "MessageTypeNotSupported", "-1"), ("drop", "unknown_message_type")),
    row('[0,"x"]', ("drop", "unknown_message_type"), ("err", "MessageTypeNotSupported", "x"), ("drop", "unknown_message_type")),
    row('[2,"a","NotifyPeriodicEventStream",{}]', ("err", "NotImplemented", "a"), ("err", "NotImplemented", "a"), ("err", "ProtocolError", "a")),
    row('  [2 , "a" , "Heartbeat" , { } ]  ', ("call",), ("call",)),
    row('[2,"a","Heartbeat",{}]garbage', ("err", F, "-1"), ("err", "RpcFrameworkError", "-1")),
    row('[2,"\\u00e9\\ud83d\\udd0c","Heartbeat",{}]', ("call",), ("call",)),
]

IDS = [f"{i:02d}:{frame[:40]}" for i, (frame, _) in enumerate(ROWS)]


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
@pytest.mark.parametrize(("frame", "expected"), ROWS, ids=IDS)
def test_hostile_frame(version: str, frame: str, expected: dict[str, tuple[Any, ...]]) -> None:
    csms = make(version, Role.CSMS)
    events = csms.receive(frame, 0)
    sent = csms.data_to_send()
    want = expected[version]
    if want[0] == "err":
        assert [type(e) for e in events] == [Rejected], events
        [answer] = sent
        parsed = json.loads(answer)
        assert parsed[0] == 4 and parsed[1] == want[2] and parsed[2] == want[1], parsed
        assert len(parsed) == 5 and isinstance(parsed[3], str) and len(parsed[3]) <= 255 and parsed[4] == {}
    elif want[0] == "rerr":
        assert [(type(e), e.frame_type) for e in events] == [(Rejected, 5)], events  # type: ignore[attr-defined]
        [answer] = sent
        assert json.loads(answer)[:3] == [5, want[2], want[1]]
    elif want[0] == "drop":
        assert [(type(e), e.reason) for e in events] == [(Dropped, want[1])]
        assert sent == []
    elif want[0] == "call":
        assert [type(e) for e in events] == [CallReceived] and sent == []
    else:
        assert [type(e).__name__ for e in events] == ["ResultRejected"] and sent == []


def test_the_connection_stays_usable_after_every_hostile_frame() -> None:
    for version in ("1.6", "2.0.1", "2.1"):
        csms = make(version, Role.CSMS)
        for frame, _ in ROWS:
            for event in csms.receive(frame, 0):
                if isinstance(event, CallReceived):  # answer valid CALLs, as a connection would
                    csms.respond_error(event.message_id, "GenericError", "test")
            csms.data_to_send()
        [event] = csms.receive('[2,"final","Heartbeat",{}]', 0)
        assert isinstance(event, CallReceived)
