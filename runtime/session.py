"""Sessions: what one station's link keeps across WebSocket connections (sans-I/O).

Theory of operation
-------------------
A ``Session`` belongs to one station identity and one side of the link: the CSMS keeps one per
station (in its registry), a station keeps one for its CSMS (in its client). It outlives every
single connection: when a station reconnects, its new connection is attached to the same
session, so its registration, its 2.1 answer cache and the application's per-station state
carry over (Part 4 2.0.1 section 5.3, 2.1 section 5.4, OCPP-J 1.6 section 5.4: a station that
reconnects SHOULD NOT boot again).

Registration rules (the protocol core asks the session before it lets a CALL through, in both
directions; nothing here does I/O or reads a clock: every input that needs time takes ``now``):

CSMS receiving (``inbound`` on the CSMS side):
    Pending: only BootNotification and what the CSMS asked for with TriggerMessage (and, on
    2.x, NotifyReport after GetBaseReport / GetReport) pass; anything else is answered
    SecurityError (2.x B01.FR.10, B02.FR.09; 1.6 section 4.2). Rejected: only BootNotification
    (2.x B03.FR.07; 1.6 section 4.2). Unknown (no answered BootNotification remembered): as
    ``unknown_registration`` says, see docs/decisions/0008-sessions.md.
CSMS sending (``outbound`` on the CSMS side):
    Rejected: nothing (2.x B03.FR.03; 1.6 section 4.2: SHOULD NOT initiate any). Pending: no
    RequestStart/RequestStopTransaction (2.x B02.FR.05: accept the station first), no
    RemoteStart/RemoteStopTransaction (1.6 section 4.2).
Station sending (``outbound`` on the station side):
    Until Accepted: only BootNotification and what the CSMS asked for (2.x B01.FR.08, B02.FR.02;
    1.6 section 4.2), and after a Pending or Rejected answer no BootNotification before its
    interval has passed unless triggered (2.x B02.FR.04, B03.FR.02; 1.6 section 4.2).
Station receiving (``inbound`` on the station side):
    Pending: RequestStart/RequestStopTransaction (1.6 RemoteStart/RemoteStop) are answered
    Rejected without reaching the handler (2.x B02.FR.05). Rejected: every CALL is answered
    SecurityError on 2.x (B03.FR.08) and not answered at all on 1.6 (section 4.2).

A station's registration lives only as long as its process: after a restart it boots again
(1.6 section 4.2, 2.x B01.FR.03), so the station side never persists it. The CSMS side may
persist it (``SessionState``, see the registry's session store).
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

import msgspec

from .errors import NotConnected, VersionMismatch
from .routing import Role

if TYPE_CHECKING:
    from .routing import Caller, Route, RoleBinding

__all__ = ["Registration", "Session", "SessionState", "Verdict", "canonical_identity"]

C = TypeVar("C")
Req = TypeVar("Req")
Res = TypeVar("Res")


def canonical_identity(identity: str) -> str:
    """The form under which ``identity`` is compared: identifierString is case-insensitive
    (2.x Part 2 primitive datatypes), so ``CS-1`` and ``cs-1`` are one station."""
    key = identity.casefold()
    return identity if key == identity else key  # the same text: no second string per station


class Registration(enum.Enum):
    """Where a station stands with its CSMS (the status of the last answered BootNotification)."""

    UNKNOWN = "Unknown"
    PENDING = "Pending"
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class Verdict(NamedTuple):
    """The session's ruling on an inbound CALL that may not reach the handler.

    ``kind``: ``refuse``: answer CALLERROR SecurityError; ``answer``: answer with ``payload``
    (a canned response); ``ignore``: do not answer at all. ``detail``: the rule, in words.
    """

    kind: Literal["refuse", "answer", "ignore"]
    detail: str
    payload: bytes | None = None


class SessionState(msgspec.Struct, kw_only=True):
    """What a CSMS may persist of a session: enough to serve a reconnect without a new boot.

    Attributes:
        identity: The station identity, as it presented itself.
        version: The OCPP version it last spoke.
        registration: The ``Registration`` value (``"Accepted"``, ...).
        triggered: Actions the CSMS asked a not yet accepted station to send.
        answers: The 2.1 answer cache: (action, message id, response payload).
        security_floor: The highest security profile the station connected with (A05.FR.07).
    """

    identity: str
    version: str | None = None
    registration: str = Registration.UNKNOWN.value
    triggered: list[str] = []
    answers: list[tuple[str, str, bytes]] = []  # 2.1 answer cache: action, message id, payload
    security_floor: int = 0  # the highest security profile the station connected with (A05.FR.07)


# requestedMessage of TriggerMessage / ExtendedTriggerMessage -> the action it asks for
_TRIGGERED: dict[str, str] = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignV2G20Certificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
    "SignChargePointCertificate": "SignCertificate",
}
_TRIGGERS = frozenset({"TriggerMessage", "ExtendedTriggerMessage"})
_REPORTS = frozenset({"GetBaseReport", "GetReport"})  # 2.x B02.FR.02: NotifyReport may follow
_REMOTE_2X = frozenset({"RequestStartTransaction", "RequestStopTransaction"})
_REMOTE_16 = frozenset({"RemoteStartTransaction", "RemoteStopTransaction"})
_REJECTED_PAYLOAD = b'{"status":"Rejected"}'


def _status(response: object) -> str | None:
    status = getattr(response, "status", None)
    if status is None:
        return None
    return str(getattr(status, "value", status))


class Session:
    """One station identity's state on one side of the link, across its connections.

    Application code meets sessions through the registry (CSMS side) and ``StationClient``
    (station side): ``identity``, ``version``, ``registration``, ``connected``, ``state`` (a
    dict for the application's own per-station data) and ``client(binding)``, the typed client
    of the peer, which sends over whatever connection is current.

    The runtime makes sessions (the registry on the CSMS, ``StationClient`` on a station).

    Args:
        identity: The station identity.
        role: The side of the link this session is on.
        registration_gate: Enforce the registration rules (``Options.registration_gate``).
        unknown_registration: CSMS side: ``accept`` or ``refuse`` CALLs of a station whose
            registration is unknown (``ServerOptions.unknown_registration``).
        answer_cache_size: 2.1: answers kept for retries that reuse a message id.
    """

    # one per station: slots instead of an instance dict (memory per idle station, issue 14);
    # the application keeps its own per-station data in ``state``
    __slots__ = (
        "identity", "key", "role", "registration_gate", "unknown_registration", "version", "registration",
        "boot_not_before", "_triggered", "_answers", "answer_cache_size", "_state", "handler", "remote_address",
        "security_floor", "allow_downgrade", "certificate_serial", "on_answer", "_link", "_clients",
    )

    def __init__(
        self,
        identity: str,
        role: Role,
        *,
        registration_gate: bool = True,
        unknown_registration: Literal["accept", "refuse"] = "accept",
        answer_cache_size: int = 64,
    ) -> None:
        self.identity = identity
        self.key = canonical_identity(identity)
        self.role = role
        self.registration_gate = registration_gate
        self.unknown_registration = unknown_registration
        self.version: str | None = None
        self.registration = Registration.UNKNOWN
        self.boot_not_before: float | None = None  # station side: B02.FR.04 / B03.FR.02
        # triggered, answers, state and the clients are made on first use: most stations never
        # need some of them, and empty containers cost 64-216 bytes each per station
        self._triggered: set[str] | None = None
        self._answers: OrderedDict[tuple[str, str], bytes] | None = None
        self.answer_cache_size = answer_cache_size
        self._state: dict[str, object] | None = None
        #: The handler serving this station (per-station handlers come from a factory).
        self.handler: object | None = None
        self.remote_address: object = None
        #: The highest security profile this station has connected with: the CSMS refuses it
        #: at a lower one (2.x A05.FR.07; 1.6 whitepaper A05.FR.09).
        self.security_floor = 0
        #: 2.1: the station may come back at profile 2 after profile 3 (its
        #: AllowSecurityProfileDowngrade is true, A05.FR.08-10); never to profile 1.
        self.allow_downgrade = False
        #: Profile 3 with ``certificate_binding="serial_number"``: the client certificate's CN,
        #: which every BootNotification's serial number must equal (B01.FR.11/12).
        self.certificate_serial: str | None = None
        #: Called after the 2.1 answer cache changed (a cluster registry shares it at once).
        self.on_answer: Callable[[Session], None] | None = None
        self._link: Caller | None = None
        self._clients: dict[int, object] | None = None

    def __repr__(self) -> str:
        link = "connected" if self._link is not None else "not connected"
        return f"Session({self.identity!r}, {self.version}, {self.registration.value}, {link})"

    # -- state made on first use -----------------------------------------------------------

    @property
    def triggered(self) -> set[str]:
        """Actions the CSMS asked for (TriggerMessage, a report) that the registration rules let
        through before the station is Accepted."""
        if self._triggered is None:
            self._triggered = set()
        return self._triggered

    @triggered.setter
    def triggered(self, actions: set[str]) -> None:
        self._triggered = actions

    @property
    def answers(self) -> OrderedDict[tuple[str, str], bytes]:
        """2.1: our answers kept for retries that reuse a message id, (action, message id) ->
        CALLRESULT payload, oldest first."""
        if self._answers is None:
            self._answers = OrderedDict()
        return self._answers

    @answers.setter
    def answers(self, answers: OrderedDict[tuple[str, str], bytes]) -> None:
        self._answers = answers

    @property
    def state(self) -> dict[str, object]:
        """The application's own per-station data; kept across reconnects."""
        if self._state is None:
            self._state = {}
        return self._state

    @state.setter
    def state(self, state: dict[str, object]) -> None:
        self._state = state

    def _is_triggered(self, action: str) -> bool:
        return self._triggered is not None and action in self._triggered

    # -- connections ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a connection is attached now."""
        return self._link is not None

    @property
    def registered(self) -> bool:
        """Whether the last BootNotification was Accepted."""
        return self.registration is Registration.ACCEPTED

    def attach(self, link: Caller, version: str) -> None:
        """A connection (``link``) speaking ``version`` now carries this session. A station that comes
        back with another OCPP version (new firmware) starts unregistered."""
        if self.version is not None and version != self.version:
            self.registration = Registration.UNKNOWN
            if self._triggered:
                self._triggered.clear()
            if self._answers:
                self._answers.clear()
            self.handler = None
            if self._clients:
                self._clients.clear()
        self.version = version
        self._link = link

    def detach(self, link: Caller) -> None:
        """The connection ``link`` ended (does nothing if another one replaced it already)."""
        if self._link is link:
            self._link = None

    @property
    def link(self) -> Caller | None:
        """The current connection, or None."""
        return self._link

    # -- the typed client -----------------------------------------------------------------

    def client(self, binding: RoleBinding[Any, C]) -> C:
        """The typed client of the peer for ``binding`` (e.g. ``v201.csms.BINDING`` gives a
        ``ChargingStationClient``). Raises VersionMismatch when the peer speaks another
        version or the binding is for the other role."""
        if binding.role is not self.role:
            raise VersionMismatch(f"{binding.role.value} binding used on the {self.role.value} side of {self.identity}")
        if self.version is not None and binding.version != self.version:
            raise VersionMismatch(f"{self.identity} speaks OCPP {self.version}, not {binding.version}")
        clients = self._clients
        if clients is None:
            clients = self._clients = {}
        found = clients.get(id(binding))
        if found is None:
            found = clients[id(binding)] = binding.peer_client(self)
        return found  # type: ignore[return-value]

    def try_client(self, binding: RoleBinding[Any, C]) -> C | None:
        """The typed client if the peer speaks ``binding``'s version, else None (branch on it)."""
        if binding.role is not self.role or (self.version is not None and binding.version != self.version):
            return None
        return self.client(binding)

    async def call(self, route: Route[Req, Res], request: Req, timeout: float | None) -> Res:
        """Send ``request`` as a CALL of ``route`` over the current connection (``Caller``),
        waiting up to ``timeout`` seconds (None: the link's default); NotConnected if there is
        none."""
        link = self._link
        if link is None:
            raise NotConnected("-", route.action, f"{self.identity} is not connected")
        return await link.call(route, request, timeout)

    async def send(self, route: Route[Req, Any], message: Req) -> None:
        """Send ``message`` as a SEND of ``route`` (2.1) over the current connection;
        NotConnected if there is none."""
        link = self._link
        if link is None:
            raise NotConnected("-", route.action, f"{self.identity} is not connected")
        await link.send(route, message)

    # -- the rules (called by the protocol core) -------------------------------------------

    def boot_check(self, request: object) -> str | None:
        """B01.FR.11/12: with profile 3 the serial number of the BootNotification ``request``
        must be the one in
        the certificate's CN; returns why not, or None."""
        serial = self.certificate_serial
        if serial is None:
            return None
        station = getattr(request, "charging_station", None)
        found = getattr(station, "serial_number", None) if station is not None else getattr(request, "charge_point_serial_number", None)
        if isinstance(found, str) and found == serial:
            return None
        shown = found if isinstance(found, str) else "none"
        return f"BootNotification serial number {shown!r} is not the certificate's {serial!r} (B01.FR.12)"

    def allows_profile(self, profile: int) -> bool:
        """Whether a connection at ``profile`` may be accepted (A05.FR.07; 2.1 A05.FR.08-10)."""
        if profile >= self.security_floor:
            return True
        return self.version == "2.1" and self.allow_downgrade and self.security_floor == 3 and profile == 2

    def inbound(self, action: str) -> Verdict | None:
        """May a CALL for ``action`` from the peer reach the handler? None: yes."""
        registration = self.registration
        if registration is Registration.ACCEPTED or not self.registration_gate:
            return None
        if self.role is Role.CSMS:
            if action == "BootNotification":
                return None
            if registration is Registration.UNKNOWN:
                if self.unknown_registration == "accept":
                    return None
                return Verdict("refuse", f"{action} refused: no BootNotification of this station was accepted")
            if registration is Registration.PENDING and self._is_triggered(action):
                return None
            rule = "B02.FR.09" if registration is Registration.PENDING else "B03.FR.07"
            if self.version == "1.6":
                rule = "OCPP 1.6 section 4.2"
            return Verdict("refuse", f"{action} refused: registration is {registration.value} ({rule})")
        # station side
        if registration is Registration.PENDING and action in (_REMOTE_16 if self.version == "1.6" else _REMOTE_2X):
            rule = "OCPP 1.6 section 4.2" if self.version == "1.6" else "B02.FR.05"
            return Verdict("answer", f"{action} answered Rejected while Pending ({rule})", _REJECTED_PAYLOAD)
        if registration is Registration.REJECTED:
            if self.version == "1.6":
                return Verdict("ignore", f"{action} not answered while Rejected (OCPP 1.6 section 4.2)")
            return Verdict("refuse", f"{action} refused: registration is Rejected (B03.FR.08)")
        return None

    def outbound(self, action: str, now: float) -> str | None:
        """May we send a CALL for ``action`` at ``now`` (monotonic seconds)? None: yes; else
        why not (with the rule)."""
        registration = self.registration
        if registration is Registration.ACCEPTED or not self.registration_gate:
            return None
        v16 = self.version == "1.6"
        if self.role is Role.CSMS:
            if registration is Registration.REJECTED:
                rule = "OCPP 1.6 section 4.2" if v16 else "B03.FR.03"
                return f"{self.identity} was Rejected at boot: the CSMS initiates nothing ({rule})"
            if registration is Registration.PENDING and action in (_REMOTE_16 if v16 else _REMOTE_2X):
                rule = "OCPP 1.6 section 4.2" if v16 else "B02.FR.05"
                return f"{action} needs an Accepted station, {self.identity} is Pending: accept it first ({rule})"
            return None
        # station side
        if action == "BootNotification":
            if self.boot_not_before is not None and now < self.boot_not_before and not self._is_triggered(action):
                rule = "OCPP 1.6 section 4.2" if v16 else ("B03.FR.02" if registration is Registration.REJECTED else "B02.FR.04")
                wait = self.boot_not_before - now
                return f"the next BootNotification is due in {wait:.0f} s, the interval of the last answer ({rule})"
            return None
        if registration is not Registration.REJECTED and self._is_triggered(action):
            return None
        if registration is Registration.REJECTED:
            rule = "OCPP 1.6 section 4.2" if v16 else "B03.FR.02"
        else:
            rule = "OCPP 1.6 section 4.2" if v16 else "B01.FR.08, B02.FR.02"
        return f"{action} before the CSMS accepted the BootNotification (registration {registration.value}; {rule})"

    def answered(self, action: str, request: object, response: object) -> bool:
        """We answered the peer's ``action`` CALL (``request``) with ``response``. Returns True
        when the
        registration changed (the CSMS answered a BootNotification)."""
        if self.role is Role.CSMS:
            if action == "BootNotification":
                return self._set_registration(_status(response))
            return False
        self._note_request(action, request, response)
        return False

    def result(self, action: str, request: object, response: object, now: float) -> bool:
        """Our ``action`` CALL (``request``) got ``response`` at ``now`` (monotonic seconds).
        Returns True when the registration changed (the station's BootNotification was
        answered)."""
        if self.role is Role.CSMS:
            self._note_request(action, request, response)
            return False
        if action != "BootNotification":
            return False
        changed = self._set_registration(_status(response))
        interval = getattr(response, "interval", 0)
        if self.registration is Registration.ACCEPTED or not isinstance(interval, int) or interval <= 0:
            self.boot_not_before = None  # 0: the station chooses its own wait (B02.FR.07)
        else:
            self.boot_not_before = now + interval
        if self._triggered:
            self._triggered.discard("BootNotification")
        return changed

    def _note_request(self, action: str, request: object, response: object) -> None:
        """The CSMS asked for a message and the station answered Accepted: it may send it."""
        if _status(response) != "Accepted":
            return
        if action in _TRIGGERS:
            requested = getattr(request, "requested_message", "")
            name = str(getattr(requested, "value", requested))
            self.triggered.add(_TRIGGERED.get(name, name))
        elif action in _REPORTS:
            self.triggered.add("NotifyReport")

    def _set_registration(self, status: str | None) -> bool:
        try:
            new = Registration(status)
        except ValueError:
            return False
        changed = new is not self.registration
        self.registration = new
        if new is Registration.ACCEPTED and self._triggered:
            self._triggered.clear()
        return changed

    # -- 2.1: answers kept for retries that reuse a message id (Part 4 2.1 section 4.1.4) ------

    def cached_answer(self, action: str, message_id: str) -> bytes | None:
        """The CALLRESULT payload we gave an earlier CALL with this ``action`` and
        ``message_id``, if any."""
        return self._answers.get((action, message_id)) if self._answers else None

    def remember_answer(self, action: str, message_id: str, payload: bytes) -> None:
        """2.1: keep ``payload``, our answer to the CALL ``message_id`` of ``action``, for a
        retry that reuses the id (the oldest beyond ``answer_cache_size`` goes)."""
        answers = self.answers
        answers[(action, message_id)] = payload
        while len(answers) > self.answer_cache_size:
            answers.popitem(last=False)
        if self.on_answer is not None:
            self.on_answer(self)

    # -- persistence (CSMS side) ------------------------------------------------------------

    def snapshot(self) -> SessionState:
        """What a session store keeps of this session."""
        return SessionState(
            identity=self.identity,
            version=self.version,
            registration=self.registration.value,
            triggered=sorted(self._triggered or ()),
            answers=[(a, m, p) for (a, m), p in (self._answers or {}).items()],
            security_floor=self.security_floor,
        )

    def restore(self, state: SessionState) -> None:
        """Take over ``state``, what a session store kept (before the first connection attaches)."""
        self.version = state.version
        self.registration = Registration(state.registration)
        self._triggered = set(state.triggered) if state.triggered else None
        self._answers = OrderedDict(((a, m), p) for a, m, p in state.answers) if state.answers else None
        self.security_floor = state.security_floor

