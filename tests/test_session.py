"""Sessions and the rules that outlive a connection, sans-I/O: the registration rules of both
roles in both directions per version (2.x B01-B03, 1.6 section 4.2), the 2.1 answer cache,
handler deadlines, the bad-message limit and the error-code table."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from ocppgen.generated.runtime.codes import CODES, Failure, code_for
from ocppgen.generated.runtime.errors import NotAllowed
from ocppgen.generated.runtime.events import (
    Answered,
    CallCompleted,
    CallReceived,
    CloseRequested,
    Dropped,
    HandlerTimedOut,
    RegistrationChanged,
    Rejected,
)
from ocppgen.generated.runtime.protocol import OcppProtocol
from ocppgen.generated.runtime.registry import SqliteSessionStore
from ocppgen.generated.runtime.routing import Role
from ocppgen.generated.runtime.session import Registration, Session, SessionState, canonical_identity
from ocppgen.generated.v16 import datatypes as d16, enums as e16, messages as m16, routing as r16
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201, routing as r201
from ocppgen.generated.v21 import datatypes as d21, enums as e21, messages as m21, routing as r21
from tests.helpers import NOW
from tests.protocol_helpers import MODULES, Ids, deliver

V = {"1.6": (m16, e16, d16, r16), "2.0.1": (m201, e201, d201, r201), "2.1": (m21, e21, d21, r21)}
ALL = ["1.6", "2.0.1", "2.1"]


def core(version: str, role: Role, session: Session, **kwargs: Any) -> OcppProtocol:
    routing, csms, station = MODULES[version]
    handled = csms.HANDLED if role is Role.CSMS else station.HANDLED
    kwargs.setdefault("id_factory", Ids("csms-" if role is Role.CSMS else "cs-"))
    return OcppProtocol(version=version, role=role, routes=routing.ROUTES, handled=handled, session=session, **kwargs)


class Link:
    """A CSMS and a station, each with its session, and a way to reconnect them."""

    def __init__(self, version: str, **csms_session: Any) -> None:
        self.version = version
        self.csms_session = Session("CS-1", Role.CSMS, **csms_session)
        self.station_session = Session("CS-1", Role.CHARGING_STATION)
        self.connect()

    def connect(self) -> None:
        self.csms = core(self.version, Role.CSMS, self.csms_session)
        self.station = core(self.version, Role.CHARGING_STATION, self.station_session)
        for session, proto in ((self.csms_session, self.csms), (self.station_session, self.station)):
            session.attach(proto, self.version)  # type: ignore[arg-type]

    def boot(self, status: str, interval: int = 60, now: float = 0) -> list[Any]:
        """The station boots, the CSMS answers ``status``; the station's events."""
        m, e, d, r = V[self.version]
        if self.version == "1.6":
            request: Any = m.BootNotificationRequest(charge_point_model="M", charge_point_vendor="V")
            response: Any = m.BootNotificationResponse(current_time=NOW, interval=interval, status=e.RegistrationStatus(status))
        else:
            request = m.BootNotificationRequest(reason=e.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="M", vendor_name="V"))
            response = m.BootNotificationResponse(current_time=NOW, interval=interval, status=e.RegistrationStatusEnumType(status))
        mid = self.station.call(r.BOOT_NOTIFICATION, request, now)
        [received] = deliver(self.station, self.csms, now)
        assert isinstance(received, CallReceived)
        changed = self.csms.respond(mid, response)
        assert changed == [RegistrationChanged(registration=status)]
        return deliver(self.csms, self.station, now)

    def raw_call(self, action: str, payload: dict[str, Any], mid: str = "x1") -> list[Any]:
        """A CALL from the station that bypasses its own gate (a misbehaving station)."""
        return self.csms.receive(json.dumps([2, mid, action, payload]), 0)

    def raw_call_to_station(self, action: str, payload: dict[str, Any], mid: str = "y1") -> list[Any]:
        return self.station.receive(json.dumps([2, mid, action, payload]), 0)


def heartbeat(version: str) -> tuple[Any, Any]:
    m, _, _, r = V[version]
    return r.HEARTBEAT, m.HeartbeatRequest()


def status_payload(version: str) -> dict[str, Any]:
    if version == "1.6":
        return {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    return {"timestamp": "2024-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 1, "connectorId": 1}


# -- the CSMS receiving ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_csms_refuses_calls_while_pending_except_boot_and_what_it_triggered(version: str) -> None:
    """2.x B01.FR.10, B02.FR.09; 1.6 section 4.2 (Pending: only what a TriggerMessage asked for)."""
    link = Link(version)
    [completed, changed] = link.boot("Pending")
    assert isinstance(completed, CallCompleted) and changed == RegistrationChanged(registration="Pending")
    [rejected] = link.raw_call("StatusNotification", status_payload(version))
    assert isinstance(rejected, Rejected) and rejected.code == "SecurityError"
    assert "B02.FR.09" in rejected.description or "1.6 section 4.2" in rejected.description
    m, e, _, r = V[version]
    trigger = m.TriggerMessageRequest(requested_message=(e.MessageTrigger if version == "1.6" else e.MessageTriggerEnumType).StatusNotification)
    mid = link.csms.call(r.TRIGGER_MESSAGE, trigger, 0)
    deliver(link.csms, link.station)
    status = (e.TriggerMessageStatus if version == "1.6" else e.TriggerMessageStatusEnumType).Accepted
    link.station.respond(mid, m.TriggerMessageResponse(status=status))
    deliver(link.station, link.csms)
    [received] = link.raw_call("StatusNotification", status_payload(version), "x2")  # asked for: it passes
    assert isinstance(received, CallReceived)
    [still] = link.raw_call("Heartbeat", {}, "x3")
    assert isinstance(still, Rejected) and still.code == "SecurityError"
    [boot] = link.raw_call("BootNotification", {"chargePointModel": "M", "chargePointVendor": "V"} if version == "1.6" else {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}, "x4")
    assert isinstance(boot, CallReceived)  # BootNotification always passes


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_notify_report_passes_after_an_accepted_get_base_report(version: str) -> None:
    """2.x B02.FR.02: GetBaseReport / GetReport instruct the station to send NotifyReport."""
    link = Link(version)
    link.boot("Pending")
    m, e, _, r = V[version]
    mid = link.csms.call(r.GET_BASE_REPORT, m.GetBaseReportRequest(request_id=1, report_base=e.ReportBaseEnumType.FullInventory), 0)
    deliver(link.csms, link.station)
    link.station.respond(mid, m.GetBaseReportResponse(status=e.GenericDeviceModelStatusEnumType.Accepted))
    deliver(link.station, link.csms)
    notify = {"requestId": 1, "generatedAt": "2024-01-01T00:00:00Z", "seqNo": 0}
    [received] = link.raw_call("NotifyReport", notify)
    assert isinstance(received, CallReceived)


@pytest.mark.parametrize("version", ALL)
def test_csms_refuses_everything_but_boot_after_rejected(version: str) -> None:
    """2.x B03.FR.07; 1.6 section 4.2."""
    link = Link(version)
    link.boot("Rejected")
    [rejected] = link.raw_call("Heartbeat", {})
    assert isinstance(rejected, Rejected) and rejected.code == "SecurityError"


@pytest.mark.parametrize("version", ALL)
def test_a_station_whose_registration_is_unknown_is_accepted_by_default_or_refused_by_option(version: str) -> None:
    link = Link(version)  # no BootNotification answered: e.g. the CSMS restarted and forgot it
    assert link.csms_session.registration is Registration.UNKNOWN
    [received] = link.raw_call("Heartbeat", {})
    assert isinstance(received, CallReceived)
    strict = Link(version, unknown_registration="refuse")
    [rejected] = strict.raw_call("Heartbeat", {})
    assert isinstance(rejected, Rejected) and rejected.code == "SecurityError"


def test_gate_switched_off_lets_everything_pass() -> None:
    link = Link("2.0.1", registration_gate=False)
    link.boot("Rejected")
    [received] = link.raw_call("Heartbeat", {})
    assert isinstance(received, CallReceived)


# -- the CSMS sending -----------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_csms_initiates_nothing_towards_a_rejected_station(version: str) -> None:
    """2.x B03.FR.03; 1.6 section 4.2: the Central System SHOULD NOT initiate any."""
    link = Link(version)
    link.boot("Rejected")
    m, e, _, r = V[version]
    reset = m.ResetRequest(type=(e.ResetType.Soft if version == "1.6" else e.ResetEnumType.Immediate))
    with pytest.raises(NotAllowed, match="B03.FR.03" if version != "1.6" else "1.6 section 4.2"):
        link.csms.call(r.RESET, reset, 0)
    assert link.csms.data_to_send() == []


@pytest.mark.parametrize("version", ALL)
def test_csms_accepts_a_station_before_remote_start_or_stop(version: str) -> None:
    """2.x B02.FR.05; 1.6 section 4.2 (no RemoteStart/RemoteStopTransaction while Pending)."""
    link = Link(version)
    link.boot("Pending")
    m, e, d, r = V[version]
    if version == "1.6":
        start: Any = (r.REMOTE_START_TRANSACTION, m.RemoteStartTransactionRequest(id_tag="T"))
        stop: Any = (r.REMOTE_STOP_TRANSACTION, m.RemoteStopTransactionRequest(transaction_id=1))
        allowed: Any = (r.GET_CONFIGURATION, m.GetConfigurationRequest())
    else:
        token = d.IdTokenType(id_token="T", type=e.IdTokenEnumType.ISO14443 if version == "2.0.1" else "ISO14443")
        start = (r.REQUEST_START_TRANSACTION, m.RequestStartTransactionRequest(id_token=token, remote_start_id=1))
        stop = (r.REQUEST_STOP_TRANSACTION, m.RequestStopTransactionRequest(transaction_id="t"))
        allowed = (r.GET_BASE_REPORT, m.GetBaseReportRequest(request_id=1, report_base=e.ReportBaseEnumType.FullInventory))
    for route, request in (start, stop):
        with pytest.raises(NotAllowed, match="accept it first"):
            link.csms.call(route, request, 0)
    link.csms.call(*allowed, 0)  # B02.FR.01: reading or setting configuration is what Pending is for
    link.boot("Accepted", now=60)  # after the Pending answer's interval (B02.FR.04)
    link.csms.call(*start, 0)  # queued behind the outstanding one: accepted now


# -- the station sending --------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_station_sends_only_boot_until_accepted_and_what_it_was_asked_for(version: str) -> None:
    """2.x B01.FR.08, B02.FR.02; 1.6 section 4.2."""
    link = Link(version)
    route, request = heartbeat(version)
    with pytest.raises(NotAllowed, match="before the CSMS accepted"):
        link.station.call(route, request, 0)  # not booted yet
    link.boot("Pending", interval=0)
    with pytest.raises(NotAllowed):
        link.station.call(route, request, 0)
    [received] = link.raw_call_to_station(
        "TriggerMessage", {"requestedMessage": "Heartbeat"}
    )
    m, e, _, r = V[version]
    status = (e.TriggerMessageStatus if version == "1.6" else e.TriggerMessageStatusEnumType)
    link.station.respond(received.message_id, m.TriggerMessageResponse(status=status.Rejected))
    with pytest.raises(NotAllowed):  # Rejected: the station said it will not send it
        link.station.call(route, request, 0)
    [received] = link.raw_call_to_station("TriggerMessage", {"requestedMessage": "Heartbeat"}, "y2")
    link.station.respond(received.message_id, m.TriggerMessageResponse(status=status.Accepted))
    link.station.call(route, request, 0)  # F06.FR.05: Accepted means the message follows
    link.station.data_to_send()


@pytest.mark.parametrize(("version", "status", "rule"), [("2.0.1", "Pending", "B02.FR.04"), ("2.1", "Rejected", "B03.FR.02"), ("1.6", "Pending", "1.6 section 4.2")])
def test_station_waits_the_interval_before_booting_again(version: str, status: str, rule: str) -> None:
    link = Link(version)
    link.boot(status, interval=300, now=100)
    m, e, d, r = V[version]
    request = m.BootNotificationRequest(charge_point_model="M", charge_point_vendor="V") if version == "1.6" else m.BootNotificationRequest(reason=e.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="M", vendor_name="V"))
    with pytest.raises(NotAllowed, match=rule):
        link.station.call(r.BOOT_NOTIFICATION, request, 399)
    link.station.call(r.BOOT_NOTIFICATION, request, 400)


def test_a_triggered_boot_may_come_before_the_interval() -> None:
    link = Link("2.0.1")
    link.boot("Pending", interval=300, now=0)
    [received] = link.raw_call_to_station("TriggerMessage", {"requestedMessage": "BootNotification"})
    link.station.respond(received.message_id, m201.TriggerMessageResponse(status=e201.TriggerMessageStatusEnumType.Accepted))
    request = m201.BootNotificationRequest(reason=e201.BootReasonEnumType.Triggered, charging_station=d201.ChargingStationType(model="M", vendor_name="V"))
    link.station.call(r201.BOOT_NOTIFICATION, request, 1)


# -- the station receiving ------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_station_answers_remote_start_rejected_while_pending_without_the_handler(version: str) -> None:
    """2.x B02.FR.05 (and 1.6 section 4.2's rule, seen from the station)."""
    link = Link(version)
    link.boot("Pending")
    if version == "1.6":
        action, payload = "RemoteStartTransaction", {"idTag": "T"}
    else:
        action, payload = "RequestStartTransaction", {"idToken": {"idToken": "T", "type": "ISO14443"}, "remoteStartId": 1}
    [answered] = link.raw_call_to_station(action, payload)
    assert isinstance(answered, Answered) and answered.reason == "registration"
    assert json.loads(link.station.data_to_send()[0]) == [3, "y1", {"status": "Rejected"}]


@pytest.mark.parametrize(("version", "answer"), [("2.0.1", "SecurityError"), ("2.1", "SecurityError"), ("1.6", None)])
def test_a_rejected_station_answers_security_error_on_2x_and_nothing_on_1_6(version: str, answer: str | None) -> None:
    """2.x B03.FR.08; 1.6 section 4.2: while Rejected the Charge Point SHALL NOT respond."""
    link = Link(version)
    link.boot("Rejected")
    [event] = link.raw_call_to_station("Reset", {"type": "Soft"} if version == "1.6" else {"type": "Immediate"})
    sent = link.station.data_to_send()
    if answer is None:
        assert isinstance(event, Dropped) and event.reason == "not_registered" and sent == []
    else:
        assert isinstance(event, Rejected) and json.loads(sent[0])[2] == answer


# -- across connections ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_the_registration_survives_a_reconnect_on_both_sides(version: str) -> None:
    link = Link(version)
    link.boot("Accepted")
    link.connect()  # a new connection for the same sessions, no new boot
    route, request = heartbeat(version)
    mid = link.station.call(route, request, 0)  # the station's gate is open
    [received] = deliver(link.station, link.csms)
    assert isinstance(received, CallReceived) and received.message_id == mid  # and the CSMS's


def test_a_station_that_returns_with_another_version_must_boot_again() -> None:
    session = Session("CS-1", Role.CSMS)
    session.attach(object(), "2.0.1")  # type: ignore[arg-type]
    session.registration = Registration.ACCEPTED
    session.remember_answer("Heartbeat", "a", b"{}")
    session.attach(object(), "1.6")  # type: ignore[arg-type]
    assert session.registration is Registration.UNKNOWN and not session.answers


def test_the_2_1_answer_cache_answers_a_retry_without_the_handler_across_connections() -> None:
    """Part 4 2.1 section 4.1.4: a retry may reuse the message id of the original CALL."""
    link = Link("2.1")
    link.boot("Accepted")
    event = m21.TransactionEventRequest(
        event_type=e21.TransactionEventEnumType.Updated, timestamp=NOW, trigger_reason=e21.TriggerReasonEnumType.MeterValuePeriodic,
        seq_no=1, transaction_info=d21.TransactionType(transaction_id="T"),
    )
    mid = link.station.call(r21.TRANSACTION_EVENT, event, 0)
    [received] = deliver(link.station, link.csms)
    link.csms.respond(mid, m21.TransactionEventResponse(total_cost=1.5))
    link.connect()  # the answer was lost with the connection; the station retries with the same id
    link.station.call(r21.TRANSACTION_EVENT, event, 0, message_id=mid)
    [answered] = deliver(link.station, link.csms)
    assert isinstance(answered, Answered) and answered.reason == "cache"
    [completed] = deliver(link.csms, link.station)
    assert isinstance(completed, CallCompleted) and completed.response.total_cost == 1.5


def test_no_answer_cache_before_2_1() -> None:
    link = Link("2.0.1")
    link.boot("Accepted")
    link.raw_call("Heartbeat", {}, "same")
    link.csms.respond("same", m201.HeartbeatResponse(current_time=NOW))
    [again] = link.raw_call("Heartbeat", {}, "same")
    assert isinstance(again, CallReceived)


def test_session_state_round_trips_through_a_sqlite_store(tmp_path: Path) -> None:
    session = Session("CS-1", Role.CSMS)
    session.attach(object(), "2.1")  # type: ignore[arg-type]
    session.registration = Registration.PENDING
    session.triggered.add("StatusNotification")
    session.remember_answer("Heartbeat", "a", b'{"currentTime":"2024-01-01T00:00:00Z"}')
    store = SqliteSessionStore(str(tmp_path / "sessions.sqlite"))

    async def cycle() -> SessionState | None:
        await store.save(session.key, session.snapshot())
        reopened = SqliteSessionStore(str(tmp_path / "sessions.sqlite"))
        return await reopened.load("cs-1")

    state = asyncio.run(cycle())
    assert state is not None
    restored = Session("cs-1", Role.CSMS)
    restored.restore(state)
    assert (restored.version, restored.registration, restored.triggered) == ("2.1", Registration.PENDING, {"StatusNotification"})
    assert restored.cached_answer("Heartbeat", "a") == b'{"currentTime":"2024-01-01T00:00:00Z"}'


def test_identities_compare_case_insensitively() -> None:
    assert canonical_identity("CS-1") == canonical_identity("cs-1") == Session("Cs-1", Role.CSMS).key


# -- deadlines and limits in the core -------------------------------------------------------


def test_a_handler_that_misses_its_deadline_is_answered_internal_error_by_the_core() -> None:
    link = Link("2.0.1")
    link.csms = core("2.0.1", Role.CSMS, link.csms_session, handler_timeout=5)
    link.csms.receive('[2,"a","Heartbeat",{}]', 10)
    link.csms.receive('[2,"b","Heartbeat",{}]', 12)
    assert link.csms.next_deadline() == 15
    [timed_out] = link.csms.handle_timeout(15)
    assert timed_out == HandlerTimedOut(message_id="a", action="Heartbeat", timeout=5)
    assert json.loads(link.csms.data_to_send()[0])[:3] == [4, "a", "InternalError"]
    assert link.csms.respond("a", m201.HeartbeatResponse(current_time=NOW)) == []  # too late: nothing more
    assert link.csms.data_to_send() == []
    assert link.csms.next_deadline() == 17
    link.csms.respond("b", m201.HeartbeatResponse(current_time=NOW))
    assert json.loads(link.csms.data_to_send()[0])[:2] == [3, "b"] and link.csms.next_deadline() is None


def test_the_bad_message_limit_asks_once_to_close() -> None:
    csms = core("2.0.1", Role.CSMS, Session("CS-1", Role.CSMS), max_bad_messages=2)
    events = [e for i in range(4) for e in csms.receive("not json", 0)]
    assert [e for e in events if isinstance(e, CloseRequested)] == [CloseRequested(code=1008, reason="more than 2 invalid messages")]
    assert csms.bad_messages == 4


# -- one table of error codes ---------------------------------------------------------------


def test_every_failure_has_a_code_of_each_versions_own_set() -> None:
    for version in ALL:
        for failure in Failure:
            assert code_for(failure, version) in CODES[version], (failure, version)
    assert code_for(Failure.UNKNOWN_PROPERTY, "1.6") == "FormationViolation"  # OCA's spelling (OCPP-J 1.6 4.2.3)
    assert code_for(Failure.OCCURRENCE, "1.6") == "OccurenceConstraintViolation"
    assert code_for(Failure.NOT_REGISTERED, "2.0.1") == "SecurityError"
    assert code_for(Failure.DUPLICATE_ID, "2.1") == "RpcFrameworkError" and code_for(Failure.DUPLICATE_ID, "1.6") == "GenericError"


def test_no_module_but_codes_spells_an_error_code() -> None:
    """Every path takes its code from codes.code_for: no runtime module names a wire code."""
    from tests.conftest import ROOT

    spelled = {"FormationViolation", "FormatViolation", "RpcFrameworkError", "OccurenceConstraintViolation",
               "OccurrenceConstraintViolation", "TypeConstraintViolation", "PropertyConstraintViolation", "SecurityError",
               "InternalError", "NotImplemented\"", "NotSupported\"", "GenericError", "MessageTypeNotSupported"}
    # response statuses and reason codes that share an error code's spelling (GetBaseReport and
    # ChangeConfiguration answer NotSupported; InternalError is a Part 2 appendix reason code)
    not_codes = {"device_model.py": {"NotSupported\"", "InternalError"}, "configuration_store.py": {"NotSupported\""}}
    for path in (ROOT / "runtime").glob("*.py"):
        if path.name in ("codes.py", "errors.py"):
            continue
        text = path.read_text()
        found = {code for code in spelled if f'"{code}' in text} - not_codes.get(path.name, set())
        assert not found, f"{path.name} spells {found}"
